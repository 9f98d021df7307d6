//! The delay-based half of Kaiwa's bandwidth estimate: how much the path's queue holds of what we send,
//! read from transport-wide feedback (each packet's departure here and arrival there), and a rate that
//! backs off when that queue grows. Pure: time and reports are passed in.
//!
//! Why our own: webrtc-rs 0.21's GCC delay half never reported overuse in our lab (a 500 kbit/s link with a
//! 300 ms queue, the queue full for seconds: its delay-based target climbed to the 1.5 Mbit/s ceiling), so
//! only loss ever lowered the estimate, after the bottleneck queue had overflowed. This controller uses
//! the simplest robust signal: the one-way delay's recent minimum above its long-term minimum. Random
//! jitter raises single samples, not the minimum of a quarter second of them; a standing queue raises all.
//!
//! - queue above [`OVERUSE`] and growing (the one-way delay's least-squares slope over [`TREND`] above
//!   [`GROWTH_PER_SECOND`]: jitter that makes packets bunch moves the windowed minimum by tens of
//!   milliseconds either way, but gives no slope), or above [`STANDING`] and not draining (a full drop-tail queue
//!   is flat, not growing, and a sender at the link's rate keeps it full and losing) → target = 0.85 × the rate packets arrive at now (the link's
//!   rate: a full queue delivers exactly that), at most once per [`DECREASE_GAP`] so the encoder can
//!   follow before the next step;
//! - queue below [`NORMAL`] → increase: by [`INCREASE_PER_SECOND`] a second, or by
//!   [`ADDITIVE_BPS_PER_SECOND`] up to [`CEILING_MARGIN`] × the rate where the last decrease happened; until the first
//!   decrease ever (a call's start), by [`SLOW_START_PER_SECOND`], so a fast path is found in seconds
//!   from a modest start instead of overrunning a thin one from a high start;
//! - in between, or draining → hold. During slow start a queue over [`OVERUSE`] alone ends it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtc::interceptor::PacketReport;

use super::feedback_rate::FeedbackRate;

/// Queueing delay above which the path is overused (if it is still growing).
pub const OVERUSE: Duration = Duration::from_millis(25);
/// Queueing delay that must shrink: above it, a queue that is not draining is overuse too.
pub const STANDING: Duration = Duration::from_millis(100);
/// The window the delay's trend is fitted over.
pub const TREND: Duration = Duration::from_secs(1);
/// One-way delay rising faster than this (seconds per second) is a growing queue: a sender 3 % above
/// the link's rate.
pub const GROWTH_PER_SECOND: f64 = 0.03;
/// ... and falling faster than this, a draining one.
pub const DRAIN_PER_SECOND: f64 = -0.01;
/// Queueing delay below which the path has room.
pub const NORMAL: Duration = Duration::from_millis(15);
/// The window whose minimum one-way delay is "now".
pub const RECENT: Duration = Duration::from_millis(250);
/// The window whose minimum one-way delay is the empty-queue baseline.
pub const BASELINE: Duration = Duration::from_secs(10);
/// Decisions at most this often.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// Decreases at most this often.
pub const DECREASE_GAP: Duration = Duration::from_millis(800);
pub const DECREASE_FACTOR: f64 = 0.85;
/// One decrease leaves at least this share of the target.
pub const MAX_DECREASE_STEP: f64 = 0.5;
pub const INCREASE_PER_SECOND: f64 = 1.15;
pub const SLOW_START_PER_SECOND: f64 = 1.5;
pub const ADDITIVE_BPS_PER_SECOND: f64 = 60_000.0;
/// Additive growth until the target is this far above the last ceiling (where a decrease happened).
pub const CEILING_MARGIN: f64 = 1.5;

/// One packet reported as arrived.
#[derive(Debug, Clone, Copy)]
struct Sample {
    departure: Instant,
    /// One-way delay in seconds, from an unknown offset.
    delay: f64,
}

#[derive(Debug, Clone)]
pub struct QueueDelayController {
    target: f64,
    min: f64,
    max: f64,
    /// Departure instant one-way delays are measured from (their offset is unknown and cancels out).
    epoch: Option<Instant>,
    /// Arrivals over the last [`TREND`] (the last [`RECENT`] of them are "now"), in feedback order.
    samples: VecDeque<Sample>,
    /// The newest departure among them.
    newest: Option<Instant>,
    /// (bucket start, minimum one-way delay in s) per [`RECENT`] bucket over [`BASELINE`].
    baseline: VecDeque<(Instant, f64)>,
    last_decision: Option<Instant>,
    last_decrease: Option<Instant>,
    /// The delivered rate when the last decrease happened: the link's capacity, roughly.
    ceiling: Option<f64>,
    /// Arrivals per feedback batch, on the far end's clock, over [`TREND`].
    arrivals: FeedbackRate,
}

impl QueueDelayController {
    pub fn new(initial: f64, min: f64, max: f64) -> Self {
        QueueDelayController {
            target: initial.clamp(min, max),
            min,
            max,
            epoch: None,
            samples: VecDeque::new(),
            newest: None,
            baseline: VecDeque::new(),
            last_decision: None,
            last_decrease: None,
            ceiling: None,
            arrivals: FeedbackRate::new(TREND),
        }
    }

    pub fn target(&self) -> f64 {
        self.target
    }

    /// Until the first decrease, the target grows by [`SLOW_START_PER_SECOND`].
    pub fn in_slow_start(&self) -> bool {
        self.last_decrease.is_none()
    }

    /// Keeps the target at or under `max` (what the path has shown it can carry, see `estimator.rs`), so
    /// it does not climb out of sight while another limit holds the sender back.
    pub fn limit(&mut self, max: f64) {
        self.target = self.target.min(max).max(self.min);
    }

    /// The samples of the last [`RECENT`].
    fn recent(&self) -> impl Iterator<Item = &Sample> {
        let newest = self.newest;
        self.samples
            .iter()
            .filter(move |s| newest.is_some_and(|n| n.saturating_duration_since(s.departure) <= RECENT))
    }

    /// The path's current queueing delay, once anything has arrived.
    pub fn queue_delay(&self) -> Option<Duration> {
        let now = self.recent().map(|s| s.delay).reduce(f64::min)?;
        let base = self.baseline.iter().map(|(_, d)| *d).reduce(f64::min)?;
        Some(Duration::from_secs_f64((now - base).max(0.0)))
    }

    /// The rate packets arrive at now, in bits per second (by their arrival times), over the newest
    /// feedback that covers half of [`RECENT`]; lost feedback does not lower it (see `feedback_rate.rs`).
    pub fn arrival_rate(&self) -> Option<f64> {
        self.arrivals.latest(RECENT / 2)
    }

    /// The one-way delay's least-squares slope over [`TREND`], in seconds per second (once half of it has
    /// been seen).
    pub fn delay_slope(&self) -> Option<f64> {
        let first = self.samples.front()?.departure;
        let last = self.samples.back()?.departure;
        if last.saturating_duration_since(first) < TREND / 2 || self.samples.len() < 8 {
            return None;
        }
        let n = self.samples.len() as f64;
        let x = |t: Instant| t.saturating_duration_since(first).as_secs_f64();
        let mean_x = self.samples.iter().map(|s| x(s.departure)).sum::<f64>() / n;
        let mean_y = self.samples.iter().map(|s| s.delay).sum::<f64>() / n;
        let (mut cov, mut var) = (0.0, 0.0);
        for s in &self.samples {
            let dx = x(s.departure) - mean_x;
            cov += dx * (s.delay - mean_y);
            var += dx * dx;
        }
        (var > 0.0).then(|| cov / var)
    }

    fn add_sample(&mut self, departure: Instant, arrival: Duration) {
        let epoch = *self.epoch.get_or_insert(departure);
        let sent = if departure >= epoch {
            departure.duration_since(epoch).as_secs_f64()
        } else {
            -epoch.duration_since(departure).as_secs_f64()
        };
        let owd = arrival.as_secs_f64() - sent;
        self.samples.push_back(Sample { departure, delay: owd });
        self.newest = Some(self.newest.map_or(departure, |n| n.max(departure)));
        match self.baseline.back_mut() {
            Some((start, min)) if departure.saturating_duration_since(*start) < RECENT => *min = min.min(owd),
            _ => self.baseline.push_back((departure, owd)),
        }
    }

    fn forget_old(&mut self) {
        let Some(newest) = self.newest else { return };
        while self.samples.front().is_some_and(|s| newest.saturating_duration_since(s.departure) > TREND) {
            self.samples.pop_front();
        }
        while self.baseline.front().is_some_and(|(t, _)| newest.saturating_duration_since(*t) > BASELINE) {
            self.baseline.pop_front();
        }
    }

    /// Folds in one feedback batch; `delivered_bps` is what the path delivered lately, if known.
    pub fn update(&mut self, now: Instant, reports: &[PacketReport], delivered_bps: Option<f64>) -> f64 {
        let arrived =
            || reports.iter().filter(|r| r.arrived).filter_map(|r| Some((r.departure, r.arrival?, r.size)));
        for (departure, arrival, _) in arrived() {
            self.add_sample(departure, arrival);
        }
        if let Some(newest) = arrived().map(|(departure, _, _)| departure).max() {
            let packets = arrived().map(|(_, arrival, size)| (arrival, size));
            self.arrivals.add(newest, packets, |a: Duration, b| b.saturating_sub(a));
        }
        self.forget_old();
        if self.last_decision.is_some_and(|t| now.saturating_duration_since(t) < INTERVAL) {
            return self.target;
        }
        let Some(queue) = self.queue_delay() else { return self.target };
        let elapsed = self.last_decision.map_or(INTERVAL, |t| now.saturating_duration_since(t));
        self.last_decision = Some(now);
        let slope = self.delay_slope();
        let growing = slope.is_some_and(|s| s > GROWTH_PER_SECOND);
        let draining = slope.is_some_and(|s| s < DRAIN_PER_SECOND);

        // In slow start any queue ends it: growth there is fast enough to fill a buffer before a slope
        // could be fitted.
        if (queue > OVERUSE && (growing || self.in_slow_start())) || (queue > STANDING && !draining) {
            if self.last_decrease.is_none_or(|t| now.saturating_duration_since(t) >= DECREASE_GAP) {
                // At most halved per step: right after a sudden drop the rates measured from feedback are
                // themselves disturbed (feedback crosses the same congested link, the encoder stalls on a
                // keyframe), and one low reading took the estimate to the floor.
                let arrival = self.arrival_rate();
                // The quarter-second arrival rate is noisy (feedback batches, a stalled encoder): never
                // below 80 % of what the last second delivered.
                let from = match (arrival, delivered_bps) {
                    (Some(a), Some(d)) => a.max(d * 0.8),
                    (a, d) => a.or(d).unwrap_or(self.target),
                }
                .min(self.target)
                .max(self.target * MAX_DECREASE_STEP / DECREASE_FACTOR);
                self.target = (from * DECREASE_FACTOR).clamp(self.min, self.max);
                self.ceiling = Some(from);
                self.last_decrease = Some(now);
            }
        } else if queue < NORMAL {
            let secs = elapsed.as_secs_f64().min(1.0);
            let near_ceiling = self.ceiling.is_some_and(|c| self.target < c * CEILING_MARGIN);
            self.target = if self.in_slow_start() {
                self.target * SLOW_START_PER_SECOND.powf(secs)
            } else if near_ceiling {
                self.target + ADDITIVE_BPS_PER_SECOND * secs
            } else {
                self.ceiling = None;
                self.target * INCREASE_PER_SECOND.powf(secs)
            }
            .clamp(self.min, self.max);
        }
        self.target
    }
}

/// A transport-wide feedback report of one packet, for tests.
#[cfg(test)]
pub(super) fn test_report(departure: Instant, size: usize, arrival: Option<Duration>) -> PacketReport {
    PacketReport {
        ssrc: 1,
        id: 0,
        rtp_sequence_number: 0,
        is_twcc: true,
        twcc_sequence_number: 0,
        size,
        arrived: arrival.is_some(),
        departure,
        arrival,
        ecn: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated bottleneck: packets of `size` bytes sent at `send_bps` through a link of `link_bps`
    /// with an unbounded FIFO; returns the reports of one `span`, starting at `start` with `backlog_s`
    /// of queue already there.
    struct Link {
        link_bps: f64,
        /// When the link is free again, in seconds since `epoch`.
        free_at: f64,
        /// The share of a packet the last step was due to send but did not.
        carry: f64,
        epoch: Instant,
    }

    impl Link {
        fn new(link_bps: f64, epoch: Instant) -> Self {
            Link { link_bps, free_at: 0.0, carry: 0.0, epoch }
        }

        fn send(&mut self, start: Instant, span: Duration, send_bps: f64) -> Vec<PacketReport> {
            let size = 1200usize;
            let gap = size as f64 * 8.0 / send_bps;
            // (Whole packets: what a step cannot send, the next one does.)
            let due = span.as_secs_f64() / gap + self.carry;
            let n = due as u32;
            self.carry = due - f64::from(n);
            (0..n)
                .map(|i| {
                    let departure = start + Duration::from_secs_f64(gap * f64::from(i));
                    let sent = departure.duration_since(self.epoch).as_secs_f64();
                    self.free_at = self.free_at.max(sent) + size as f64 * 8.0 / self.link_bps;
                    // The receiver's clock is 1000 s ahead of ours: only differences matter.
                    test_report(departure, size, Some(Duration::from_secs_f64(1000.0 + self.free_at + 0.02)))
                })
                .collect()
        }
    }

    /// Runs the controller against the link for `seconds`, sending at its target; returns the targets.
    fn run(c: &mut QueueDelayController, link: &mut Link, from: Instant, seconds: u32) -> Vec<f64> {
        let step = Duration::from_millis(100);
        (0..seconds * 10)
            .map(|i| {
                let start = from + step * i;
                let reports = link.send(start, step, c.target());
                let delivered = Some(c.target().min(link.link_bps));
                c.update(start + step + Duration::from_millis(20), &reports, delivered)
            })
            .collect()
    }

    #[test]
    fn a_standing_queue_brings_the_target_under_the_link_rate() {
        let t = Instant::now();
        let mut link = Link::new(500_000.0, t);
        let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
        let targets = run(&mut c, &mut link, t, 20);
        let last = &targets[100..];
        // Settles around the link rate: never far above it, never collapsed.
        assert!(last.iter().all(|&b| b < 620_000.0), "{last:?}");
        let mean = last.iter().sum::<f64>() / last.len() as f64;
        assert!(mean > 350_000.0, "mean {mean}: {last:?}");
        assert!(c.queue_delay().unwrap() < Duration::from_millis(300));
    }

    #[test]
    fn a_fast_path_is_found_in_seconds_then_growth_slows() {
        let t = Instant::now();
        let mut link = Link::new(100_000_000.0, t);
        let mut c = QueueDelayController::new(500_000.0, 50_000.0, 2_500_000.0);
        let targets = run(&mut c, &mut link, t, 5);
        assert_eq!(*targets.last().unwrap(), 2_500_000.0, "{targets:?}");
        // After a decrease, 15 % a second (100 kbit/s a second near the old ceiling first).
        let mut link = Link::new(400_000.0, t);
        let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
        run(&mut c, &mut link, t, 5);
        link.link_bps = 100_000_000.0;
        let from = c.target();
        let targets = run(&mut c, &mut link, t + Duration::from_secs(5), 20);
        let grown = targets.last().unwrap() / from;
        assert!(grown > 1.8 && grown < 8.0, "x{grown} in 20 s: {targets:?}");
    }

    #[test]
    fn after_a_drop_the_rate_comes_back() {
        let t = Instant::now();
        let mut link = Link::new(4_000_000.0, t);
        let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 2_500_000.0);
        run(&mut c, &mut link, t, 10);
        link.link_bps = 400_000.0;
        let during = run(&mut c, &mut link, t + Duration::from_secs(10), 20);
        assert!(during[100..].iter().all(|&b| b < 520_000.0), "{:?}", &during[100..]);
        link.link_bps = 4_000_000.0;
        let after = run(&mut c, &mut link, t + Duration::from_secs(30), 10);
        // 640x480 at full rate needs ~630 kbit/s of estimate: reached within 8 s.
        let reached = after.iter().position(|&b| b >= 630_000.0).expect("never recovered");
        assert!(reached <= 80, "recovered after {} ms: {after:?}", reached * 100);
    }

    #[test]
    fn lost_feedback_does_not_deepen_a_back_off() {
        // The lab's drop, with the return path (as congested as the forward one) losing two of every three
        // feedback batches (one every 50 ms) while the link is thin: the target settles under the link's
        // rate, not far under. (Reading the rate as bytes reported over the window's length, it halved
        // at every decrease, down to 1/8 of the link.)
        let t = Instant::now();
        let mut link = Link::new(4_000_000.0, t);
        let mut c = QueueDelayController::new(1_500_000.0, 50_000.0, 2_500_000.0);
        run(&mut c, &mut link, t, 10);
        link.link_bps = 400_000.0;
        let step = Duration::from_millis(50);
        let from = t + Duration::from_secs(10);
        let during: Vec<f64> = (0..160)
            .map(|i| {
                let start = from + step * i;
                // An encoder overshooting its target by 30 % (keyframes after the drop's losses) keeps the
                // queue standing through more than one decrease.
                let reports = link.send(start, step, c.target() * 1.3);
                let delivered = None;
                if i % 3 == 0 { c.update(start + step, &reports, delivered) } else { c.target() }
            })
            .collect();
        assert!(during[60..].iter().all(|&b| (230_000.0..520_000.0).contains(&b)), "{during:?}");
    }

    #[test]
    fn a_full_queue_that_does_not_grow_is_overuse_too() {
        let t = Instant::now();
        // 1200-byte packets at "400 kbit/s" are 4 per 100 ms step: 384 kbit/s, exactly the link's rate.
        let mut link = Link::new(384_000.0, t);
        let mut c = QueueDelayController::new(300_000.0, 50_000.0, 300_000.0);
        let step = Duration::from_millis(100);
        // Two seconds with an empty queue (the baseline), then 300 ms of backlog appears at once (another
        // sender's burst) and we keep sending at exactly the link's rate: the queue stays full.
        let run_at = |c: &mut QueueDelayController, link: &mut Link, from: u32, to: u32, bps: f64| {
            for i in from..to {
                let start = t + step * i;
                let reports = link.send(start, step, bps);
                c.update(start + step, &reports, Some(bps));
            }
        };
        run_at(&mut c, &mut link, 0, 20, 300_000.0);
        assert_eq!(c.target(), 300_000.0);
        c.max = 2_500_000.0;
        link.free_at = 2.0 + 0.3;
        run_at(&mut c, &mut link, 20, 25, 400_000.0);
        // The jump itself is growth: one decrease. The flat full queue after it must bring the target down
        // again (0.85 per decrease gap) instead of holding.
        let after_jump = c.target();
        run_at(&mut c, &mut link, 25, 45, 400_000.0);
        assert!(c.queue_delay().unwrap() > Duration::from_millis(200), "the queue should still be full");
        assert!(
            c.target() < after_jump * 0.9,
            "a standing queue kept the target at {} (was {after_jump})",
            c.target()
        );
    }

    #[test]
    fn jitter_that_bunches_packets_is_not_a_queue() {
        // Like a Wi-Fi link (and the lab's `wifi-bad`): 40 ± 40 ms per packet, but no packet overtakes the
        // one before, so delays bunch towards the top within each frame's burst and relax between frames:
        // the minimum sits well above the quiet-time baseline and wobbles, with no queue growing.
        let t = Instant::now();
        let mut c = QueueDelayController::new(1_000_000.0, 50_000.0, 1_000_000.0);
        let mut last_arrival = 0.0f64;
        let mut draw: u64 = 12345;
        let mut jitter = || {
            draw = draw.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (draw >> 33) as f64 / f64::from(1u32 << 31) * 0.08
        };
        for step in 0..300u32 {
            // 30 frames a second, five packets each, 1 ms apart; the first two seconds are quiet (one
            // packet a frame), as a call's start is.
            let frame = t + Duration::from_micros(33_333) * step;
            let packets = if step < 60 { 1 } else { 5 };
            let reports: Vec<_> = (0..packets)
                .map(|i| {
                    let departure = frame + Duration::from_millis(i);
                    let sent = departure.duration_since(t).as_secs_f64();
                    last_arrival = last_arrival.max(sent + jitter());
                    test_report(departure, 1200, Some(Duration::from_secs_f64(last_arrival)))
                })
                .collect();
            c.update(frame + Duration::from_millis(100), &reports, Some(1_000_000.0));
        }
        assert!(c.target() > 900_000.0, "bunched jitter lowered the target to {}", c.target());
    }

    #[test]
    fn jitter_alone_is_not_a_queue() {
        let t = Instant::now();
        let mut c = QueueDelayController::new(500_000.0, 50_000.0, 2_500_000.0);
        // 40 ms of random-looking jitter on every packet, no standing queue.
        for step in 0..100u32 {
            let start = t + Duration::from_millis(100) * step;
            let reports: Vec<_> = (0..10u32)
                .map(|i| {
                    let departure = start + Duration::from_millis(10) * i;
                    let jitter = f64::from((step * 7 + i * 13) % 41) / 1000.0;
                    let sent = departure.duration_since(t).as_secs_f64();
                    test_report(departure, 1200, Some(Duration::from_secs_f64(sent + 0.03 + jitter)))
                })
                .collect();
            c.update(start + Duration::from_millis(120), &reports, Some(500_000.0));
        }
        assert!(c.target() > 500_000.0, "jitter lowered the target to {}", c.target());
    }
}
