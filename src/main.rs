//! `kaiwa`: the Kaiwa desktop app. The GUI and the headless call engine come in later; today it can host
//! the bundled signaling server (`kaiwa serve`), the same server as the standalone `kaiwa-signaling`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kaiwa", version, about = "Kaiwa: video calls between desktop apps and browsers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Host the signaling server and browser client in this process
    Serve(kaiwa_signaling::cli::ServeArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kaiwa_signaling::cli::init_logging();
    match Cli::parse().command {
        Command::Serve(args) => kaiwa_signaling::cli::run(args).await,
    }
}
