//! The `kaiwa-signaling` command line, shared with the desktop app's `kaiwa serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Settings, TlsMode};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML file with the same settings as the flags (kebab-case keys); flags override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,
}

/// Kaiwa's own events at info; the WebRTC stack only when something is really wrong (it warns about
/// normal transients such as packets sent before DTLS is up).
const DEFAULT_LOG_FILTER: &str = "warn,kaiwa=info,kaiwa_signaling=info,kaiwa_engine=info,rtc=error,rtc_ice=error,rtc_dtls=error,rtc_interceptor=error,rtc_sctp=error,rtc_srtp=error,webrtc=error";

/// Sets up logging from `RUST_LOG` (default: info for Kaiwa, warn for the rest).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let config = args.settings.or(file).resolve()?;
    raise_fd_limit(config.limits.max_connections);
    let tls = match &config.tls {
        TlsMode::Off => None,
        TlsMode::Files { cert, key } => Some(crate::tls::from_files(cert, key)?),
        TlsMode::SelfSigned { dir } => {
            Some(crate::tls::self_signed(dir.as_deref(), crate::tls::machine_names())?)
        }
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    if let Err(e) = announce(local, tls.as_ref()) {
        // Nobody reads stdout (closed pipe): the server itself is fine.
        tracing::warn!(error = %e, "cannot print the server's address");
    }
    let shutdown = CancellationToken::new();
    stop_on_signal(shutdown.clone());
    tokio::spawn(crate::stun::serve_on(local, shutdown.clone()));
    crate::serve(listener, config, tls.map(|t| t.config), shutdown).await?;
    Ok(())
}

/// Tells the person starting the server where to point browsers and what certificate to expect.
fn announce(local: SocketAddr, tls: Option<&crate::tls::ServerTls>) -> std::io::Result<()> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut out = std::io::stdout().lock();
    writeln!(out, "kaiwa-signaling listening on {local} ({scheme})")?;
    let port = local.port();
    let hosts: Vec<String> = if local.ip().is_unspecified() {
        match tls {
            Some(t) if !t.names.is_empty() => t.names.clone(),
            _ => crate::tls::machine_names(),
        }
    } else {
        vec![local.ip().to_string()]
    };
    for host in hosts.iter().filter(|h| !h.contains(':') || h.parse::<std::net::Ipv6Addr>().is_ok()).take(6) {
        let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        writeln!(out, "  open {scheme}://{host}:{port}/")?;
    }
    if let Some(tls) = tls {
        writeln!(out, "  certificate SHA-256 fingerprint: {}", tls.fingerprint)?;
        if tls.generated && !tls.names.is_empty() {
            writeln!(out, "  (a new self-signed certificate: browsers ask once to accept it)")?;
        }
    }
    out.flush()
}

fn raise_fd_limit(max_connections: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if (n as usize) < max_connections + 64 => {
            tracing::warn!(limit = n, max_connections, "the open-file limit is below --max-connections");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// Cancels `shutdown` on SIGINT or SIGTERM. The handlers are installed before this returns, so a signal
/// that arrives right after start-up is not lost (nor does it kill the process unceremoniously).
fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        else {
            tracing::warn!("cannot listen for signals; stop the server by killing it");
            return;
        };
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::info!("signal received");
            shutdown.cancel();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
    });
}
