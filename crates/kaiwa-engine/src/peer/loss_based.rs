//! The loss-based half of Kaiwa's bandwidth estimate (after libwebrtc's classic rule, RFC-less but
//! described in draft-ietf-rmcat-gcc-02 §6): loss over the last second of transport-wide feedback; above
//! [`HIGH_LOSS`] the target backs off in proportion, otherwise it climbs. Pure: time is passed in.
//!
//! Why our own: webrtc-rs's loss half smooths per feedback batch (every ~100 ms) and holds between 2 % and
//! 10 %, so a burst of a few lost packets pushed it down and it never climbed back while random loss
//! stayed above 2 % (measured on the lab's `wifi-bad`, 5 % loss in bursts: 1.5 Mbit/s of room, an
//! estimate of ~250 kbit/s). It only sees loss without a standing queue (see `estimator.rs`), so the loss
//! it reacts to is a shallow buffer overflowing or a radio dropping packets.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The loss rate is taken over this much feedback.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Above this share of packets lost, back off.
pub const HIGH_LOSS: f64 = 0.10;
/// At most one back-off per this much time, so its effect is seen before the next.
pub const DECREASE_GAP: Duration = Duration::from_secs(1);
/// Loss in the first feedback of a call is ignored: packets sent before the far end was ready to receive
/// them are reported lost (measured: 90 % in the first batch).
pub const STARTUP: Duration = Duration::from_secs(2);
/// Otherwise the target climbs this much per second.
pub const INCREASE_PER_SECOND: f64 = 1.08;

#[derive(Debug, Clone)]
pub struct LossBased {
    target: f64,
    min: f64,
    max: f64,
    /// (feedback time, lost, total) per feedback batch in the window.
    batches: VecDeque<(Instant, usize, usize)>,
    last_update: Option<Instant>,
    last_decrease: Option<Instant>,
    first_feedback: Option<Instant>,
}

impl LossBased {
    pub fn new(initial: f64, min: f64, max: f64) -> Self {
        LossBased {
            target: initial.clamp(min, max),
            min,
            max,
            batches: VecDeque::new(),
            last_update: None,
            last_decrease: None,
            first_feedback: None,
        }
    }

    pub fn target(&self) -> f64 {
        self.target
    }

    /// Keeps the target at or under `max` (see [`super::queue_delay::QueueDelayController::limit`]).
    pub fn limit(&mut self, max: f64) {
        self.target = self.target.min(max).max(self.min);
    }

    /// The share of packets lost over the window, once any feedback has arrived.
    pub fn loss(&self) -> Option<f64> {
        let (lost, total) = self.batches.iter().fold((0, 0), |(l, t), (_, bl, bt)| (l + bl, t + bt));
        (total > 0).then(|| lost as f64 / total as f64)
    }

    /// Folds in one feedback batch: `lost` of `total` packets did not arrive.
    pub fn update(&mut self, now: Instant, lost: usize, total: usize) -> f64 {
        let first = *self.first_feedback.get_or_insert(now);
        if now.saturating_duration_since(first) < STARTUP {
            return self.target;
        }
        self.batches.push_back((now, lost.min(total), total));
        while self.batches.front().is_some_and(|(t, _, _)| now.saturating_duration_since(*t) > WINDOW) {
            self.batches.pop_front();
        }
        let elapsed = self.last_update.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        self.last_update = Some(now);
        let Some(loss) = self.loss() else { return self.target };
        if loss > HIGH_LOSS {
            if self.last_decrease.is_none_or(|t| now.saturating_duration_since(t) >= DECREASE_GAP) {
                self.target = (self.target * (1.0 - 0.5 * loss)).clamp(self.min, self.max);
                self.last_decrease = Some(now);
            }
        } else {
            let growth = INCREASE_PER_SECOND.powf(elapsed.as_secs_f64().min(1.0));
            self.target = (self.target * growth).clamp(self.min, self.max);
        }
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `seconds` of 10 batches a second with `lost` of 20 packets lost each.
    fn run(c: &mut LossBased, from: Instant, seconds: u32, lost: usize) -> f64 {
        for i in 0..seconds * 10 {
            c.update(from + Duration::from_millis(100) * i, lost, 20);
        }
        c.target()
    }

    #[test]
    fn random_loss_below_ten_percent_does_not_hold_the_rate_down() {
        let t = Instant::now();
        let mut c = LossBased::new(300_000.0, 50_000.0, 2_000_000.0);
        // 5 %: one of 20 packets in every batch.
        let after = run(&mut c, t, 12, 1);
        assert!(after > 600_000.0, "{after}");
        assert!((c.loss().unwrap() - 0.05).abs() < 1e-9);
    }

    #[test]
    fn heavy_loss_backs_off_once_a_second_in_proportion() {
        let t = Instant::now();
        let mut c = LossBased::new(1_000_000.0, 50_000.0, 2_000_000.0);
        // After a clean start (its loss ignored anyway), 50 % loss for 3 s: three back-offs by a quarter.
        c.update(t, 19, 20);
        run(&mut c, t, 2, 0);
        let clean = c.target();
        let after = run(&mut c, t + Duration::from_secs(2), 3, 10);
        let after = after / clean * 1_000_000.0;
        assert!(after < 1_000_000.0 * 0.75f64.powi(2) && after > 1_000_000.0 * 0.75f64.powi(4), "{after}");
    }

    #[test]
    fn a_burst_inside_a_second_of_clean_feedback_is_not_a_back_off() {
        let t = Instant::now();
        let mut c = LossBased::new(1_000_000.0, 50_000.0, 2_000_000.0);
        run(&mut c, t, 4, 0);
        let before = c.target();
        // One batch with 3 of 20 lost (15 %) among nine clean ones: 1.5 % over the second.
        c.update(t + Duration::from_secs(4), 3, 20);
        run(&mut c, t + Duration::from_millis(4100), 1, 0);
        assert!(c.target() >= before, "{} < {before}", c.target());
    }

    #[test]
    fn silly_inputs_do_not_panic() {
        let t = Instant::now();
        let mut c = LossBased::new(f64::MAX, 10.0, 100.0);
        assert_eq!(c.target(), 100.0);
        c.update(t, 10, 0);
        c.update(t + STARTUP, 10, 0);
        c.update(t - Duration::from_secs(5), 30, 20);
        c.update(t + STARTUP * 2, 30, 20);
        assert!(c.target() >= 10.0 && c.target() <= 100.0);
    }
}
