//! `--tls-self-signed`: the real binary prints its https URL and certificate fingerprint; a client that
//! pins that fingerprint reaches `/healthz` over https and `/ws` over wss, and one pinning another
//! fingerprint is refused.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use kaiwa_protocol::ServerMessage;
use kaiwa_tls::Fingerprint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    fingerprint: Fingerprint,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(tls_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaiwa-signaling"))
        .args(["--listen", "127.0.0.1:0", "--tls-self-signed", "--tls-dir"])
        .arg(tls_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut addr, mut fingerprint, mut url) = (None, None, None);
    while fingerprint.is_none() {
        let line = lines.next().expect("server printed its fingerprint").unwrap();
        if let Some(rest) = line.strip_prefix("kaiwa-signaling listening on ") {
            addr = rest.split(' ').next().map(|a| a.parse().unwrap());
        } else if let Some(rest) = line.trim().strip_prefix("open ") {
            url = Some(rest.to_string());
        } else if let Some(rest) = line.trim().strip_prefix("certificate SHA-256 fingerprint: ") {
            fingerprint = Some(rest.parse().unwrap());
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, addr: addr.unwrap(), fingerprint: fingerprint.unwrap(), url: url.unwrap() }
}

async fn tls_connect(
    addr: std::net::SocketAddr,
    pin: Fingerprint,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = TlsConnector::from(Arc::new(kaiwa_tls::pinned_client_config(pin)));
    let tcp = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await
}

#[tokio::test]
async fn self_signed_server_is_reached_by_pinning_its_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    assert_eq!(server.url, format!("https://{}/", server.addr));

    // https GET /healthz.
    let mut tls = tls_connect(server.addr, server.fingerprint).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).await.unwrap();
    assert_eq!(common::parse_http_response(&raw), (200, "ok\n".to_string()));

    // wss /ws: join and get an answer.
    let tls = tls_connect(server.addr, server.fingerprint).await.unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://{}/ws", server.addr), tls).await.unwrap();
    ws.send(Message::text(r#"{"type":"join","room":"secure","name":"S","version":1}"#)).await.unwrap();
    let reply = loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => break t.to_string(),
            _ => continue,
        }
    };
    assert!(matches!(ServerMessage::parse(&reply), Ok(ServerMessage::Joined { .. })), "{reply}");

    // A client pinning anything else is refused during the handshake.
    let wrong = Fingerprint([7u8; 32]);
    let err = tls_connect(server.addr, wrong).await.expect_err("wrong pin must fail");
    assert!(err.to_string().contains("does not match"), "{err}");

    // The certificate is kept: a restart presents the same fingerprint.
    let first = server.fingerprint;
    drop(server);
    let again = start(dir.path());
    assert_eq!(again.fingerprint, first);
}
