//! The browser client's bench mode sends WebAudio clicks (`assets/web/bench.js`, `clickTrack`) for the
//! mouth-to-ear figure. Chromium must send that track as a steady stream, as it does a microphone: if it
//! only delivers audio while a click plays, the receiver conceals the gaps, its jitter buffer grows to
//! hundreds of ms and the click latencies spread over the whole 500 ms period, so the Chromium ↔ Chromium
//! audio figure means nothing. Two Chromiums in bench mode call each other (each in its own browser, as
//! the bench runs them, with a private PulseAudio as their sound card) and both checks are made.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, SERIAL, TestServer};
use serde_json::Value;

/// Audio each side must have received before the figures are read (s).
const LISTEN_S: u32 = 10;

async fn bench_page(server: &TestServer, env: &[(String, String)], name: &str) -> Result<(Browser, Page)> {
    let browser = Browser::launch(LaunchOptions { env: env.to_vec(), ..Default::default() }).await?;
    let url = server.url(&format!("/r/click-check?name={name}&autojoin=1&bench=latency&size=320x240&fps=15"));
    let page = browser.new_page(name, &url).await?;
    Ok((browser, page))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_sends_the_click_track_steadily() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let pulse = kaiwa_devices::testing::PulseDaemon::start().map_err(anyhow::Error::msg)?;
    let env = pulse.env();
    let (_ba, a) = bench_page(&server, &env, "a").await?;
    let (_bb, b) = bench_page(&server, &env, "b").await?;

    // getStats is sampled every 2 s: wait for a reading covering LISTEN_S of audio on both sides.
    let enough = format!(
        "(() => {{ const p = window.kaiwa.bench()?.peers?.[0]; \
           return !!p?.audioIn && p.audioIn.totalSamples >= 48000 * {LISTEN_S}; }})()"
    );
    for page in [&a, &b] {
        page.wait_for(&enough, Duration::from_secs(90)).await?;
    }

    for (name, page) in [("a", &a), ("b", &b)] {
        let v = page.eval("window.kaiwa.bench()").await?;
        let peer = &v["peers"][0];
        let audio = &peer["audioIn"];
        let concealed = audio["concealedSamples"].as_f64().context("no concealedSamples")?;
        let total = audio["totalSamples"].as_f64().context("no totalSamples")?;
        let share = concealed / total;
        // Steady: a few hundred ms of concealment while the call starts. In bursts: over 40 %.
        ensure!(share < 0.1, "{name}: {:.0} % of the received audio was concealed: {audio}", share * 100.0);

        let latencies: Vec<f64> =
            peer["audioLatencyMs"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        ensure!(latencies.len() >= 10, "{name}: only {} clicks heard: {latencies:?}", latencies.len());
        let mut sorted = latencies.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        // Clicks every 500 ms, latency read modulo 500 ms: a steady stream gives one tight cluster
        // (±50 ms around the median), a bursty one spreads over the whole period.
        let near = latencies.iter().filter(|&&l| (l - median).abs() <= 50.0).count();
        println!(
            "{name}: {:.1} % concealed, {} clicks, median {median:.0} ms, {near} within 50 ms",
            share * 100.0,
            latencies.len()
        );
        ensure!(
            near * 4 >= latencies.len() * 3,
            "{name}: click latencies do not cluster (median {median:.0} ms, {near} of {} within 50 ms): \
             {latencies:?}",
            latencies.len()
        );
    }
    Ok(())
}
