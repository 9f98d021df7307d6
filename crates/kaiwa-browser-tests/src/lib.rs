//! Test harness for the browser client (`assets/web/`): the real signaling server in-process on
//! `127.0.0.1:0` and real headless Chromium talking to it, driven over the Chrome DevTools Protocol (CDP).
//!
//! # Why a small hand-written CDP client
//!
//! The tests need only a handful of CDP commands (`Target.createTarget`/`attachToTarget`,
//! `Runtime.evaluate`, `Input.dispatchMouseEvent`/`insertText`, `Page.captureScreenshot`,
//! `Emulation.setDeviceMetricsOverride`). `chromiumoxide` generates bindings for the whole protocol, which
//! costs minutes of compile time on a 2-core CI machine and brings its own WebSocket stack; `fantoccini`
//! needs a running `chromedriver` and WebDriver cannot read page console output as it happens. Speaking CDP
//! directly over the `tokio-tungstenite` the workspace already builds costs ~300 lines, no new dependency,
//! and gives the page's console and exceptions in the test output, which is what one needs when a
//! WebRTC test fails.
//!
//! # Launching Chromium
//!
//! [`Browser::launch`] runs `chromium` (or `$KAIWA_CHROMIUM`) headless with a fresh `--user-data-dir`,
//! fake camera/microphone (`--use-fake-device-for-media-stream`, permission prompts auto-accepted unless
//! [`LaunchOptions::deny_media`]),
//! `--remote-debugging-port=0` on loopback, and reads the DevTools WebSocket URL from its stderr. A missing
//! binary is a test failure with a message that says how to install it, never a skip. `KAIWA_BROWSER_LOG=1`
//! echoes Chromium's stderr, `KAIWA_CDP_LOG=1` every CDP event; page console output is always shown. The browser runs in
//! its own process group, which is killed when the [`Browser`] is dropped.
//!
//! # Firefox
//!
//! [`Firefox`] (module [`firefox`]) does the same for headless `firefox-esr` (or `$KAIWA_FIREFOX`) over
//! WebDriver BiDi, Firefox's remote protocol: a fresh profile whose `user.js` gives fake camera and
//! microphone without prompts and stops everything Firefox would fetch on its own, the BiDi port read from
//! stderr, page console output from `log.entryAdded`. It is smaller than the CDP driver: tabs, navigation,
//! `eval`, `wait_for` and DOM clicks, which is what checking the browser client in a second engine needs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

pub mod firefox;
pub use firefox::{Firefox, FirefoxPage};

/// Upper bound for one CDP command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for Chromium to start and print its DevTools URL.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Browser tests share two cores with everything else: run them one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The signaling server (with the embedded browser client) on `127.0.0.1:0`.
pub struct TestServer {
    pub addr: SocketAddr,
    pub tls: bool,
    /// The self-signed certificate's SHA-256 fingerprint ([`TestServer::start_tls`] only), for a native
    /// client to pin.
    pub fingerprint: Option<kaiwa_tls::Fingerprint>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Plain HTTP; `http://127.0.0.1` is a secure context, so the browser allows camera access.
    pub async fn start() -> Result<TestServer> {
        Self::start_with(kaiwa_signaling::Config::default(), None).await
    }

    /// Plain HTTP with the given settings (e.g. a smaller `max_room_size`).
    pub async fn start_config(config: kaiwa_signaling::Config) -> Result<TestServer> {
        Self::start_with(config, None).await
    }

    /// HTTPS/WSS with a fresh self-signed certificate (the server's `--tls-self-signed` mode).
    pub async fn start_tls() -> Result<TestServer> {
        let tls = kaiwa_signaling::tls::self_signed(None, vec!["localhost".into(), "127.0.0.1".into()])?;
        let mut server = Self::start_with(kaiwa_signaling::Config::default(), Some(tls.config)).await?;
        server.fingerprint = Some(tls.fingerprint);
        Ok(server)
    }

    /// Plain HTTP on a listener the caller bound, e.g. inside a network namespace of the test lab (where
    /// the page is not a secure context: launch Chromium with
    /// `--unsafely-treat-insecure-origin-as-secure=` [`TestServer::url`]`("")`).
    pub fn from_listener(listener: tokio::net::TcpListener) -> Result<TestServer> {
        Self::serve(listener, kaiwa_signaling::Config::default(), None)
    }

    async fn start_with(
        config: kaiwa_signaling::Config,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<TestServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::serve(listener, config, tls)
    }

    fn serve(
        listener: tokio::net::TcpListener,
        config: kaiwa_signaling::Config,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<TestServer> {
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let is_tls = tls.is_some();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, tls, shutdown.clone()));
        // STUN on the same port, as `kaiwa-signaling` does (the pre-join page's network check asks it).
        tokio::spawn(kaiwa_signaling::stun::serve_on(addr, shutdown.clone()));
        Ok(TestServer { addr, tls: is_tls, fingerprint: None, shutdown, task: Some(task) })
    }

    /// Shuts the server down (clients get close 1001, as on a real restart) and starts a fresh one, with
    /// no rooms, on the same address. Plain HTTP only.
    pub async fn restart(&mut self) -> Result<()> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task).await.context("server shutdown")???;
        }
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(self.addr)?;
        let listener = socket.listen(1024)?;
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(kaiwa_signaling::serve(
            listener,
            kaiwa_signaling::Config::default(),
            None,
            self.shutdown.clone(),
        )));
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Makes the command that runs the browser binary ([`LaunchOptions::command`]).
pub type CommandHook = Arc<dyn Fn(&Path) -> Command + Send + Sync>;
/// Opens the TCP connection to the DevTools port ([`LaunchOptions::connect`]).
pub type ConnectHook = Arc<dyn Fn(&str) -> std::io::Result<std::net::TcpStream> + Send + Sync>;

/// Options for [`Browser::launch`].
#[derive(Default, Clone)]
pub struct LaunchOptions {
    /// Accept any certificate (for the self-signed TLS test only).
    pub ignore_certificate_errors: bool,
    /// Refuse camera and microphone as a user who clicked "Block" would (instead of auto-accepting).
    pub deny_media: bool,
    /// More command-line switches, e.g. `--host-resolver-rules=MAP kaiwa.test 127.0.0.1`.
    pub extra_args: Vec<String>,
    /// More environment variables, e.g. `PULSE_SERVER` for a private PulseAudio daemon.
    pub env: Vec<(String, String)>,
    /// More Chromium features to switch off (joined with the default `--disable-features` list, since
    /// Chromium reads only one such switch), e.g. `WebRtcHideLocalIpsWithMdns` where no mDNS works.
    pub disable_features: Vec<String>,
    /// Makes the command that runs the browser binary (default `Command::new(binary)`), e.g.
    /// `ip netns exec NS binary` to run it inside a network namespace of the test lab.
    pub command: Option<CommandHook>,
    /// Opens the TCP connection to the DevTools port (`127.0.0.1:PORT` as the browser sees it), e.g. from
    /// inside the browser's network namespace. Default: a plain connect from this process.
    pub connect: Option<ConnectHook>,
}

impl LaunchOptions {
    /// Runs the browser inside lab host `host`'s network namespace (`kaiwa_testkit::lab`), its DevTools
    /// port reached from inside it, and with plain host candidates (the lab has no multicast, so
    /// Chromium's `.local` names could not be resolved).
    pub fn in_lab(mut self, host: &kaiwa_testkit::lab::Host) -> Self {
        let (h1, h2) = (host.clone(), host.clone());
        self.command = Some(Arc::new(move |bin: &Path| h1.command(bin)));
        self.connect = Some(Arc::new(move |hostport: &str| {
            let hostport = hostport.to_string();
            h2.enter(move || std::net::TcpStream::connect(hostport))?
        }));
        self.disable_features.push("WebRtcHideLocalIpsWithMdns".into());
        self
    }
}

/// A headless Chromium process and the CDP connection to it.
pub struct Browser {
    child: Child,
    cdp: Arc<Cdp>,
    _profile: tempfile::TempDir,
}

fn chromium_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("KAIWA_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&dir) {
                let p = d.join(name);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
    }
    bail!(
        "Chromium not found: the browser tests need a real Chromium. Install it with `scripts/setup.sh test` \
         (Debian: `apt-get install chromium`), or set KAIWA_CHROMIUM to its path"
    )
}

impl Browser {
    pub async fn launch(opts: LaunchOptions) -> Result<Browser> {
        use std::io::{BufRead, BufReader};
        use std::os::unix::process::CommandExt;

        let bin = chromium_binary()?;
        let profile = tempfile::Builder::new().prefix("kaiwa-chromium-").tempdir()?;
        let mut cmd = match &opts.command {
            Some(make) => make(&bin),
            None => Command::new(&bin),
        };
        let mut disabled = vec!["Translate", "MediaRouter", "OptimizationHints"];
        disabled.extend(opts.disable_features.iter().map(String::as_str));
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "--autoplay-policy=no-user-gesture-required",
            "--use-fake-device-for-media-stream",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1280,800",
        ]);
        cmd.arg(format!("--disable-features={}", disabled.join(",")));
        if opts.ignore_certificate_errors {
            cmd.arg("--ignore-certificate-errors");
        }
        cmd.arg(if opts.deny_media { "--deny-permission-prompts" } else { "--use-fake-ui-for-media-stream" });
        cmd.args(&opts.extra_args);
        cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(format!("--user-data-dir={}", profile.path().display()));
        cmd.arg("about:blank");
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().with_context(|| format!("cannot start {}", bin.display()))?;

        // Chromium prints "DevTools listening on ws://..." on stderr; keep draining stderr afterwards.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let verbose = std::env::var_os("KAIWA_BROWSER_LOG").is_some();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if verbose {
                    eprintln!("[chromium] {line}");
                }
                if !sent && let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                    sent = true;
                }
            }
        });
        let ws_url =
            tokio::task::spawn_blocking(move || rx.recv_timeout(LAUNCH_TIMEOUT)).await?.map_err(|_| {
                anyhow!("{} did not print its DevTools URL within {LAUNCH_TIMEOUT:?}", bin.display())
            });
        let ws_url = match ws_url {
            Ok(url) => url,
            Err(e) => {
                kill_group(&mut child);
                return Err(e);
            }
        };
        let cdp = match Cdp::connect(&ws_url, opts.connect.clone()).await {
            Ok(cdp) => cdp,
            Err(e) => {
                kill_group(&mut child);
                return Err(e);
            }
        };
        Ok(Browser { child, cdp, _profile: profile })
    }

    /// The browser process's id (its helpers are its descendants), e.g. to measure CPU and memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A browser-level CDP command (`Target.*`, `Browser.*`).
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(None, method, params).await
    }

    /// Opens a new tab at `url`; `label` prefixes its console output in the test log.
    pub async fn new_page(&self, label: &str, url: &str) -> Result<Page> {
        let target = self.cdp.call(None, "Target.createTarget", json!({ "url": "about:blank" })).await?;
        let target_id = target["targetId"].as_str().context("targetId")?.to_string();
        let attached = self
            .cdp
            .call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }))
            .await?;
        let session = attached["sessionId"].as_str().context("sessionId")?.to_string();
        self.cdp.labels.lock().unwrap().insert(session.clone(), label.to_string());
        let page = Page { cdp: self.cdp.clone(), session, label: label.to_string() };
        page.call("Runtime.enable", json!({})).await?;
        page.call("Page.enable", json!({})).await?;
        page.set_viewport(1280, 800).await?;
        page.goto(url).await?;
        Ok(page)
    }
}

fn kill_group(child: &mut Child) {
    // The browser's own process group (process_group(0) above): the browser and its helpers.
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain syscall on a process group this test created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.cdp.closed.cancel();
        kill_group(&mut self.child);
    }
}

type Reply = std::result::Result<Value, String>;

/// One CDP WebSocket connection, multiplexing the browser and its pages' sessions.
pub struct Cdp {
    out: mpsc::UnboundedSender<String>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    labels: Mutex<HashMap<String, String>>,
    next_id: AtomicU64,
    closed: CancellationToken,
}

impl Cdp {
    async fn connect(ws_url: &str, connect: Option<ConnectHook>) -> Result<Arc<Cdp>> {
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

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value> {
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

/// One tab.
pub struct Page {
    cdp: Arc<Cdp>,
    session: String,
    pub label: String,
}

impl Page {
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(Some(&self.session), method, params).await
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.call("Page.navigate", json!({ "url": url })).await?;
        // Wait for the new document (not about:blank) to have parsed.
        let want = url.to_string();
        self.wait_for(
            &format!(
                "document.readyState !== 'loading' && location.href.startsWith({})",
                json!(want.split('?').next().unwrap_or(&want))
            ),
            Duration::from_secs(30),
        )
        .await
        .with_context(|| format!("loading {url}"))?;
        Ok(())
    }

    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await?;
        Ok(())
    }

    /// Evaluates a JS expression (promises are awaited) and returns its JSON value.
    pub async fn eval(&self, expr: &str) -> Result<Value> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expr, "awaitPromise": true, "returnByValue": true, "userGesture": true }),
            )
            .await?;
        if let Some(d) = r.get("exceptionDetails") {
            let text = d["exception"]["description"].as_str().or(d["text"].as_str()).unwrap_or("?");
            bail!("[{}] `{expr}` threw: {text}", self.label);
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Polls `expr` until it is truthy (not null/false/0/""/undefined) and returns that value.
    pub async fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.eval(expr).await {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => v,
                Err(e) => json!(e.to_string()),
            };
            if Instant::now() >= deadline {
                bail!(
                    "[{}] timed out after {timeout:?} waiting for `{expr}` (last value: {last})",
                    self.label
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A real mouse click in the middle of the element matching `selector`.
    pub async fn click(&self, selector: &str) -> Result<()> {
        let rect = self
            .wait_for(
                &format!(
                    "(() => {{ const e = document.querySelector({s}); if (!e || e.disabled) return null; \
                     e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
                     return r.width > 0 ? {{x: r.x + r.width / 2, y: r.y + r.height / 2}} : null; }})()",
                    s = json!(selector)
                ),
                Duration::from_secs(15),
            )
            .await?;
        let (x, y) = (rect["x"].as_f64().unwrap_or(0.0), rect["y"].as_f64().unwrap_or(0.0));
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await?;
        }
        Ok(())
    }

    /// Focuses `selector` and types `text` into it as keyboard input, then presses Enter.
    pub async fn type_and_enter(&self, selector: &str, text: &str) -> Result<()> {
        self.click(selector).await?;
        self.call("Input.insertText", json!({ "text": text })).await?;
        for kind in ["keyDown", "keyUp"] {
            let mut ev =
                json!({ "type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13 });
            if kind == "keyDown" {
                ev["text"] = json!("\r");
            }
            self.call("Input.dispatchKeyEvent", ev).await?;
        }
        Ok(())
    }

    /// Writes a PNG screenshot of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" })).await?;
        let data = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().context("data")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, data)?;
        Ok(())
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Where screenshots go: `$CARGO_TARGET_DIR/screenshots`, else `target/screenshots` in the workspace.
pub fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("screenshots"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"),
    }
}
