//! The bandwidth estimate the pacer and the encoder follow: the lower of a delay-based target (ours,
//! [`QueueDelayController`]) and a loss-based one (webrtc-rs's GCC loss half, [`LossController`]),
//! whose growth is capped near what the path has actually been shown to deliver (libwebrtc caps its
//! estimate the same way, at 1.5 × the acknowledged rate, and probes beyond it; we do not probe, so our cap
//! is wider: [`HEADROOM`]).
//!
//! Why the cap: an estimator raises its target whenever it sees no congestion, and it sees none while
//! the sender uses less than the target (a shrunken picture, a still scene). Measured on a 500 kbit/s
//! link: the target climbed to ~860 kbit/s while 320×240 video used ~250, the sender went back to 640×480
//! on that target, and the burst that followed overflowed the link. With the cap the target can run
//! only so far ahead of what was delivered, so the sender grows step by step, each step proven first.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtc::interceptor::{BandwidthEstimator, EstimatorStats, PacketReport};

use super::loss_based::LossBased;
use super::queue_delay::{OVERUSE, QueueDelayController};

/// The window the delivered rate is measured over, by departure time.
pub const WINDOW: Duration = Duration::from_secs(1);
/// How far the target may run ahead of the delivered rate. 1.5 (libwebrtc's, which probes beyond it) held
/// a 1280×720 sender at 640×360 on loopback for good: the small picture never delivered enough to prove
/// the large one. The delay half keeps a thin link from being overrun inside this.
pub const HEADROOM: f64 = 2.5;
/// Plus this much, so a nearly idle sender (audio only) can still grow.
pub const EXTRA_BPS: f64 = 100_000.0;

pub struct Estimator {
    delay: QueueDelayController,
    loss: LossBased,
    min: f64,
    max: f64,
    /// Departure time and size of packets the far end reported as arrived, oldest first.
    delivered: VecDeque<(Instant, usize)>,
    delivered_bytes: usize,
    /// When the estimate was last logged (at debug level, once a second).
    logged_at: Option<Instant>,
    /// The estimate: the lower half, grown at most to the delivered cap.
    target: f64,
}

impl Estimator {
    /// Starts at `initial` bits per second, and stays within `min..=max`.
    pub fn new(initial: f64, min: f64, max: f64) -> Self {
        Estimator {
            delay: QueueDelayController::new(initial, min, max),
            // The loss half binds only once loss has made it back off; until then the delay half (and
            // the delivered cap) lead.
            loss: LossBased::new(max, min, max),
            min,
            max,
            delivered: VecDeque::new(),
            delivered_bytes: 0,
            logged_at: None,
            target: initial.clamp(min, max),
        }
    }

    /// The delivered rate in bits per second over the departures seen (at least half a window of them).
    pub fn delivered_bps(&self) -> Option<f64> {
        let (first, _) = self.delivered.front()?;
        let (last, _) = self.delivered.back()?;
        let span = last.saturating_duration_since(*first);
        (span >= WINDOW / 2).then(|| self.delivered_bytes as f64 * 8.0 / span.as_secs_f64())
    }
}

impl Estimator {
    /// How far the target may go: [`HEADROOM`] × the delivered rate + [`EXTRA_BPS`].
    fn delivered_cap(&self) -> Option<f64> {
        self.delivered_bps().map(|d| d * HEADROOM + EXTRA_BPS)
    }
}

impl BandwidthEstimator for Estimator {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        if reports.is_empty() {
            return;
        }
        for report in reports.iter().filter(|r| r.arrived) {
            // Feedback may report packets out of departure order: keep the deque sorted enough by only
            // ever evicting from the front by the newest departure seen.
            self.delivered.push_back((report.departure, report.size));
            self.delivered_bytes += report.size;
        }
        let newest = self.delivered.iter().map(|(t, _)| *t).max();
        if let Some(newest) = newest {
            while let Some(&(t, size)) = self.delivered.front() {
                if newest.saturating_duration_since(t) <= WINDOW {
                    break;
                }
                self.delivered.pop_front();
                self.delivered_bytes -= size;
            }
        }
        self.delay.update(now, reports, self.delivered_bps());
        // Loss while a queue stands is the queue overflowing: the delay half has already acted on it, and
        // the loss half backing off on top took a 4 Mbit/s → 400 kbit/s drop down to the floor and kept
        // the call at 160×120 for seconds after the link came back. The loss half is for loss without
        // queueing (radio links, shallow buffers).
        if self.delay.queue_delay().is_none_or(|q| q < OVERUSE) {
            let lost = reports.iter().filter(|r| !r.arrived).count();
            self.loss.update(now, lost, reports.len());
        }
        // In slow start neither half grows beyond what the path has shown it carries: the delay half
        // reached 1.5 Mbit/s while the loss half held the sender at 500 kbit/s, and its first decrease
        // (at most a halving) started from there. Later it may: a small picture does not use its estimate,
        // and a half held to what that delivers could never grow back to a larger one.
        if self.delay.in_slow_start()
            && let Some(cap) = self.delivered_cap()
        {
            let cap = cap.max(self.target);
            self.delay.limit(cap);
            self.loss.limit(cap);
        }
        // The cap limits growth only: a sender that goes quiet (camera off) proves nothing either way, and
        // pulling its estimate down to what audio alone delivers restarted the video at 160×120.
        let lower = self.delay.target().min(self.loss.target());
        let cap = self.delivered_cap().map_or(lower, |cap| cap.max(self.target));
        self.target = lower.min(cap).clamp(self.min, self.max);
        if self.logged_at.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
            self.logged_at = Some(now);
            tracing::debug!(
                target = self.target_bitrate(),
                delay_based = self.delay.target(),
                queue_ms = self.delay.queue_delay().map(|d| d.as_millis()),
                loss_based = self.loss.target(),
                loss = self.loss.loss(),
                delivered = self.delivered_bps(),
                "bandwidth estimate"
            );
        }
    }

    fn target_bitrate(&self) -> f64 {
        self.target
    }

    fn stats(&self) -> EstimatorStats {
        let mut stats = EstimatorStats::default();
        stats.delay_based_bitrate = Some(self.delay.target());
        stats.loss_based_bitrate = Some(self.loss.target());
        stats.packet_loss = self.loss.loss();
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(departure: Instant, size: usize, arrived: bool) -> PacketReport {
        super::super::queue_delay::test_report(departure, size, arrived.then_some(Duration::ZERO))
    }

    /// `n` packets of `size` bytes spread evenly over `span` from `start`.
    fn reports(start: Instant, span: Duration, n: u32, size: usize, arrived: bool) -> Vec<PacketReport> {
        (0..n).map(|i| report(start + span * i / n, size, arrived)).collect()
    }

    /// Feeds `seconds` of feedback, 10 batches a second, each of `bytes_per_batch` delivered in 10 packets.
    fn deliver(e: &mut Estimator, from: Instant, seconds: u32, bytes_per_batch: usize) {
        for i in 0..seconds * 10 {
            let start = from + Duration::from_millis(100) * i;
            let batch = reports(start, Duration::from_millis(100), 10, bytes_per_batch / 10, true);
            e.on_reports(start + Duration::from_millis(100), &batch);
        }
    }

    #[test]
    fn growth_is_capped_near_the_delivered_rate() {
        let t = Instant::now();
        let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
        assert_eq!(e.target_bitrate(), 300_000.0, "nothing known yet: the initial rate");
        // 250 kbit/s delivered (3125 bytes per 100 ms) with no queue: slow start would reach the ceiling
        // in 5 s, but the sender never proves more than 250 kbit/s.
        deliver(&mut e, t, 5, 3125);
        let delivered = e.delivered_bps().unwrap();
        assert!((delivered - 250_000.0).abs() < 10_000.0, "{delivered}");
        // (2 % for the slightly higher rate read over the first half second, which the cap never takes back.)
        assert!(e.target_bitrate() <= (delivered * HEADROOM + EXTRA_BPS) * 1.02, "{}", e.target_bitrate());
        assert!(e.target_bitrate() > 300_000.0, "it grew to the cap: {}", e.target_bitrate());
    }

    #[test]
    fn a_sender_that_goes_quiet_keeps_its_estimate() {
        let t = Instant::now();
        let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
        deliver(&mut e, t, 6, 12_500); // 1 Mbit/s delivered
        let before = e.target_bitrate();
        assert!(before > 1_000_000.0, "{before}");
        // Camera off: audio alone, ~50 kbit/s.
        deliver(&mut e, t + Duration::from_secs(6), 5, 625);
        assert!(e.target_bitrate() >= before, "{} after {before}", e.target_bitrate());
    }

    #[test]
    fn lost_packets_do_not_count_and_old_ones_leave_the_window() {
        let t = Instant::now();
        let mut e = Estimator::new(2_000_000.0, 50_000.0, 2_500_000.0);
        e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, false));
        assert_eq!(e.delivered_bps(), None);
        e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, true));
        let first = e.delivered_bps().unwrap();
        let later = t + Duration::from_secs(5);
        e.on_reports(later + Duration::from_secs(1), &reports(later, Duration::from_secs(1), 10, 1000, true));
        let second = e.delivered_bps().unwrap();
        assert!(second < first / 5.0, "{first} then {second}");
    }

    #[test]
    fn the_cap_never_raises_a_lower_target() {
        let t = Instant::now();
        let mut e = Estimator::new(100_000.0, 50_000.0, 2_500_000.0);
        // 800 kbit/s delivered (cap 1.25 Mbit/s); one decision of the delay half grows 100 k by 2 %.
        e.on_reports(t + Duration::from_secs(1), &reports(t, Duration::from_secs(1), 100, 1000, true));
        assert!(e.target_bitrate() < 110_000.0, "{}", e.target_bitrate());
    }
}
