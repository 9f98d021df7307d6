//! The pacer's logic, with no webrtc types: a FIFO of video packets released through a token bucket at a
//! multiple of the congestion controller's target, so an encoded frame (a keyframe above all) reaches the
//! bottleneck spread out instead of as one burst that overflows its queue. Time is passed in.
//!
//! Why a multiple (libwebrtc's pacing factor, 2.5): the encoder already follows the target on average, so
//! the pacer only has to smooth each frame; pacing at exactly the target would add a frame's worth of delay
//! to every frame and hold keyframes for seconds. Why a bound on the queue: a keyframe that cannot leave
//! in [`MAX_QUEUE_TIME`] at the paced rate is released faster, so nothing (keyframes included) starves
//! behind a low estimate. Audio and RTCP never enter this queue (see [`super::pacer`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Video leaves at this multiple of the target bitrate.
pub const PACING_FACTOR: f64 = 2.5;
/// The longest a packet should wait here: when the queue would take longer at the paced rate, the rate is
/// raised to empty it in this time.
pub const MAX_QUEUE_TIME: Duration = Duration::from_millis(300);
/// Released at once at most: this long at the current rate, but never less than [`MIN_BURST_BITS`].
pub const BURST_TIME: Duration = Duration::from_millis(5);
/// Two full-size packets: the burst can never be smaller than what has to go out at once.
pub const MIN_BURST_BITS: f64 = 2.0 * 1500.0 * 8.0;
/// Packets held before new ones are refused (a refused packet is recovered by NACK or a keyframe).
pub const QUEUE_LIMIT: usize = 2048;

/// A FIFO paced by a token bucket. `T` is the packet; its size in bits is given when it is queued.
#[derive(Debug)]
pub struct PacingQueue<T> {
    /// Target from congestion control, bits per second.
    target_bps: f64,
    /// Packets with their size in bits and when they were queued.
    queue: VecDeque<(T, f64, Instant)>,
    queued_bits: f64,
    /// Available budget in bits; negative after a packet larger than the budget went out.
    budget_bits: f64,
    last_refill: Option<Instant>,
    /// Packets refused because the queue was full.
    pub refused: u64,
}

impl<T> PacingQueue<T> {
    pub fn new(target_bps: f64) -> Self {
        PacingQueue {
            target_bps: target_bps.max(1.0),
            queue: VecDeque::new(),
            queued_bits: 0.0,
            budget_bits: MIN_BURST_BITS,
            last_refill: None,
            refused: 0,
        }
    }

    pub fn set_target_bitrate(&mut self, bps: f64) {
        if bps.is_finite() && bps > 0.0 {
            self.target_bps = bps;
        }
    }

    /// The rate packets leave at when the bucket was last refilled: the paced rate, or faster when the
    /// oldest packet would otherwise wait longer than [`MAX_QUEUE_TIME`].
    pub fn release_rate(&self) -> f64 {
        let paced = self.target_bps * PACING_FACTOR;
        let (Some(&(_, _, oldest)), Some(now)) = (self.queue.front(), self.last_refill) else {
            return paced;
        };
        let left = (oldest + MAX_QUEUE_TIME).saturating_duration_since(now).max(BURST_TIME);
        paced.max(self.queued_bits / left.as_secs_f64())
    }

    fn burst_bits(&self) -> f64 {
        (self.release_rate() * BURST_TIME.as_secs_f64()).max(MIN_BURST_BITS)
    }

    fn refill(&mut self, now: Instant) {
        if let Some(last) = self.last_refill {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            // The rate as it was over the elapsed time (computed before `last_refill` moves).
            self.budget_bits = (self.budget_bits + elapsed * self.release_rate()).min(self.burst_bits());
        }
        self.last_refill = Some(now.max(self.last_refill.unwrap_or(now)));
    }

    /// Queues a packet of `bits`; `false` if the queue is full and it was refused.
    pub fn push(&mut self, packet: T, bits: f64, now: Instant) -> bool {
        self.refill(now);
        if self.queue.len() >= QUEUE_LIMIT {
            self.refused += 1;
            return false;
        }
        self.queued_bits += bits;
        self.queue.push_back((packet, bits, now));
        true
    }

    /// The next packet that may leave at `now`, if any.
    pub fn pop(&mut self, now: Instant) -> Option<T> {
        self.refill(now);
        let &(_, bits, _) = self.queue.front()?;
        // A packet larger than what is left goes once the budget is positive; it may drive the budget
        // negative, and the next one waits for it to recover, so the rate holds on average.
        if self.budget_bits <= 0.0 || (self.budget_bits < bits && self.budget_bits < self.burst_bits()) {
            return None;
        }
        let (packet, bits, _) = self.queue.pop_front()?;
        self.budget_bits -= bits;
        self.queued_bits = (self.queued_bits - bits).max(0.0);
        Some(packet)
    }

    /// When [`Self::pop`] will next give a packet: `None` when the queue is empty.
    pub fn next_release(&self) -> Option<Instant> {
        let &(_, bits, _) = self.queue.front()?;
        let last = self.last_refill?;
        let needed = bits.min(self.burst_bits()).max(1.0);
        if self.budget_bits >= needed {
            return Some(last);
        }
        let wait = (needed - self.budget_bits) / self.release_rate();
        Some(last + Duration::from_secs_f64(wait).max(Duration::from_micros(100)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET_BITS: f64 = 1200.0 * 8.0;

    /// Drives the queue the way the interceptor chain does: pop at every deadline it asks for.
    fn drain(q: &mut PacingQueue<u32>, start: Instant, limit: Duration) -> Vec<(u32, Duration)> {
        let mut out = Vec::new();
        let mut now = start;
        while let Some(at) = q.next_release() {
            now = now.max(at);
            assert!(now - start <= limit, "queue not drained within {limit:?}");
            while let Some(p) = q.pop(now) {
                out.push((p, now - start));
            }
        }
        out
    }

    #[test]
    fn a_keyframe_is_spread_at_the_paced_rate() {
        let start = Instant::now();
        let mut q = PacingQueue::new(400_000.0);
        // 40 packets = 384 kbit: at 2.5 × 400 kbit/s that takes ~0.38 s, but the queue bound raises
        // the rate to empty it in 0.3 s at most.
        for i in 0..40 {
            assert!(q.push(i, PACKET_BITS, start));
        }
        let out = drain(&mut q, start, Duration::from_secs(1));
        assert_eq!(out.iter().map(|(p, _)| *p).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
        let last = out.last().unwrap().1;
        assert!(last >= Duration::from_millis(200) && last <= Duration::from_millis(310), "{last:?}");
        // Never more than a burst at once.
        let at_start = out.iter().filter(|(_, t)| t.is_zero()).count();
        assert!(at_start <= 3, "{at_start} packets left at once");
    }

    #[test]
    fn a_small_frame_leaves_at_two_and_a_half_times_the_target() {
        let start = Instant::now();
        let mut q = PacingQueue::new(1_000_000.0);
        for i in 0..10 {
            q.push(i, PACKET_BITS, start);
        }
        let out = drain(&mut q, start, Duration::from_secs(1));
        // 96 kbit at 2.5 Mbit/s: ~38 ms, less the initial burst.
        let last = out.last().unwrap().1;
        assert!(last >= Duration::from_millis(25) && last <= Duration::from_millis(45), "{last:?}");
    }

    #[test]
    fn the_rate_follows_the_target_and_an_idle_queue_asks_for_nothing() {
        let start = Instant::now();
        let mut q: PacingQueue<u32> = PacingQueue::new(100_000.0);
        assert_eq!(q.next_release(), None);
        q.set_target_bitrate(2_000_000.0);
        assert_eq!(q.release_rate(), 5_000_000.0);
        q.set_target_bitrate(f64::NAN);
        q.set_target_bitrate(0.0);
        assert_eq!(q.release_rate(), 5_000_000.0);
        q.push(1, PACKET_BITS, start);
        assert_eq!(q.pop(start), Some(1));
        assert_eq!(q.next_release(), None);
    }

    #[test]
    fn a_full_queue_refuses_new_packets() {
        let start = Instant::now();
        let mut q = PacingQueue::new(100_000.0);
        for i in 0..QUEUE_LIMIT as u32 {
            assert!(q.push(i, PACKET_BITS, start));
        }
        assert!(!q.push(0, PACKET_BITS, start));
        assert_eq!(q.refused, 1);
    }

    #[test]
    fn time_going_backwards_does_not_panic_or_release_early() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut q = PacingQueue::new(100_000.0);
        for i in 0..5 {
            q.push(i, PACKET_BITS, start);
        }
        let before = q.pop(start - Duration::from_millis(500));
        assert!(before.is_some());
        assert!(q.next_release().is_some_and(|t| t >= start));
    }
}
