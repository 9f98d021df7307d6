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
//!   from a modest start instead of overrunning a thin one from a high start (and again after a blind
//!   cut, [`QueueDelayController::restart_when_clear`]);
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
    /// Set by [`Self::restart_when_clear`]: the next time the queue is gone, growth starts over in slow
    /// start.
    restart_pending: bool,
    /// Packets reported missing count towards the arrival rate ([`Self::count_missing_as_arrived`]).
    missing_arrived: bool,
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
            restart_pending: false,
            missing_arrived: false,
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
    /// The path went silent under a queue and the estimate was cut blind (see `estimator.rs`): what the
    /// last decrease measured no longer says where the path's capacity is. Once the queue is gone, the
    /// target grows as at a call's start until the next queue, instead of creeping up from the cut. (At
    /// 15 % a second the lab's 4 Mbit/s → 400 kbit/s drop left the estimate at 80–160 kbit/s when the
    /// link came back, and 640×480 returned 11–12 s later; libwebrtc probes back towards the rate before
    /// a large drop for the same reason.)
    pub fn restart_when_clear(&mut self) {
        self.restart_pending = true;
    }

    /// For a far end whose feedback lists packets it got as missing (see `Estimator::without_loss`):
    /// their bytes count towards the arrival rate, as arrived with the packet reported before them.
    /// Without them the rate a decrease starts from read low by their share (our audio's, through Janus),
    /// and the picture flapped between two sizes on a steady 250 kbit/s uplink.
    pub fn count_missing_as_arrived(&mut self) {
        self.missing_arrived = true;
    }

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
            let mut before = None;
            let packets = reports.iter().filter_map(|r| match r.arrival.filter(|_| r.arrived) {
                Some(arrival) => {
                    before = Some(arrival);
                    Some((arrival, r.size))
                }
                None if self.missing_arrived => before.map(|arrival| (arrival, r.size)),
                None => None,
            });
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
            if std::mem::take(&mut self.restart_pending) {
                self.last_decrease = None;
                self.ceiling = None;
            }
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
#[path = "queue_delay_tests.rs"]
mod tests;
