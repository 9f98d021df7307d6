//! The end of one caller's lab call: stop it, and read what it received (the native client's stats log,
//! Chromium's `window.kaiwa.bench()` series) as per-second points per remote.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde_json::Value;

use crate::client::{Kind, f64_of, samples, share_pct};

use super::*;

/// Ends a caller's call and reads what it received.
pub(super) async fn finish(
    caller: &mut Caller,
    host: &'static str,
    applied: Instant,
    applied_wall: f64,
) -> anyhow::Result<Vec<Receiver>> {
    match caller {
        Caller::Native { child, log, stats_log, json, started } => {
            // `ip netns exec` has exec'd `kaiwa` in its place: the signal reaches the call itself.
            crate::client::interrupt(child).await?;
            let offset = started.duration_since(applied).as_secs_f64();
            let text = std::fs::read_to_string(&*json)
                .with_context(|| format!("no stats from kaiwa call: {}", log_tail(log)))?;
            let fin: Value = serde_json::from_str(&text)?;
            let lines = std::fs::read_to_string(&*stats_log).unwrap_or_default();
            let mut out = Vec::new();
            for p in fin.as_array().into_iter().flatten() {
                let Some(from) = p["name"].as_str().and_then(kind_of) else { continue };
                let id = p["id"].as_str().unwrap_or_default();
                let series = lines
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter_map(|v| {
                        let t = f64_of(&v["t"])? + offset;
                        let peer = v["peers"].as_array()?.iter().find(|q| q["id"] == id)?.clone();
                        Some(native_point(t, &peer))
                    })
                    .collect();
                out.push(Receiver {
                    host,
                    kind: Kind::Native,
                    from,
                    series,
                    psnr_db: samples(&p["psnr_db"]),
                    video_ms: samples(&p["video_latency_samples_ms"]),
                    audio_ms: samples(&p["audio_latency_samples_ms"]),
                    audio_concealed_pct: share_pct(
                        f64_of(&p["audio_in"]["concealed_frames"]),
                        f64_of(&p["audio_in"]["frames_played"]),
                    ),
                });
            }
            Ok(out)
        }
        Caller::Chromium { page, .. } => {
            let page = page.as_ref().context("Chromium never opened its page")?;
            let v = page.eval("window.kaiwa.bench()").await?;
            let mut out = Vec::new();
            for p in v["peers"].as_array().into_iter().flatten() {
                let Some(from) = p["name"].as_str().and_then(kind_of) else { continue };
                let series = p["series"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s.get("framesDecoded").is_some())
                    .filter_map(|s| {
                        Some(Point {
                            t: (f64_of(&s["t"])? - applied_wall) / 1000.0,
                            frames: f64_of(&s["framesDecoded"]).unwrap_or(0.0),
                            freezes: f64_of(&s["freezeCount"]).unwrap_or(0.0),
                            freeze_s: f64_of(&s["totalFreezesDuration"]).unwrap_or(0.0),
                            width: s["width"].as_u64().unwrap_or(0) as u32,
                            height: s["height"].as_u64().unwrap_or(0) as u32,
                            bytes: f64_of(&s["bytesReceived"]).unwrap_or(0.0),
                        })
                    })
                    .collect();
                out.push(Receiver {
                    host,
                    kind: Kind::Chromium,
                    from,
                    series,
                    psnr_db: samples(&p["psnrDb"]),
                    video_ms: samples(&p["videoLatencyMs"]),
                    audio_ms: samples(&p["audioLatencyMs"]),
                    audio_concealed_pct: share_pct(
                        f64_of(&p["audioIn"]["concealedSamples"]),
                        f64_of(&p["audioIn"]["totalSamples"]),
                    ),
                });
            }
            if let Some(dir) = std::env::var_os("KAIWA_BENCH_DUMP") {
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(
                    Path::new(&dir).join(format!("{}-{host}.json", page.label)),
                    serde_json::to_string_pretty(&v)?,
                );
            }
            Ok(out)
        }
    }
}

fn kind_of(name: &str) -> Option<Kind> {
    match name.chars().next()? {
        'N' => Some(Kind::Native),
        'C' => Some(Kind::Chromium),
        _ => None,
    }
}

fn native_point(t: f64, peer: &Value) -> Point {
    let v = &peer["video_in"];
    Point {
        t,
        frames: f64_of(&v["frames_decoded"]).unwrap_or(0.0),
        freezes: f64_of(&v["freezes"]).unwrap_or(0.0),
        freeze_s: f64_of(&v["freeze_ms"]).unwrap_or(0.0) / 1000.0,
        width: v["width"].as_u64().unwrap_or(0) as u32,
        height: v["height"].as_u64().unwrap_or(0) as u32,
        bytes: f64_of(&peer["bytes_received"]).unwrap_or(0.0),
    }
}
