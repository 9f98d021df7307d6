//! When to show each decoded video frame: at the moment its RTP timestamp says, plus a delay just large
//! enough that frames held up by the network (jitter, a NACK's round trip) no longer show as freezes.
//! Sans-IO: frames and the time are passed in.
//!
//! Without it a frame is shown the moment it decodes, so a frame repaired by retransmission shows a
//! round trip late, and on a 150 ms round trip with 2 % loss (the lab's `mobile`) that was a freeze
//! about once a second (WebRTC counts a gap over max(3 × average, average + 150 ms)). Browsers delay
//! every frame by their jitter estimate instead. Here the delay is the 95th percentile of how late frames
//! arrive over the last [`WINDOW`], less [`TOLERATED_LATENESS`]: lateness below that never makes a freeze,
//! so a clean or lightly jittered link gets no added delay at all.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back lateness is remembered.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Lateness this small is shown late rather than waited for: a frame late by it leaves a gap under the
/// 150 ms that counts as a freeze.
pub const TOLERATED_LATENESS: Duration = Duration::from_millis(100);
/// The most any frame is held back.
pub const MAX_DELAY: Duration = Duration::from_millis(400);
/// Frames held at most (beyond, the oldest is shown at once).
pub const MAX_HELD: usize = 16;
/// RTP video clock ([RFC 6184 §8.2.1](https://www.rfc-editor.org/rfc/rfc6184#section-8.2.1)).
const CLOCK_RATE: f64 = 90_000.0;

#[derive(Debug)]
pub struct VideoPlayout<T> {
    epoch: Option<Instant>,
    /// Last RTP timestamp, extended to 64 bits.
    last_timestamp: Option<i64>,
    /// (arrival, arrival − media time in s) of recent frames; its minimum is "on time".
    offsets: VecDeque<(Instant, f64)>,
    held: VecDeque<(T, Instant)>,
    last_due: Option<Instant>,
    delay: Duration,
}

impl<T> Default for VideoPlayout<T> {
    fn default() -> Self {
        VideoPlayout {
            epoch: None,
            last_timestamp: None,
            offsets: VecDeque::new(),
            held: VecDeque::new(),
            last_due: None,
            delay: Duration::ZERO,
        }
    }
}

impl<T> VideoPlayout<T> {
    /// The delay frames are currently held for beyond their on-time moment.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    fn extend(&mut self, timestamp: u32) -> i64 {
        let ext = match self.last_timestamp {
            None => i64::from(timestamp),
            Some(last) => last + i64::from(timestamp.wrapping_sub(last as u32) as i32),
        };
        self.last_timestamp = Some(ext);
        ext
    }

    /// A decoded frame with its RTP timestamp, at `now`.
    pub fn push(&mut self, frame: T, timestamp: u32, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let media = self.extend(timestamp) as f64 / CLOCK_RATE;
        let offset = now.saturating_duration_since(epoch).as_secs_f64() - media;
        self.offsets.push_back((now, offset));
        while self.offsets.front().is_some_and(|(t, _)| now.saturating_duration_since(*t) > WINDOW) {
            self.offsets.pop_front();
        }
        let on_time = self.offsets.iter().map(|(_, o)| *o).fold(f64::INFINITY, f64::min);
        let mut lateness: Vec<f64> = self.offsets.iter().map(|(_, o)| o - on_time).collect();
        lateness.sort_by(f64::total_cmp);
        let p95 = lateness.get(lateness.len() * 95 / 100).copied().unwrap_or(0.0);
        self.delay =
            Duration::from_secs_f64((p95 - TOLERATED_LATENESS.as_secs_f64()).max(0.0)).min(MAX_DELAY);
        let due_in =
            (on_time + media + self.delay.as_secs_f64()) - now.saturating_duration_since(epoch).as_secs_f64();
        let due = if due_in > 0.0 {
            now + Duration::from_secs_f64(due_in.min(MAX_DELAY.as_secs_f64()))
        } else {
            now
        };
        // Never before the frame ahead of it.
        let due = self.last_due.map_or(due, |last| due.max(last));
        self.last_due = Some(due);
        self.held.push_back((frame, due));
    }

    /// The next frame to show at `now`, if one is due (or too many are held).
    pub fn pop(&mut self, now: Instant) -> Option<T> {
        let &(_, due) = self.held.front()?;
        if due <= now || self.held.len() > MAX_HELD {
            return self.held.pop_front().map(|(frame, _)| frame);
        }
        None
    }

    /// When the next held frame is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.held.front().map(|(_, due)| *due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: u32 = 3000; // 30 fps at 90 kHz

    /// Pushes frame `i` arriving `late` ms after its on-time moment, pops everything due by then, and
    /// returns (frame, shown at ms since start) pairs.
    fn feed(p: &mut VideoPlayout<u32>, t: Instant, frames: &[(u32, u64)]) -> Vec<(u32, u64)> {
        let mut shown = Vec::new();
        let mut events: Vec<(u64, Option<(u32, u64)>)> =
            frames.iter().map(|&(i, late)| (u64::from(i) * 1000 / 30 + late, Some((i, late)))).collect();
        events.sort_by_key(|(at, _)| *at);
        let end = events.last().map_or(0, |(at, _)| *at) + 1000;
        let mut e = 0;
        for ms in 0..=end {
            let now = t + Duration::from_millis(ms);
            while e < events.len() && events[e].0 == ms {
                let (i, _) = events[e].1.unwrap();
                p.push(i, i.wrapping_mul(FRAME), now);
                e += 1;
            }
            while let Some(f) = p.pop(now) {
                shown.push((f, ms));
            }
        }
        shown
    }

    #[test]
    fn a_clean_link_adds_no_delay() {
        let t = Instant::now();
        let mut p = VideoPlayout::default();
        let frames: Vec<(u32, u64)> = (0..300).map(|i| (i, u64::from(i % 7))).collect();
        let shown = feed(&mut p, t, &frames);
        assert_eq!(shown.len(), 300);
        for (i, at) in &shown {
            let arrival = u64::from(*i) * 1000 / 30 + u64::from(*i % 7);
            assert_eq!(*at, arrival, "frame {i} held back");
        }
        assert_eq!(p.delay(), Duration::ZERO);
    }

    #[test]
    fn frequent_round_trip_repairs_are_absorbed_instead_of_freezing() {
        let t = Instant::now();
        let mut p = VideoPlayout::default();
        // One frame in ten waits 200 ms for a retransmission (and the frames behind it wait with it).
        let mut frames = Vec::new();
        for i in 0..600u32 {
            let repaired = i % 10 == 5;
            frames.push((i, if repaired { 200 } else { 0 }));
        }
        // Frames after a repaired one arrive with it (in order).
        for k in 0..frames.len() {
            if frames[k].1 == 200 {
                for j in 1..6 {
                    if let Some(f) = frames.get_mut(k + j) {
                        let at = 200u64.saturating_sub(j as u64 * 33);
                        f.1 = f.1.max(at);
                    }
                }
            }
        }
        let shown = feed(&mut p, t, &frames);
        assert_eq!(shown.len(), 600);
        // After the first seconds (the delay learns), gaps between shown frames stay under a freeze.
        let late: Vec<_> = shown.iter().filter(|(i, _)| *i >= 120).collect();
        let worst = late.windows(2).map(|w| w[1].1 - w[0].1).max().unwrap();
        assert!(worst < 150, "a {worst} ms gap");
        assert!(
            p.delay() >= Duration::from_millis(80) && p.delay() <= Duration::from_millis(120),
            "{:?}",
            p.delay()
        );
    }

    #[test]
    fn frames_stay_in_order_and_timestamps_wrap() {
        let t = Instant::now();
        let mut p = VideoPlayout::default();
        let start = u32::MAX - 2 * FRAME;
        for k in 0..6u32 {
            p.push(k, start.wrapping_add(k * FRAME), t + Duration::from_millis(u64::from(k) * 33));
        }
        let mut out = Vec::new();
        while let Some(f) = p.pop(t + Duration::from_secs(1)) {
            out.push(f);
        }
        assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn too_many_held_frames_are_let_go() {
        let t = Instant::now();
        let mut p = VideoPlayout { delay: MAX_DELAY, ..VideoPlayout::default() };
        // Timestamps far in the future: every frame would wait the longest.
        for k in 0..(MAX_HELD as u32 + 5) {
            p.push(k, 1_000_000 + k * 90_000, t);
        }
        assert!(p.pop(t).is_some(), "over the limit, the oldest goes at once");
    }
}
