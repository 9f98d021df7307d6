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

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

mod cdp;
mod chromium;
pub mod firefox;
mod page;
mod rpc;
mod server;

pub use cdp::{Cdp, ConnectHook};
pub use chromium::{Browser, CommandHook, LaunchOptions};
pub use firefox::{Firefox, FirefoxPage};
pub use page::Page;
pub use server::TestServer;

/// Upper bound for one CDP command.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for Chromium to start and print its DevTools URL.
pub(crate) const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Browser tests share two cores with everything else: run them one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Evaluates a page's `expr` (through `eval`) every `every` until it is truthy, and returns that value;
/// after `timeout` the error names the page's `label`, the expression and the last value (or error) seen.
pub(crate) async fn wait_until_truthy<F>(
    label: &str,
    expr: &str,
    timeout: Duration,
    every: Duration,
    mut eval: impl FnMut() -> F,
) -> anyhow::Result<Value>
where
    F: std::future::Future<Output = anyhow::Result<Value>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match eval().await {
            Ok(v) if truthy(&v) => return Ok(v),
            Ok(v) => v,
            Err(e) => Value::String(e.to_string()),
        };
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("[{label}] timed out after {timeout:?} waiting for `{expr}` (last value: {last})");
        }
        tokio::time::sleep(every).await;
    }
}

/// The variance of a picture's luma samples: near 0 for a flat (black, missing) picture.
pub fn variance(plane: &[u8]) -> f64 {
    let n = plane.len().max(1) as f64;
    let mean = plane.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    plane.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n
}

/// Where screenshots go: `$CARGO_TARGET_DIR/screenshots`, else `target/screenshots` in the workspace.
pub fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("screenshots"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"),
    }
}
