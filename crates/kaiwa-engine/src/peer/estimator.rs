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

use super::ceiling::Ceiling;
use super::feedback_rate::FeedbackRate;
use super::loss_based::{self, LossBased};
use super::queue_delay::{OVERUSE, QueueDelayController, STANDING};

/// The window the delivered rate is measured over, by departure time.
pub const WINDOW: Duration = Duration::from_secs(1);
/// How far the target may run ahead of the delivered rate. 1.5 (libwebrtc's, which probes beyond it) held
/// a 1280×720 sender at 640×360 on loopback for good: the small picture never delivered enough to prove
/// the large one. The delay half keeps a thin link from being overrun inside this.
pub const HEADROOM: f64 = 2.5;
/// Plus this much, so a nearly idle sender (audio only) can still grow.
pub const EXTRA_BPS: f64 = 100_000.0;
/// Feedback normally comes ten times a second. Silent this long after the last feedback showed a standing
/// queue, the path is congested both ways (the feedback waits in, or is lost from, the return path's
/// queue) and the estimate halves, again for each further such span. Measured in the lab's 4 Mbit/s →
/// 400 kbit/s drop: no feedback for 2.4–3.5 s while the estimate, without it, held at 1275 kbit/s — three
/// times the link — and the picture froze 5–9 s. libwebrtc bounds the same case with a congestion window
/// on unacknowledged bytes.
pub const FEEDBACK_SILENCE: Duration = Duration::from_millis(500);
/// At most this many halvings per silence: a quarter of the estimate that overran the link is under it
/// (the lab's 4 Mbit/s → 400 kbit/s drop: 1.5 Mbit/s to 375 kbit/s). Silence that goes on after that is
/// the return path still congested by what the far end sends, which our rate cannot cure: halving on took
/// the estimate to 150 kbit/s on the 400 kbit/s link, the picture to 160×120, and the climb back after
/// the drop past the 10 s that issue 11 allows.
pub const MAX_SILENT_HALVINGS: u32 = 2;

pub struct Estimator {
    delay: QueueDelayController,
    loss: LossBased,
    min: f64,
    max: f64,
    /// A lower ceiling than `max` that its owner moves ([`Estimator::under`]).
    ceiling: Option<Ceiling>,
    /// Departures of the packets the far end reported as arrived, per feedback batch.
    delivered: FeedbackRate,
    /// When the estimate was last logged (at debug level, once a second).
    logged_at: Option<Instant>,
    /// The estimate: the lower half, grown at most to the delivered cap.
    target: f64,
    /// The newest departure reported when the delay half last saw a queue over [`OVERUSE`].
    queue_seen_at: Option<Instant>,
    /// When feedback last came, and how many [`FEEDBACK_SILENCE`] halvings its silence has cost since.
    feedback_at: Option<Instant>,
    silent_halvings: u32,
    /// Whether that feedback showed a standing queue (silence after it means congestion). Kept, not
    /// recomputed: `poll_timeout` is asked on every wake-up of the interceptor chain.
    queue_standing: bool,
    /// Whether the loss half runs ([`Estimator::without_loss`]).
    loss_based: bool,
}

impl Estimator {
    /// Starts at `initial` bits per second, and stays within `min..=max`.
    pub fn new(initial: f64, min: f64, max: f64) -> Self {
        Estimator {
            delay: QueueDelayController::new(initial, min, max),
            loss: LossBased::new(min, max),
            min,
            max,
            ceiling: None,
            delivered: FeedbackRate::new(WINDOW),
            logged_at: None,
            target: initial.clamp(min, max),
            queue_seen_at: None,
            feedback_at: None,
            silent_halvings: 0,
            queue_standing: false,
            loss_based: true,
        }
    }

    /// The delay half alone, for a far end whose feedback reports packets it got as missing: Janus 1.1's
    /// transport-wide feedback lists 50–70 % of our packets as lost (about our audio's share of them)
    /// while its subscribers lose none, and the loss half took the estimate to its floor in ten seconds.
    /// Queues still show, in the arrival times of the packets it does report.
    /// Their bytes still count as delivered (they were: the subscribers got them).
    pub fn without_loss(mut self) -> Self {
        self.loss_based = false;
        self.delay.count_missing_as_arrived();
        self
    }

    /// Keeps the estimate under `ceiling` as well, wherever its owner moves it (never above `max`).
    pub fn under(mut self, ceiling: Ceiling) -> Self {
        self.target = self.target.min(ceiling.bps()).max(self.min);
        self.ceiling = Some(ceiling);
        self
    }

    /// The highest the estimate may be now: `max`, or the ceiling under it.
    fn highest(&self) -> f64 {
        self.ceiling.as_ref().map_or(self.max, |c| c.bps().clamp(self.min, self.max))
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
        self.feedback_at = Some(now);
        self.silent_halvings = 0;
        let delivered = || reports.iter().filter(|r| r.arrived || !self.loss_based);
        if let Some(newest) = delivered().map(|r| r.departure).max() {
            let packets = delivered().map(|r| (r.departure, r.size));
            self.delivered.add(newest, packets, |a: Instant, b| b.saturating_duration_since(a));
        }
        self.delay.update(now, reports, self.delivered_bps());
        self.queue_standing = self.delay.queue_delay().is_some_and(|q| q >= STANDING);
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
            if self.loss_based && !counted.is_empty() {
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
        // Under a ceiling the delay half waits at it, so a ceiling raised later is climbed to from there
        // (as the path proves it carries more) rather than jumped to.
        let highest = self.highest();
        self.delay.limit(highest);
        let lower = self.loss.target().map_or(self.delay.target(), |loss| loss.min(self.delay.target()));
        let cap = self.delivered_cap().map_or(lower, |cap| cap.max(self.target));
        self.target = lower.min(cap).clamp(self.min, highest);
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

    /// Halves the estimate for each [`FEEDBACK_SILENCE`] without feedback after a standing queue, at most
    /// [`MAX_SILENT_HALVINGS`] times (a sender that went idle has no queue, and keeps its estimate). The
    /// delay half is held to it, so the feedback that comes back does not restore the old rate, and grows
    /// from it as in slow start once the queue is gone (the cut was blind: the rate it left says nothing of
    /// the path).
    fn handle_timeout(&mut self, now: Instant) {
        let Some(at) = self.feedback_at else { return };
        if !self.queue_standing {
            return;
        }
        let spans = (now.saturating_duration_since(at).as_secs_f64() / FEEDBACK_SILENCE.as_secs_f64()) as u32;
        let spans = spans.min(MAX_SILENT_HALVINGS);
        while self.silent_halvings < spans && self.target > self.min {
            self.silent_halvings += 1;
            self.target = (self.target / 2.0).max(self.min);
            self.delay.limit(self.target);
            self.delay.restart_when_clear();
            tracing::debug!(
                target = self.target,
                silent_ms = now.saturating_duration_since(at).as_millis(),
                "no feedback after a queue: halved"
            );
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let at = self.feedback_at?;
        (self.queue_standing && self.target > self.min && self.silent_halvings < MAX_SILENT_HALVINGS)
            .then(|| at + FEEDBACK_SILENCE * (self.silent_halvings + 1))
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
#[path = "estimator_tests.rs"]
mod tests;
