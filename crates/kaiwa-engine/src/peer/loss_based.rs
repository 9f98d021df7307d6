//! The loss-based half of Kaiwa's bandwidth estimate (after libwebrtc's classic rule, RFC-less but
//! described in draft-ietf-rmcat-gcc-02 §6): loss over the last second of transport-wide feedback; above
//! [`HIGH_LOSS`] the target backs off in proportion, otherwise it climbs. Pure: time is passed in.
//!
//! Why our own: webrtc-rs's loss half smooths per feedback batch (every ~100 ms) and holds between 2 % and
//! 10 %, so a burst of a few lost packets pushed it down and it never climbed back while random loss
//! stayed above 2 % (measured on the lab's `wifi-bad`, 5 % loss in bursts: 1.5 Mbit/s of room, an
//! estimate of ~250 kbit/s). It only sees loss without a standing queue (see `estimator.rs`), so the loss
//! it reacts to is a shallow buffer overflowing or a radio dropping packets.
//!
//! It binds only after backing off: until then (and again once it has grown back to the rate it first
//! backed off from) it has no target, and its first back-off starts from the estimate of the moment.
//! A loss half that always bound, started at the estimate and grew by 8 % a second, held a 1280×720
//! sender on loopback (no loss at all) at 640×360 for 12 s while the delay half was already at the top.

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
    /// `None` while it does not bind.
    target: Option<f64>,
    /// The estimate its first back-off started from: grown back to it, it lets go.
    backed_off_from: f64,
    min: f64,
    max: f64,
    /// (feedback time, lost, total) per feedback batch in the window.
    batches: VecDeque<(Instant, usize, usize)>,
    last_update: Option<Instant>,
    last_decrease: Option<Instant>,
    first_feedback: Option<Instant>,
}

impl LossBased {
    pub fn new(min: f64, max: f64) -> Self {
        LossBased {
            target: None,
            backed_off_from: max,
            min,
            max,
            batches: VecDeque::new(),
            last_update: None,
            last_decrease: None,
            first_feedback: None,
        }
    }

    /// The target, once loss has made it back off.
    pub fn target(&self) -> Option<f64> {
        self.target
    }

    /// The share of packets lost over the window, once any feedback has arrived.
    pub fn loss(&self) -> Option<f64> {
        let (lost, total) = self.batches.iter().fold((0, 0), |(l, t), (_, bl, bt)| (l + bl, t + bt));
        (total > 0).then(|| lost as f64 / total as f64)
    }

    /// Forgets the loss seen so far (its cause is known, see `estimator.rs`).
    pub fn forget_window(&mut self) {
        self.batches.clear();
    }

    /// Folds in one feedback batch: `lost` of `total` packets did not arrive; `estimate` is the rate
    /// sent at now, where a first back-off starts from.
    pub fn update(&mut self, now: Instant, lost: usize, total: usize, estimate: f64) -> Option<f64> {
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
                let from = self.target.unwrap_or_else(|| {
                    self.backed_off_from = estimate;
                    estimate
                });
                // (`max`/`min`, not `clamp`: a NaN estimate lands on the floor instead of staying NaN.)
                self.target = Some((from * (1.0 - 0.5 * loss)).max(self.min).min(self.max));
                self.last_decrease = Some(now);
            }
        } else if let Some(target) = self.target {
            let growth = INCREASE_PER_SECOND.powf(elapsed.as_secs_f64().min(1.0));
            let grown = (target * growth).clamp(self.min, self.max);
            self.target = (grown < self.backed_off_from).then_some(grown);
        }
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `seconds` of 10 batches a second with `lost` of 20 packets lost each, sent at 1 Mbit/s.
    fn run(c: &mut LossBased, from: Instant, seconds: u32, lost: usize) -> Option<f64> {
        for i in 0..seconds * 10 {
            c.update(from + Duration::from_millis(100) * i, lost, 20, 1_000_000.0);
        }
        c.target()
    }

    #[test]
    fn random_loss_below_ten_percent_never_binds() {
        let t = Instant::now();
        let mut c = LossBased::new(50_000.0, 2_000_000.0);
        // 5 %: one of 20 packets in every batch.
        assert_eq!(run(&mut c, t, 12, 1), None);
        assert!((c.loss().unwrap() - 0.05).abs() < 1e-9);
    }

    #[test]
    fn heavy_loss_backs_off_from_the_estimate_once_a_second_in_proportion() {
        let t = Instant::now();
        let mut c = LossBased::new(50_000.0, 2_000_000.0);
        // The start's loss is ignored; after a clean start, 50 % loss for 3 s: three back-offs by a
        // quarter, the first from the 1 Mbit/s sent.
        c.update(t, 19, 20, 1_000_000.0);
        assert_eq!(run(&mut c, t, 2, 0), None);
        let after = run(&mut c, t + Duration::from_secs(2), 3, 10).unwrap();
        assert!((after - 1_000_000.0 * 0.75f64.powi(3)).abs() < 1.0, "{after}");
    }

    #[test]
    fn after_backing_off_it_grows_and_lets_go_where_it_began() {
        let t = Instant::now();
        let mut c = LossBased::new(50_000.0, 2_000_000.0);
        run(&mut c, t, 2, 0);
        run(&mut c, t + Duration::from_secs(2), 1, 10);
        // (The lossy second leaves the window during the next.)
        let low = run(&mut c, t + Duration::from_secs(3), 1, 0).unwrap();
        // Clean: +8 % a second, binding until back at the 1 Mbit/s it first backed off from.
        let grown = run(&mut c, t + Duration::from_secs(4), 3, 0).unwrap();
        assert!(grown > low * 1.2 && grown < low * 1.3, "{low} → {grown}");
        let seconds = (1_000_000.0 / grown).ln() / INCREASE_PER_SECOND.ln();
        let later = t + Duration::from_secs(7);
        assert!(run(&mut c, later, seconds.floor() as u32, 0).is_some());
        assert_eq!(run(&mut c, later + Duration::from_secs(seconds.floor() as u64), 1, 0), None);
    }

    #[test]
    fn a_burst_inside_a_second_of_clean_feedback_is_not_a_back_off() {
        let t = Instant::now();
        let mut c = LossBased::new(50_000.0, 2_000_000.0);
        run(&mut c, t, 4, 0);
        // One batch with 3 of 20 lost (15 %) among nine clean ones: 1.5 % over the second.
        c.update(t + Duration::from_secs(4), 3, 20, 1_000_000.0);
        assert_eq!(run(&mut c, t + Duration::from_millis(4100), 1, 0), None);
    }

    #[test]
    fn silly_inputs_do_not_panic() {
        let t = Instant::now();
        let mut c = LossBased::new(10.0, 100.0);
        assert_eq!(c.target(), None);
        c.update(t, 10, 0, f64::MAX);
        c.update(t + STARTUP, 10, 0, f64::NAN);
        c.update(t - Duration::from_secs(5), 30, 20, -1.0);
        c.update(t + STARTUP * 2, 30, 20, f64::MAX);
        assert!(c.target().is_some_and(|t| (10.0..=100.0).contains(&t)));
    }
}
