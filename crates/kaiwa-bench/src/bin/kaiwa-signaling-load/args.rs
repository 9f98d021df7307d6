//! The load tool's command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Load test for kaiwa-signaling and a Socket.IO relay (loopback only)")]
pub struct Args {
    /// Idle connections to hold
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Participants per room for the idle connections
    #[arg(long, default_value_t = 4)]
    pub room_size: usize,
    /// Sender/receiver pairs for the relay phases (extra connections)
    #[arg(long, default_value_t = 200)]
    pub pairs: usize,
    /// Total messages per second in the fixed-rate latency phase
    #[arg(long, default_value_t = 20_000)]
    pub rate: u32,
    /// Messages in flight per pair in the throughput phase
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Length of each relay phase
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Which server to measure; `both` alternates kaiwa and socketio and prints a comparison table
    #[arg(long, value_enum, default_value_t = Target::Kaiwa)]
    pub server: Target,
    /// Also measure kaiwa-signaling in cluster mode with this many nodes sharing a Redis the tool starts on
    /// loopback (comma-separated, e.g. 1,2,3); clients are spread over the nodes round-robin and each relay
    /// pair straddles two nodes
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub nodes: Vec<usize>,
    /// How many times to run each server (alternately); the table shows medians
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Also write the markdown table to this file
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Extra argument for kaiwa-signaling, after the tool's own (repeatable), e.g. --kaiwa-arg=--ping-interval=25s
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub kaiwa_arg: Vec<String>,
    /// The server binary [default: kaiwa-signaling next to this tool's directory]
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// The Socket.IO relay's directory (with `npm ci` done) [default: bench/socketio-relay in this repository]
    #[arg(long)]
    pub socketio_dir: Option<PathBuf>,
    /// Node.js
    #[arg(long, default_value = "node")]
    pub node: PathBuf,
}

/// Which server(s) to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Kaiwa,
    Socketio,
    Both,
}
