//! The signaling server's small HTTP API (`POST /api/rooms`, `GET /api/rooms/{code}`, `GET /api/ice`) over
//! plain TCP or TLS trusted like the signaling connection: one request per connection (`Connection: close`),
//! so no HTTP client crate is needed for three JSON endpoints.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::transport::{Trust, client_tls_config};

/// The whole exchange, connection included, within this.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Answers are small JSON documents.
const MAX_ANSWER: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("not an http(s) URL: {0}")]
    BadUrl(String),
    #[error("cannot reach {addr}: {source}")]
    Unreachable { addr: String, source: std::io::Error },
    #[error("talking to {addr} failed: {source}")]
    Io { addr: String, source: std::io::Error },
    #[error("bad answer from the server")]
    BadAnswer,
    #[error("the server said {0}")]
    Status(u16),
    #[error("the server did not answer within {}s", TIMEOUT.as_secs())]
    Timeout,
}

/// `method path` on `base` (`http(s)://host:port`); the body of a 2xx answer.
pub async fn request(base: &str, trust: Trust, method: &str, path: &str) -> Result<String, HttpError> {
    let (tls, rest) = if let Some(r) = base.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = base.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(HttpError::BadUrl(base.to_owned()));
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority);
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    let io = |source| HttpError::Io { addr: addr.clone(), source };
    let exchange_all = async {
        let tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|source| HttpError::Unreachable { addr: addr.clone(), source })?;
        if tls {
            let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|_| HttpError::BadUrl(base.to_owned()))?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls_config(trust)));
            let stream = connector.connect(name, tcp).await.map_err(io)?;
            exchange(stream, authority, method, path).await
        } else {
            exchange(tcp, authority, method, path).await
        }
        .map_err(io)?
        .ok_or(HttpError::BadAnswer)
        .and_then(|(status, body)| {
            if (200..300).contains(&status) { Ok(body) } else { Err(HttpError::Status(status)) }
        })
    };
    tokio::time::timeout(TIMEOUT, exchange_all).await.map_err(|_| HttpError::Timeout)?
}

/// Sends the request and reads the answer: its status and body, `None` when it is not HTTP.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    method: &str,
    path: &str,
) -> std::io::Result<Option<(u16, String)>> {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\nAccept: application/json\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    if let Err(e) = stream.take(MAX_ANSWER).read_to_end(&mut buf).await {
        // Servers may close TLS without close_notify; what arrived still counts.
        if buf.is_empty() {
            return Err(e);
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return Ok(None) };
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Some((status, body.to_string())))
}
