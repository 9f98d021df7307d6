//! The writing half of a client's WebSocket session: drains its bounded outgoing queue in batches, pings
//! it, and sends the last words (the error that ended the session, then a close frame).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use futures_util::SinkExt;
use kaiwa_protocol::{ErrorCode, ServerMessage};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tracing::debug;

use crate::kicker::Kicker;
use crate::rooms::OutFrame;
use crate::state::State;

/// Frames written per flush when the queue has a backlog.
const WRITE_BATCH: usize = 64;
/// How long the closing frames may take to leave.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

fn close_code(code: ErrorCode) -> CloseCode {
    match code {
        ErrorCode::TooLarge => CloseCode::Size,
        ErrorCode::ServerFull | ErrorCode::Unavailable => CloseCode::Again,
        ErrorCode::Timeout => CloseCode::Away,
        _ => CloseCode::Policy,
    }
}

/// Wraps a queued frame for tungstenite without copying it.
fn text_message(text: OutFrame) -> Message {
    struct Owner(OutFrame);
    impl AsRef<[u8]> for Owner {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    let bytes = Bytes::from_owner(Owner(text));
    Message::Text(Utf8Bytes::try_from(bytes).expect("an OutFrame is a str, so valid UTF-8"))
}

/// Milliseconds since the session started, shared by reader and writer to spot silent peers. On tokio's
/// clock, so the timeouts can be tested in paused time (`session_tests.rs`).
pub(crate) struct Clock {
    pub(crate) start: Instant,
    pub(crate) last_heard_ms: AtomicU64,
}

impl Clock {
    pub(crate) fn heard(&self, now: Instant) {
        self.last_heard_ms.store(now.duration_since(self.start).as_millis() as u64, Relaxed);
    }

    pub(crate) fn silence(&self, now: Instant) -> Duration {
        let last = self.start + Duration::from_millis(self.last_heard_ms.load(Relaxed));
        now.saturating_duration_since(last)
    }
}

type Sink<S> = futures_util::stream::SplitSink<WebSocketStream<S>, Message>;

pub(crate) async fn write_loop<S>(
    mut sink: Sink<S>,
    mut rx: mpsc::Receiver<OutFrame>,
    kicker: Kicker,
    clock: Arc<Clock>,
    state: Arc<State>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = &state.config.limits;
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let token = kicker.token().clone();
    loop {
        let step = tokio::select! {
            biased;
            _ = token.cancelled() => break,
            text = rx.recv() => match text {
                None => break,
                Some(text) => {
                    let batch = async {
                        sink.feed(text_message(text)).await?;
                        for _ in 1..WRITE_BATCH {
                            match rx.try_recv() {
                                Ok(more) => sink.feed(text_message(more)).await?,
                                Err(_) => break,
                            }
                        }
                        sink.flush().await
                    };
                    tokio::time::timeout(limits.idle_timeout, batch).await
                }
            },
            _ = ping.tick() => {
                if clock.silence(Instant::now()) > limits.idle_timeout {
                    state.metrics.count_error(ErrorCode::Timeout);
                    kicker.kick(ErrorCode::Timeout, "no answer to pings");
                    break;
                }
                tokio::time::timeout(limits.idle_timeout, sink.send(Message::Ping(Bytes::new()))).await
            }
        };
        match step {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                debug!(error = %e, "write failed");
                kicker.stop();
                return;
            }
            Err(_) => {
                state.metrics.count_error(ErrorCode::SlowConsumer);
                kicker.kick(ErrorCode::SlowConsumer, "writes stalled");
                return;
            }
        }
    }
    // Last words: the error that ended the session (if any), then a close frame.
    let goodbye = async {
        let frame = match kicker.reason() {
            Some((code, why)) => {
                sink.feed(Message::Text(ServerMessage::error(code, why).to_json().into())).await?;
                CloseFrame { code: close_code(code), reason: Utf8Bytes::from_static(code.as_str()) }
            }
            None if state.shutdown.is_cancelled() => {
                CloseFrame { code: CloseCode::Away, reason: Utf8Bytes::from_static("server shutting down") }
            }
            None => CloseFrame { code: CloseCode::Normal, reason: Utf8Bytes::default() },
        };
        sink.send(Message::Close(Some(frame))).await?;
        sink.close().await
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, goodbye).await;
}
