//! A client of Janus's WebSocket API ([the Janus API](https://janus.conf.meetecho.com/docs/rest.html)):
//! one connection and one Janus session per server, requests matched to their answers by transaction,
//! whatever Janus says on its own about a handle (events, `webrtcup`, `hangup`…) passed to that handle's
//! owner, and keepalives so the session does not expire.
//!
//! A reader task and a keepalive task per connection; requests are written under a lock held only for
//! the write. The connection ends (and every request and handle with it) when Janus goes away.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// How long Janus has to answer a request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Janus ends a session after 60 s without a request (its `session_timeout` default).
const KEEPALIVE: Duration = Duration::from_secs(20);
/// Events queued per handle before the handle's owner counts as stuck and events are dropped.
const HANDLE_QUEUE: usize = 64;
/// The plugin every handle attaches to.
pub const VIDEOROOM: &str = "janus.plugin.videoroom";

#[derive(Debug, thiserror::Error)]
pub enum JanusError {
    #[error("cannot reach Janus: {0}")]
    Connect(String),
    #[error("the connection to Janus ended")]
    Closed,
    #[error("Janus did not answer in time")]
    Timeout,
    #[error("Janus refused ({code}): {reason}")]
    Refused { code: i64, reason: String },
    #[error("unexpected answer from Janus: {0}")]
    Unexpected(String),
}

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// A Janus session over one WebSocket.
pub struct Janus {
    sink: tokio::sync::Mutex<Sink>,
    session: AtomicU64,
    next_transaction: AtomicU64,
    waiting: Mutex<HashMap<String, Waiter>>,
    handles: Mutex<HashMap<u64, mpsc::Sender<Value>>>,
    /// Cancelled when the connection ends.
    pub closed: CancellationToken,
}

/// A request waiting for its answer.
struct Waiter {
    answer: oneshot::Sender<Value>,
    /// Janus's `ack` is the whole answer (a keepalive's), not the note that an event follows.
    ack_answers: bool,
}

/// A plugin handle: its id and what Janus says about it unasked.
pub struct Handle {
    pub id: u64,
    pub events: mpsc::Receiver<Value>,
}

/// What a plugin request got back: the plugin's data and, for negotiations, Janus's SDP.
#[derive(Debug)]
pub struct Answer {
    pub data: Value,
    pub jsep: Option<Value>,
}

impl Janus {
    /// Connects to `url` (`ws://host:port`) and creates a session.
    pub async fn connect(url: &str) -> Result<Arc<Janus>, JanusError> {
        let mut request = url.into_client_request().map_err(|e| JanusError::Connect(e.to_string()))?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        let port = request.uri().port_u16().unwrap_or(8188);
        request
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, http::HeaderValue::from_static("janus-protocol"));
        let connect = async {
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            tokio_tungstenite::client_async(request, tcp).await.map_err(std::io::Error::other)
        };
        let (ws, _) = tokio::time::timeout(ANSWER_TIMEOUT, connect)
            .await
            .map_err(|_| JanusError::Timeout)?
            .map_err(|e| JanusError::Connect(e.to_string()))?;
        let (sink, stream) = ws.split();
        let janus = Arc::new(Janus {
            sink: tokio::sync::Mutex::new(sink),
            session: AtomicU64::new(0),
            next_transaction: AtomicU64::new(1),
            waiting: Mutex::default(),
            handles: Mutex::default(),
            closed: CancellationToken::new(),
        });
        tokio::spawn(janus.clone().read(stream));
        let created = janus.request(json!({"janus": "create"})).await?;
        let session = id_of(&created)?;
        janus.session.store(session, Relaxed);
        tokio::spawn(janus.clone().keepalive());
        Ok(janus)
    }

    fn waiting(&self) -> MutexGuard<'_, HashMap<String, Waiter>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handles(&self) -> MutexGuard<'_, HashMap<u64, mpsc::Sender<Value>>> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a request and waits for its answer: `success` (or, for a plugin's asynchronous requests, the
    /// `event` that follows the `ack`; for a keepalive, the `ack`). Janus's `error` becomes
    /// [`JanusError::Refused`].
    async fn request(&self, mut body: Value) -> Result<Value, JanusError> {
        let ack_answers = body["janus"] == "keepalive";
        let transaction = format!("k{}", self.next_transaction.fetch_add(1, Relaxed));
        body["transaction"] = json!(transaction);
        let session = self.session.load(Relaxed);
        if session != 0 {
            body["session_id"] = json!(session);
        }
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(transaction.clone(), Waiter { answer: tx, ack_answers });
        let sent = self.sink.lock().await.send(Message::Text(body.to_string().into())).await;
        if sent.is_err() {
            self.waiting().remove(&transaction);
            return Err(JanusError::Closed);
        }
        let answer = tokio::select! {
            answer = rx => answer.map_err(|_| JanusError::Closed),
            _ = tokio::time::sleep(ANSWER_TIMEOUT) => Err(JanusError::Timeout),
        };
        self.waiting().remove(&transaction);
        let answer = answer?;
        match answer["janus"].as_str() {
            Some("error") => Err(refused(&answer["error"])),
            _ => Ok(answer),
        }
    }

    /// Attaches a VideoRoom handle.
    pub async fn attach(&self) -> Result<Handle, JanusError> {
        let (tx, events) = mpsc::channel(HANDLE_QUEUE);
        let answer = self.request(json!({"janus": "attach", "plugin": VIDEOROOM})).await?;
        let id = id_of(&answer)?;
        self.handles().insert(id, tx);
        Ok(Handle { id, events })
    }

    /// Detaches a handle (Janus hangs up its PeerConnection and, for a publisher, tells the room).
    pub async fn detach(&self, handle: u64) {
        self.handles().remove(&handle);
        if let Err(e) = self.request(json!({"janus": "detach", "handle_id": handle})).await {
            debug!(handle, error = %e, "detach failed");
        }
    }

    /// A message to the plugin on `handle`, with an SDP when it is part of a negotiation. The plugin's own
    /// errors (`"error_code"` in its data) become [`JanusError::Refused`].
    pub async fn message(&self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Answer, JanusError> {
        let mut request = json!({"janus": "message", "handle_id": handle, "body": body});
        if let Some(jsep) = jsep {
            request["jsep"] = jsep;
        }
        let mut answer = self.request(request).await?;
        let data = answer["plugindata"]["data"].take();
        if let Some(code) = data["error_code"].as_i64() {
            let reason = data["error"].as_str().unwrap_or_default().to_owned();
            return Err(JanusError::Refused { code, reason });
        }
        let jsep = answer.get_mut("jsep").map(Value::take);
        Ok(Answer { data, jsep })
    }

    async fn read(self: Arc<Self>, mut stream: SplitStream<WebSocketStream<TcpStream>>) {
        while let Some(frame) = stream.next().await {
            let text = match frame {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                warn!("unreadable message from Janus");
                continue;
            };
            self.dispatch(value);
        }
        self.closed.cancel();
        self.waiting().clear();
        self.handles().clear();
    }

    fn dispatch(&self, value: Value) {
        let kind = value["janus"].as_str().unwrap_or_default();
        if let Some(transaction) = value["transaction"].as_str() {
            let mut waiting = self.waiting();
            if waiting.get(transaction).is_some_and(|w| answers(kind, w.ack_answers))
                && let Some(waiter) = waiting.remove(transaction)
            {
                let _ = waiter.answer.send(value);
                return;
            }
        }
        if kind == "ack" {
            return;
        }
        let Some(handle) = value["sender"].as_u64() else {
            debug!(kind, "message from Janus for nobody");
            return;
        };
        let owner = self.handles().get(&handle).cloned();
        if let Some(owner) = owner
            && owner.try_send(value).is_err()
        {
            warn!(handle, "a Janus handle's events are not being read; dropped one");
        }
    }

    async fn keepalive(self: Arc<Self>) {
        let mut tick = tokio::time::interval(KEEPALIVE);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = self.closed.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(e) = self.request(json!({"janus": "keepalive"})).await {
                        warn!(error = %e, "Janus keepalive failed");
                    }
                }
            }
        }
    }
}

/// Whether a message of `kind` answers a request: an `ack` only says an asynchronous request was taken
/// (its event follows), unless the request is one Janus answers with an `ack` alone (a keepalive).
fn answers(kind: &str, ack_answers: bool) -> bool {
    kind != "ack" || ack_answers
}

fn id_of(answer: &Value) -> Result<u64, JanusError> {
    answer["data"]["id"].as_u64().ok_or_else(|| JanusError::Unexpected(answer.to_string()))
}

fn refused(error: &Value) -> JanusError {
    JanusError::Refused {
        code: error["code"].as_i64().unwrap_or_default(),
        reason: error["reason"].as_str().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_keepalive_is_answered_by_its_ack_and_a_plugin_request_by_the_event_after_it() {
        assert!(super::answers("ack", true), "a keepalive's ack");
        assert!(!super::answers("ack", false), "a plugin message's ack: its event follows");
        assert!(super::answers("event", false) && super::answers("success", false));
        assert!(super::answers("error", true));
    }
}
