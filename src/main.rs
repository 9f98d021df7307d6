//! `kaiwa`: the Kaiwa desktop app. Without a subcommand it opens the window (see `app`); `kaiwa call` holds
//! a headless call (tests, benchmarks), `kaiwa doctor` checks the network before a call and `kaiwa serve`
//! hosts the signaling server alone.
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod app;
mod call;
mod doctor;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kaiwa", version, about = "Kaiwa: video calls between desktop apps and browsers")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    gui: app::Options,
}

#[derive(Subcommand)]
enum Command {
    /// Join a room and hold a call without a window (synthetic or file sources, recordings, stats)
    Call(call::CallArgs),
    /// Check the network before a call: the server, your public address, your router's kind, the relay
    Doctor(doctor::DoctorArgs),
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
    let cli = Cli::parse();
    let result = match cli.command {
        // The window needs the main thread; the runtime's worker threads run the engine meanwhile.
        None => app::run(&runtime, cli.gui).map(|()| std::process::ExitCode::SUCCESS),
        Some(command) => runtime.block_on(async {
            match command {
                Command::Call(args) => call::run(args).await,
                Command::Doctor(args) => doctor::run(args).await,
                Command::Serve(args) => {
                    kaiwa_signaling::cli::run(args).await.map(|()| std::process::ExitCode::SUCCESS)
                }
            }
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kaiwa: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
