//! Side-by-side call benchmarks: the native client (`kaiwa call`) against the browser client in headless
//! Chromium, on loopback, through the real signaling server (in-process here). Scenarios: native ↔ native,
//! native ↔ Chromium, Chromium ↔ Chromium per size, and a 4-party mesh of each; contenders alternate run
//! by run so machine noise hits both. Latency runs send live stamped sources (the test pattern + clicks;
//! the canvas + WebAudio clicks of `assets/web/bench.js`); CPU runs send the same Y4M/WAV files on both
//! sides. Writes `RESULTS.md` (figures, native/Chromium ratios, targets) and SVG latency CDFs.
//!
//! Run with: `scripts/bench.sh` (builds release binaries, then runs this; `--quick` checks the harness).

mod client;
mod content;
mod netreport;
mod networks;
mod procstat;
mod report;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use client::{Client, Kind, Mode, Remote, Setup};
use kaiwa_browser_tests::TestServer;

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

struct Bench {
    args: Args,
    kaiwa: PathBuf,
    server: TestServer,
    work: tempdir::Dir,
    cache: PathBuf,
    calls: usize,
    browser_env: Vec<(String, String)>,
}

mod tempdir {
    /// A scratch directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Bench {
    /// Runs one call and measures it.
    async fn call(
        &mut self,
        scenario: Scenario,
        size: (u32, u32),
        mode: Mode,
    ) -> anyhow::Result<CallFigures> {
        self.calls += 1;
        let room = format!("bench-{}-{}", self.calls, scenario.name);
        let video_file = content::video(&self.cache, size, self.args.fps)?;
        let audio_file = content::audio(&self.cache)?;
        let setup = Setup {
            kaiwa: &self.kaiwa,
            server: &self.server,
            room: &room,
            mode,
            size,
            fps: self.args.fps,
            max_kbps: self.args.max_kbps,
            video_file: &video_file,
            audio_file: &audio_file,
            work: &self.work.0,
            browser_env: &self.browser_env,
        };
        let mut clients = Vec::new();
        for (i, &kind) in scenario.kinds.iter().enumerate() {
            let mut c = Client::start(kind, &format!("{}{}", kind.letter(), i + 1), &setup).await?;
            c.wait_joined().await?;
            clients.push(c);
        }
        tokio::time::sleep(Duration::from_secs(self.args.warmup)).await;
        let roots: Vec<u32> = clients.iter().map(Client::pid).collect();
        let cpu0: Vec<f64> = roots.iter().map(|&p| procstat::cpu_seconds(p)).collect();
        let t0 = Instant::now();
        let window = Duration::from_secs(self.args.seconds);
        let mut peak = vec![procstat::Memory::default(); roots.len()];
        while t0.elapsed() < window {
            tokio::time::sleep((window - t0.elapsed()).min(Duration::from_secs(2))).await;
            for (m, &p) in peak.iter_mut().zip(&roots) {
                let now = procstat::memory(p);
                m.rss_kib = m.rss_kib.max(now.rss_kib);
                m.pss_kib = m.pss_kib.max(now.pss_kib);
            }
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let cpu: Vec<f64> = roots
            .iter()
            .zip(&cpu0)
            .map(|(&p, c0)| (procstat::cpu_seconds(p) - c0) / elapsed * 100.0)
            .collect();
        let mut out = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let mut remotes = c.finish().await?;
            if mode == Mode::File {
                // The files' stamps and bursts say nothing about latency.
                for r in &mut remotes {
                    r.video_ms.clear();
                    r.audio_ms.clear();
                }
            }
            out.push(ClientFigures {
                kind: scenario.kinds[i],
                cpu_pct: cpu[i],
                rss_mib: peak[i].rss_kib as f64 / 1024.0,
                pss_mib: peak[i].pss_kib as f64 / 1024.0,
                remotes,
            });
        }
        Ok(CallFigures { clients: out })
    }
}

fn one_line(scenario: Scenario, size: (u32, u32), mode: Mode, f: &CallFigures) -> String {
    let joiner = f.clients.last();
    let first = joiner
        .and_then(|c| c.remotes.iter().filter_map(|r| r.first_frame_ms).reduce(f64::min))
        .map_or("-".into(), |v| format!("{v:.0} ms"));
    let all = |audio: bool| -> Vec<f64> {
        f.clients
            .iter()
            .flat_map(|c| &c.remotes)
            .flat_map(|r| if audio { r.audio_ms.clone() } else { r.video_ms.clone() })
            .collect()
    };
    let p = |v: &[f64], q: f64| stats::percentile(v, q).map_or("-".into(), |x| format!("{x:.1}"));
    let (video, audio) = (all(false), all(true));
    let cpu: Vec<String> = f.clients.iter().map(|c| format!("{:.1}", c.cpu_pct)).collect();
    let pss: Vec<String> = f.clients.iter().map(|c| format!("{:.0}", c.pss_mib)).collect();
    let recv: Vec<String> = f
        .clients
        .iter()
        .flat_map(|c| &c.remotes)
        .map(|r| format!("{}x{}@{:.0}", r.size.0, r.size.1, r.fps))
        .collect();
    let concealed: Vec<String> = f
        .clients
        .iter()
        .flat_map(|c| &c.remotes)
        .map(|r| r.audio_concealed_pct.map_or("-".into(), |v| format!("{v:.1}")))
        .collect();
    format!(
        "{:<15} {}x{} {:<7} first frame {first}, video p50/p95 {}/{} ms (n={}), audio p50 {} ms (n={}), CPU % [{}], PSS MiB [{}], received [{}], audio concealed % [{}]",
        scenario.name,
        size.0,
        size.1,
        mode.label(),
        p(&video, 0.5),
        p(&video, 0.95),
        video.len(),
        p(&audio, 0.5),
        audio.len(),
        cpu.join(" "),
        pss.join(" "),
        recv.join(" "),
        concealed.join(" ")
    )
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
        return run_networks(&args, kaiwa).await;
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

    // Headless Chromium without a sound card may not play out or run WebAudio on time: a private
    // PulseAudio daemon with null sinks stands in (the native clients use no audio device).
    let pulse = if args.no_pulse {
        None
    } else {
        match kaiwa_devices::testing::PulseDaemon::start() {
            Ok(p) => Some(p),
            Err(e) => {
                println!("no PulseAudio for Chromium ({e}); going on without");
                None
            }
        }
    };
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

/// `--networks`: every profile × pair × run through the lab, then `NETWORKS.md`.
async fn run_networks(args: &Args, kaiwa: PathBuf) -> anyhow::Result<()> {
    use kaiwa_testkit::lab::Profile;
    // Mesh profiles get a 4-party call of each contender (`networks::pairs_for`).
    let mut profiles = Vec::new();
    for name in &args.profiles {
        match Profile::by_name(name) {
            Some(p) => profiles.push(p),
            None => bail!("unknown profile {name}; known: {}", Profile::NAMES.join(", ")),
        }
    }
    let pairs: Vec<networks::Pair> =
        networks::PAIRS.into_iter().filter(|p| args.pairs.iter().any(|x| x == p.name)).collect();
    let contents: Vec<networks::Content> = [networks::Content::File, networks::Content::Live]
        .into_iter()
        .filter(|c| args.net_content.iter().any(|x| x == c.label()))
        .collect();
    let plan_for = |profile: &Profile| {
        let mut plan: Vec<(networks::Pair, networks::Content)> = Vec::new();
        for &content in &contents {
            for pair in networks::pairs_for(profile, &pairs) {
                plan.push((pair, content));
            }
        }
        plan
    };
    let calls: usize = profiles.iter().map(|p| plan_for(p).len()).sum::<usize>() * args.runs;
    let total_s: u64 = profiles
        .iter()
        .map(|p| (networks::call_length(p, args.net_seconds).as_secs() + 15) * plan_for(p).len() as u64)
        .sum::<u64>()
        * args.runs as u64;
    println!(
        "{calls} calls through the lab ({} profiles, {} contents, {} runs), about {} min",
        profiles.len(),
        contents.len(),
        args.runs,
        total_s / 60 + 1
    );
    let pulse = if args.no_pulse || !pairs.iter().any(|p| p.name != "nn") {
        None
    } else {
        match kaiwa_devices::testing::PulseDaemon::start() {
            Ok(p) => Some(p),
            Err(e) => {
                println!("no PulseAudio for Chromium ({e}); going on without");
                None
            }
        }
    };
    let work = std::env::temp_dir().join(format!("kaiwa-netbench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let _work = tempdir::Dir(work.clone());
    let cache = args.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from).join(".cache/kaiwa/bench")
    });
    let mut bench = networks::NetBench {
        video_file: content::video(&cache, networks::SIZE, networks::FPS)?,
        audio_file: content::audio(&cache)?,
        kaiwa,
        work,
        browser_env: pulse.as_ref().map(|p| p.env()).unwrap_or_default(),
        seconds: args.net_seconds,
        calls: 0,
    };
    let mut results = netreport::NetResults::default();
    let started = Instant::now();
    let all = async {
        for profile in &profiles {
            for run in 0..args.runs {
                // The same seed for every pair of a run: the same loss and jitter decisions.
                let seed = 11_000 + run as u64;
                let plan = plan_for(profile);
                let order: Vec<_> =
                    if run % 2 == 0 { plan.clone() } else { plan.iter().rev().copied().collect() };
                for (pair, content) in order {
                    let what = format!(
                        "{} run {}/{} {} {}",
                        profile.name,
                        run + 1,
                        args.runs,
                        pair.name,
                        content.label()
                    );
                    let limit = networks::call_length(profile, args.net_seconds) + Duration::from_secs(120);
                    if let Some(call) =
                        bounded(&what, limit, bench.call(profile, pair, content, seed), &mut results.failures)
                            .await
                    {
                        println!("{what}: {}", net_line(&call));
                        results.calls.push(call);
                    }
                }
            }
        }
    };
    until_done_or_stopped(all).await?;
    let total = started.elapsed();
    let names: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
    netreport::write(&results, &names, args.runs, args.net_seconds, total, &args.out_dir)?;
    println!("wrote {} ({:.1} min)", args.out_dir.join("NETWORKS.md").display(), total.as_secs_f64() / 60.0);
    Ok(())
}

fn net_line(call: &networks::NetCall) -> String {
    let parts: Vec<String> = call
        .receivers
        .iter()
        .map(|r| {
            let f = networks::figures(call, r);
            format!(
                "{} {}←{}: first frame {}, {} freezes {:.1} s, {:.1} fps, {}x{} ({:.0} % full), {:.0} kbit/s, video p50 {}, audio p50 {}, concealed {}{}",
                r.host,
                r.kind.letter(),
                r.from.letter(),
                f.first_frame_s.map_or("-".into(), |t| format!("{t:.1} s")),
                f.freezes,
                f.freeze_s,
                f.fps.unwrap_or(0.0),
                f.size.0,
                f.size.1,
                f.full_pct.unwrap_or(0.0),
                f.kbps.unwrap_or(0.0),
                f.video_p50.map_or("-".into(), |v| format!("{v:.0} ms")),
                f.audio_p50.map_or("-".into(), |v| format!("{v:.0} ms")),
                f.concealed_pct.map_or("-".into(), |v| format!("{v:.1} %")),
                if call.restored_at.is_some() {
                    format!(", back to full size {}", f.recovery_s.map_or("never".into(), |s| format!("after {s:.0} s")))
                } else {
                    String::new()
                }
            )
        })
        .collect();
    parts.join(" | ")
}

/// One call, bounded by `limit`: its figures, or `None` with the failure printed and listed under `what`
/// (a failed call is reported instead of stopping the run).
async fn bounded<T>(
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
async fn until_done_or_stopped(all: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = all => {}
        _ = tokio::signal::ctrl_c() => println!("interrupted: writing what was measured"),
        _ = term.recv() => println!("terminated: writing what was measured"),
    }
    Ok(())
}
