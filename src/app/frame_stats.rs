//! `--frame-stats`: how smooth the UI is. Records the time between frames and the CPU time eframe reports
//! for each frame, prints a summary of every 10 s to stderr and one of the whole run at exit
//! (docs/BENCHMARKS.md, "Desktop app").

use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Samples {
    interval_ms: Vec<f32>,
    cpu_ms: Vec<f32>,
}

impl Samples {
    fn summary(&mut self, what: &str, tiles: usize) -> String {
        let frames = self.interval_ms.len();
        let secs: f32 = self.interval_ms.iter().sum::<f32>() / 1000.0;
        let fps = if secs > 0.0 { frames as f32 / secs } else { 0.0 };
        format!(
            "frame stats ({what}, {tiles} tiles): {frames} frames, {fps:.1} fps; between frames {}; CPU per frame {}",
            percentiles(&mut self.interval_ms),
            percentiles(&mut self.cpu_ms)
        )
    }
}

/// `p50 … p95 … max … ms` of `v` (sorted in place).
fn percentiles(v: &mut [f32]) -> String {
    if v.is_empty() {
        return "—".into();
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize];
    format!("p50 {:.1} p95 {:.1} max {:.1} ms", at(0.5), at(0.95), v[v.len() - 1])
}

pub struct FrameStats {
    last_frame: Option<Instant>,
    window_start: Instant,
    window: Samples,
    total: Samples,
    /// Tiles on screen in the last frame (what the figures are for).
    pub tiles: usize,
}

impl FrameStats {
    pub fn new() -> FrameStats {
        FrameStats {
            last_frame: None,
            window_start: Instant::now(),
            window: Samples::default(),
            total: Samples::default(),
            tiles: 0,
        }
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
            eprintln!("{}", self.window.summary("last 10 s", self.tiles));
            self.window = Samples::default();
            self.window_start = now;
        }
    }

    /// The whole run.
    pub fn finish(&mut self) -> String {
        self.total.summary("whole run", self.tiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_series() {
        let mut v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        v.reverse();
        assert_eq!(percentiles(&mut v), "p50 51.0 p95 95.0 max 100.0 ms");
        assert_eq!(percentiles(&mut []), "—");
        let mut s = FrameStats::new();
        let t0 = Instant::now();
        for i in 0..5 {
            s.on_frame(t0 + Duration::from_millis(20 * i), Some(0.002));
        }
        let text = s.finish();
        assert!(text.contains("4 frames, 50.0 fps"), "{text}");
        assert!(text.contains("CPU per frame p50 2.0"), "{text}");
    }
}
