//! One CDP WebSocket connection: commands with replies, events, and the pages' console output.

use std::sync::Arc;

use anyhow::Result;
use serde_json::{Value, json};

use crate::rpc::{self, Dialect, Reply, Rpc};

/// Opens the TCP connection to the DevTools port ([`LaunchOptions::connect`]).
pub type ConnectHook = Arc<dyn Fn(&str) -> std::io::Result<std::net::TcpStream> + Send + Sync>;

/// One CDP WebSocket connection, multiplexing the browser and its pages' sessions.
pub type Cdp = Rpc<DevTools>;

/// The Chrome DevTools Protocol: pages are sessions.
pub struct DevTools;

impl Dialect for DevTools {
    const NAME: &'static str = "CDP";

    fn reply(v: &Value) -> Reply {
        match v.get("error") {
            Some(err) => Err(err.to_string()),
            None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    fn event(v: &Value, label: &dyn Fn(&str) -> Option<String>) {
        let label =
            v.get("sessionId").and_then(Value::as_str).and_then(label).unwrap_or_else(|| "browser".into());
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
}

impl Rpc<DevTools> {
    pub(crate) async fn connect(ws_url: &str, connect: Option<ConnectHook>) -> Result<Arc<Cdp>> {
        let hostport = rpc::host_port(ws_url)?;
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
        Rpc::open(ws_url, tcp, Some(config)).await
    }

    pub(crate) async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
        let mut command = json!({ "method": method, "params": params });
        if let Some(s) = session {
            command["sessionId"] = json!(s);
        }
        self.command(command).await
    }
}
