//! Adaptive audio jitter buffer for 20 ms Opus packets
//! ([RFC 7587](https://www.rfc-editor.org/rfc/rfc7587): 48 kHz RTP clock, one frame per packet).
//!
//! The network side calls [`JitterBuffer::push`] for each RTP packet; the audio side calls
//! [`JitterBuffer::pop`] every 20 ms and gets a [`Playout`] decision: play this packet, recover a lost
//! one from the next packet's FEC, conceal, or (before playout has started) silence.
//!
//! How it adapts:
//! * **Jitter estimate**: for every arrival the relative transit time `arrival − rtp_time` is recorded; the
//!   spread (max − min) over the last [`JitterConfig::jitter_window`] arrivals is the jitter. The target
//!   delay is one frame plus that spread, clamped to [`JitterConfig::min_delay`]..[`JitterConfig::max_delay`].
//! * **Start**: playout starts once the buffered span reaches the target delay.
//! * **Up**: on an underrun (the next packet has not arrived and nothing after it either), the buffer plays a
//!   concealment frame *without* advancing, which adds 20 ms of delay.
//! * **Down**: every [`ADJUST_PERIOD`] pops the smallest buffer depth seen in that period is compared with
//!   the target; if even the worst moment had more than a frame of slack above the target, one packet is
//!   dropped (20 ms less delay). Dropping at most one frame per period keeps it inaudible-ish; a time-stretcher
//!   would be smoother.
//! * Reordered packets are slotted by sequence number; duplicates and packets whose turn has passed ("late")
//!   are counted and dropped; sequence numbers wrap (16-bit, unwrapped as in RFC 3550 A.1).
//! * A long underrun (the sender stopped) drops back to the pre-buffering state; a big sequence jump
//!   (sender restart) resynchronises.
//!
//! Memory is bounded by [`JitterConfig::max_packets`] packets of at most [`JitterConfig::max_payload`] bytes.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::{FRAME_MS, SAMPLE_RATE};

/// Pops per adaptation period (200 ms).
pub const ADJUST_PERIOD: u32 = 10;
/// Consecutive underrun pops after which playout stops and pre-buffers again.
const MAX_UNDERRUN_RUN: u32 = 10;

/// What to play for the next 20 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Decode this packet.
    Packet(Vec<u8>),
    /// The packet for this slot is lost but the next one is here: decode this (the *next* payload) with
    /// FEC on to recover the lost frame. The next packet is still played normally in its own turn.
    Fec(Vec<u8>),
    /// Nothing usable: run packet loss concealment.
    Conceal,
    /// Playout has not started (pre-buffering, or the stream stopped): output silence.
    Silence,
}

/// Result of [`JitterBuffer::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Stored for playout.
    Accepted,
    /// Its slot has already been played (or concealed).
    Late,
    /// Already buffered.
    Duplicate,
    /// Empty or oversized payload.
    Invalid,
}

/// Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Lowest target delay.
    pub min_delay: Duration,
    /// Highest target delay.
    pub max_delay: Duration,
    /// Packets buffered at most (beyond that the stream is resynchronised).
    pub max_packets: usize,
    /// Largest payload accepted, bytes.
    pub max_payload: usize,
    /// Arrivals over which jitter is measured.
    pub jitter_window: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_packets: 64,
            max_payload: 1500,
            jitter_window: 100,
        }
    }
}

/// Counters and current state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JitterStats {
    /// Packets accepted.
    pub received: u64,
    /// Packets that arrived after their slot.
    pub late: u64,
    /// Duplicate packets.
    pub duplicates: u64,
    /// Invalid payloads.
    pub invalid: u64,
    /// Slots whose packet was missing when played (recovered by FEC or concealed).
    pub lost: u64,
    /// Slots recovered with FEC.
    pub fec: u64,
    /// Concealment frames played (losses without FEC plus underrun stretches).
    pub concealed: u64,
    /// Pops where nothing was buffered.
    pub underruns: u64,
    /// Packets dropped to reduce delay.
    pub dropped: u64,
    /// Resynchronisations after a sequence jump or a stall.
    pub resyncs: u64,
    /// Buffered audio (ms) at the last pop, counting gaps.
    pub current_delay_ms: u32,
    /// Current target delay (ms).
    pub target_delay_ms: u32,
    /// Measured jitter (ms).
    pub jitter_ms: f64,
}

/// The jitter buffer for one remote audio stream.
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    packets: BTreeMap<u64, Vec<u8>>,
    highest: Option<u64>,
    next: Option<u64>,
    /// (arrival, RTP timestamp) of the reference packet for transit times.
    reference: Option<(Instant, u32)>,
    transits: VecDeque<f64>,
    underrun_run: u32,
    pops_in_period: u32,
    min_depth_in_period: u32,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new(JitterConfig::default())
    }
}

impl JitterBuffer {
    /// Creates an empty buffer.
    pub fn new(mut config: JitterConfig) -> Self {
        config.max_packets = config.max_packets.max(4);
        config.jitter_window = config.jitter_window.max(2);
        config.max_delay = config.max_delay.max(config.min_delay);
        let mut jb = Self {
            config,
            packets: BTreeMap::new(),
            highest: None,
            next: None,
            reference: None,
            transits: VecDeque::new(),
            underrun_run: 0,
            pops_in_period: 0,
            min_depth_in_period: u32::MAX,
            stats: JitterStats::default(),
        };
        jb.stats.target_delay_ms = jb.target_ms();
        jb
    }

    /// Counters and state.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The target delay in milliseconds.
    pub fn target_delay_ms(&self) -> u32 {
        self.target_ms()
    }

    /// Measured jitter (spread of transit times over the window), ms.
    fn jitter_ms(&self) -> f64 {
        let (min, max) = self
            .transits
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        if self.transits.len() < 2 { 0.0 } else { max - min }
    }

    fn target_ms(&self) -> u32 {
        let min = self.config.min_delay.as_millis() as f64;
        let max = self.config.max_delay.as_millis() as f64;
        (f64::from(FRAME_MS) + self.jitter_ms()).clamp(min, max).round() as u32
    }

    fn extend(&self, seq: u16) -> u64 {
        match self.highest {
            None => (1u64 << 32) + u64::from(seq),
            Some(h) => h.saturating_add_signed(i64::from(seq.wrapping_sub(h as u16) as i16)),
        }
    }

    fn record_transit(&mut self, rtp_timestamp: u32, now: Instant) {
        let (ref_time, ref_ts) = *self.reference.get_or_insert((now, rtp_timestamp));
        let ticks = rtp_timestamp.wrapping_sub(ref_ts) as i32;
        if ticks.unsigned_abs() > 1 << 30 {
            // Far from the reference (hours, or a timestamp jump): start measuring afresh.
            self.reference = Some((now, rtp_timestamp));
            self.transits.clear();
            return;
        }
        let media_ms = f64::from(ticks) * 1000.0 / f64::from(SAMPLE_RATE);
        let arrival_ms = now.checked_duration_since(ref_time).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        if self.transits.len() >= self.config.jitter_window {
            self.transits.pop_front();
        }
        self.transits.push_back(arrival_ms - media_ms);
    }

    /// Stores a packet. `rtp_timestamp` is the 48 kHz RTP timestamp; `now` the arrival time.
    pub fn push(&mut self, seq: u16, rtp_timestamp: u32, payload: &[u8], now: Instant) -> Arrival {
        if payload.is_empty() || payload.len() > self.config.max_payload {
            self.stats.invalid += 1;
            return Arrival::Invalid;
        }
        let ext = self.extend(seq);
        self.record_transit(rtp_timestamp, now);
        self.stats.jitter_ms = self.jitter_ms();
        self.stats.target_delay_ms = self.target_ms();
        if let Some(next) = self.next {
            if ext < next {
                self.stats.late += 1;
                return Arrival::Late;
            }
            if ext - next >= self.config.max_packets as u64 {
                // The sender jumped (restart) or we fell hopelessly behind: start over from here.
                self.resync();
            }
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Arrival::Duplicate;
        }
        if self.packets.len() >= self.config.max_packets {
            // Only possible before playout starts: keep the newest.
            self.packets.pop_first();
        }
        self.packets.insert(ext, payload.to_vec());
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.stats.received += 1;
        Arrival::Accepted
    }

    fn resync(&mut self) {
        self.stats.resyncs += 1;
        self.packets.clear();
        self.next = None;
        self.highest = None;
        self.underrun_run = 0;
    }

    /// Buffered span from the next slot to the newest packet, in ms (gaps included).
    fn depth_ms(&self) -> u32 {
        match (self.next, self.highest) {
            (Some(next), Some(h)) if h >= next => ((h - next + 1).min(u64::from(u32::MAX / FRAME_MS)) as u32) * FRAME_MS,
            _ => 0,
        }
    }

    /// The playout decision for the next 20 ms. Call exactly once per frame period.
    pub fn pop(&mut self, now: Instant) -> Playout {
        let _ = now; // Decisions depend on arrivals and pop cadence only; `now` is kept for API symmetry.
        let target = self.target_ms();
        self.stats.target_delay_ms = target;
        let Some(mut next) = self.next else {
            // Pre-buffering: start when the buffered span reaches the target.
            let (Some((&first, _)), Some(h)) = (self.packets.first_key_value(), self.highest) else {
                self.stats.current_delay_ms = 0;
                return Playout::Silence;
            };
            let span = ((h.saturating_sub(first) + 1).min(1000) as u32) * FRAME_MS;
            self.stats.current_delay_ms = span;
            if span < target {
                return Playout::Silence;
            }
            self.next = Some(first);
            self.pops_in_period = 0;
            self.min_depth_in_period = u32::MAX;
            return self.pop(now);
        };

        let depth = self.depth_ms();
        self.stats.current_delay_ms = depth;
        self.min_depth_in_period = self.min_depth_in_period.min(depth);
        self.pops_in_period += 1;
        if self.pops_in_period >= ADJUST_PERIOD {
            let slack_floor = self.min_depth_in_period;
            self.pops_in_period = 0;
            self.min_depth_in_period = u32::MAX;
            if slack_floor != u32::MAX && slack_floor >= target + FRAME_MS && depth > FRAME_MS {
                // Even the worst moment of the period had a spare frame: drop one to reduce delay.
                self.packets.remove(&next);
                next += 1;
                self.next = Some(next);
                self.stats.dropped += 1;
            }
        }

        if let Some(payload) = self.packets.remove(&next) {
            self.next = Some(next + 1);
            self.underrun_run = 0;
            return Playout::Packet(payload);
        }
        if self.highest.is_none_or(|h| h < next) {
            // Underrun: nothing at or after this slot. Conceal and wait (this adds delay).
            self.stats.underruns += 1;
            self.underrun_run += 1;
            if self.underrun_run > MAX_UNDERRUN_RUN {
                // The stream stopped (mute, DTX, network outage): pre-buffer again when it resumes.
                self.next = None;
                self.underrun_run = 0;
                self.stats.resyncs += 1;
                return Playout::Silence;
            }
            self.stats.concealed += 1;
            return Playout::Conceal;
        }
        // The slot's packet is missing but later ones are here: it is lost.
        self.underrun_run = 0;
        self.stats.lost += 1;
        self.next = Some(next + 1);
        if let Some(following) = self.packets.get(&(next + 1)) {
            self.stats.fec += 1;
            return Playout::Fec(following.clone());
        }
        self.stats.concealed += 1;
        Playout::Conceal
    }
}
