//! Call benchmark: two `kaiwa call` processes on loopback through a local `kaiwa-signaling`, per size.
//! Reports join → first decoded frame, capture → decoded latency p50/p95 (from the test pattern's
//! stamps), click → heard audio latency p50 (wall-clock clicks), and each client's CPU share of one core
//! and RSS over the call. Media goes over 127.0.0.1 only.
//!
//! Run with: `scripts/bench-call.sh` (builds release binaries, then runs this), or
//! `cargo build --release --bins --examples && target/release/examples/bench_call --help`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Call length per run, seconds
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Runs per size (medians are reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Sizes to test
    #[arg(long, default_values_t = ["640x480".to_string(), "1280x720".to_string()])]
    size: Vec<String>,
}

fn bin(name: &str) -> anyhow::Result<PathBuf> {
    let dir =
        std::env::current_exe()?.parent().and_then(Path::parent).context("no target dir")?.to_path_buf();
    let path = dir.join(name);
    if !path.exists() {
        bail!("{} not found: build it first (cargo build --release --bins)", path.display());
    }
    Ok(path)
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    let Some(end) = stat.rfind(')') else { return 0 };
    let f: Vec<&str> = stat[end + 2..].split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Run {
    first_frame_ms: f64,
    video_p50: f64,
    video_p95: f64,
    audio_p50: f64,
    cpu_pct: [f64; 2],
    rss_mib: [f64; 2],
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    kaiwa_media::stats::median(&v).unwrap_or(f64::NAN)
}

fn one_run(
    kaiwa: &Path,
    server: &str,
    size: &str,
    seconds: u64,
    n: usize,
    dir: &Path,
) -> anyhow::Result<Run> {
    let room = format!("bench-{size}-{n}");
    let json = |who: &str| dir.join(format!("{room}-{who}.json"));
    let spawn = |who: &str, secs: u64| -> anyhow::Result<Proc> {
        Ok(Proc(
            Command::new(kaiwa)
                .args([
                    "call",
                    "--server",
                    server,
                    "--room",
                    &room,
                    "--name",
                    who,
                    "--bind",
                    "127.0.0.1:0",
                    "--quiet",
                ])
                .args(["--size", size, "--fps", "30", "--audio", "clicks", "--max-bitrate", "2500"])
                .args(["--duration", &secs.to_string(), "--stats-json"])
                .arg(json(who))
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        ))
    };
    let mut a = spawn("A", seconds + 3)?;
    std::thread::sleep(Duration::from_secs(1));
    let mut b = spawn("B", seconds)?;
    let pids = [a.0.id(), b.0.id()];
    // Measure the steady state: skip the first 2 s.
    std::thread::sleep(Duration::from_secs(2));
    let t0 = Instant::now();
    let c0 = pids.map(cpu_ticks);
    let mut rss = [0u64; 2];
    while t0.elapsed() < Duration::from_secs(seconds.saturating_sub(4)) {
        std::thread::sleep(Duration::from_millis(500));
        for (i, pid) in pids.iter().enumerate() {
            rss[i] = rss[i].max(rss_kib(*pid));
        }
    }
    let c1 = pids.map(cpu_ticks);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = [0, 1].map(|i| (c1[i] - c0[i]) as f64 / 100.0 / secs * 100.0);
    b.0.wait()?;
    a.0.wait()?;
    let text = std::fs::read_to_string(json("B")).context("B's stats")?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let peer = &v[0];
    let f = |p: &serde_json::Value| p.as_f64().unwrap_or(f64::NAN);
    Ok(Run {
        first_frame_ms: f(&peer["first_frame_ms"]),
        video_p50: f(&peer["video_latency"]["p50_ms"]),
        video_p95: f(&peer["video_latency"]["p95_ms"]),
        audio_p50: f(&peer["audio_latency"]["p50_ms"]),
        cpu_pct: cpu,
        rss_mib: rss.map(|k| k as f64 / 1024.0),
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let kaiwa = bin("kaiwa")?;
    let signaling = bin("kaiwa-signaling")?;
    let dir = std::env::temp_dir().join(format!("kaiwa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let _server = Proc(
        Command::new(&signaling)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()?,
    );
    std::thread::sleep(Duration::from_millis(500));
    let server = format!("ws://127.0.0.1:{port}/ws");
    println!(
        "| size | join → first frame | capture → decoded p50 / p95 | audio click → heard p50 | CPU per client (% of one core) | RSS per client |"
    );
    println!("|---|---|---|---|---|---|");
    for size in &args.size {
        let runs: Vec<Run> = (0..args.runs)
            .map(|n| one_run(&kaiwa, &server, size, args.seconds, n, &dir))
            .collect::<Result<_, _>>()?;
        let m = |g: &dyn Fn(&Run) -> f64| median(runs.iter().map(g).collect());
        println!(
            "| {size} | {:.0} ms | {:.1} / {:.1} ms | {:.1} ms | {:.1} / {:.1} | {:.0} / {:.0} MiB |",
            m(&|r| r.first_frame_ms),
            m(&|r| r.video_p50),
            m(&|r| r.video_p95),
            m(&|r| r.audio_p50),
            m(&|r| r.cpu_pct[0]),
            m(&|r| r.cpu_pct[1]),
            m(&|r| r.rss_mib[0]),
            m(&|r| r.rss_mib[1]),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
