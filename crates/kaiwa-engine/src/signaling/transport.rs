//! Opening the WebSocket: `ws://` or `wss://`, with normal certificate verification or a pinned
//! fingerprint for self-signed LAN servers.

use std::sync::Arc;
use std::time::Duration;

use kaiwa_tls::Fingerprint;
use kaiwa_tls::probe::{PresentedCert, ProbeVerifier};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How a `wss://` server's certificate is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    /// Verified against the public web PKI (Mozilla's root certificates).
    #[default]
    WebPki,
    /// Exactly the certificate with this SHA-256 fingerprint, as printed by a `--tls-self-signed` server.
    Pinned(Fingerprint),
}

/// A parsed signaling server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub secure: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}: expected ws://HOST:PORT/ws or wss://HOST:PORT/ws")]
    BadUrl(String),
    #[error("cannot reach the signaling server at {addr}: {source}")]
    Unreachable { addr: String, source: std::io::Error },
    #[error("TLS with {host} failed: {source}")]
    Tls { host: String, source: std::io::Error },
    #[error("WebSocket handshake with {url} failed: {source}")]
    Handshake { url: String, source: Box<tokio_tungstenite::tungstenite::Error> },
    #[error("the signaling server at {0} did not answer in time")]
    Timeout(String),
}

impl ServerUrl {
    /// Accepts `ws://` and `wss://` URLs; `http(s)://HOST[:PORT]` is taken to mean that server's `/ws`.
    pub fn parse(text: &str) -> Result<Self, ConnectError> {
        let bad = || ConnectError::BadUrl(text.to_owned());
        let uri: http::Uri = text.trim().parse().map_err(|_| bad())?;
        let secure = match uri.scheme_str() {
            Some("ws") | Some("http") => false,
            Some("wss") | Some("https") => true,
            _ => return Err(bad()),
        };
        let host = uri.host().ok_or_else(bad)?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let path = match uri.path() {
            "" | "/" => kaiwa_protocol::WS_PATH.to_owned(),
            p => p.to_owned(),
        };
        Ok(ServerUrl { secure, host, port, path })
    }

    pub fn to_ws_url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{host}:{}{}", self.port, self.path)
    }

    /// The HTTP(S) origin of this server, e.g. for `GET /api/rooms/{code}`.
    pub fn http_base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{host}:{}", self.port)
    }
}

/// Any byte stream a WebSocket can run over (TCP or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Socket = WebSocketStream<Box<dyn Io>>;

fn web_roots() -> rustls::RootCertStore {
    rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// The TLS client configuration for `trust` (also used for the server's HTTP API).
pub fn client_tls_config(trust: Trust) -> rustls::ClientConfig {
    match trust {
        Trust::Pinned(fp) => kaiwa_tls::pinned_client_config(fp),
        Trust::WebPki => {
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(web_roots())
                .with_no_client_auth()
        }
    }
}

/// Which certificate a `wss://` server presents and whether the Web PKI vouches for it, learnt from a TLS
/// handshake that stops right after the certificate (for trust on first use; see `kaiwa_tls::probe`).
pub async fn probe_certificate(url: &ServerUrl, timeout: Duration) -> Result<PresentedCert, ConnectError> {
    let addr = format!("{}:{}", url.host, url.port);
    let tls_err = |source| ConnectError::Tls { host: url.host.clone(), source };
    tokio::time::timeout(timeout, async {
        let tcp = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|source| ConnectError::Unreachable { addr: addr.clone(), source })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let authority =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(web_roots()), provider)
                .build()
                .map_err(|e| tls_err(std::io::Error::other(e)))?;
        let verifier = Arc::new(ProbeVerifier::new(authority));
        let config = kaiwa_tls::probe::probe_client_config(verifier.clone());
        let name = rustls::pki_types::ServerName::try_from(url.host.clone())
            .map_err(|_| ConnectError::BadUrl(url.to_ws_url()))?;
        let result = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await;
        match (verifier.presented(), result) {
            (Some(cert), _) => Ok(cert),
            (None, Err(e)) => Err(tls_err(e)),
            (None, Ok(_)) => Err(tls_err(std::io::Error::other("the server presented no certificate"))),
        }
    })
    .await
    .map_err(|_| ConnectError::Timeout(url.to_ws_url()))?
}

/// Opens the WebSocket (TCP, TLS, HTTP upgrade), all within `timeout`.
pub async fn connect(url: &ServerUrl, trust: Trust, timeout: Duration) -> Result<Socket, ConnectError> {
    let ws_url = url.to_ws_url();
    tokio::time::timeout(timeout, async {
        let addr = format!("{}:{}", url.host, url.port);
        let tcp = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|source| ConnectError::Unreachable { addr: addr.clone(), source })?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if url.secure {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls_config(trust)));
            let name = rustls::pki_types::ServerName::try_from(url.host.clone())
                .map_err(|_| ConnectError::BadUrl(ws_url.clone()))?;
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|source| ConnectError::Tls { host: url.host.clone(), source })?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let config = WebSocketConfig::default().read_buffer_size(16 * 1024).max_message_size(Some(1 << 20));
        let (ws, _) = tokio_tungstenite::client_async_with_config(ws_url.as_str(), io, Some(config))
            .await
            .map_err(|source| ConnectError::Handshake { url: ws_url.clone(), source: Box::new(source) })?;
        Ok(ws)
    })
    .await
    .map_err(|_| ConnectError::Timeout(url.to_ws_url()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ServerUrl::parse("ws://127.0.0.1:8080/ws").unwrap();
        assert_eq!((u.secure, u.host.as_str(), u.port, u.path.as_str()), (false, "127.0.0.1", 8080, "/ws"));
        let u = ServerUrl::parse("https://kaiwa.local:8443").unwrap();
        assert_eq!(u.to_ws_url(), "wss://kaiwa.local:8443/ws");
        assert_eq!(u.http_base(), "https://kaiwa.local:8443");
        let u = ServerUrl::parse("wss://[::1]/ws").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 443));
        assert_eq!(u.to_ws_url(), "wss://[::1]:443/ws");
        assert!(ServerUrl::parse("ftp://x/ws").is_err());
        assert!(ServerUrl::parse("not a url").is_err());
    }
}
