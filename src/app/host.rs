//! Hosting the signaling server and browser client inside the app (the default): HTTPS with a self-signed
//! certificate kept in the config directory, so browsers on the LAN can join by link.

use std::net::SocketAddr;

use anyhow::Context;
use kaiwa_engine::signaling::Trust;
use kaiwa_tls::Fingerprint;
use tokio_util::sync::CancellationToken;

/// A running in-process server; stopped on drop.
pub struct Hosting {
    pub addr: SocketAddr,
    pub fingerprint: Fingerprint,
    /// Names and addresses the certificate covers (LAN addresses first).
    pub names: Vec<String>,
    stop: CancellationToken,
}

impl Drop for Hosting {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Hosting {
    /// Binds `listen` (falling back to any free port when it is taken) and serves until dropped.
    pub async fn start(listen: &str) -> anyhow::Result<Hosting> {
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
        let dir = super::settings::config_dir().map(|d| d.join("tls"));
        let tls =
            tokio::task::spawn_blocking(move || kaiwa_signaling::tls::self_signed(dir.as_deref(), names))
                .await?
                .context("cannot make the server's certificate")?;
        let stop = CancellationToken::new();
        let config = kaiwa_signaling::Config::default();
        tokio::spawn(kaiwa_signaling::serve(listener, config, Some(tls.config.clone()), stop.clone()));
        tokio::spawn(kaiwa_signaling::stun::serve_on(addr, stop.clone()));
        tracing::info!("hosting on https://{addr} (fingerprint {})", tls.fingerprint);
        Ok(Hosting { addr, fingerprint: tls.fingerprint, names: tls.names, stop })
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
