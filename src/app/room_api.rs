//! The server's small HTTP API (`POST /api/rooms`, `GET /api/rooms/{code}`) over a plain TCP or pinned/Web-PKI
//! TLS stream (trusted like the signaling connection): one request per connection (`Connection: close`), so
//! no HTTP client crate is needed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use kaiwa_engine::signaling::Trust;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomStatus {
    pub participants: usize,
    pub capacity: usize,
}

impl RoomStatus {
    pub fn describe(&self) -> String {
        match self.participants {
            0 => format!("Nobody here yet (up to {})", self.capacity),
            n if n >= self.capacity => format!("Room full ({n} of {})", self.capacity),
            n => format!("{n} of {} here", self.capacity),
        }
    }
}

/// `base` is `http(s)://host:port`.
pub async fn room_status(base: &str, trust: &Trust, code: &str) -> anyhow::Result<RoomStatus> {
    let body = request(base, trust, "GET", &format!("/api/rooms/{code}")).await?;
    let v: serde_json::Value = serde_json::from_str(&body).context("bad answer from the server")?;
    Ok(RoomStatus {
        participants: v["participants"].as_u64().context("bad answer from the server")? as usize,
        capacity: v["capacity"].as_u64().context("bad answer from the server")? as usize,
    })
}

/// Asks the server for a fresh room code.
pub async fn create_room(base: &str, trust: &Trust) -> anyhow::Result<String> {
    let body = request(base, trust, "POST", "/api/rooms").await?;
    let v: serde_json::Value = serde_json::from_str(&body).context("bad answer from the server")?;
    Ok(v["room"].as_str().context("bad answer from the server")?.to_string())
}

async fn request(base: &str, trust: &Trust, method: &str, path: &str) -> anyhow::Result<String> {
    let (tls, rest) = if let Some(r) = base.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = base.strip_prefix("http://") {
        (false, r)
    } else {
        bail!("not an http(s) URL: {base}");
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority);
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    let fut = async {
        let tcp =
            tokio::net::TcpStream::connect(&addr).await.with_context(|| format!("cannot reach {addr}"))?;
        if tls {
            let config = kaiwa_engine::signaling::client_tls_config(*trust);
            let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .context("bad host name")?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await?;
            exchange(stream, authority, method, path).await
        } else {
            exchange(tcp, authority, method, path).await
        }
    };
    tokio::time::timeout(Duration::from_secs(5), fut).await.context("the server did not answer in time")?
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    host: &str,
    method: &str,
    path: &str,
) -> anyhow::Result<String> {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\nAccept: application/json\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.take(64 * 1024).read_to_end(&mut buf).await.or_else(|e| {
        // Servers may close TLS without close_notify; what arrived still counts.
        if buf.is_empty() { Err(e) } else { Ok(0) }
    })?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").context("bad answer from the server")?;
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    if !(200..300).contains(&status) {
        bail!("the server said {status}");
    }
    Ok(body.to_string())
}
