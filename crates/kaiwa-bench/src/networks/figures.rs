//! What one receiver's series and samples of one lab call come to: freezes, frame rate, size, bitrate,
//! latency, PSNR, recovery after a drop.

use super::{NetCall, Point, Receiver, SIZE};

/// The figures of one receiver in one call.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub freezes: f64,
    pub freeze_s: f64,
    /// Frames decoded per second from the first decoded frame to the end.
    pub fps: Option<f64>,
    /// The size shown longest, and the share of seconds (after the first frame) at the full size.
    pub size: (u32, u32),
    pub full_pct: Option<f64>,
    /// Received on the connection, kbit/s, from the first frame to the end.
    pub kbps: Option<f64>,
    pub video_p50: Option<f64>,
    pub video_p95: Option<f64>,
    pub audio_p50: Option<f64>,
    pub audio_p95: Option<f64>,
    pub concealed_pct: Option<f64>,
    /// Seconds from the link coming back to full size for good (drop profiles only); `None` = never.
    pub recovery_s: Option<f64>,
    /// Median and 10th percentile of the sampled frames' luma PSNR, dB.
    pub psnr_p50: Option<f64>,
    pub psnr_p10: Option<f64>,
    /// Seconds from the start to the first decoded frame.
    pub first_frame_s: Option<f64>,
}

pub fn figures(call: &NetCall, r: &Receiver) -> Figures {
    use crate::stats::percentile;
    let flowing: Vec<&Point> = r.series.iter().filter(|p| p.frames > 0.0).collect();
    let last = r.series.last();
    let mut f = Figures {
        freezes: last.map_or(0.0, |p| p.freezes),
        freeze_s: last.map_or(0.0, |p| p.freeze_s),
        video_p50: percentile(&r.video_ms, 0.5),
        video_p95: percentile(&r.video_ms, 0.95),
        audio_p50: percentile(&r.audio_ms, 0.5),
        audio_p95: percentile(&r.audio_ms, 0.95),
        concealed_pct: r.audio_concealed_pct,
        psnr_p50: percentile(&r.psnr_db, 0.5),
        psnr_p10: percentile(&r.psnr_db, 0.1),
        first_frame_s: flowing.first().map(|p| p.t),
        ..Default::default()
    };
    if let (Some(a), Some(b)) = (flowing.first(), flowing.last())
        && b.t > a.t
    {
        f.fps = Some((b.frames - a.frames) / (b.t - a.t));
        f.kbps = Some((b.bytes - a.bytes) * 8.0 / 1000.0 / (b.t - a.t));
    }
    let shown: Vec<&&Point> = flowing.iter().filter(|p| p.width > 0).collect();
    if !shown.is_empty() {
        let mut counts: std::collections::BTreeMap<(u32, u32), usize> = Default::default();
        for p in &shown {
            *counts.entry((p.width, p.height)).or_default() += 1;
        }
        f.size = counts.iter().max_by_key(|(s, n)| (**n, s.0)).map(|(s, _)| *s).unwrap_or_default();
        let full = shown.iter().filter(|p| (p.width, p.height) == SIZE).count();
        f.full_pct = Some(full as f64 * 100.0 / shown.len() as f64);
    }
    if let Some(back) = call.restored_at {
        // The first second after the link came back from which every sample is at the full size.
        let after: Vec<&Point> = r.series.iter().filter(|p| p.t >= back).collect();
        let mut from = None;
        for (i, p) in after.iter().enumerate() {
            if after[i..].iter().all(|q| (q.width, q.height) == SIZE) {
                from = Some(p.t - back);
                break;
            }
        }
        f.recovery_s = from;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::networks::*;

    fn point(t: f64, frames: f64, height: u32) -> Point {
        Point { t, frames, width: height * 4 / 3, height, bytes: t * 50_000.0, ..Default::default() }
    }

    #[test]
    fn recovery_is_the_first_second_from_which_the_size_stays_full() {
        let heights = [480, 480, 240, 240, 480, 240, 480, 480, 480];
        let series: Vec<Point> =
            heights.iter().enumerate().map(|(i, &h)| point(i as f64, i as f64 * 30.0, h)).collect();
        let receiver = Receiver {
            host: "a",
            kind: Kind::Native,
            from: Kind::Native,
            series,
            video_ms: vec![],
            audio_ms: vec![],
            audio_concealed_pct: None,
            psnr_db: vec![],
        };
        let call = NetCall {
            profile: "drop".into(),
            pair: PAIRS[0],
            content: Content::File,
            seconds: 9.0,
            drop_at: Some(1.0),
            restored_at: Some(3.0),
            receivers: vec![],
        };
        let f = figures(&call, &receiver);
        // Full size at 4 s but small again at 5 s: it stays full from 6 s, 3 s after the link came back.
        assert_eq!(f.recovery_s, Some(3.0));
        assert_eq!(f.fps, Some(30.0));
        assert_eq!(f.kbps, Some(400.0));
        assert_eq!(f.size, (640, 480));
        assert_eq!(f.full_pct.map(f64::round), Some(63.0));
        // The first sample has no frames yet: the window starts at the first decoded frame.
        assert_eq!(f.first_frame_s, Some(1.0));
    }

    #[test]
    fn calls_last_until_well_after_the_last_change() {
        let drop = Profile::by_name("drop").unwrap();
        assert_eq!(call_length(&drop, 20), Duration::from_secs(50));
        assert_eq!(call_length(&Profile::by_name("cap-500k").unwrap(), 20), Duration::from_secs(20));
    }
}
