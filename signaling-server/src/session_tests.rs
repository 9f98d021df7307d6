//! The session's timeouts in paused time: a session runs over an in-memory stream, tokio's clock jumps
//! ahead whenever every task waits, and each test checks the moment something happens to the millisecond
//! it should, without waiting for it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_util::sync::CancellationToken;

use super::run;
use crate::config::Config;
use crate::state::State;

type Client = WebSocketStream<Lenient>;

/// The client's end of the in-memory connection, writing as a TCP socket does: after the server has
/// closed, a write (the automatic answer to a ping) still "succeeds" until the reset comes, so the frames
/// the server sent before closing can be read. (An in-memory pipe fails the write at once, and tungstenite
/// reports that before the frames already received.)
struct Lenient(DuplexStream);

impl AsyncRead for Lenient {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lenient {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.0).poll_write(cx, buf) {
            Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Poll::Ready(Ok(buf.len())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

fn state() -> Arc<State> {
    State::new(Config::default(), CancellationToken::new())
}

/// A client connected to a fresh session of `state`.
async fn connect(state: &Arc<State>) -> Client {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let state = state.clone();
    tokio::spawn(async move {
        let ws = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
        run(ws, state, false).await;
    });
    WebSocketStream::from_raw_socket(Lenient(client), Role::Client, None).await
}

/// The next message of `type`, skipping others; `None` if the connection closes first. Reading answers
/// the server's pings (tungstenite replies to each as it reads it).
async fn next_of(client: &mut Client, kind: &str) -> Option<serde_json::Value> {
    while let Some(frame) = client.next().await {
        match frame {
            Ok(Message::Text(text)) => {
                let value: serde_json::Value = serde_json::from_str(&text).expect("the server sends JSON");
                if value["type"] == kind {
                    return Some(value);
                }
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

async fn join(client: &mut Client, room: &str, name: &str) -> String {
    let join = serde_json::json!({ "type": "join", "room": room, "name": name, "version": kaiwa_protocol::PROTOCOL_VERSION });
    client.send(Message::text(join.to_string())).await.expect("send join");
    let joined = next_of(client, "joined").await.expect("joined");
    joined["id"].as_str().expect("an id").to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_joins_is_told_and_closed_at_the_join_timeout() {
    let limits = Config::default().limits;
    let state = state();
    let started = Instant::now();
    let mut client = connect(&state).await;
    let error = next_of(&mut client, "error").await.expect("an error before the close");
    assert_eq!(error["code"], "timeout");
    assert_eq!(started.elapsed(), limits.join_timeout);
    assert!(next_of(&mut client, "error").await.is_none(), "closed after the error");
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_announced_as_left_after_the_idle_timeout() {
    let limits = Config::default().limits;
    let state = state();
    let mut ann = connect(&state).await;
    let mut bo = connect(&state).await;
    join(&mut ann, "idle", "Ann").await;
    let bo_id = join(&mut bo, "idle", "Bo").await;
    // Bo's network vanishes: nothing Bo reads or answers from here on.
    let last_heard = Instant::now();
    let left = next_of(&mut ann, "peer_left").await.expect("Ann hears that Bo left");
    assert_eq!(left["id"], bo_id.as_str());
    let silence = last_heard.elapsed();
    // The writer looks at the silence on each ping tick: the first tick past the idle timeout ends it.
    assert!(silence > limits.idle_timeout, "dropped after {silence:?} of silence");
    assert!(silence <= limits.idle_timeout + limits.ping_interval, "dropped only after {silence:?}");
    drop(bo);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_answers_pings_stays_however_long_it_is_quiet() {
    let limits = Config::default().limits;
    let state = state();
    let mut ann = connect(&state).await;
    let mut bo = connect(&state).await;
    join(&mut ann, "quiet", "Ann").await;
    join(&mut bo, "quiet", "Bo").await;
    // Bo reads (so answers pings) but sends nothing for ten idle timeouts.
    let quiet = limits.idle_timeout * 10;
    let bo_reads = tokio::spawn(async move { tokio::time::timeout(quiet, next_of(&mut bo, "error")).await });
    let ann_hears = tokio::time::timeout(quiet, next_of(&mut ann, "peer_left")).await;
    assert!(ann_hears.is_err(), "Ann heard {ann_hears:?}");
    assert!(bo_reads.await.expect("reader task").is_err(), "Bo was told an error");
}
