//! Side-by-side call benchmarks: the native client (`kaiwa call`) against the browser client in headless
//! Chromium, on loopback, through the real signaling server (in-process here). Scenarios: native ↔ native,
//! native ↔ Chromium, Chromium ↔ Chromium per size, and a 4-party mesh of each; contenders alternate run
//! by run so machine noise hits both. Latency runs send live stamped sources (the test pattern + clicks;
//! the canvas + WebAudio clicks of `assets/web/bench.js`); CPU runs send the same Y4M/WAV files on both
//! sides. Writes `RESULTS.md` (figures, native/Chromium ratios, targets) and SVG latency CDFs.
//!
//! Run with: `scripts/bench.sh` (builds release binaries, then runs this; `--quick` checks the harness).

mod cdf_plot;
mod client;
mod content;
mod loopback;
mod netreport;
mod netrun;
mod networks;
mod report;
mod screen;
mod sfu;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use client::{Kind, Mode, Remote};
use kaiwa_bench::stats;
use kaiwa_browser_tests::TestServer;
use loopback::{Bench, one_line, tempdir};

#[derive(Parser, Clone)]
#[command(about = "Native vs Chromium call benchmarks (see docs/BENCHMARKS.md)")]
pub struct Args {
    /// Runs per scenario (medians over runs are reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Measured seconds per call (after the warm-up)
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Seconds between everyone having joined and the start of the measurement
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Sizes for the two-party scenarios
    #[arg(long, value_delimiter = ',', default_values_t = ["640x480".to_string(), "1280x720".to_string()])]
    sizes: Vec<String>,
    /// Size for the 4-party mesh ("none" skips the mesh)
    #[arg(long, default_value = "640x480")]
    mesh_size: String,
    /// Frame rate of every sender
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Video bitrate ceiling of every sender, kbit/s
    #[arg(long, default_value_t = 2500)]
    max_kbps: u32,
    /// Scenarios to run: nn, nc, cc, mesh, firefox (native ↔ Firefox beside Chromium ↔ Firefox, latency)
    #[arg(long, value_delimiter = ',', default_values_t = ["nn", "nc", "cc", "mesh", "firefox"].map(String::from))]
    only: Vec<String>,
    /// Short calls to check the harness: --runs 1 --seconds 8 --warmup 2
    #[arg(long)]
    quick: bool,
    /// Where RESULTS.md and the plots go
    #[arg(long, default_value = "docs/bench")]
    out_dir: PathBuf,
    /// Where the generated Y4M/WAV content is kept (default ~/.cache/kaiwa/bench)
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not give Chromium a private PulseAudio daemon (null sinks) as its sound card
    #[arg(long)]
    no_pulse: bool,
    /// Instead of the loopback scenarios: calls through the network lab's link profiles (needs root),
    /// native ↔ native, Chromium ↔ Chromium and native ↔ Chromium; writes NETWORKS.md + plots
    #[arg(long)]
    networks: bool,
    /// Link profiles for --networks (kaiwa_testkit::lab::Profile names)
    #[arg(long, value_delimiter = ',', default_values_t = ["cap-2500k", "cap-1000k", "cap-500k", "cap-250k", "wifi-good", "wifi-bad", "mobile", "drop"].map(String::from))]
    profiles: Vec<String>,
    /// Pairs for --networks: nn, cc, nc
    #[arg(long, value_delimiter = ',', default_values_t = ["nn".to_string(), "cc".to_string(), "nc".to_string()])]
    pairs: Vec<String>,
    /// Content of --networks calls: file (the same Y4M/WAV on both sides: freezes, size, bitrate compare),
    /// live (stamped live sources: latency)
    #[arg(long, value_delimiter = ',', default_values_t = ["file".to_string(), "live".to_string()])]
    net_content: Vec<String>,
    /// Instead of the loopback scenarios: sharing a 1920×1080 picture of changing text, native (an Xvfb
    /// screen) vs Chromium (its own tab showing the same picture); writes SCREEN.md
    #[arg(long)]
    screen: bool,
    /// Instead of the loopback scenarios: a room of six Chromiums as a mesh and through Janus, side by
    /// side (uplink, CPU, latency per client; root, Janus); writes SFU.md
    #[arg(long)]
    sfu: bool,
    /// Seconds per --networks call (profiles with later changes last until 20 s after the last one;
    /// --quick: 20)
    #[arg(long, default_value_t = 40)]
    net_seconds: u64,
}

/// One client's figures in one call.
#[derive(Debug, Clone)]
pub struct ClientFigures {
    pub kind: Kind,
    /// Share of one core over the measured window, %.
    pub cpu_pct: f64,
    /// Peak over the window, MiB.
    pub rss_mib: f64,
    pub pss_mib: f64,
    pub remotes: Vec<Remote>,
}

/// One call; the last client is the one that joined last (its first frame is the join → first frame).
#[derive(Debug, Clone)]
pub struct CallFigures {
    pub clients: Vec<ClientFigures>,
}

/// A scenario: who is in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scenario {
    pub name: &'static str,
    pub kinds: &'static [Kind],
}

pub const NN: Scenario = Scenario { name: "nn", kinds: &[Kind::Native, Kind::Native] };
/// Chromium first, so the native client is the joiner whose first frame is timed.
pub const NC: Scenario = Scenario { name: "nc", kinds: &[Kind::Chromium, Kind::Native] };
pub const CC: Scenario = Scenario { name: "cc", kinds: &[Kind::Chromium, Kind::Chromium] };
/// Firefox first (VP8: it has no OpenH264); the same call with Chromium in the native client's place.
pub const NF: Scenario = Scenario { name: "nf", kinds: &[Kind::Firefox, Kind::Native] };
pub const CF: Scenario = Scenario { name: "cf", kinds: &[Kind::Firefox, Kind::Chromium] };
pub const MESH_N: Scenario = Scenario { name: "mesh4-native", kinds: &[Kind::Native; 4] };
pub const MESH_C: Scenario = Scenario { name: "mesh4-chromium", kinds: &[Kind::Chromium; 4] };

pub type Key = (&'static str, (u32, u32), Mode);

/// Everything measured, by (scenario, size, mode).
#[derive(Default)]
pub struct Results {
    pub calls: BTreeMap<Key, Vec<CallFigures>>,
    pub failures: Vec<String>,
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').context("sizes are WIDTHxHEIGHT")?;
    Ok((w.parse()?, h.parse()?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.runs = 1;
        args.seconds = 8;
        args.warmup = 2;
        args.net_seconds = 20;
    }
    let exe_dir = std::env::current_exe()?.parent().context("no exe dir")?.to_path_buf();
    let kaiwa = exe_dir.join("kaiwa");
    if !kaiwa.exists() {
        bail!("{} not found: build it first (scripts/bench.sh does)", kaiwa.display());
    }
    if args.networks {
        return netrun::run_networks(&args, kaiwa).await;
    }
    if args.screen {
        return screen::run_screen(&args, kaiwa).await;
    }
    if args.sfu {
        return sfu::run_sfu(&args, kaiwa).await;
    }
    let sizes: Vec<(u32, u32)> = args.sizes.iter().map(|s| parse_size(s)).collect::<Result<_, _>>()?;
    let mesh = if args.mesh_size == "none" { None } else { Some(parse_size(&args.mesh_size)?) };
    let want = |s: &str| args.only.iter().any(|o| o == s);
    let cache = args.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from).join(".cache/kaiwa/bench")
    });
    let work = std::env::temp_dir().join(format!("kaiwa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    // The plan: per run, every (scenario, size, mode); the order flips on odd runs so both contenders
    // see the same share of early and late machine noise.
    let mut round: Vec<(Scenario, (u32, u32), Mode)> = Vec::new();
    for &size in &sizes {
        for mode in [Mode::Latency, Mode::File] {
            for s in [NN, CC] {
                if want(s.name) {
                    round.push((s, size, mode));
                }
            }
        }
        if want("nc") {
            round.push((NC, size, Mode::Latency));
        }
        if want("firefox") {
            round.push((NF, size, Mode::Latency));
            round.push((CF, size, Mode::Latency));
        }
    }
    if let Some(size) = mesh.filter(|_| want("mesh")) {
        for mode in [Mode::Latency, Mode::File] {
            round.push((MESH_N, size, mode));
            round.push((MESH_C, size, mode));
        }
    }
    let per_call = args.seconds + args.warmup + 8;
    println!(
        "{} calls per run × {} runs, about {} min",
        round.len(),
        args.runs,
        (round.len() * args.runs) as u64 * per_call / 60 + 1
    );

    let pulse = chromium_pulse(!args.no_pulse);
    let browser_env = pulse.as_ref().map(|p| p.env()).unwrap_or_default();
    let server = TestServer::start().await?;
    let mut bench =
        Bench { args: args.clone(), kaiwa, server, work: tempdir::Dir(work), cache, calls: 0, browser_env };
    let mut results = Results::default();
    let started = Instant::now();
    let all = async {
        for run in 0..args.runs {
            let order: Vec<_> =
                if run % 2 == 0 { round.clone() } else { round.iter().rev().copied().collect() };
            for (scenario, size, mode) in order {
                let limit = Duration::from_secs(per_call + 120);
                let what = format!(
                    "run {}/{} {} {}x{} {}",
                    run + 1,
                    args.runs,
                    scenario.name,
                    size.0,
                    size.1,
                    mode.label()
                );
                if let Some(f) =
                    bounded(&what, limit, bench.call(scenario, size, mode), &mut results.failures).await
                {
                    println!("{}", one_line(scenario, size, mode, &f));
                    results.calls.entry((scenario.name, size, mode)).or_default().push(f);
                }
            }
        }
    };
    until_done_or_stopped(all).await?;
    let total = started.elapsed();
    report::write(&args, &sizes, mesh, &results, total, &args.out_dir)?;
    println!("wrote {} ({:.1} min)", args.out_dir.join("RESULTS.md").display(), total.as_secs_f64() / 60.0);
    Ok(())
}

/// Headless Chromium without a sound card may not play out or run WebAudio on time: a private PulseAudio
/// daemon with null sinks stands in (the native clients use no audio device). None when not `wanted`, or
/// when it cannot start (said, and the bench goes on).
pub(crate) fn chromium_pulse(wanted: bool) -> Option<kaiwa_devices::testing::PulseDaemon> {
    if !wanted {
        return None;
    }
    kaiwa_devices::testing::PulseDaemon::start()
        .inspect_err(|e| println!("no PulseAudio for Chromium ({e}); going on without"))
        .ok()
}

/// One call, bounded by `limit`: its figures, or `None` with the failure printed and listed under `what`
/// (a failed call is reported instead of stopping the run).
pub(crate) async fn bounded<T>(
    what: &str,
    limit: Duration,
    call: impl std::future::Future<Output = anyhow::Result<T>>,
    failures: &mut Vec<String>,
) -> Option<T> {
    let reason = match tokio::time::timeout(limit, call).await {
        Ok(Ok(figures)) => return Some(figures),
        Ok(Err(e)) => format!("{e:#}"),
        Err(_) => format!("timed out after {limit:?}"),
    };
    println!("{what}: FAILED: {reason}");
    failures.push(format!("{what}: {reason}"));
    None
}

/// Runs `all` to its end, or until Ctrl-C / SIGTERM: dropping the running call kills its clients (Chromium
/// runs in its own process group, out of reach of the terminal's SIGINT); the figures so far are still
/// written by the caller.
pub(crate) async fn until_done_or_stopped(all: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = all => {}
        _ = tokio::signal::ctrl_c() => println!("interrupted: writing what was measured"),
        _ = term.recv() => println!("terminated: writing what was measured"),
    }
    Ok(())
}
