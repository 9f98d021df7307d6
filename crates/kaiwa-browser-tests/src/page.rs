//! One tab: navigation, script evaluation, waiting for a condition, input, screenshots.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};

use crate::cdp::Cdp;

/// One tab.
pub struct Page {
    pub(crate) cdp: Arc<Cdp>,
    pub(crate) session: String,
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
        let every = Duration::from_millis(200);
        crate::wait_until_truthy(&self.label, expr, timeout, every, || self.eval(expr)).await
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
