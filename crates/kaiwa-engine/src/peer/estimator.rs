//! The bandwidth estimate the pacer and the encoder follow: the lower of a delay-based target (ours,
//! [`QueueDelayController`]) and a loss-based one once loss has made it back off (ours too, [`LossBased`]),
//! whose growth is capped near what the path has actually been shown to deliver (libwebrtc caps its
//! estimate the same way, at 1.5 × the acknowledged rate, and probes beyond it; we do not probe, so our cap
//! is wider: [`HEADROOM`]).
//!
//! Why the cap: an estimator raises its target whenever it sees no congestion, and it sees none while
//! the sender uses less than the target (a shrunken picture, a still scene). Measured on a 500 kbit/s
//! link: the target climbed to ~860 kbit/s while 320×240 video used ~250, the sender went back to 640×480
//! on that target, and the burst that followed overflowed the link. With the cap the target can run
//! only so far ahead of what was delivered, so the sender grows step by step, each step proven first.

use std::time::{Duration, Instant};

use rtc::interceptor::{BandwidthEstimator, EstimatorStats, PacketReport};

use super::feedback_rate::FeedbackRate;
use super::loss_based::{self, LossBased};
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
    /// Departures of the packets the far end reported as arrived, per feedback batch.
    delivered: FeedbackRate,
    /// When the estimate was last logged (at debug level, once a second).
    logged_at: Option<Instant>,
    /// The estimate: the lower half, grown at most to the delivered cap.
    target: f64,
    /// The newest departure reported when the delay half last saw a queue over [`OVERUSE`].
    queue_seen_at: Option<Instant>,
}

impl Estimator {
    /// Starts at `initial` bits per second, and stays within `min..=max`.
    pub fn new(initial: f64, min: f64, max: f64) -> Self {
        Estimator {
            delay: QueueDelayController::new(initial, min, max),
            loss: LossBased::new(min, max),
            min,
            max,
            delivered: FeedbackRate::new(WINDOW),
            logged_at: None,
            target: initial.clamp(min, max),
            queue_seen_at: None,
        }
    }

    /// The delivered rate in bits per second over the departures seen (once feedback covering a quarter
    /// of the window has arrived; lost feedback does not lower it, see `feedback_rate.rs`).
    pub fn delivered_bps(&self) -> Option<f64> {
        self.delivered.over_window(WINDOW / 4)
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
        let arrived = || reports.iter().filter(|r| r.arrived);
        if let Some(newest) = arrived().map(|r| r.departure).max() {
            let packets = arrived().map(|r| (r.departure, r.size));
            self.delivered.add(newest, packets, |a: Instant, b| b.saturating_duration_since(a));
        }
        self.delay.update(now, reports, self.delivered_bps());
        // Loss while a queue stands is the queue overflowing: the delay half has already acted on it, and
        // the loss half backing off on top took a 4 Mbit/s → 400 kbit/s drop down to the floor and kept
        // the call at 160×120 for seconds after the link came back. The loss half is for loss without
        // queueing (radio links, shallow buffers). Nor do the losses of packets sent up to a loss window
        // after the queue was last seen count, however late they are reported: the overflow's losses keep
        // coming in as it drains, and on a return path as congested as the way out (the lab's drop on one
        // caller's link, both ways) they came in more than a second late; the loss half backed off from
        // the drop's low estimate to 90 kbit/s and held the call at 160×120 for 10 s after the link came
        // back. (Judged by departure, not by when the feedback arrived.)
        if self.delay.queue_delay().is_some_and(|q| q >= OVERUSE) {
            let newest = reports.iter().map(|r| r.departure).max();
            self.queue_seen_at = newest.max(self.queue_seen_at);
            self.loss.forget_window();
        } else {
            let after_queue = |r: &&PacketReport| {
                self.queue_seen_at
                    .is_none_or(|q| r.departure.saturating_duration_since(q) > loss_based::WINDOW)
            };
            let counted: Vec<&PacketReport> = reports.iter().filter(after_queue).collect();
            if !counted.is_empty() {
                let lost = counted.iter().filter(|r| !r.arrived).count();
                self.loss.update(now, lost, counted.len(), self.target);
            }
        }
        // In slow start the delay half grows no further than what the path has shown it carries: it
        // reached 1.5 Mbit/s while loss held the sender at 500 kbit/s, and its first decrease (at most a
        // halving) started from there. Later it may: a small picture does not use its estimate, and a
        // half held to what that delivers could never grow back to a larger one.
        if self.delay.in_slow_start()
            && let Some(cap) = self.delivered_cap()
        {
            self.delay.limit(cap.max(self.target));
        }
        // The cap limits growth only: a sender that goes quiet (camera off) proves nothing either way, and
        // pulling its estimate down to what audio alone delivers restarted the video at 160×120.
        let lower = self.loss.target().map_or(self.delay.target(), |loss| loss.min(self.delay.target()));
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
        stats.loss_based_bitrate = self.loss.target();
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
    fn a_clean_path_is_found_at_slow_start_speed() {
        // A sender that uses 85 % of its estimate on a path with room and no loss: from 300 kbit/s, 50 % a
        // second reaches 2.5 Mbit/s in about 5 s. (A loss half that bound without loss held it to 8 %
        // a second: 1280×720 took 12 s to reach full size on loopback.)
        let t = Instant::now();
        let mut e = Estimator::new(300_000.0, 50_000.0, 2_500_000.0);
        for i in 0..80u32 {
            let start = t + Duration::from_millis(100) * i;
            let bytes = (e.target_bitrate() * 0.85 / 8.0 / 10.0) as usize;
            e.on_reports(
                start + Duration::from_millis(100),
                &reports(start, Duration::from_millis(100), 10, bytes / 10, true),
            );
        }
        assert!(e.target_bitrate() >= 2_400_000.0, "{}", e.target_bitrate());
    }

    /// 100 ms of 1 Mbit/s from `start` (10 packets of 1250 bytes), each having waited `queue` on the path,
    /// every third lost if `lossy`; departures are counted from `t0`.
    fn queued(t0: Instant, start: Instant, queue: Duration, lossy: bool) -> Vec<PacketReport> {
        (0..10u32)
            .map(|i| {
                let departure = start + Duration::from_millis(10) * i;
                let lost = lossy && i % 3 == 0;
                super::super::queue_delay::test_report(
                    departure,
                    1250,
                    (!lost).then(|| departure - t0 + queue),
                )
            })
            .collect()
    }

    #[test]
    fn the_losses_of_a_queue_that_overflowed_do_not_bind_after_it_drains() {
        let t = Instant::now();
        let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
        // 3 s clean, 2 s of a 200 ms queue losing a third, then 0.5 s in which the drained queue's
        // losses are still being reported, then clean again.
        for i in 0..80u32 {
            let start = t + Duration::from_millis(100) * i;
            let (queue, lossy) = match i {
                30..50 => (Duration::from_millis(200), true),
                50..55 => (Duration::ZERO, true),
                _ => (Duration::ZERO, false),
            };
            e.on_reports(start + Duration::from_millis(100), &queued(t, start, queue, lossy));
            assert_eq!(e.stats().loss_based_bitrate, None, "at {i}");
        }
    }

    #[test]
    fn the_overflows_losses_do_not_bind_however_late_they_are_reported() {
        // As above, but the feedback of the lossy second comes in 1.5 s late (a congested return path):
        // its losses arrive long after the queue was last seen, while clean feedback of later packets
        // says the queue is gone. They are the overflow's, by when they were sent.
        let t = Instant::now();
        let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
        let step = Duration::from_millis(100);
        for i in 0..30u32 {
            let start = t + step * i;
            e.on_reports(start + step, &queued(t, start, Duration::ZERO, false));
        }
        for i in 30..40u32 {
            let start = t + step * i;
            e.on_reports(start + step, &queued(t, start, Duration::from_millis(200), false));
        }
        for i in 40..80u32 {
            let start = t + step * i;
            let now = start + step;
            let mut reports = queued(t, start, Duration::ZERO, false);
            if (55..65).contains(&i) {
                // Late feedback of what was sent during the queue's last second.
                let sent = t + step * (i - 25);
                reports.extend(queued(t, sent, Duration::from_millis(200), true));
            }
            e.on_reports(now, &reports);
            assert_eq!(e.stats().loss_based_bitrate, None, "at {i}");
        }
    }

    #[test]
    fn loss_without_a_queue_backs_off() {
        let t = Instant::now();
        let mut e = Estimator::new(1_000_000.0, 50_000.0, 2_500_000.0);
        for i in 0..50u32 {
            let start = t + Duration::from_millis(100) * i;
            e.on_reports(start + Duration::from_millis(100), &queued(t, start, Duration::ZERO, i >= 30));
        }
        assert!(e.stats().loss_based_bitrate.is_some(), "{:?}", e.stats());
        // Slow start reached the 2.5 Mbit/s ceiling; two seconds of 40 % loss took off a fifth twice.
        assert!(e.target_bitrate() < 2_500_000.0 * 0.8, "{}", e.target_bitrate());
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
