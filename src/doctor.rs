//! `kaiwa doctor`: the network check before joining, in a terminal. What each result means for a call is
//! the engine's (`kaiwa_engine::net::check`); this prints it, and the whole report as JSON on request.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use kaiwa_engine::net::check::Verdict;
use kaiwa_engine::net::{CheckOptions, run_check};
use kaiwa_engine::signaling::{ServerUrl, Trust};

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// The signaling server, e.g. wss://kaiwa.example.org/ws (or https://HOST:PORT)
    #[arg(long, value_name = "URL")]
    server: String,
    /// Trust a self-signed server with this SHA-256 certificate fingerprint (as it printed)
    #[arg(long, value_name = "HEX")]
    trust_fingerprint: Option<String>,
    /// Local address to send from (default: any)
    #[arg(long, default_value = "0.0.0.0", value_name = "ADDR")]
    bind: IpAddr,
    /// Also write the measurements and the verdict as JSON
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Exit status: 0 when calls can work (directly or through the relay), 1 when they probably cannot.
pub async fn run(args: DoctorArgs) -> anyhow::Result<std::process::ExitCode> {
    let server = ServerUrl::parse(&args.server)?;
    let trust = match &args.trust_fingerprint {
        Some(fp) => Trust::Pinned(fp.parse().context("--trust-fingerprint")?),
        None => Trust::WebPki,
    };
    println!("Checking the network for calls through {} …", server.to_ws_url());
    let options = CheckOptions { bind: args.bind, ..CheckOptions::new(server, trust) };
    let report = run_check(&options).await;
    for finding in report.findings() {
        println!("  {} {finding}", if finding.ok() { "✓" } else { "✗" });
    }
    let verdict = report.verdict();
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "verdict": verdict, "mapping": report.mapping(), "report": report });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(match verdict {
        Verdict::DirectLikely | Verdict::RelayNeeded { .. } | Verdict::Unchecked => {
            std::process::ExitCode::SUCCESS
        }
        Verdict::ServerUnreachable | Verdict::NoPath => std::process::ExitCode::FAILURE,
    })
}
