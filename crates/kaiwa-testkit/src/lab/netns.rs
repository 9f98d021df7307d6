//! Named network namespaces through iproute2's `ip netns` (it mounts them under `/run/netns/NAME`, so other
//! processes — `ip netns exec`, a later test run cleaning up — can find them by name), and running code
//! inside one from this process.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where `ip netns` keeps its namespaces.
const NETNS_DIR: &str = "/run/netns";

/// Runs `ip ARGS…` and turns a failure into an error that says what was run and what `ip` said.
pub fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).stdin(Stdio::null()).output().map_err(|e| {
        io::Error::new(e.kind(), format!("cannot run `ip` (iproute2 is needed for the network lab): {e}"))
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "`ip {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Creates the namespace with `lo` up and nothing else.
pub fn create(name: &str) -> io::Result<()> {
    ip(&["netns", "add", name])?;
    if let Err(e) = ip(&["-n", name, "link", "set", "lo", "up"]) {
        let _ = delete(name);
        return Err(e);
    }
    Ok(())
}

pub fn delete(name: &str) -> io::Result<()> {
    ip(&["netns", "del", name])
}

/// Runs `f` on a new thread that has joined the namespace's network stack, and returns what it returns.
/// Sockets made there stay in the namespace wherever they are used later. A panic in `f` is passed on.
pub fn enter<T: Send, F: FnOnce() -> T + Send>(name: &str, f: F) -> io::Result<T> {
    let ns = File::open(Path::new(NETNS_DIR).join(name))
        .map_err(|e| io::Error::new(e.kind(), format!("network namespace {name}: {e}")))?;
    std::thread::scope(|scope| {
        let thread =
            std::thread::Builder::new().name("kaiwa-lab-netns".into()).spawn_scoped(scope, || {
                // SAFETY: `ns` is an open namespace file for the duration of the call; setns only changes this
                // thread's network namespace.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    let e = io::Error::last_os_error();
                    return Err(io::Error::new(e.kind(), format!("entering network namespace {name}: {e}")));
                }
                Ok(f())
            })?;
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Deletes namespaces named `kl<pid>-…` whose process is gone (a test that was killed leaves them).
pub fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = lab_pid(&name) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists()
            && let Err(e) = delete(&name)
        {
            eprintln!("kaiwa-lab: removing stale namespace {name}: {e}");
        }
    }
}

/// The pid in a lab namespace name `kl<pid>-<lab>-<host>`.
pub fn lab_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("kl")?;
    let (pid, tail) = rest.split_once('-')?;
    tail.contains('-').then_some(())?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lab_names_carry_the_pid() {
        assert_eq!(super::lab_pid("kl123-0-alice"), Some(123));
        assert_eq!(super::lab_pid("kl123-0-a-b"), Some(123));
        assert_eq!(super::lab_pid("kl123-alice"), None);
        assert_eq!(super::lab_pid("klx-0-alice"), None);
        assert_eq!(super::lab_pid("other"), None);
    }
}
