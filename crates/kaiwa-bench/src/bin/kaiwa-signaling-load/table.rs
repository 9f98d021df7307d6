//! The markdown table of medians over the rounds.

use crate::args::Args;
use crate::flavor::Flavor;
use crate::run::Figures;
use crate::setup::Setup;

/// The median of one figure over the rounds (NaN with none).
fn median(runs: &[Figures], figure: impl Fn(&Figures) -> f64) -> f64 {
    kaiwa_bench::stats::median(&runs.iter().map(figure).collect::<Vec<_>>()).unwrap_or(f64::NAN)
}

/// The markdown table of medians: one column per server measured, plus the ratio and the targets when
/// both were.
pub fn table(args: &Args, results: &[(Setup, Vec<Figures>)], load_start: &str, load_end: &str) -> String {
    use std::fmt::Write;
    type Row = (&'static str, fn(&Figures) -> f64, fn(f64) -> String);
    let kib = |v: f64| format!("{v:.2} KiB");
    let rate = |v: f64| format!("{v:.0} msg/s");
    let ms = |v: f64| format!("{v:.3} ms");
    let pct = |v: f64| format!("{:.0} %", v * 100.0);
    let mib = |v: f64| format!("{:.1} MiB", v / 1024.0);
    let rows: [Row; 19] = [
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
        ("throughput: Redis CPU (of one core)", |f| f.tp_redis_cpu, pct),
        ("Redis RSS at the end", |f| f.redis_rss_kib, mib),
    ];
    let clustered = results.iter().any(|(setup, _)| setup.nodes.is_some());
    let rows = rows.into_iter().take(if clustered { 19 } else { 17 });
    let both = results.len() == 2 && results[1].0.flavor == Flavor::SocketIo;
    let mut out = String::new();
    let _ = write!(out, "| figure |");
    for (setup, _) in results {
        let _ = write!(out, " {} |", setup.name());
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
         medians of {rounds} round(s), setups run alternately; in cluster mode \"server\" figures are the sum over the nodes \
         and Redis is counted apart; load average {load_start} at the start, {load_end} at the end.\n",
        args.connections,
        args.room_size,
        args.pairs,
        args.rate,
        2 * (args.window / 2).max(1),
        humantime::format_duration(args.duration),
    );
    out
}
