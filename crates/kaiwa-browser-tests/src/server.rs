//! The signaling server with the embedded browser client, in this process on `127.0.0.1:0` (plain or TLS).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

/// The signaling server (with the embedded browser client) on `127.0.0.1:0`.
pub struct TestServer {
    pub addr: SocketAddr,
    pub tls: bool,
    /// The self-signed certificate's SHA-256 fingerprint ([`TestServer::start_tls`] only), for a native
    /// client to pin.
    pub fingerprint: Option<kaiwa_tls::Fingerprint>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Plain HTTP; `http://127.0.0.1` is a secure context, so the browser allows camera access.
    pub async fn start() -> Result<TestServer> {
        Self::start_with(kaiwa_signaling::Config::default(), None).await
    }

    /// Plain HTTP with the given settings (e.g. a smaller `max_room_size`).
    pub async fn start_config(config: kaiwa_signaling::Config) -> Result<TestServer> {
        Self::start_with(config, None).await
    }

    /// HTTPS/WSS with a fresh self-signed certificate (the server's `--tls-self-signed` mode).
    pub async fn start_tls() -> Result<TestServer> {
        let tls = kaiwa_signaling::tls::self_signed(None, vec!["localhost".into(), "127.0.0.1".into()])?;
        let mut server = Self::start_with(kaiwa_signaling::Config::default(), Some(tls.config)).await?;
        server.fingerprint = Some(tls.fingerprint);
        Ok(server)
    }

    /// Plain HTTP on a listener the caller bound, e.g. inside a network namespace of the test lab (where
    /// the page is not a secure context: launch Chromium with
    /// `--unsafely-treat-insecure-origin-as-secure=` [`TestServer::url`]`("")`).
    pub fn from_listener(listener: tokio::net::TcpListener) -> Result<TestServer> {
        Self::serve(listener, kaiwa_signaling::Config::default(), None)
    }

    async fn start_with(
        config: kaiwa_signaling::Config,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<TestServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::serve(listener, config, tls)
    }

    fn serve(
        listener: tokio::net::TcpListener,
        config: kaiwa_signaling::Config,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<TestServer> {
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let is_tls = tls.is_some();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, tls, shutdown.clone()));
        // STUN on the same port, as `kaiwa-signaling` does (the pre-join page's network check asks it).
        tokio::spawn(kaiwa_signaling::stun::serve_on(addr, shutdown.clone()));
        Ok(TestServer { addr, tls: is_tls, fingerprint: None, shutdown, task: Some(task) })
    }

    /// Shuts the server down (clients get close 1001, as on a real restart) and starts a fresh one, with
    /// no rooms, on the same address. Plain HTTP only.
    pub async fn restart(&mut self) -> Result<()> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task).await.context("server shutdown")???;
        }
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(self.addr)?;
        let listener = socket.listen(1024)?;
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(kaiwa_signaling::serve(
            listener,
            kaiwa_signaling::Config::default(),
            None,
            self.shutdown.clone(),
        )));
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
