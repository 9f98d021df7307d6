//! One CDP WebSocket connection: commands with replies, events, and the pages' console output.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::COMMAND_TIMEOUT;

/// Opens the TCP connection to the DevTools port ([`LaunchOptions::connect`]).
pub type ConnectHook = Arc<dyn Fn(&str) -> std::io::Result<std::net::TcpStream> + Send + Sync>;

type Reply = std::result::Result<Value, String>;

/// One CDP WebSocket connection, multiplexing the browser and its pages' sessions.
pub struct Cdp {
    out: mpsc::UnboundedSender<String>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    pub(crate) labels: Mutex<HashMap<String, String>>,
    next_id: AtomicU64,
    pub(crate) closed: CancellationToken,
}

impl Cdp {
    pub(crate) async fn connect(ws_url: &str, connect: Option<ConnectHook>) -> Result<Arc<Cdp>> {
        let hostport = ws_url
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .with_context(|| format!("unexpected DevTools URL {ws_url}"))?;
        let tcp = match connect {
            Some(connect) => {
                let hostport = hostport.to_string();
                let std = tokio::task::spawn_blocking(move || connect(&hostport)).await??;
                std.set_nonblocking(true)?;
                tokio::net::TcpStream::from_std(std)?
            }
            None => tokio::net::TcpStream::connect(hostport).await?,
        };
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(256 << 20))
            .max_frame_size(Some(256 << 20));
        let (ws, _) = tokio_tungstenite::client_async_with_config(ws_url, tcp, Some(config)).await?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let cdp = Arc::new(Cdp {
            out,
            pending: Mutex::new(HashMap::new()),
            labels: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closed: CancellationToken::new(),
        });
        let closed = cdp.closed.clone();
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
        let weak = Arc::downgrade(&cdp);
        let closed = cdp.closed.clone();
        tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    _ = closed.cancelled() => break,
                    msg = stream.next() => msg,
                };
                let Some(Ok(msg)) = msg else { break };
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                let Some(cdp) = weak.upgrade() else { break };
                cdp.dispatch(v);
            }
            if let Some(cdp) = weak.upgrade() {
                // Fail whatever is still waiting.
                cdp.pending.lock().unwrap().clear();
            }
        });
        Ok(cdp)
    }

    fn dispatch(&self, v: Value) {
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if let Some(tx) = self.pending.lock().unwrap().remove(&id) {
                let reply = match v.get("error") {
                    Some(err) => Err(err.to_string()),
                    None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = tx.send(reply);
            }
            return;
        }
        let label = v
            .get("sessionId")
            .and_then(Value::as_str)
            .and_then(|s| self.labels.lock().unwrap().get(s).cloned())
            .unwrap_or_else(|| "browser".into());
        if std::env::var_os("KAIWA_CDP_LOG").is_some() {
            eprintln!("[{label}] event {}", v["method"]);
        }
        let params = &v["params"];
        match v.get("method").and_then(Value::as_str) {
            Some("Runtime.consoleAPICalled") => {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| match x.get("value") {
                                Some(Value::String(s)) => s.clone(),
                                Some(other) => other.to_string(),
                                None => x["description"].as_str().unwrap_or("?").to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                eprintln!(
                    "[{label}] console.{}: {}",
                    params["type"].as_str().unwrap_or("log"),
                    args.join(" ")
                );
            }
            Some("Runtime.exceptionThrown") => {
                let d = &params["exceptionDetails"];
                let text = d["exception"]["description"].as_str().or(d["text"].as_str()).unwrap_or("?");
                eprintln!("[{label}] uncaught exception: {text}");
            }
            _ => {}
        }
    }

    pub(crate) async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.out.send(msg.to_string()).map_err(|_| anyhow!("CDP connection closed"))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => bail!("CDP {method} failed: {e}"),
            Ok(Err(_)) => bail!("CDP connection closed during {method}"),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                bail!("CDP {method} timed out after {COMMAND_TIMEOUT:?}")
            }
        }
    }
}
