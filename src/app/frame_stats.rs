//! `--frame-stats`: how smooth the UI is. Records the time between frames, the CPU time eframe reports
//! for each frame and how many frames of each remote video were drawn; prints a summary of every 10 s to
//! stderr and one of the whole run at exit (docs/BENCHMARKS.md, "Desktop app").

use std::collections::HashMap;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Samples {
    interval_ms: Vec<f32>,
    cpu_ms: Vec<f32>,
}

impl Samples {
    fn summary(&mut self, what: &str, tiles: usize, videos: &str) -> String {
        let frames = self.interval_ms.len();
        let secs: f32 = self.interval_ms.iter().sum::<f32>() / 1000.0;
        let fps = if secs > 0.0 { frames as f32 / secs } else { 0.0 };
        format!(
            "frame stats ({what}, {tiles} tiles): {frames} frames, {fps:.1} fps; between frames {}; CPU per frame {}; {videos}",
            percentiles(&self.interval_ms),
            percentiles(&self.cpu_ms)
        )
    }
}

/// Frames shown per second of each remote video since `since` (peer id → when and how many then).
fn videos_shown(since: &HashMap<String, (Instant, u64)>, now: &[(String, u64)], at: Instant) -> String {
    let mut rates: Vec<f32> = now
        .iter()
        .filter_map(|(id, shown)| {
            let (t0, n0) = since.get(id)?;
            let secs = at.duration_since(*t0).as_secs_f32();
            (secs > 0.0).then(|| shown.saturating_sub(*n0) as f32 / secs)
        })
        .collect();
    if rates.is_empty() {
        return "remote video shown: —".into();
    }
    rates.sort_by(f32::total_cmp);
    let list: Vec<String> = rates.iter().map(|r| format!("{r:.1}")).collect();
    format!("remote video shown (fps per tile): min {:.1}, all [{}]", rates[0], list.join(", "))
}

/// `p50 … p95 … max … ms` of `v`.
fn percentiles(v: &[f32]) -> String {
    let v: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
    match kaiwa_media::stats::quantiles(&v, [0.5, 0.95, 1.0]) {
        Some([p50, p95, max]) => format!("p50 {p50:.1} p95 {p95:.1} max {max:.1} ms"),
        None => "—".into(),
    }
}

pub struct FrameStats {
    last_frame: Option<Instant>,
    window_start: Instant,
    window: Samples,
    total: Samples,
    /// Tiles on screen in the last frame (what the figures are for).
    tiles: usize,
    /// Frames shown so far per remote peer, as of the last frame.
    shown: Vec<(String, u64)>,
    /// The same when this window began, and when each peer was first seen.
    shown_window: HashMap<String, (Instant, u64)>,
    shown_first: HashMap<String, (Instant, u64)>,
}

impl FrameStats {
    pub fn new() -> FrameStats {
        FrameStats {
            last_frame: None,
            window_start: Instant::now(),
            window: Samples::default(),
            total: Samples::default(),
            tiles: 0,
            shown: Vec::new(),
            shown_window: HashMap::new(),
            shown_first: HashMap::new(),
        }
    }

    /// What the call looks like now: tiles on screen and frames shown so far per remote peer.
    pub fn set_call(&mut self, now: Instant, tiles: usize, shown: Vec<(String, u64)>) {
        self.tiles = tiles;
        for (id, n) in &shown {
            self.shown_first.entry(id.clone()).or_insert((now, *n));
            self.shown_window.entry(id.clone()).or_insert((now, *n));
        }
        self.shown = shown;
    }

    /// Called at the start of every frame with eframe's CPU time of the previous one.
    pub fn on_frame(&mut self, now: Instant, cpu_previous: Option<f32>) {
        if let Some(last) = self.last_frame {
            let ms = now.duration_since(last).as_secs_f32() * 1000.0;
            self.window.interval_ms.push(ms);
            self.total.interval_ms.push(ms);
        }
        if let Some(cpu) = cpu_previous {
            self.window.cpu_ms.push(cpu * 1000.0);
            self.total.cpu_ms.push(cpu * 1000.0);
        }
        self.last_frame = Some(now);
        if now.duration_since(self.window_start) >= WINDOW {
            let videos = videos_shown(&self.shown_window, &self.shown, now);
            eprintln!("{}", self.window.summary("last 10 s", self.tiles, &videos));
            self.window = Samples::default();
            self.window_start = now;
            self.shown_window = self.shown.iter().map(|(id, n)| (id.clone(), (now, *n))).collect();
        }
    }

    /// The whole run.
    pub fn finish(&mut self) -> String {
        let videos =
            videos_shown(&self.shown_first, &self.shown, self.last_frame.unwrap_or_else(Instant::now));
        self.total.summary("whole run", self.tiles, &videos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_series() {
        let mut v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        v.reverse();
        assert_eq!(percentiles(&v), "p50 51.0 p95 95.0 max 100.0 ms");
        assert_eq!(percentiles(&[]), "—");
        let mut s = FrameStats::new();
        let t0 = Instant::now();
        for i in 0..5 {
            s.on_frame(t0 + Duration::from_millis(20 * i), Some(0.002));
        }
        let text = s.finish();
        assert!(text.contains("4 frames, 50.0 fps"), "{text}");
        assert!(text.contains("CPU per frame p50 2.0"), "{text}");
        assert!(text.contains("remote video shown: —"), "{text}");
    }

    #[test]
    fn remote_video_rate_per_tile() {
        let mut s = FrameStats::new();
        let t0 = Instant::now();
        // Two peers: one shows 30 frames a second, the other 10 (it joins one second late).
        for i in 0..=40u64 {
            let at = t0 + Duration::from_millis(100 * i);
            let mut shown = vec![("a".to_string(), 3 * i)];
            if i >= 10 {
                shown.push(("b".to_string(), i - 10));
            }
            s.set_call(at, 3, shown);
            s.on_frame(at, None);
        }
        let text = s.finish();
        assert!(text.contains("3 tiles"), "{text}");
        assert!(text.contains("min 10.0, all [10.0, 30.0]"), "{text}");
    }
}
