//! Hosting the signaling server and browser client inside the app (the default): HTTPS with a self-signed
//! certificate kept in the config directory, so browsers on the LAN can join by link. It hands out the
//! STUN and TURN servers of the settings to everyone who joins (browsers too), with per-join credentials
//! when a coturn `use-auth-secret` secret is set.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use kaiwa_engine::signaling::Trust;
use kaiwa_signaling::TurnAuth;
use kaiwa_tls::Fingerprint;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a stopping server may take to close its connections before a restart binds its port again.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// The ICE servers a hosted server hands out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostedIce {
    pub stun: Vec<String>,
    pub turn: Vec<String>,
    pub turn_auth: Option<TurnAuth>,
}

/// A running in-process server; stopped on drop.
pub struct Hosting {
    pub addr: SocketAddr,
    pub fingerprint: Fingerprint,
    /// Names and addresses the certificate covers (LAN addresses first).
    pub names: Vec<String>,
    /// What it hands out (a change in the settings takes a restart).
    pub ice: HostedIce,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Hosting {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Hosting {
    /// Binds `listen` (falling back to any free port when it is taken) and serves until dropped.
    pub async fn start(listen: &str, ice: HostedIce) -> anyhow::Result<Hosting> {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(first) => {
                let ip = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or("0.0.0.0");
                tokio::net::TcpListener::bind((ip.trim_matches(['[', ']']), 0))
                    .await
                    .with_context(|| format!("cannot listen on {listen}: {first}"))?
            }
        };
        let addr = listener.local_addr()?;
        let names = kaiwa_signaling::tls::machine_names();
        let dir = super::paths::config_dir().map(|d| d.join("tls"));
        let tls =
            tokio::task::spawn_blocking(move || kaiwa_signaling::tls::self_signed(dir.as_deref(), names))
                .await?
                .context("cannot make the server's certificate")?;
        let stop = CancellationToken::new();
        let config = kaiwa_signaling::Config {
            stun: ice.stun.clone(),
            turn: ice.turn.clone(),
            turn_auth: ice.turn_auth.clone(),
            ..kaiwa_signaling::Config::default()
        };
        let server = kaiwa_signaling::serve(listener, config, Some(tls.config.clone()), stop.clone());
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(e) = server.await {
                    tracing::warn!("the built-in server stopped: {e}");
                }
            }),
            tokio::spawn(kaiwa_signaling::stun::serve_on(addr, stop.clone())),
        ];
        tracing::info!("hosting on https://{addr} (fingerprint {})", tls.fingerprint);
        Ok(Hosting { addr, fingerprint: tls.fingerprint, names: tls.names, ice, stop, tasks })
    }

    /// Stops serving and waits (a few seconds at most) until the port is free again, for a restart on it.
    /// Everyone connected is told the server is going away and reconnects by themselves.
    pub async fn stop(mut self) {
        self.stop.cancel();
        for task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
                tracing::warn!("the built-in server took over {STOP_WAIT:?} to stop");
            }
        }
    }

    /// What this app itself connects to.
    pub fn ws_url(&self) -> String {
        format!("wss://127.0.0.1:{}/ws", self.addr.port())
    }

    pub fn trust(&self) -> Trust {
        Trust::Pinned(self.fingerprint)
    }

    /// The link to give others: the first LAN address the certificate names (loopback when bound there).
    pub fn join_link(&self, code: &str) -> String {
        let host = if self.addr.ip().is_loopback() {
            self.addr.ip().to_string()
        } else {
            self.names
                .iter()
                .find(|n| n.parse::<std::net::IpAddr>().is_ok_and(|ip| !ip.is_loopback()))
                .or_else(|| self.names.iter().find(|n| *n != "localhost"))
                .cloned()
                .unwrap_or_else(|| "localhost".into())
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        format!("https://{host}:{}/r/{code}", self.addr.port())
    }
}
