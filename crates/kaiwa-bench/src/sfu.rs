//! A room of six as a mesh and through Janus (`scripts/bench.sh --sfu`), side by side in one run: six
//! Chromiums (each its own process, so its CPU is its own) with Janus and `kaiwa serve --janus` in one lab
//! host, and six native clients (`kaiwa call`, each in a lab host of its own, so its access link counts
//! what it sends); the same room once with `--sfu-above 6` (a mesh) and once with `--sfu-above 0` (Janus
//! from the start), alternately, each client sending a stamped 320×240 picture (at `--fps`). Per client:
//! what it sends over the measured seconds, its process tree's CPU, and the glass-to-glass latency and
//! frame rate of what it receives. Writes `SFU.md` into `--out-dir`.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use kaiwa_bench::procstat::cpu_seconds;
use kaiwa_bench::stats::{median, quantiles};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page};
use kaiwa_testkit::ServerProcess;
use kaiwa_testkit::janus::Janus;
use kaiwa_testkit::lab::{Direction, Host, Lab};

use crate::Args;

const PEOPLE: usize = 6;
const JOIN_WAIT: Duration = Duration::from_secs(90);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Mesh,
    Janus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Chromium,
    Native,
}

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Chromium => "Chromium",
            Contender::Native => "native",
        }
    }
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Mesh => "mesh",
            Route::Janus => "through Janus",
        }
    }
}

/// One client's figures in one room.
#[derive(Debug, Default, Clone)]
struct Client {
    uplink_kbps: f64,
    cpu_pct: f64,
    video_ms: Vec<f64>,
    fps: Vec<f64>,
}

pub async fn run_sfu(args: &Args, kaiwa: PathBuf) -> anyhow::Result<()> {
    let pulse = crate::chromium_pulse(!args.no_pulse);
    let env = pulse.as_ref().map(|p| p.env()).unwrap_or_default();
    let mut results: Vec<(Contender, Route, Vec<Client>)> = Vec::new();
    let started = Instant::now();
    for run in 0..args.runs {
        let order = if run % 2 == 0 { [Route::Mesh, Route::Janus] } else { [Route::Janus, Route::Mesh] };
        for route in order {
            for who in [Contender::Chromium, Contender::Native] {
                let what = format!("run {}/{} {} {}", run + 1, args.runs, who.label(), route.label());
                let limit = Duration::from_secs(args.seconds + args.warmup + 180);
                let seed = 60 + run as u64;
                let mut failures = Vec::new();
                let clients = match who {
                    Contender::Chromium => {
                        let room = room(&kaiwa, route, args, &env, seed);
                        crate::bounded(&what, limit, room, &mut failures).await
                    }
                    Contender::Native => {
                        let room = native_room(&kaiwa, route, args, seed);
                        crate::bounded(&what, limit, room, &mut failures).await
                    }
                };
                if let Some(clients) = clients {
                    println!("{what}: {}", summary(&clients));
                    results.push((who, route, clients));
                }
            }
        }
    }
    let md = report(args, &results, started.elapsed());
    std::fs::create_dir_all(&args.out_dir)?;
    let path = args.out_dir.join("SFU.md");
    std::fs::write(&path, &md)?;
    println!("{md}\nwrote {}", path.display());
    Ok(())
}

/// `kaiwa serve --janus` inside `host`.
fn serve(kaiwa: &Path, host: &Host, janus: &Janus, sfu_above: usize) -> anyhow::Result<ServerProcess> {
    let mut command = host.command(kaiwa);
    command
        .args(["serve", "--listen", &format!("{}:0", host.addr), "--janus", &janus.url])
        .args(["--sfu-above", &sfu_above.to_string(), "--max-room-size", "12"])
        .env("RUST_LOG", "error");
    ServerProcess::spawn(command).context("start kaiwa serve")
}

/// One room's lab: a host with Janus and `kaiwa serve` (a mesh of six, or Janus from the first
/// participant) in it. Dropped in field order: the server, Janus, their files, the lab.
struct Stage {
    server: ServerProcess,
    /// Held for the room's life.
    _janus: Janus,
    dir: tempfile::TempDir,
    host: Host,
    lab: Lab,
}

impl Stage {
    fn start(kaiwa: &Path, route: Route, seed: u64) -> anyhow::Result<Stage> {
        let lab = Lab::new(seed).context("the network lab (needs root and /dev/net/tun)")?;
        let host = lab.add_host("sfu")?;
        let dir = tempfile::tempdir()?;
        let janus = Janus::start(dir.path(), &host);
        let sfu_above = match route {
            Route::Mesh => PEOPLE,
            Route::Janus => 0,
        };
        let server = serve(kaiwa, &host, &janus, sfu_above)?;
        Ok(Stage { server, _janus: janus, dir, host, lab })
    }
}

async fn room(
    kaiwa: &Path,
    route: Route,
    args: &Args,
    env: &[(String, String)],
    seed: u64,
) -> anyhow::Result<Vec<Client>> {
    let stage = Stage::start(kaiwa, route, seed)?;
    let (host, addr) = (&stage.host, stage.server.addr);
    let mut people: Vec<(Browser, Page)> = Vec::new();
    for i in 0..PEOPLE {
        let secure = format!("--unsafely-treat-insecure-origin-as-secure=http://{addr}");
        let opts = LaunchOptions { extra_args: vec![secure], env: env.to_vec(), ..Default::default() };
        let browser = Browser::launch(opts.in_lab(host)).await?;
        let url =
            format!("http://{addr}/r/six?name=P{i}&autojoin=1&bench=latency&size=320x240&fps={}", args.fps);
        let page = browser.new_page(&format!("P{i}"), &url).await?;
        people.push((browser, page));
    }
    let everyone = format!(
        "kaiwa.stats().then(() => {{ const s = kaiwa.state(); return s.peers.length === {} && \
         s.peers.every(p => p.videoFlowing) && ({} ? s.sfu && s.peers.every(p => p.sfuFlowing) : !s.sfu); }})",
        PEOPLE - 1,
        route == Route::Janus
    );
    for (_, page) in &people {
        page.wait_for(&everyone, JOIN_WAIT).await.context("everyone receiving everyone")?;
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let before = measure(&people).await?;
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let after = measure(&people).await?;
    let secs = t0.elapsed().as_secs_f64();
    let mut clients = Vec::new();
    for (i, (_, page)) in people.iter().enumerate() {
        let bench = page.eval("kaiwa.bench()").await?;
        let mut c = Client {
            uplink_kbps: (after[i].0 - before[i].0) * 8.0 / 1000.0 / secs,
            cpu_pct: (after[i].1 - before[i].1) / secs * 100.0,
            ..Default::default()
        };
        for p in bench["peers"].as_array().into_iter().flatten() {
            c.video_ms.extend(crate::client::samples(&p["videoLatencyMs"]));
            let fps: Vec<f64> = p["received"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["fps"].as_f64())
                .filter(|f| *f > 0.0)
                .collect();
            c.fps.extend(median(&fps));
        }
        clients.push(c);
    }
    // The pages first: with Janus gone before them, they would be sent away and rejoin meanwhile.
    drop(people);
    drop(stage);
    Ok(clients)
}

/// A `kaiwa call` in its own lab host, killed when dropped.
struct Native {
    child: Child,
    host: Host,
    /// Its statistics once a second, one JSON line each (`--stats-log`).
    log: PathBuf,
    /// Its statistics at the end, with latency samples (`--stats-json`).
    json: PathBuf,
}

impl Drop for Native {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Native {
    /// The newest line of its log.
    fn last(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        serde_json::from_str(text.lines().last()?).ok()
    }
}

/// A native client's bytes sent, CPU seconds, and frames decoded from each peer, at one moment.
type Reading = (f64, f64, Vec<(String, f64)>);

/// Frames decoded so far from each peer in a log line.
fn frames_by_peer(line: &serde_json::Value) -> Vec<(String, f64)> {
    let peers = line["peers"].as_array().into_iter().flatten();
    let frames = |p: &serde_json::Value| p["video_in"]["frames_decoded"].as_f64().unwrap_or(0.0);
    peers.map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), frames(p))).collect()
}

/// The same room of six with native clients, each in a lab host of its own (so its access link's counter
/// is what it sent), the server and Janus in another.
async fn native_room(kaiwa: &Path, route: Route, args: &Args, seed: u64) -> anyhow::Result<Vec<Client>> {
    let stage = Stage::start(kaiwa, route, seed)?;
    let (lab, dir) = (&stage.lab, &stage.dir);
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let me = lab.add_host(&format!("n{i}"))?;
        let (log, json) = (dir.path().join(format!("N{i}.jsonl")), dir.path().join(format!("N{i}.json")));
        let mut command = me.command(kaiwa);
        command
            .args(["call", "--server", &format!("ws://{}/ws", stage.server.addr), "--room", "six"])
            .args(["--name", &format!("N{i}"), "--bind", &format!("{}:0", me.addr), "--quiet"])
            .args(["--size", "320x240", "--fps", &args.fps.to_string(), "--latency-samples"])
            .args(["--video", "testpattern", "--audio", "clicks", "--stats-every", "1s", "--stats-log"])
            .arg(&log)
            .arg("--stats-json")
            .arg(&json)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().context("start kaiwa call")?;
        people.push(Native { child, host: me, log, json });
    }
    let through_janus = route == Route::Janus;
    let deadline = Instant::now() + JOIN_WAIT;
    for person in &people {
        loop {
            let everyone = person.last().is_some_and(|line| {
                let peers = line["peers"].as_array().cloned().unwrap_or_default();
                peers.len() == PEOPLE - 1
                    && peers.iter().all(|p| {
                        p["via_sfu"] == through_janus && p["video_in"]["frames_decoded"].as_u64() > Some(0)
                    })
            });
            if everyone {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "everyone receiving everyone");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let measure = |people: &[Native]| -> anyhow::Result<Vec<Reading>> {
        people
            .iter()
            .map(|p| {
                let sent = lab.counters(&p.host, Direction::Up)?.bytes_in as f64;
                let frames = p.last().map(|line| frames_by_peer(&line)).unwrap_or_default();
                Ok((sent, cpu_seconds(p.child.id()), frames))
            })
            .collect()
    };
    let before = measure(&people)?;
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let after = measure(&people)?;
    let secs = t0.elapsed().as_secs_f64();
    let mut clients = Vec::new();
    for (i, person) in people.iter_mut().enumerate() {
        // Its statistics with the latency samples are written as it leaves.
        crate::client::interrupt(&mut person.child).await?;
        let fps = after[i]
            .2
            .iter()
            .filter_map(|(name, frames)| {
                let earlier = before[i].2.iter().find(|(n, _)| n == name)?.1;
                Some((frames - earlier) / secs)
            })
            .collect::<Vec<f64>>();
        let mut c = Client {
            uplink_kbps: (after[i].0 - before[i].0) * 8.0 / 1000.0 / secs,
            cpu_pct: (after[i].1 - before[i].1) / secs * 100.0,
            fps,
            ..Default::default()
        };
        let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&person.json)?)?;
        for p in stats.as_array().into_iter().flatten() {
            c.video_ms.extend(crate::client::samples(&p["video_latency_samples_ms"]));
        }
        clients.push(c);
    }
    drop(people);
    drop(stage);
    Ok(clients)
}

/// Bytes each page has sent on all its connections, and its Chromium's CPU seconds.
async fn measure(people: &[(Browser, Page)]) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for (browser, page) in people {
        let sent = page.eval("kaiwa.bytesSent()").await?.as_f64().unwrap_or(0.0);
        out.push((sent, cpu_seconds(browser.pid())));
    }
    Ok(out)
}

fn summary(clients: &[Client]) -> String {
    let uplink = median(&clients.iter().map(|c| c.uplink_kbps).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    let cpu = median(&clients.iter().map(|c| c.cpu_pct).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    let lat: Vec<f64> = clients.iter().flat_map(|c| c.video_ms.iter().copied()).collect();
    let [p50, p95] = quantiles(&lat, [0.5, 0.95]).unwrap_or([f64::NAN; 2]);
    format!(
        "uplink {uplink:.0} kbit/s, CPU {cpu:.0} %, video latency p50/p95 {p50:.0}/{p95:.0} ms per client"
    )
}

fn report(args: &Args, results: &[(Contender, Route, Vec<Client>)], took: Duration) -> String {
    use std::fmt::Write;
    let mut md = String::from(
        "| figure (per client, median over clients and runs) | Chromium, mesh | Chromium, through Janus | \
         native, mesh | native, through Janus |\n|---|---|---|---|---|\n",
    );
    let of = |who: Contender, route: Route, f: &dyn Fn(&Client) -> Vec<f64>| -> Vec<f64> {
        let rooms = results.iter().filter(|(w, r, _)| *w == who && *r == route);
        rooms.flat_map(|(_, _, cs)| cs.iter().flat_map(f)).collect()
    };
    type Row<'a> = (&'a str, Box<dyn Fn(&Client) -> Vec<f64>>, fn(&[f64]) -> String);
    let med = |v: &[f64]| median(v).map_or("–".into(), |m| format!("{m:.0}"));
    let rows: Vec<Row<'_>> = vec![
        ("uplink, kbit/s", Box::new(|c: &Client| vec![c.uplink_kbps]), med),
        ("CPU (the client's process tree), % of one core", Box::new(|c: &Client| vec![c.cpu_pct]), med),
        ("received frame rate, fps", Box::new(|c: &Client| c.fps.clone()), med),
        ("video glass-to-glass p50, ms", Box::new(|c: &Client| c.video_ms.clone()), |v| {
            quantiles(v, [0.5]).map_or("–".into(), |[q]| format!("{q:.0}"))
        }),
        ("video glass-to-glass p95, ms", Box::new(|c: &Client| c.video_ms.clone()), |v| {
            quantiles(v, [0.95]).map_or("–".into(), |[q]| format!("{q:.0}"))
        }),
    ];
    for (label, f, show) in &rows {
        let cells: Vec<String> = [Contender::Chromium, Contender::Native]
            .into_iter()
            .flat_map(|who| [Route::Mesh, Route::Janus].map(|route| show(&of(who, route, f))))
            .collect();
        let _ = writeln!(md, "| {label} | {} |", cells.join(" | "));
    }
    let runs =
        |route: Route| results.iter().filter(|(w, r, _)| *w == Contender::Chromium && *r == route).count();
    let _ = write!(
        md,
        "\nRooms of {PEOPLE} Chromiums (in one lab host with the server and Janus; uplink from `kaiwa.bytesSent()`) \
         and of {PEOPLE} native clients (each in a lab host of its own; uplink from its access link), each \
         sending a stamped 320×240 picture at {} fps; {} s measured after {} s of warm-up; {} mesh and {} Janus \
         rooms of each, alternately; {:.1} min.\n",
        args.fps,
        args.seconds,
        args.warmup,
        runs(Route::Mesh),
        runs(Route::Janus),
        took.as_secs_f64() / 60.0
    );
    md
}
