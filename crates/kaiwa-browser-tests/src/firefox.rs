//! Headless Firefox over WebDriver BiDi, the small sibling of the Chromium CDP driver ([`crate::Browser`]).
//!
//! [`Firefox::launch`] runs `firefox-esr` (or `$KAIWA_FIREFOX`) with a fresh profile whose `user.js` turns
//! on fake camera and microphone without prompts and turns off everything Firefox would fetch on its own
//! (updates, telemetry, Safe Browsing, OpenH264, remote settings): the test machines have no internet.
//! `--remote-debugging-port=0` lets Firefox pick the port, which it prints on stderr as
//! `WebDriver BiDi listening on ws://127.0.0.1:PORT`; the driver connects to `/session` on it, starts a
//! session with `session.new` and subscribes to `log.entryAdded`, so page console output and uncaught
//! errors show in the test output. Firefox runs in its own process group, killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::chromium::{announced_url, kill_group};
use crate::rpc::{self, Dialect, Reply, Rpc};

/// The fresh profile's `user.js`, read before anything else starts.
const USER_JS: &str = include_str!("firefox_user.js");

fn firefox_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("KAIWA_FIREFOX") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["firefox-esr", "firefox"] {
        for dir in std::env::split_paths(&path) {
            if dir.join(name).is_file() {
                return Ok(dir.join(name));
            }
        }
    }
    bail!(
        "Firefox not found: the Firefox tests need a real Firefox. Install it with `scripts/setup.sh test` \
         (Debian: `apt-get install firefox-esr`), or set KAIWA_FIREFOX to its path"
    )
}

/// A headless Firefox process and the WebDriver BiDi session with it.
pub struct Firefox {
    child: Child,
    bidi: Arc<Bidi>,
    _profile: tempfile::TempDir,
}

impl Firefox {
    pub async fn launch() -> Result<Firefox> {
        Firefox::launch_with_env(&[]).await
    }

    /// [`Firefox::launch`] with more environment variables, e.g. `PULSE_SERVER` for a private PulseAudio
    /// daemon (WebAudio in the bench mode needs a sound card).
    pub async fn launch_with_env(env: &[(String, String)]) -> Result<Firefox> {
        Firefox::launch_with(env, None).await
    }

    /// [`Firefox::launch`] inside lab host `host`'s network namespace (`kaiwa_testkit::lab`), its BiDi
    /// port reached from inside it. A page served over plain HTTP from a lab address is no secure
    /// context, and gets no camera: pages from `secure_hosts` (addresses or names) count as secure.
    pub async fn launch_in_lab(host: &kaiwa_testkit::lab::Host, secure_hosts: &[String]) -> Result<Firefox> {
        let allow = format!("user_pref(\"dom.securecontext.allowlist\", \"{}\");\n", secure_hosts.join(","));
        Firefox::launch_with(&[], Some((host, &allow))).await
    }

    /// Launches it, in `lab`'s host with more of `user.js` if given.
    async fn launch_with(
        env: &[(String, String)],
        lab: Option<(&kaiwa_testkit::lab::Host, &str)>,
    ) -> Result<Firefox> {
        use std::os::unix::process::CommandExt;

        let bin = firefox_binary()?;
        let profile = tempfile::Builder::new().prefix("kaiwa-firefox-").tempdir()?;
        let prefs = format!("{USER_JS}{}", lab.map_or("", |(_, more)| more));
        std::fs::write(profile.path().join("user.js"), prefs)?;
        let lab = lab.map(|(host, _)| host);
        let mut cmd = match lab {
            Some(host) => host.command(&bin),
            None => Command::new(&bin),
        };
        cmd.args(["--headless", "--no-remote", "--remote-debugging-port=0", "--profile"]);
        cmd.arg(profile.path()).arg("about:blank");
        // A release build ignores `services.settings.server` (and so keeps resolving Mozilla's remote
        // settings host) unless this is set.
        cmd.env("MOZ_CRASHREPORTER_DISABLE", "1").env("MOZ_REMOTE_SETTINGS_DEVTOOLS", "1");
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().with_context(|| format!("cannot start {}", bin.display()))?;

        // Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:PORT".
        let started = async {
            let url = announced_url(&mut child, "firefox", "WebDriver BiDi listening on ", &bin).await?;
            let bidi = Bidi::connect(&format!("{url}/session"), lab).await?;
            bidi.call("session.new", json!({ "capabilities": {} })).await?;
            bidi.call("session.subscribe", json!({ "events": ["log.entryAdded"] })).await?;
            anyhow::Ok(bidi)
        };
        match started.await {
            Ok(bidi) => Ok(Firefox { child, bidi, _profile: profile }),
            Err(e) => {
                kill_group(&mut child);
                Err(e)
            }
        }
    }

    /// The browser process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Any BiDi command, e.g. `browsingContext.getTree`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.bidi.call(method, params).await
    }

    /// Opens a new tab at `url` and waits for its `load` event; `label` prefixes its console output.
    pub async fn new_page(&self, label: &str, url: &str) -> Result<FirefoxPage> {
        let created = self.call("browsingContext.create", json!({ "type": "tab" })).await?;
        let context = created["context"].as_str().context("context")?.to_string();
        self.bidi.labels.lock().unwrap().insert(context.clone(), label.to_string());
        let page = FirefoxPage { bidi: self.bidi.clone(), context, label: label.to_string() };
        page.goto(url).await?;
        Ok(page)
    }
}

impl Drop for Firefox {
    fn drop(&mut self) {
        self.bidi.closed.cancel();
        kill_group(&mut self.child);
        // `_profile` is removed after this, with Firefox gone.
    }
}

/// One BiDi WebSocket connection.
type Bidi = Rpc<WebDriverBidi>;

/// WebDriver BiDi: pages are browsing contexts, and their console output comes as log entries.
struct WebDriverBidi;

impl Dialect for WebDriverBidi {
    const NAME: &'static str = "BiDi";

    fn reply(v: &Value) -> Reply {
        match v["type"].as_str() {
            Some("success") => Ok(v["result"].clone()),
            _ => Err(format!("{}: {}", v["error"], v["message"].as_str().unwrap_or("?"))),
        }
    }

    fn event(v: &Value, label: &dyn Fn(&str) -> Option<String>) {
        if v["method"] != "log.entryAdded" {
            return;
        }
        let entry = &v["params"];
        let label = entry["source"]["context"].as_str().and_then(label).unwrap_or_else(|| "firefox".into());
        let text = entry["text"].as_str().unwrap_or("?");
        match entry["type"].as_str() {
            Some("console") => {
                eprintln!("[{label}] console.{}: {text}", entry["method"].as_str().unwrap_or("log"))
            }
            Some("javascript") => eprintln!("[{label}] uncaught exception: {text}"),
            _ => eprintln!("[{label}] {}: {text}", entry["level"].as_str().unwrap_or("log")),
        }
    }
}

impl Rpc<WebDriverBidi> {
    /// Connects to `ws_url`, from inside lab host `lab` when Firefox runs there.
    async fn connect(ws_url: &str, lab: Option<&kaiwa_testkit::lab::Host>) -> Result<Arc<Bidi>> {
        let hostport = rpc::host_port(ws_url)?;
        let tcp = match lab {
            Some(host) => {
                let hostport = hostport.to_owned();
                let tcp = host.enter(move || std::net::TcpStream::connect(hostport))??;
                tcp.set_nonblocking(true)?;
                tokio::net::TcpStream::from_std(tcp)?
            }
            None => tokio::net::TcpStream::connect(hostport).await?,
        };
        Rpc::open(ws_url, tcp, None).await
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.command(json!({ "method": method, "params": params })).await
    }
}

/// One Firefox tab (a top-level browsing context).
pub struct FirefoxPage {
    bidi: Arc<Bidi>,
    context: String,
    pub label: String,
}

impl FirefoxPage {
    /// Navigates and waits for the new document's `load` event.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.bidi
            .call(
                "browsingContext.navigate",
                json!({ "context": self.context, "url": url, "wait": "complete" }),
            )
            .await
            .with_context(|| format!("[{}] loading {url}", self.label))?;
        Ok(())
    }

    /// Evaluates a JS expression (promises are awaited) and returns its value as JSON (`undefined` is null).
    /// Unlike CDP's `Page::eval` it must be one expression: `a; b` is a syntax error, `(a, b)` works.
    pub async fn eval(&self, expr: &str) -> Result<Value> {
        // JSON in the page instead of converting BiDi's remote values; newlines keep a trailing `//` comment
        // in `expr` from swallowing the rest.
        let wrapped = format!("(async () => JSON.stringify(await (\n{expr}\n)))()");
        let r = self
            .bidi
            .call(
                "script.evaluate",
                json!({
                    "expression": wrapped,
                    "target": { "context": self.context },
                    "awaitPromise": true,
                    "resultOwnership": "none",
                    "userActivation": true,
                }),
            )
            .await?;
        if r["type"] == "exception" {
            let text = r["exceptionDetails"]["text"].as_str().unwrap_or("?");
            bail!("[{}] `{expr}` threw: {text}", self.label);
        }
        match r["result"]["value"].as_str() {
            Some(json) => serde_json::from_str(json).context("parsing the page's JSON"),
            None => Ok(Value::Null),
        }
    }

    /// Polls `expr` every 100 ms until it is truthy (not null/false/0/""/undefined) and returns that value.
    pub async fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value> {
        let every = Duration::from_millis(100);
        crate::wait_until_truthy(&self.label, expr, timeout, every, || self.eval(expr)).await
    }

    /// `click()` on the element matching `selector` (a DOM click, not a real mouse event).
    pub async fn click(&self, selector: &str) -> Result<()> {
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.click(); \
                 return true; }})()",
                s = json!(selector)
            ))
            .await?;
        if found != json!(true) {
            bail!("[{}] no element matches `{selector}`", self.label);
        }
        Ok(())
    }
}
