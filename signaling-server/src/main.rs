//! `kaiwa-signaling`: the standalone signaling server. All logic lives in the library.

use clap::Parser;

/// Kaiwa signaling server: rooms, SDP/ICE relay, TURN credentials and the browser client on one port.
#[derive(Parser)]
#[command(name = "kaiwa-signaling", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    serve: kaiwa_signaling::cli::ServeArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kaiwa_signaling::cli::init_logging();
    kaiwa_signaling::cli::run(Cli::parse().serve).await
}
