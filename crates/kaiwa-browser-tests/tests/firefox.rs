//! The browser client's page in real headless Firefox (`firefox-esr`, driven over WebDriver BiDi) against
//! the real signaling server: what Firefox brings to a call (codecs, fake camera and microphone).

use std::time::Duration;

use anyhow::{Result, ensure};
use kaiwa_browser_tests::{Firefox, SERIAL, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_offers_vp8_and_gets_fake_media() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let firefox = Firefox::launch().await?;
    let page = firefox.new_page("firefox", &server.url("/")).await?;

    let version = page.eval("navigator.userAgent").await?;
    eprintln!("[firefox] {version}, secure context: {}", page.eval("window.isSecureContext").await?);
    // `http://127.0.0.1` is a secure context, so `navigator.mediaDevices` exists.
    assert_eq!(page.eval("window.isSecureContext").await?, json!(true));

    let codecs = page.eval("RTCRtpSender.getCapabilities('video').codecs.map(c => c.mimeType)").await?;
    let codecs: Vec<&str> = codecs.as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
    eprintln!("[firefox] video codecs: {codecs:?}");
    ensure!(codecs.contains(&"video/VP8"), "Firefox offers no VP8: {codecs:?}");
    eprintln!("[firefox] H.264 offered: {}", codecs.contains(&"video/H264"));

    // Fake devices, no prompt: one video and one audio track.
    let tracks = page
        .wait_for(
            "navigator.mediaDevices.getUserMedia({video: true, audio: true}).then(s => { \
             window.stream = s; return s.getTracks().map(t => ({kind: t.kind, label: t.label, \
             state: t.readyState})); })",
            Duration::from_secs(20),
        )
        .await?;
    eprintln!("[firefox] tracks: {tracks}");
    let kinds: Vec<&str> =
        tracks.as_array().into_iter().flatten().filter_map(|t| t["kind"].as_str()).collect();
    ensure!(kinds.len() == 2 && kinds.contains(&"video") && kinds.contains(&"audio"), "tracks: {tracks}");
    ensure!(tracks.as_array().unwrap().iter().all(|t| t["state"] == "live"), "tracks: {tracks}");

    // Page exceptions are errors with the page's message; console output goes to the test output.
    let err = page.eval("Promise.reject(new Error('boom'))").await.unwrap_err();
    ensure!(err.to_string().contains("boom"), "unexpected error: {err:#}");
    page.eval("console.log('hello from', 'Firefox')").await?;
    Ok(())
}
