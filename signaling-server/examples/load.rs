//! Load tool for the signaling server: holds many idle connections, then relays signals between pairs.
//!
//! Run with: `scripts/bench-signaling.sh` (builds the release server and this tool, then runs it), or
//! `cargo build --release -p kaiwa-signaling --bins --examples && target/release/examples/load --help`.
//!
//! It starts the real `kaiwa-signaling` binary as a child process (so the server's RSS is its own),
//! and reports connections held, server RSS per idle connection, one-way relay latency p50/p99 at a fixed
//! message rate, and the sustained relay throughput. All traffic stays on 127.0.0.1.

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
#[command(about = "Load test for kaiwa-signaling (loopback only)")]
struct Args {
    /// Idle connections to hold
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Participants per room for the idle connections
    #[arg(long, default_value_t = 4)]
    room_size: usize,
    /// Sender/receiver pairs for the relay phases (extra connections)
    #[arg(long, default_value_t = 500)]
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
    /// The server binary [default: kaiwa-signaling next to this tool's directory]
    #[arg(long)]
    server_bin: Option<PathBuf>,
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

fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').context("bad stat")? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn start_server(args: &Args) -> anyhow::Result<ServerProcess> {
    use std::io::BufRead;
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
    let mut child = Command::new(&bin)
        .args(["--listen", "127.0.0.1:0", "--max-room-size", &args.room_size.max(2).to_string()])
        .args(["--max-connections", &(total + 100).to_string()])
        // The relay phases send far above a person's rate on purpose.
        .args(["--rate-limit", "1000000", "--rate-burst", "1000000", "--send-queue", "4096"])
        .args(["--join-timeout", "10m"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let first = lines.next().context("server printed nothing")??;
    let addr = first
        .strip_prefix("kaiwa-signaling listening on ")
        .and_then(|r| r.split(' ').next())
        .context("unexpected first line")?
        .parse()?;
    std::thread::spawn(move || lines.for_each(drop));
    Ok(ServerProcess { child, addr })
}

type Ws = WebSocketStream<TcpStream>;

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Ws> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(16 * 1024);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(format!("ws://{addr}/ws"), tcp, Some(config)).await?;
    Ok(ws)
}

async fn next_server_message(ws: &mut Ws) -> anyhow::Result<ServerMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await?.context("closed")?? {
            Message::Text(t) => return Ok(ServerMessage::parse(&t)?),
            Message::Close(f) => bail!("closed by server: {f:?}"),
            _ => continue,
        }
    }
}

async fn join(addr: std::net::SocketAddr, room: &str) -> anyhow::Result<(Ws, String)> {
    let mut ws = connect(addr).await?;
    ws.send(Message::text(format!(r#"{{"type":"join","room":"{room}","name":"load","version":1}}"#))).await?;
    match next_server_message(&mut ws).await? {
        ServerMessage::Joined { id, .. } => Ok((ws, id)),
        other => bail!("expected joined, got {other:?}"),
    }
}

/// Keeps an idle connection alive (reading answers the server's pings) until `stop`.
async fn idle(mut ws: Ws, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            m = ws.next() => if !matches!(m, Some(Ok(_))) { return },
        }
    }
}

fn signal(to: &str, t0: Instant) -> Message {
    let t = t0.elapsed().as_nanos() as u64;
    Message::text(format!(r#"{{"type":"signal","to":"{to}","data":{{"t":{t}}}}}"#))
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
            ws.feed(signal(partner, t0)).await?;
        }
        ws.flush().await?;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(stats),
            _ = async { ticker.as_mut().unwrap().tick().await }, if ticker.is_some() => {
                ws.send(signal(partner, t0)).await?;
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
                                    ws.feed(signal(partner, t0)).await?;
                                }
                            } else if t.contains(r#""type":"error""#) {
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

/// Runs one relay phase over all pairs; returns (messages received, sorted latencies in µs, seconds).
async fn relay_phase(
    pairs: &mut Vec<(Ws, String, Ws, String)>,
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
                endpoint(&mut a, &idb, roles.0, t0, stop.clone()),
                endpoint(&mut b, &ida, roles.1, t0, stop.clone())
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let server = start_server(&args)?;
    let pid = server.child.id();
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib(pid)?;

    // Phase 1: idle connections.
    let t_connect = Instant::now();
    let stop_idle = CancellationToken::new();
    let room_size = args.room_size.max(1);
    let mut joined = futures_util::stream::iter(0..args.connections)
        .map(|i| async move { join(addr, &format!("idle-{}", i / room_size)).await })
        .buffer_unordered(64);
    let mut idle_tasks = Vec::with_capacity(args.connections);
    while let Some(r) = joined.next().await {
        let (ws, _) = r?;
        idle_tasks.push(tokio::spawn(idle(ws, stop_idle.clone())));
    }
    let connect_secs = t_connect.elapsed().as_secs_f64();
    // Let join notifications drain and the allocator settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kib(pid)?;
    let per_conn_kib = (rss_idle.saturating_sub(rss_before)) as f64 / args.connections.max(1) as f64;
    let held = idle_tasks.iter().filter(|t| !t.is_finished()).count();
    println!(
        "idle: {held}/{} connections held ({:.0} joins/s); server RSS {rss_before} KiB -> {rss_idle} KiB = {:.2} KiB per connection",
        args.connections,
        args.connections as f64 / connect_secs,
        per_conn_kib
    );

    // Relay pairs.
    let t0 = Instant::now();
    let mut pairs = Vec::with_capacity(args.pairs);
    for i in 0..args.pairs {
        let (a, ida) = join(addr, &format!("pair-{i}")).await?;
        let (b, idb) = join(addr, &format!("pair-{i}")).await?;
        pairs.push((a, ida, b, idb));
    }
    // Drain the peer_joined each `a` got.
    for (a, ..) in pairs.iter_mut() {
        match next_server_message(a).await? {
            ServerMessage::PeerJoined { .. } => {}
            other => bail!("expected peer_joined, got {other:?}"),
        }
    }

    // Phase 2: fixed rate, one-way latency.
    let every = Duration::from_secs_f64(args.pairs as f64 / args.rate as f64);
    let cpu0 = cpu_ticks(pid)?;
    // Senders are spread evenly over the period, as independent clients would be.
    let n = args.pairs as u32;
    let paced = |i: usize| (Role::Paced { every, phase: every * i as u32 / n }, Role::Sink);
    let (received, lat, secs) = relay_phase(&mut pairs, paced, args.duration, t0).await?;
    let cpu_rate = (cpu_ticks(pid)? - cpu0) as f64 / 100.0 / secs;
    println!(
        "fixed rate: {:.0} msg/s relayed (target {}), latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; server CPU {:.0}% of one core",
        received as f64 / secs,
        args.rate,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        cpu_rate * 100.0
    );

    // Phase 3: throughput, closed loop with a window per pair.
    let cpu0 = cpu_ticks(pid)?;
    let initial = (args.window / 2).max(1);
    let roles = (Role::Echo { initial }, Role::Echo { initial });
    let (received, lat, secs) = relay_phase(&mut pairs, |_| roles, args.duration, t0).await?;
    let cpu_tp = (cpu_ticks(pid)? - cpu0) as f64 / 100.0 / secs;
    let rss_end = rss_kib(pid)?;
    println!(
        "throughput: {:.0} msg/s relayed with {} pairs x {} in flight, latency p50 {:.3} ms, p99 {:.3} ms; server CPU {:.0}% of one core; server RSS {rss_end} KiB",
        received as f64 / secs,
        args.pairs,
        2 * initial,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        cpu_tp * 100.0
    );
    stop_idle.cancel();
    drop(server);
    Ok(())
}
