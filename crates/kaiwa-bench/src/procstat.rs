//! CPU time and memory of a client's whole process tree, from `/proc`: a `kaiwa call` is one process;
//! a Chromium is its browser process and every descendant (zygotes, renderer, GPU, network, audio and
//! video-capture utilities).

use std::collections::HashMap;

/// Every process's parent, from `/proc/*/stat`.
fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return map };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some(f) = stat_fields(pid)
            && let Some(ppid) = f.get(1).and_then(|p| p.parse().ok())
        {
            map.insert(pid, ppid);
        }
    }
    map
}

/// `root` and all its descendants.
pub fn tree(root: u32) -> Vec<u32> {
    let parents = parents();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|&(_, &pp)| pp == p).map(|(&c, _)| c));
        i += 1;
    }
    out
}

/// The fields of `/proc/PID/stat` after the command name (field 3, the state, is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let end = stat.rfind(')')?;
    Some(stat.get(end + 2..)?.split_whitespace().map(str::to_owned).collect())
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// CPU clock ticks (user + system, plus those of reaped children) used so far by one process.
fn cpu_ticks(pid: u32) -> u64 {
    // utime, stime, cutime, cstime are fields 14–17, i.e. 11..=14 here.
    stat_fields(pid)
        .and_then(|f| Some(f.get(11..15)?.iter().filter_map(|v| v.parse::<u64>().ok()).sum()))
        .unwrap_or(0)
}

/// CPU seconds (user + system, plus those of reaped children) used so far by `root`'s tree.
pub fn cpu_seconds(root: u32) -> f64 {
    tree(root).into_iter().map(cpu_ticks).sum::<u64>() as f64 / ticks_per_second()
}

/// CPU seconds used so far by one process alone (not the children it still has running).
pub fn process_cpu_seconds(pid: u32) -> f64 {
    cpu_ticks(pid) as f64 / ticks_per_second()
}

/// One process's resident set, KiB (0 if it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status")).map_or(0, |s| kib_field(&s, "VmRSS:"))
}

/// Memory of a process tree, KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Sum of every process's resident set (shared pages counted once per process).
    pub rss_kib: u64,
    /// Sum of proportional set sizes (shared pages split among the processes that map them).
    pub pss_kib: u64,
}

fn kib_field(text: &str, key: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

pub fn memory(root: u32) -> Memory {
    let mut m = Memory::default();
    for pid in tree(root) {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            m.rss_kib += kib_field(&s, "VmRSS:");
        }
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            m.pss_kib += kib_field(&s, "Pss:");
        }
    }
    m
}
