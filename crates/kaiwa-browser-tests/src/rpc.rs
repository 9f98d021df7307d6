//! The plumbing the tests' two browser protocols share (the Chrome DevTools Protocol for Chromium,
//! WebDriver BiDi for Firefox): JSON messages over one WebSocket, commands numbered by `id` with one reply
//! each, everything else an event. [`Rpc`] owns the socket, with a writer task and a reader task; its
//! [`Dialect`] reads a reply's result or error and prints what events say of the pages.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::COMMAND_TIMEOUT;

/// A command's result, or its error as the browser put it.
pub(crate) type Reply = std::result::Result<Value, String>;

/// What differs between the protocols.
pub trait Dialect: Send + Sync + 'static {
    /// The protocol's name, in errors.
    const NAME: &'static str;
    /// A reply's result, or its error.
    fn reply(message: &Value) -> Reply;
    /// An event: prints what it says of a page (console output, uncaught exceptions). `label` gives a
    /// page's label from its id in the protocol (a CDP session, a BiDi browsing context).
    fn event(message: &Value, label: &dyn Fn(&str) -> Option<String>);
}

/// One WebSocket connection to a browser, multiplexing the browser and its pages.
pub struct Rpc<D> {
    out: mpsc::UnboundedSender<String>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    /// A page's id in the protocol → its label.
    pub(crate) labels: Mutex<HashMap<String, String>>,
    next_id: AtomicU64,
    pub(crate) closed: CancellationToken,
    dialect: PhantomData<D>,
}

/// The `host:port` a `ws://` URL points at.
pub(crate) fn host_port(ws_url: &str) -> Result<&str> {
    ws_url
        .strip_prefix("ws://")
        .and_then(|r| r.split('/').next())
        .with_context(|| format!("unexpected WebSocket URL {ws_url}"))
}

impl<D: Dialect> Rpc<D> {
    /// Opens the WebSocket at `ws_url` over `tcp` and starts its writer and reader.
    pub(crate) async fn open(
        ws_url: &str,
        tcp: tokio::net::TcpStream,
        config: Option<WebSocketConfig>,
    ) -> Result<Arc<Self>> {
        let (ws, _) = tokio_tungstenite::client_async_with_config(ws_url, tcp, config).await?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let rpc = Arc::new(Rpc {
            out,
            pending: Mutex::new(HashMap::new()),
            labels: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closed: CancellationToken::new(),
            dialect: PhantomData,
        });
        let closed = rpc.closed.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = closed.cancelled() => break,
                    msg = out_rx.recv() => match msg {
                        Some(text) => if sink.send(Message::text(text)).await.is_err() { break },
                        None => break,
                    },
                }
            }
        });
        let weak = Arc::downgrade(&rpc);
        let closed = rpc.closed.clone();
        tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    _ = closed.cancelled() => break,
                    msg = stream.next() => msg,
                };
                let Some(Ok(msg)) = msg else { break };
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                let Some(rpc) = weak.upgrade() else { break };
                rpc.dispatch(&v);
            }
            if let Some(rpc) = weak.upgrade() {
                // Fail whatever is still waiting.
                rpc.pending.lock().unwrap().clear();
            }
        });
        Ok(rpc)
    }

    fn dispatch(&self, v: &Value) {
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if let Some(tx) = self.pending.lock().unwrap().remove(&id) {
                let _ = tx.send(D::reply(v));
            }
            return;
        }
        D::event(v, &|id| self.labels.lock().unwrap().get(id).cloned());
    }

    /// Sends `command` (its method and params, and whatever else the protocol wants beside them) and
    /// waits for its reply.
    pub(crate) async fn command(&self, mut command: Value) -> Result<Value> {
        let method = command["method"].as_str().unwrap_or("?").to_owned();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        command["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let name = D::NAME;
        self.out.send(command.to_string()).map_err(|_| anyhow!("{name} connection closed"))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => bail!("{name} {method} failed: {e}"),
            Ok(Err(_)) => bail!("{name} connection closed during {method}"),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                bail!("{name} {method} timed out after {COMMAND_TIMEOUT:?}")
            }
        }
    }
}
