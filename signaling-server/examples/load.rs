//! Load tool for the signaling server: holds many idle connections, then relays signals between pairs.
//! It also drives a minimal Socket.IO relay on Node.js (`bench/socketio-relay`) through the same phases,
//! so both servers are measured by the same client code.
//!
//! Run with: `scripts/bench-signaling.sh` (builds the release server and this tool, then runs it), or
//! `scripts/bench-signaling.sh --compare` (both servers, alternately, and a markdown table), or
//! `cargo build --release -p kaiwa-signaling --bins --examples && target/release/examples/load --help`.
//!
//! It starts the real server as a child process (`kaiwa-signaling`, or `node server.js`), so the server's
//! RSS and CPU are its own, read from `/proc`, and reports connections held, server RSS per idle
//! connection, one-way relay latency p50/p99 at a fixed message rate, and the sustained relay throughput.
//! All traffic stays on 127.0.0.1.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{FutureExt, SinkExt, StreamExt};
use kaiwa_protocol::ServerMessage;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(about = "Load test for kaiwa-signaling and a Socket.IO relay (loopback only)")]
struct Args {
    /// Idle connections to hold
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Participants per room for the idle connections
    #[arg(long, default_value_t = 4)]
    room_size: usize,
    /// Sender/receiver pairs for the relay phases (extra connections)
    #[arg(long, default_value_t = 200)]
    pairs: usize,
    /// Total messages per second in the fixed-rate latency phase
    #[arg(long, default_value_t = 20_000)]
    rate: u32,
    /// Messages in flight per pair in the throughput phase
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// Length of each relay phase
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Which server to measure; `both` alternates kaiwa and socketio and prints a comparison table
    #[arg(long, value_enum, default_value_t = Target::Kaiwa)]
    server: Target,
    /// How many times to run each server (alternately); the table shows medians
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Also write the markdown table to this file
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Extra argument for kaiwa-signaling, after the tool's own (repeatable), e.g. --kaiwa-arg=--ping-interval=25s
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    kaiwa_arg: Vec<String>,
    /// The server binary [default: kaiwa-signaling next to this tool's directory]
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The Socket.IO relay's directory (with `npm ci` done) [default: bench/socketio-relay in this repository]
    #[arg(long)]
    socketio_dir: Option<PathBuf>,
    /// Node.js
    #[arg(long, default_value = "node")]
    node: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Target {
    Kaiwa,
    Socketio,
    Both,
}

/// The wire protocol a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    /// Ours: one JSON object per text frame (`docs/PROTOCOL.md`).
    Kaiwa,
    /// Socket.IO 4 over Engine.IO v4 on a WebSocket: `42["event",payload]` frames, pings `2` answered by `3`.
    SocketIo,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::Kaiwa => "kaiwa-signaling",
            Flavor::SocketIo => "Socket.IO relay",
        }
    }

    fn ws_path(self) -> &'static str {
        match self {
            Flavor::Kaiwa => kaiwa_protocol::WS_PATH,
            Flavor::SocketIo => "/socket.io/?EIO=4&transport=websocket",
        }
    }

    fn join(self, room: &str) -> String {
        match self {
            Flavor::Kaiwa => format!(r#"{{"type":"join","room":"{room}","name":"load","version":1}}"#),
            Flavor::SocketIo => format!(r#"42["join",{{"room":"{room}","name":"load"}}]"#),
        }
    }

    /// A signal to `to` carrying the send time `t` (ns since the run's `t0`).
    fn signal(self, to: &str, t: u64) -> String {
        match self {
            Flavor::Kaiwa => format!(r#"{{"type":"signal","to":"{to}","data":{{"t":{t}}}}}"#),
            Flavor::SocketIo => format!(r#"42["signal",{{"to":"{to}","data":{{"t":{t}}}}}]"#),
        }
    }

    /// Whether `text` is the server refusing something.
    fn is_error(self, text: &str) -> bool {
        match self {
            Flavor::Kaiwa => text.contains(r#""type":"error""#),
            Flavor::SocketIo => text.starts_with(r#"42["failure""#),
        }
    }

    /// Engine.IO's ping, which the client must answer with `3` within the server's ping timeout.
    fn is_ping(self, text: &str) -> bool {
        self == Flavor::SocketIo && text == "2"
    }

    fn parse(self, text: &str) -> anyhow::Result<Event> {
        match self {
            Flavor::Kaiwa => Ok(match ServerMessage::parse(text)? {
                ServerMessage::Joined { id, .. } => Event::Joined(id),
                ServerMessage::PeerJoined { .. } => Event::PeerJoined,
                other => Event::Other(format!("{other:?}")),
            }),
            Flavor::SocketIo => {
                let Some(event) = text.strip_prefix("42") else {
                    return Ok(Event::Other(text.to_owned()));
                };
                let (name, payload): (String, serde_json::Value) = serde_json::from_str(event)?;
                Ok(match name.as_str() {
                    "joined" => {
                        Event::Joined(payload["id"].as_str().context("joined without id")?.to_owned())
                    }
                    "peer_joined" => Event::PeerJoined,
                    _ => Event::Other(text.to_owned()),
                })
            }
        }
    }
}

/// What the join phase needs to know about a server message.
#[derive(Debug)]
enum Event {
    Joined(String),
    PeerJoined,
    /// Anything else, kept for the error message.
    Other(#[allow(dead_code, reason = "only shown through Debug")] String),
}

struct ServerProcess {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("bad VmRSS")?.parse()?)
}

/// User + system CPU time of the whole process (every thread), in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').context("bad stat")? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn start_server(args: &Args, flavor: Flavor) -> anyhow::Result<ServerProcess> {
    use std::io::BufRead;
    let room_size = args.room_size.max(2).to_string();
    let (mut command, banner) = match flavor {
        Flavor::Kaiwa => {
            let bin = match &args.server_bin {
                Some(b) => b.clone(),
                None => std::env::current_exe()?
                    .parent()
                    .and_then(|p| p.parent())
                    .context("no parent")?
                    .join("kaiwa-signaling"),
            };
            if !bin.exists() {
                bail!(
                    "{} not found: build it first (cargo build --release -p kaiwa-signaling --bins)",
                    bin.display()
                );
            }
            let total = args.connections + 2 * args.pairs;
            let mut c = Command::new(&bin);
            c.args(["--listen", "127.0.0.1:0", "--max-room-size", &room_size])
                .args(["--max-connections", &(total + 100).to_string()])
                // The relay phases send far above a person's rate on purpose.
                .args(["--rate-limit", "1000000", "--rate-burst", "1000000", "--send-queue", "4096"])
                .args(["--join-timeout", "10m"])
                // Pings stay at the default; a load tool starved of CPU on a busy machine must not have
                // its connections timed out (Engine.IO waits 25 s + 20 s).
                .args(["--idle-timeout", "45s"])
                .args(&args.kaiwa_arg)
                .env("RUST_LOG", "warn");
            (c, "kaiwa-signaling listening on ")
        }
        Flavor::SocketIo => {
            let dir = args.socketio_dir.clone().unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/socketio-relay"))
            });
            if !dir.join("node_modules/socket.io").exists() {
                bail!("{}: socket.io is not installed there (run npm ci in it)", dir.display());
            }
            let mut c = Command::new(&args.node);
            c.current_dir(&dir).arg("server.js").args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--max-room-size",
                &room_size,
            ]);
            (c, "socketio-relay listening on ")
        }
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", flavor.name()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let first = lines.next().context("server printed nothing")??;
    let addr = first
        .strip_prefix(banner)
        .and_then(|r| r.split(' ').next())
        .with_context(|| format!("unexpected first line {first:?}"))?
        .parse()?;
    std::thread::Builder::new().name("server-stdout".into()).spawn(move || lines.for_each(drop))?;
    Ok(ServerProcess { child, addr })
}

type Ws = WebSocketStream<TcpStream>;

/// Waits for the next text frame, answering Engine.IO pings on the way.
async fn next_text(ws: &mut Ws, flavor: Flavor) -> anyhow::Result<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await?.context("closed")?? {
            Message::Text(t) if flavor.is_ping(&t) => ws.send(Message::text("3")).await?,
            Message::Text(t) => return Ok(t.to_string()),
            Message::Close(f) => bail!("closed by server: {f:?}"),
            _ => continue,
        }
    }
}

async fn connect(addr: std::net::SocketAddr, flavor: Flavor) -> anyhow::Result<Ws> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(16 * 1024);
    let url = format!("ws://{addr}{}", flavor.ws_path());
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
    if flavor == Flavor::SocketIo {
        // Engine.IO open packet, then connect to the main namespace.
        let open = next_text(&mut ws, flavor).await?;
        if !open.starts_with("0{") {
            bail!("expected an Engine.IO open packet, got {open:?}");
        }
        ws.send(Message::text("40")).await?;
        let connected = next_text(&mut ws, flavor).await?;
        if !connected.starts_with("40") {
            bail!("expected a Socket.IO connect packet, got {connected:?}");
        }
    }
    Ok(ws)
}

async fn next_event(ws: &mut Ws, flavor: Flavor) -> anyhow::Result<Event> {
    let text = next_text(ws, flavor).await?;
    flavor.parse(&text)
}

async fn join(addr: std::net::SocketAddr, flavor: Flavor, room: &str) -> anyhow::Result<(Ws, String)> {
    let mut ws = connect(addr, flavor).await?;
    ws.send(Message::text(flavor.join(room))).await?;
    match next_event(&mut ws, flavor).await? {
        Event::Joined(id) => Ok((ws, id)),
        other => bail!("expected joined, got {other:?}"),
    }
}

/// Keeps an idle connection alive (reading answers the server's pings) until `stop`.
async fn idle(mut ws: Ws, flavor: Flavor, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) if flavor.is_ping(&t) => {
                    if ws.send(Message::text("3")).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

fn signal(flavor: Flavor, to: &str, t0: Instant) -> Message {
    Message::text(flavor.signal(to, t0.elapsed().as_nanos() as u64))
}

/// One-way latency of a relayed signal sent by this process, in microseconds.
fn latency_us(text: &str, t0: Instant) -> Option<u64> {
    let i = text.find(r#""t":"#)? + 4;
    let digits: String = text[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let sent: u64 = digits.parse().ok()?;
    Some((t0.elapsed().as_nanos() as u64).saturating_sub(sent) / 1000)
}

#[derive(Clone, Copy)]
enum Role {
    /// Sends one message per `every` to the partner.
    Paced { every: Duration, phase: Duration },
    /// Only receives.
    Sink,
    /// Starts `initial` messages, then answers every message with one back.
    Echo { initial: usize },
}

struct EndpointStats {
    received: u64,
    latencies_us: Vec<u64>,
}

async fn endpoint(
    ws: &mut Ws,
    flavor: Flavor,
    partner: &str,
    role: Role,
    t0: Instant,
    stop: CancellationToken,
) -> anyhow::Result<EndpointStats> {
    let mut stats = EndpointStats { received: 0, latencies_us: Vec::new() };
    let mut ticker = match role {
        Role::Paced { every, phase } => {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + phase, every);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            Some(i)
        }
        _ => None,
    };
    if let Role::Echo { initial } = role {
        for _ in 0..initial {
            ws.feed(signal(flavor, partner, t0)).await?;
        }
        ws.flush().await?;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(stats),
            _ = async { ticker.as_mut().unwrap().tick().await }, if ticker.is_some() => {
                ws.send(signal(flavor, partner, t0)).await?;
            }
            m = ws.next() => {
                // Handle everything already received, answering in one write.
                let mut next = Some(m);
                while let Some(m) = next {
                    match m {
                        Some(Ok(Message::Text(t))) => {
                            if let Some(us) = latency_us(&t, t0) {
                                stats.received += 1;
                                stats.latencies_us.push(us);
                                if matches!(role, Role::Echo { .. }) {
                                    ws.feed(signal(flavor, partner, t0)).await?;
                                }
                            } else if flavor.is_ping(&t) {
                                ws.feed(Message::text("3")).await?;
                            } else if flavor.is_error(&t) {
                                bail!("server error: {t}");
                            }
                        }
                        Some(Ok(_)) => {}
                        other => bail!("connection ended: {other:?}"),
                    }
                    next = ws.next().now_or_never();
                }
                ws.flush().await?;
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

type Pair = (Ws, String, Ws, String);

/// Runs one relay phase over all pairs; returns (messages received, sorted latencies in µs, seconds).
async fn relay_phase(
    pairs: &mut Vec<Pair>,
    flavor: Flavor,
    roles: impl Fn(usize) -> (Role, Role),
    duration: Duration,
    t0: Instant,
) -> anyhow::Result<(u64, Vec<u64>, f64)> {
    let stop = CancellationToken::new();
    let mut tasks = Vec::new();
    for (i, (mut a, ida, mut b, idb)) in pairs.drain(..).enumerate() {
        let stop = stop.clone();
        let roles = roles(i);
        tasks.push(tokio::spawn(async move {
            let (ra, rb) = tokio::join!(
                endpoint(&mut a, flavor, &idb, roles.0, t0, stop.clone()),
                endpoint(&mut b, flavor, &ida, roles.1, t0, stop.clone())
            );
            ((a, ida, b, idb), ra, rb)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.cancel();
    let elapsed = started.elapsed().as_secs_f64();
    let (mut received, mut lat) = (0, Vec::new());
    for t in tasks {
        let (pair, ra, rb) = t.await?;
        for r in [ra?, rb?] {
            received += r.received;
            lat.extend(r.latencies_us);
        }
        pairs.push(pair);
    }
    lat.sort_unstable();
    Ok((received, lat, elapsed))
}

/// What one run against one server measured.
#[derive(Clone, Copy, Debug, Default)]
struct Figures {
    held: f64,
    joins_per_s: f64,
    rss_before_kib: f64,
    rss_idle_kib: f64,
    per_conn_kib: f64,
    fixed_relayed: f64,
    fixed_p50_ms: f64,
    fixed_p99_ms: f64,
    fixed_max_ms: f64,
    fixed_cpu: f64,
    tp_relayed: f64,
    tp_p50_ms: f64,
    tp_p99_ms: f64,
    tp_cpu: f64,
    tp_client_cpu: f64,
    rss_end_kib: f64,
}

impl Figures {
    /// Relayed messages per second of server CPU time (all its threads) in the throughput phase.
    fn tp_per_cpu_second(&self) -> f64 {
        self.tp_relayed / self.tp_cpu
    }
}

async fn run(args: &Args, flavor: Flavor) -> anyhow::Result<Figures> {
    let server = start_server(args, flavor)?;
    let pid = server.child.id();
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib(pid)?;
    let name = flavor.name();

    // Phase 1: idle connections.
    let t_connect = Instant::now();
    let stop_idle = CancellationToken::new();
    let room_size = args.room_size.max(1);
    let mut joined = futures_util::stream::iter(0..args.connections)
        .map(|i| async move { join(addr, flavor, &format!("idle-{}", i / room_size)).await })
        .buffer_unordered(64);
    let mut idle_tasks = Vec::with_capacity(args.connections);
    while let Some(r) = joined.next().await {
        let (ws, _) = r?;
        idle_tasks.push(tokio::spawn(idle(ws, flavor, stop_idle.clone())));
    }
    let connect_secs = t_connect.elapsed().as_secs_f64();
    // Let join notifications drain and the allocator settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kib(pid)?;
    let per_conn_kib = (rss_idle.saturating_sub(rss_before)) as f64 / args.connections.max(1) as f64;
    let held = idle_tasks.iter().filter(|t| !t.is_finished()).count();
    let joins_per_s = args.connections as f64 / connect_secs;
    println!(
        "{name} idle: {held}/{} connections held ({joins_per_s:.0} joins/s); server RSS {rss_before} KiB -> {rss_idle} KiB = {per_conn_kib:.2} KiB per connection",
        args.connections,
    );

    // Relay pairs.
    let t0 = Instant::now();
    let mut pairs = Vec::with_capacity(args.pairs);
    for i in 0..args.pairs {
        let (a, ida) = join(addr, flavor, &format!("pair-{i}")).await?;
        let (b, idb) = join(addr, flavor, &format!("pair-{i}")).await?;
        pairs.push((a, ida, b, idb));
    }
    // Drain the peer_joined each `a` got.
    for (a, ..) in pairs.iter_mut() {
        match next_event(a, flavor).await? {
            Event::PeerJoined => {}
            other => bail!("expected peer_joined, got {other:?}"),
        }
    }

    // Phase 2: fixed rate, one-way latency.
    let every = Duration::from_secs_f64(args.pairs as f64 / args.rate as f64);
    let cpu0 = cpu_ticks(pid)?;
    // Senders are spread evenly over the period, as independent clients would be.
    let n = args.pairs as u32;
    let paced = |i: usize| (Role::Paced { every, phase: every * i as u32 / n }, Role::Sink);
    let (received, lat, secs) = relay_phase(&mut pairs, flavor, paced, args.duration, t0).await?;
    let fixed_cpu = (cpu_ticks(pid)? - cpu0) as f64 / 100.0 / secs;
    let fixed_relayed = received as f64 / secs;
    let (fixed_p50_ms, fixed_p99_ms, fixed_max_ms) =
        (percentile(&lat, 0.50), percentile(&lat, 0.99), percentile(&lat, 1.0));
    println!(
        "{name} fixed rate: {fixed_relayed:.0} msg/s relayed (target {}), latency p50 {fixed_p50_ms:.3} ms, p99 {fixed_p99_ms:.3} ms, max {fixed_max_ms:.3} ms; server CPU {:.0}% of one core",
        args.rate,
        fixed_cpu * 100.0
    );

    // Phase 3: throughput, closed loop with a window per pair.
    let cpu0 = cpu_ticks(pid)?;
    let own0 = cpu_ticks(std::process::id())?;
    let initial = (args.window / 2).max(1);
    let roles = (Role::Echo { initial }, Role::Echo { initial });
    let (received, lat, secs) = relay_phase(&mut pairs, flavor, |_| roles, args.duration, t0).await?;
    let tp_cpu = (cpu_ticks(pid)? - cpu0) as f64 / 100.0 / secs;
    let tp_client_cpu = (cpu_ticks(std::process::id())? - own0) as f64 / 100.0 / secs;
    let rss_end = rss_kib(pid)?;
    let tp_relayed = received as f64 / secs;
    let (tp_p50_ms, tp_p99_ms) = (percentile(&lat, 0.50), percentile(&lat, 0.99));
    println!(
        "{name} throughput: {tp_relayed:.0} msg/s relayed with {} pairs x {} in flight, latency p50 {tp_p50_ms:.3} ms, p99 {tp_p99_ms:.3} ms; server CPU {:.0}% of one core (load tool {:.0}%); server RSS {rss_end} KiB",
        args.pairs,
        2 * initial,
        tp_cpu * 100.0,
        tp_client_cpu * 100.0
    );
    stop_idle.cancel();
    drop(pairs);
    for t in idle_tasks {
        let _ = t.await;
    }
    drop(server);
    Ok(Figures {
        held: held as f64,
        joins_per_s,
        rss_before_kib: rss_before as f64,
        rss_idle_kib: rss_idle as f64,
        per_conn_kib,
        fixed_relayed,
        fixed_p50_ms,
        fixed_p99_ms,
        fixed_max_ms,
        fixed_cpu,
        tp_relayed,
        tp_p50_ms,
        tp_p99_ms,
        tp_cpu,
        tp_client_cpu,
        rss_end_kib: rss_end as f64,
    })
}

/// The median of one figure over the rounds (the mean of the middle two for an even count).
fn median(runs: &[Figures], figure: impl Fn(&Figures) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(figure).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The markdown table of medians: one column per server measured, plus the ratio and the targets when
/// both were.
fn table(args: &Args, results: &[(Flavor, Vec<Figures>)], load_start: &str, load_end: &str) -> String {
    use std::fmt::Write;
    type Row = (&'static str, fn(&Figures) -> f64, fn(f64) -> String);
    let kib = |v: f64| format!("{v:.2} KiB");
    let rate = |v: f64| format!("{v:.0} msg/s");
    let ms = |v: f64| format!("{v:.3} ms");
    let pct = |v: f64| format!("{:.0} %", v * 100.0);
    let mib = |v: f64| format!("{:.1} MiB", v / 1024.0);
    let rows: [Row; 17] = [
        ("idle connections held", |f| f.held, |v| format!("{v:.0}")),
        ("joins per second (64 at a time)", |f| f.joins_per_s, |v| format!("{v:.0}")),
        ("server RSS at start", |f| f.rss_before_kib, mib),
        ("server RSS with the idle connections", |f| f.rss_idle_kib, mib),
        ("server RSS per idle connection", |f| f.per_conn_kib, kib),
        ("fixed rate: relayed", |f| f.fixed_relayed, rate),
        ("fixed rate: latency p50", |f| f.fixed_p50_ms, ms),
        ("fixed rate: latency p99", |f| f.fixed_p99_ms, ms),
        ("fixed rate: latency max", |f| f.fixed_max_ms, ms),
        ("fixed rate: server CPU (of one core)", |f| f.fixed_cpu, pct),
        ("throughput (closed loop)", |f| f.tp_relayed, rate),
        ("throughput: latency p50", |f| f.tp_p50_ms, ms),
        ("throughput: latency p99", |f| f.tp_p99_ms, ms),
        ("throughput: server CPU (of one core)", |f| f.tp_cpu, pct),
        ("throughput: load tool CPU (of one core)", |f| f.tp_client_cpu, pct),
        ("relayed per server CPU-second", Figures::tp_per_cpu_second, |v| format!("{v:.0} msg")),
        ("server RSS at the end", |f| f.rss_end_kib, mib),
    ];
    let both = results.len() == 2;
    let mut out = String::new();
    let _ = write!(out, "| figure |");
    for (flavor, _) in results {
        let _ = write!(out, " {} |", flavor.name());
    }
    if both {
        let _ = write!(out, " kaiwa / socket.io |");
    }
    let _ = write!(out, "\n|---|");
    for _ in 0..results.len() + usize::from(both) {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for (label, figure, show) in rows {
        let _ = write!(out, "| {label} |");
        let medians: Vec<f64> = results.iter().map(|(_, runs)| median(runs, figure)).collect();
        for m in &medians {
            let _ = write!(out, " {} |", show(*m));
        }
        if both {
            let _ = write!(out, " {:.2}× |", medians[0] / medians[1]);
        }
        out.push('\n');
    }
    if both {
        let tp = median(&results[0].1, |f| f.tp_relayed) / median(&results[1].1, |f| f.tp_relayed);
        let mem = median(&results[0].1, |f| f.per_conn_kib) / median(&results[1].1, |f| f.per_conn_kib);
        let mark = |ok: bool| if ok { "✅" } else { "❌" };
        let _ = write!(
            out,
            "\nTargets: throughput ≥ 2× the Socket.IO relay's: **{tp:.2}×** {}; memory per connection ≤ 0.5× its: **{mem:.2}×** {}\n",
            mark(tp >= 2.0),
            mark(mem <= 0.5)
        );
    }
    let rounds = results.first().map_or(0, |(_, runs)| runs.len());
    let _ = write!(
        out,
        "\n{} idle connections (rooms of {}), {} pairs, {} msg/s fixed rate, {} in flight per pair, {} phases; \
         medians of {rounds} round(s), servers run alternately; load average {load_start} at the start, {load_end} at the end.\n",
        args.connections,
        args.room_size,
        args.pairs,
        args.rate,
        2 * (args.window / 2).max(1),
        humantime::format_duration(args.duration),
    );
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let flavors: &[Flavor] = match args.server {
        Target::Kaiwa => &[Flavor::Kaiwa],
        Target::Socketio => &[Flavor::SocketIo],
        Target::Both => &[Flavor::Kaiwa, Flavor::SocketIo],
    };
    let load_start = load_average();
    let mut results: Vec<(Flavor, Vec<Figures>)> = flavors.iter().map(|f| (*f, Vec::new())).collect();
    for round in 0..args.rounds.max(1) {
        for (flavor, runs) in results.iter_mut() {
            if args.rounds > 1 || flavors.len() > 1 {
                println!(
                    "-- round {} of {}: {} (load average {})",
                    round + 1,
                    args.rounds,
                    flavor.name(),
                    load_average()
                );
            }
            let figures =
                run(&args, *flavor).await.with_context(|| format!("measuring {}", flavor.name()))?;
            runs.push(figures);
            // Let the closed connections' sockets and the previous server's memory go.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    if flavors.len() > 1 || args.rounds > 1 || args.markdown.is_some() {
        let md = table(&args, &results, &load_start, &load_average());
        println!("\n{md}");
        if let Some(path) = &args.markdown {
            std::fs::write(path, &md).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
