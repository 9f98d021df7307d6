//! Test harness: the real server on 127.0.0.1:0 and real WebSocket clients.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kaiwa_protocol::{ErrorCode, PeerInfo, ServerMessage};
use kaiwa_signaling::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Upper bound for any single expected event; generous so a loaded CI machine never flakes.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, None, shutdown.clone()));
        TestServer { addr, shutdown, task }
    }

    pub async fn default() -> TestServer {
        Self::start(Config::default()).await
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// A plain HTTP/1.1 request; returns (status, body).
    pub async fn http(&self, method: &str, path: &str) -> (u16, String) {
        http_request(self.addr, method, path, "").await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn http_request(addr: SocketAddr, method: &str, path: &str, extra_headers: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n{extra_headers}\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut raw)).await.unwrap().unwrap();
    parse_http_response(&raw)
}

pub fn parse_http_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

pub struct Client {
    pub ws: WebSocketStream<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp).await.unwrap();
        Client { ws }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    pub async fn send_json(&mut self, value: serde_json::Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next text frame, parsed; panics on timeout, close or anything else.
    pub async fn recv(&mut self) -> ServerMessage {
        let text = self.recv_text().await;
        ServerMessage::parse(&text).unwrap_or_else(|e| panic!("server sent an invalid message {text}: {e}"))
    }

    pub async fn recv_text(&mut self) -> String {
        loop {
            let frame =
                tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for a message");
            match frame {
                Some(Ok(Message::Text(t))) => return t.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    pub async fn expect_error(&mut self, code: ErrorCode) {
        match self.recv().await {
            ServerMessage::Error { code: got, .. } => assert_eq!(got, code),
            other => panic!("expected error {code}, got {other:?}"),
        }
    }

    /// Waits for the server to close the connection; returns the close code if a close frame came.
    pub async fn expect_closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for close") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(Message::Text(t))) => panic!("expected close, got {t}"),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Asserts nothing but pings arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    pub async fn join(&mut self, room: &str, name: &str) -> (String, Vec<PeerInfo>) {
        self.send_json(serde_json::json!({"type":"join","room":room,"name":name,"version":1})).await;
        match self.recv().await {
            ServerMessage::Joined { id, peers, .. } => (id, peers),
            other => panic!("expected joined, got {other:?}"),
        }
    }

    /// Joins saying whether this client can take part through the SFU; returns the answer.
    pub async fn join_sfu(&mut self, room: &str, name: &str, sfu: bool) -> ServerMessage {
        self.send_json(serde_json::json!({"type":"join","room":room,"name":name,"version":1,"sfu":sfu}))
            .await;
        self.recv().await
    }

    /// In a room that moved to an SFU nobody listens at: expects to be told `unavailable` (after any
    /// `peer_joined`, its own `joined` saying the room goes through the SFU, or the `peer_left` of someone
    /// sent away first: on another server of a cluster that may come before our own turn), then the close.
    pub async fn expect_sent_away_by_the_sfu(&mut self) {
        loop {
            match self.recv().await {
                ServerMessage::Error { code: ErrorCode::Unavailable, .. } => break,
                ServerMessage::PeerJoined { .. }
                | ServerMessage::PeerLeft { .. }
                | ServerMessage::Joined { sfu: true, .. } => continue,
                other => panic!("expected unavailable, got {other:?}"),
            }
        }
        assert_eq!(self.expect_closed().await, Some(1013));
    }

    pub async fn expect_peer_joined(&mut self) -> PeerInfo {
        match self.recv().await {
            ServerMessage::PeerJoined { peer } => peer,
            other => panic!("expected peer_joined, got {other:?}"),
        }
    }

    pub async fn expect_peer_left(&mut self) -> String {
        match self.recv().await {
            ServerMessage::PeerLeft { id } => id,
            other => panic!("expected peer_left, got {other:?}"),
        }
    }

    /// Expects a relayed signal; returns (from, raw data text).
    pub async fn expect_signal(&mut self) -> (String, String) {
        match self.recv().await {
            ServerMessage::Signal { from, data } => (from, data.get().to_owned()),
            other => panic!("expected signal, got {other:?}"),
        }
    }

    pub async fn signal(&mut self, to: &str, data: &str) {
        self.send_text(&format!(r#"{{"type":"signal","to":"{to}","data":{data}}}"#)).await;
    }

    /// Round trip through the server: proves the connection is alive and everything sent before was handled.
    pub async fn ping(&mut self) {
        self.send_json(serde_json::json!({"type":"ping"})).await;
        match self.recv().await {
            ServerMessage::Pong => {}
            other => panic!("expected pong, got {other:?}"),
        }
    }
}

/// Three clients in one room: returns them with their ids, all introductions consumed.
pub async fn room_of_three(server: &TestServer, room: &str) -> (Vec<Client>, Vec<String>) {
    let mut a = server.client().await;
    let (ida, _) = a.join(room, "Ann").await;
    let mut b = server.client().await;
    let (idb, _) = b.join(room, "Bo").await;
    a.expect_peer_joined().await;
    let mut c = server.client().await;
    let (idc, _) = c.join(room, "Cy").await;
    a.expect_peer_joined().await;
    b.expect_peer_joined().await;
    (vec![a, b, c], vec![ida, idb, idc])
}
