//! `kaiwa call`'s figures per peer, as the summary and `--report` give them.

use super::*;

#[derive(serde::Serialize)]
pub(super) struct Percentiles {
    pub(super) p50_ms: f64,
    pub(super) p95_ms: f64,
    pub(super) samples: usize,
}

pub(super) fn percentiles(values_us: &[u64]) -> Option<Percentiles> {
    let ms: Vec<f64> = values_us.iter().map(|&us| us as f64 / 1000.0).collect();
    let [p50_ms, p95_ms] = kaiwa_media::stats::quantiles(&ms, [0.5, 0.95])?;
    Some(Percentiles { p50_ms, p95_ms, samples: ms.len() })
}

/// A peer's final figures: the engine's stats plus what the CLI measured.
#[derive(serde::Serialize)]
pub(super) struct PeerReport {
    #[serde(flatten)]
    pub(super) stats: PeerStats,
    pub(super) first_frame_ms: Option<u64>,
    pub(super) video_latency: Option<Percentiles>,
    pub(super) audio_latency: Option<Percentiles>,
    /// Capture → decoded of a shared screen that carries the test pattern's stamp in its top rows (the
    /// screen-sharing benchmark paints it there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) screen_latency: Option<Percentiles>,
    /// Luma PSNR of the sampled received frames against what was sent (`--psnr-reference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) psnr_db: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) psnr_unreadable: Option<u64>,
    /// Every sample, with `--latency-samples` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) video_latency_samples_ms: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) audio_latency_samples_ms: Option<Vec<f64>>,
}
