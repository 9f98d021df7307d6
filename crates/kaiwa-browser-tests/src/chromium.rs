//! Launching headless Chromium: the binary, its flags and fresh profile, the DevTools URL from its stderr,
//! and its process group killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

use serde_json::{Value, json};

use crate::LAUNCH_TIMEOUT;
use crate::cdp::{Cdp, ConnectHook};
use crate::page::Page;

/// Makes the command that runs the browser binary ([`LaunchOptions::command`]).
pub type CommandHook = Arc<dyn Fn(&Path) -> Command + Send + Sync>;

/// Options for [`Browser::launch`].
#[derive(Default, Clone)]
pub struct LaunchOptions {
    /// Accept any certificate (for the self-signed TLS test only).
    pub ignore_certificate_errors: bool,
    /// Refuse camera and microphone as a user who clicked "Block" would (instead of auto-accepting).
    pub deny_media: bool,
    /// No fake camera, microphone or permission prompt: with them, Chromium's `getDisplayMedia` returns a
    /// fake picture (or a screen it cannot capture headless), so sharing a real tab
    /// (`--auto-accept-this-tab-capture`) needs them off; the page then has no camera or microphone.
    pub real_devices: bool,
    /// More command-line switches, e.g. `--host-resolver-rules=MAP kaiwa.test 127.0.0.1`, or
    /// `--accept-lang=ja` for a browser whose `navigator.languages` is Japanese (the default is
    /// `--accept-lang=en-US,en`, so the page speaks English whatever the machine's locale; on Linux
    /// `--lang` does not change `navigator.languages`).
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
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1280,800",
        ]);
        cmd.arg(format!("--disable-features={}", disabled.join(",")));
        if !opts.real_devices {
            cmd.arg("--use-fake-device-for-media-stream");
        }
        if opts.ignore_certificate_errors {
            cmd.arg("--ignore-certificate-errors");
        }
        if opts.deny_media {
            cmd.arg("--deny-permission-prompts");
        } else if !opts.real_devices {
            cmd.arg("--use-fake-ui-for-media-stream");
        }
        if !opts.extra_args.iter().any(|a| a.starts_with("--accept-lang")) {
            cmd.arg("--accept-lang=en-US,en");
        }
        cmd.args(&opts.extra_args);
        cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(format!("--user-data-dir={}", profile.path().display()));
        cmd.arg("about:blank");
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().with_context(|| format!("cannot start {}", bin.display()))?;

        // Chromium prints "DevTools listening on ws://..." on stderr.
        let ws_url = announced_url(&mut child, "chromium", "DevTools listening on ", &bin).await;
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

/// The WebSocket URL a browser prints on stderr after `prefix`, within [`LAUNCH_TIMEOUT`]. A named thread
/// keeps draining its stderr afterwards (echoed, prefixed with `name`, when `KAIWA_BROWSER_LOG` is set).
pub(crate) async fn announced_url(child: &mut Child, name: &str, prefix: &str, bin: &Path) -> Result<String> {
    let stderr = child.stderr.take().context("the browser's stderr is not piped")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let verbose = std::env::var_os("KAIWA_BROWSER_LOG").is_some();
    let (label, prefix) = (name.to_owned(), prefix.to_owned());
    std::thread::Builder::new().name(format!("{name}-stderr")).spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(std::io::Result::ok) {
            if verbose {
                eprintln!("[{label}] {line}");
            }
            if !sent && let Some(url) = line.strip_prefix(&prefix) {
                let _ = tx.send(url.trim().to_string());
                sent = true;
            }
        }
    })?;
    tokio::task::spawn_blocking(move || rx.recv_timeout(LAUNCH_TIMEOUT))
        .await?
        .map_err(|_| anyhow!("{} did not print its URL within {LAUNCH_TIMEOUT:?}", bin.display()))
}

pub(crate) fn kill_group(child: &mut Child) {
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
