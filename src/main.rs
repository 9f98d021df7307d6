//! `kaiwa`: the Kaiwa desktop app. The GUI comes next; today it runs headless calls (`kaiwa call`, used by
//! tests and benchmarks) and can host the bundled signaling server (`kaiwa serve`).

mod call;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kaiwa", version, about = "Kaiwa: video calls between desktop apps and browsers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Join a room and hold a call without a window (synthetic or file sources, recordings, stats)
    Call(call::CallArgs),
    /// Host the signaling server and browser client in this process
    Serve(kaiwa_signaling::cli::ServeArgs),
}

fn main() -> std::process::ExitCode {
    kaiwa_signaling::cli::init_logging();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("kaiwa-io").build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("kaiwa: cannot start: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    let result = runtime.block_on(async {
        match Cli::parse().command {
            Command::Call(args) => call::run(args).await,
            Command::Serve(args) => {
                kaiwa_signaling::cli::run(args).await.map(|()| std::process::ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kaiwa: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
