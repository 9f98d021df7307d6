//! One run against one server: idle connections, then the fixed-rate and the throughput relay phases.

use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::args::Args;
use crate::client::{Role, Ws, endpoint, idle, join, next_event};
use crate::flavor::{Event, Flavor};
use crate::server::Servers;
use crate::setup::Setup;
use kaiwa_bench::procstat::process_cpu_seconds;
use kaiwa_bench::stats::quantiles;

type Pair = (Ws, String, Ws, String);

/// p50, p99 and the largest of relay latencies in µs, as ms (NaN when there are none).
fn latency_ms(latencies_us: &[u64]) -> [f64; 3] {
    let ms: Vec<f64> = latencies_us.iter().map(|&us| us as f64 / 1000.0).collect();
    quantiles(&ms, [0.5, 0.99, 1.0]).unwrap_or([f64::NAN; 3])
}

/// Runs one relay phase over all pairs; returns (messages received, latencies in µs, seconds).
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
    Ok((received, lat, elapsed))
}

/// What one run against one server measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    pub held: f64,
    pub joins_per_s: f64,
    pub rss_before_kib: f64,
    pub rss_idle_kib: f64,
    pub per_conn_kib: f64,
    pub fixed_relayed: f64,
    pub fixed_p50_ms: f64,
    pub fixed_p99_ms: f64,
    pub fixed_max_ms: f64,
    pub fixed_cpu: f64,
    pub tp_relayed: f64,
    pub tp_p50_ms: f64,
    pub tp_p99_ms: f64,
    pub tp_cpu: f64,
    pub tp_client_cpu: f64,
    pub rss_end_kib: f64,
    /// Redis, in cluster mode: its CPU in the throughput phase and its memory at the end.
    pub tp_redis_cpu: f64,
    pub redis_rss_kib: f64,
}

impl Figures {
    /// Relayed messages per second of server CPU time (all its threads) in the throughput phase.
    pub fn tp_per_cpu_second(&self) -> f64 {
        self.tp_relayed / self.tp_cpu
    }
}

pub async fn run(args: &Args, setup: Setup) -> anyhow::Result<Figures> {
    let flavor = setup.flavor;
    let servers = Servers::start(args, flavor, setup.nodes)?;
    let servers = &servers;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = servers.rss_kib();
    let name = setup.name();

    // Phase 1: idle connections.
    let t_connect = Instant::now();
    let stop_idle = CancellationToken::new();
    let room_size = args.room_size.max(1);
    let mut joined = futures_util::stream::iter(0..args.connections)
        .map(|i| async move { join(servers.addr(i), flavor, &format!("idle-{}", i / room_size)).await })
        .buffer_unordered(64);
    let mut idle_tasks = Vec::with_capacity(args.connections);
    while let Some(r) = joined.next().await {
        let (ws, _) = r?;
        idle_tasks.push(tokio::spawn(idle(ws, flavor, stop_idle.clone())));
    }
    let connect_secs = t_connect.elapsed().as_secs_f64();
    // Let join notifications drain and the allocator settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = servers.rss_kib();
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
        let (a, ida) = join(servers.addr(i), flavor, &format!("pair-{i}")).await?;
        let (b, idb) = join(servers.addr(i + 1), flavor, &format!("pair-{i}")).await?;
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
    let cpu0 = servers.cpu_seconds();
    // Senders are spread evenly over the period, as independent clients would be.
    let n = args.pairs as u32;
    let paced = |i: usize| (Role::Paced { every, phase: every * i as u32 / n }, Role::Sink);
    let (received, lat, secs) = relay_phase(&mut pairs, flavor, paced, args.duration, t0).await?;
    let fixed_cpu = (servers.cpu_seconds() - cpu0) / secs;
    let fixed_relayed = received as f64 / secs;
    let [fixed_p50_ms, fixed_p99_ms, fixed_max_ms] = latency_ms(&lat);
    println!(
        "{name} fixed rate: {fixed_relayed:.0} msg/s relayed (target {}), latency p50 {fixed_p50_ms:.3} ms, p99 {fixed_p99_ms:.3} ms, max {fixed_max_ms:.3} ms; server CPU {:.0}% of one core",
        args.rate,
        fixed_cpu * 100.0
    );

    // Phase 3: throughput, closed loop with a window per pair.
    let cpu0 = servers.cpu_seconds();
    let redis0 = servers.redis().1;
    let own0 = process_cpu_seconds(std::process::id());
    let initial = (args.window / 2).max(1);
    let roles = (Role::Echo { initial }, Role::Echo { initial });
    let (received, lat, secs) = relay_phase(&mut pairs, flavor, |_| roles, args.duration, t0).await?;
    let tp_cpu = (servers.cpu_seconds() - cpu0) / secs;
    let (redis_rss_kib, redis_cpu) = servers.redis();
    let tp_redis_cpu = (redis_cpu - redis0) / secs;
    let tp_client_cpu = (process_cpu_seconds(std::process::id()) - own0) / secs;
    let rss_end = servers.rss_kib();
    let tp_relayed = received as f64 / secs;
    let [tp_p50_ms, tp_p99_ms, _] = latency_ms(&lat);
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
        tp_redis_cpu,
        redis_rss_kib: redis_rss_kib as f64,
    })
}
