//! Adaptive audio jitter buffer for 20 ms Opus packets
//! ([RFC 7587](https://www.rfc-editor.org/rfc/rfc7587): 48 kHz RTP clock, one frame per packet).
//!
//! The network side calls [`JitterBuffer::push`] for each RTP packet; the audio side calls
//! [`JitterBuffer::pop`] every 20 ms and gets a [`Playout`] decision: play this packet, recover a lost
//! one from the next packet's FEC, conceal, or (before playout has started) silence.
//!
//! How it adapts (all times in ms, media time from the RTP timestamp):
//! * **Transit**: for every arrival, `transit = arrival − media_time`. Over the last
//!   [`JitterConfig::jitter_window`] arrivals, the smallest transit is the network's base delay and the
//!   spread (max − min) is the jitter. The **target delay** is one frame plus the jitter, clamped to
//!   [`JitterConfig::min_delay`]..[`JitterConfig::max_delay`].
//! * **Current delay** of the slot about to play: `now − (media_time + min_transit)`, i.e. how long after
//!   its earliest possible arrival it is played. Playout starts when the first packet's current delay
//!   reaches the target.
//! * **Up**: when the current delay is a frame or more below the target (jitter grew), or on an underrun
//!   (nothing at or after the slot has arrived), the buffer plays a concealment frame *without* advancing:
//!   20 ms more delay. Proactive stretches are limited to one per [`STRETCH_SPACING`] pops.
//! * **Down**: when the current delay is two frames or more above the target, one packet is dropped, at
//!   most once per [`ADJUST_PERIOD`] pops (a time-stretcher would be smoother; this keeps it simple).
//! * Reordered packets are slotted by sequence number; duplicates and packets whose turn has passed ("late")
//!   are counted and dropped; sequence numbers and timestamps wrap (unwrapped as in RFC 3550 A.1).
//! * A long underrun (the sender stopped) drops back to the pre-buffering state; a big sequence jump
//!   (sender restart) resynchronises.
//!
//! Memory is bounded by [`JitterConfig::max_packets`] packets of at most [`JitterConfig::max_payload`] bytes.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::{FRAME_MS, SAMPLE_RATE};

/// Pops between two latency-reducing drops (200 ms).
pub const ADJUST_PERIOD: u32 = 10;
/// Pops between two proactive stretches (100 ms).
pub const STRETCH_SPACING: u32 = 5;
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
    /// Playout delay at the last pop: how long after its earliest possible arrival (media time plus the
    /// smallest observed transit) the current slot was played, ms.
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
    /// Extended sequence number → (media time ms, payload).
    packets: BTreeMap<u64, (f64, Vec<u8>)>,
    highest: Option<u64>,
    next: Option<u64>,
    /// Media time of the slot `next` when its packet is missing (last played + one frame).
    next_media_ms: f64,
    /// (arrival, RTP timestamp) of the reference packet for transit times.
    reference: Option<(Instant, u32)>,
    transits: VecDeque<f64>,
    underrun_run: u32,
    late_run: usize,
    pops_since_drop: u32,
    pops_since_stretch: u32,
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
            next_media_ms: 0.0,
            reference: None,
            transits: VecDeque::new(),
            underrun_run: 0,
            late_run: 0,
            pops_since_drop: 0,
            pops_since_stretch: 0,
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

    /// Records the packet's transit time and returns its media time (ms since the reference packet).
    fn record_transit(&mut self, rtp_timestamp: u32, now: Instant) -> f64 {
        let (ref_time, ref_ts) = *self.reference.get_or_insert((now, rtp_timestamp));
        let ticks = rtp_timestamp.wrapping_sub(ref_ts) as i32;
        if ticks.unsigned_abs() > 1 << 30 {
            // Far from the reference (hours, or a timestamp jump): measure afresh from this packet.
            self.restart_clock(now, rtp_timestamp);
            return 0.0;
        }
        let media_ms = f64::from(ticks) * 1000.0 / f64::from(SAMPLE_RATE);
        let arrival_ms = self.ms_since(ref_time, now);
        if self.transits.len() >= self.config.jitter_window {
            self.transits.pop_front();
        }
        self.transits.push_back(arrival_ms - media_ms);
        media_ms
    }

    fn restart_clock(&mut self, now: Instant, rtp_timestamp: u32) {
        self.reference = Some((now, rtp_timestamp));
        self.transits.clear();
        self.packets.clear();
        self.next = None;
        self.highest = None;
        self.underrun_run = 0;
    }

    fn ms_since(&self, reference: Instant, now: Instant) -> f64 {
        match now.checked_duration_since(reference) {
            Some(d) => d.as_secs_f64() * 1000.0,
            None => -(reference.duration_since(now).as_secs_f64() * 1000.0),
        }
    }

    fn min_transit(&self) -> f64 {
        self.transits.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// How long after its earliest possible arrival a slot with this media time is played if played now.
    fn delay_of(&self, media_ms: f64, now: Instant) -> f64 {
        let Some((ref_time, _)) = self.reference else { return 0.0 };
        let min_transit = self.min_transit();
        if !min_transit.is_finite() {
            return 0.0;
        }
        self.ms_since(ref_time, now) - media_ms - min_transit
    }

    /// Stores a packet. `rtp_timestamp` is the 48 kHz RTP timestamp; `now` the arrival time.
    pub fn push(&mut self, seq: u16, rtp_timestamp: u32, payload: &[u8], now: Instant) -> Arrival {
        if payload.is_empty() || payload.len() > self.config.max_payload {
            self.stats.invalid += 1;
            return Arrival::Invalid;
        }
        let media_ms = self.record_transit(rtp_timestamp, now);
        let mut ext = self.extend(seq);
        self.stats.jitter_ms = self.jitter_ms();
        self.stats.target_delay_ms = self.target_ms();
        if let Some(next) = self.next
            && ext < next
        {
            self.late_run += 1;
            if self.late_run <= self.config.max_packets / 2 {
                self.stats.late += 1;
                return Arrival::Late;
            }
            // A long run of "old" packets is a restarted stream with a lower sequence number.
            self.resync();
            ext = self.extend(seq);
        }
        self.late_run = 0;
        if let Some(next) = self.next
            && ext - next >= self.config.max_packets as u64
        {
            // The sender jumped (restart) or we fell hopelessly behind: start over from here.
            self.resync();
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Arrival::Duplicate;
        }
        if self.packets.len() >= self.config.max_packets {
            // Only possible before playout starts: keep the newest.
            self.packets.pop_first();
        }
        self.packets.insert(ext, (media_ms, payload.to_vec()));
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

    /// The playout decision for the next 20 ms. Call exactly once per frame period.
    pub fn pop(&mut self, now: Instant) -> Playout {
        let target = self.target_ms();
        self.stats.target_delay_ms = target;
        let target = f64::from(target);
        let frame = f64::from(FRAME_MS);
        let Some(mut next) = self.next else {
            // Pre-buffering: start once the earliest packet has waited for the target delay.
            let Some((&first, &(media, _))) = self.packets.first_key_value() else {
                self.stats.current_delay_ms = 0;
                return Playout::Silence;
            };
            let delay = self.delay_of(media, now);
            self.stats.current_delay_ms = delay.max(0.0) as u32;
            if delay < target - frame / 2.0 {
                return Playout::Silence;
            }
            self.next = Some(first);
            self.next_media_ms = media;
            self.pops_since_drop = 0;
            self.pops_since_stretch = STRETCH_SPACING;
            return self.pop(now);
        };
        self.pops_since_drop = self.pops_since_drop.saturating_add(1);
        self.pops_since_stretch = self.pops_since_stretch.saturating_add(1);

        let mut media = self.packets.get(&next).map_or(self.next_media_ms, |p| p.0);
        let mut delay = self.delay_of(media, now);

        // Too much delay: drop a packet (only if the following slot has something to play).
        if delay >= target + 2.0 * frame
            && self.pops_since_drop >= ADJUST_PERIOD
            && self.packets.contains_key(&(next + 1))
        {
            self.packets.remove(&next);
            next += 1;
            self.next = Some(next);
            self.stats.dropped += 1;
            self.pops_since_drop = 0;
            media = self.packets.get(&next).map_or(media + frame, |p| p.0);
            self.next_media_ms = media;
            delay = self.delay_of(media, now);
        }
        self.stats.current_delay_ms = delay.max(0.0) as u32;

        let underrun = self.highest.is_none_or(|h| h < next);
        if underrun {
            self.stats.underruns += 1;
            self.underrun_run += 1;
            if self.underrun_run > MAX_UNDERRUN_RUN {
                // The stream stopped (mute, DTX, network outage): pre-buffer again when it resumes.
                self.next = None;
                self.underrun_run = 0;
                self.stats.resyncs += 1;
                return Playout::Silence;
            }
            // Conceal and wait for the slot's packet: this adds delay.
            self.stats.concealed += 1;
            return Playout::Conceal;
        }
        self.underrun_run = 0;

        // Too little delay (the jitter grew, or the slot's media time lies ahead): stretch.
        if delay <= target - frame && self.pops_since_stretch >= STRETCH_SPACING {
            self.pops_since_stretch = 0;
            self.stats.concealed += 1;
            return Playout::Conceal;
        }

        self.next = Some(next + 1);
        self.next_media_ms = media + frame;
        if let Some((_, payload)) = self.packets.remove(&next) {
            return Playout::Packet(payload);
        }
        // The slot's packet is missing but later ones are here: it is lost.
        self.stats.lost += 1;
        if let Some((_, following)) = self.packets.get(&(next + 1)) {
            self.stats.fec += 1;
            return Playout::Fec(following.clone());
        }
        self.stats.concealed += 1;
        Playout::Conceal
    }
}
