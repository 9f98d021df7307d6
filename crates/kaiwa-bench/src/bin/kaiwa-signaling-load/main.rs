//! Load tool for the signaling server: holds many idle connections, then relays signals between pairs.
//! It also drives a minimal Socket.IO relay on Node.js (`bench/socketio-relay`) through the same phases,
//! so both servers are measured by the same client code.
//!
//! Run with: `scripts/bench-signaling.sh` (builds the release server and this tool, then runs it), or
//! `scripts/bench-signaling.sh --compare` (both servers, alternately, and a markdown table), or
//! `cargo build --release -p kaiwa-signaling -p kaiwa-bench --bins && target/release/kaiwa-signaling-load --help`.
//!
//! It starts the real server as a child process (`kaiwa-signaling`, or `node server.js`), so the server's
//! RSS and CPU are its own, read from `/proc`, and reports connections held, server RSS per idle
//! connection, one-way relay latency p50/p99 at a fixed message rate, and the sustained relay throughput.
//! All traffic stays on 127.0.0.1.

mod args;
mod client;
mod flavor;
mod run;
mod server;
mod setup;
mod table;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use args::{Args, Target};
use flavor::Flavor;
use run::Figures;
use setup::Setup;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
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
    let mut setups: Vec<Setup> = flavors.iter().map(|&flavor| Setup { flavor, nodes: None }).collect();
    if !args.nodes.is_empty() && args.server == Target::Socketio {
        anyhow::bail!("--nodes measures kaiwa-signaling's cluster mode: use it with --server kaiwa or both");
    }
    setups.extend(args.nodes.iter().map(|&n| Setup { flavor: Flavor::Kaiwa, nodes: Some(n.max(1)) }));
    let load_start = load_average();
    let mut results: Vec<(Setup, Vec<Figures>)> = setups.iter().map(|s| (*s, Vec::new())).collect();
    for round in 0..args.rounds.max(1) {
        for (setup, runs) in results.iter_mut() {
            if args.rounds > 1 || setups.len() > 1 {
                println!(
                    "-- round {} of {}: {} (load average {})",
                    round + 1,
                    args.rounds,
                    setup.name(),
                    load_average()
                );
            }
            let figures =
                run::run(&args, *setup).await.with_context(|| format!("measuring {}", setup.name()))?;
            runs.push(figures);
            // Let the closed connections' sockets and the previous server's memory go.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    if setups.len() > 1 || args.rounds > 1 || args.markdown.is_some() {
        let md = table::table(&args, &results, &load_start, &load_average());
        println!("\n{md}");
        if let Some(path) = &args.markdown {
            std::fs::write(path, &md).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
