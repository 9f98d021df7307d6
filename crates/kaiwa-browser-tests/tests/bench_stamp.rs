//! The browser client's bench mode (`assets/web/bench.js`, its stamp in `stamp.js`) ports the native test pattern's stamp to
//! JavaScript. Both must agree, through the colour conversions a real call applies: Chromium reads the
//! stamps the native side renders (as RGB, the way a decoded frame reaches its canvas), and the native
//! `read_stamp` reads the stamps Chromium draws on a canvas (converted to I420 as an encoder would).

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use base64::Engine;
use kaiwa_browser_tests::{Browser, LaunchOptions, SERIAL, TestServer};
use kaiwa_media::video::{I420Frame, Stamp, TestPattern};
use serde_json::json;

const SIZES: [(u32, u32); 2] = [(640, 480), (1280, 720)];
const STAMPS: [(u32, u64); 3] = [(0, 0), (7, 1_764_000_000_123_456), (u32::MAX, u64::MAX)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_rust_stamps_agree() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let browser = Browser::launch(LaunchOptions::default()).await?;
    let page = browser.new_page("stamp", &server.url("/")).await?;
    page.wait_for("import('/stamp.js').then(() => true)", Duration::from_secs(20)).await?;
    let b64 = base64::engine::general_purpose::STANDARD;

    for (w, h) in SIZES {
        let pattern = TestPattern::new(w, h)?;
        for (counter, capture_us) in STAMPS {
            // Rust → JS: the native frame as RGBA, as Chromium's canvas gets a decoded frame.
            let rgba = pattern.frame(counter, capture_us).to_rgba()?;
            let read = page
                .eval(&format!(
                    "import('/stamp.js').then((b) => {{
                       const px = Uint8Array.from(atob({data}), (c) => c.charCodeAt(0));
                       const s = b.readStamp(px, {w}, b.stampGeometry({w}, {h}));
                       return s && [s.counter, String(s.captureUs)];
                     }})",
                    data = json!(b64.encode(&rgba)),
                ))
                .await?;
            ensure!(
                read == json!([counter, capture_us.to_string()]),
                "{w}x{h}: JS read {read} from the native stamp ({counter}, {capture_us})"
            );

            // JS → Rust: the canvas stamp over a mid-grey picture, converted to I420.
            let drawn = page
                .eval(&format!(
                    "import('/stamp.js').then((b) => {{
                       const c = document.createElement('canvas');
                       c.width = {w}; c.height = {h};
                       const ctx = c.getContext('2d');
                       ctx.fillStyle = '#808080'; ctx.fillRect(0, 0, {w}, {h});
                       b.drawStamp(ctx, b.stampGeometry({w}, {h}), {counter}, {capture_us}n);
                       const px = ctx.getImageData(0, 0, {w}, {h}).data;
                       let s = '';
                       for (let i = 0; i < px.length; i += 8192) s += String.fromCharCode(...px.subarray(i, i + 8192));
                       return btoa(s);
                     }})"
                ))
                .await?;
            let rgba = b64.decode(drawn.as_str().context("no pixels")?)?;
            let frame = I420Frame::from_rgba(w, h, &rgba)?;
            let stamp = pattern.read_stamp(&frame);
            ensure!(
                stamp == Some(Stamp { counter, capture_us }),
                "{w}x{h}: Rust read {stamp:?} from the canvas stamp ({counter}, {capture_us})"
            );
        }
    }
    // A corrupted picture is rejected, not misread.
    let none = page
        .eval(
            "import('/stamp.js').then((b) => b.readStamp(new Uint8Array(640 * 48 * 4).fill(128), 640, \
             b.stampGeometry(640, 480)))",
        )
        .await?;
    ensure!(none.is_null(), "a grey strip read as {none}");
    Ok(())
}
