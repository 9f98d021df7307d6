//! RTP frame assembly shared by every video payload format: packets are put back in sequence order inside
//! a small reorder window, grouped into frames by timestamp and marker bit, and handed to a
//! [`PayloadFormat`] that knows how its codec's payloads make up a frame (H.264: RFC 6184,
//! [`super::h264_depacketizer`]; VP8: RFC 7741, [`super::vp8_rtp`]).
//!
//! Takes plain RTP fields (`sequence_number`, `timestamp`, `marker`, `payload`) — no webrtc types — and
//! produces complete frames. A sequence gap that the window cannot close, a missing fragment or a malformed
//! payload drops the affected frame and yields a [`DepacketizerEvent::Loss`] so the caller can send a PLI.
//! After a loss, frames are withheld until a keyframe arrives (a decoder could only make garbage of them).
//!
//! Memory is bounded: at most [`DepacketizerConfig::reorder_window`] packets wait for reordering, a frame
//! may grow to [`DepacketizerConfig::max_frame_bytes`], and at most
//! [`DepacketizerConfig::max_pending_events`] events wait to be polled (older frames are dropped, as loss).
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::collections::{BTreeMap, VecDeque};

mod assembly;

pub use super::payload_format::{DepacketizerError, FrameBroken, FrameData, MAX_RTP_PAYLOAD, PayloadFormat};
use assembly::{Assembly, empty_frame};

/// Limits and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepacketizerConfig {
    /// Packets that may wait for a missing earlier one before it is declared lost (also the bound on
    /// buffered packets).
    pub reorder_window: usize,
    /// A missing packet is also declared lost once this many later frames have completely arrived (their
    /// marker packets are buffered) and at least [`Self::min_reorder_packets`] packets were seen after it.
    /// Three frames (~100 ms at 30 fps) leave time for a NACK retransmission.
    pub reorder_frames: usize,
    /// See [`Self::reorder_frames`]: tolerates a few packets of reordering among tiny frames.
    pub min_reorder_packets: usize,
    /// Largest frame assembled (bytes); bigger frames are dropped as loss.
    pub max_frame_bytes: usize,
    /// Events kept for [`Depacketizer::poll_event`]; when full the oldest frame is dropped.
    pub max_pending_events: usize,
    /// After a loss, withhold frames until a keyframe arrives.
    pub wait_for_keyframe_after_loss: bool,
    /// This many "old" packets in a row are a new stream (a sender restarted with a lower sequence
    /// number), not duplicates: start over. Separate from [`Self::reorder_window`], which an engine may
    /// widen to wait longer for repairs without making a restart take longer to notice.
    pub stale_resync: usize,
}

impl Default for DepacketizerConfig {
    fn default() -> Self {
        Self {
            reorder_window: 64,
            reorder_frames: 3,
            min_reorder_packets: 8,
            max_frame_bytes: 4 * 1024 * 1024,
            max_pending_events: 16,
            wait_for_keyframe_after_loss: true,
            stale_resync: 64,
        }
    }
}

/// One complete frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// RTP timestamp (90 kHz clock).
    pub timestamp: u32,
    /// The frame as its decoder takes it (H.264: an Annex-B byte stream with 4-byte start codes; VP8: the
    /// compressed frame).
    pub data: Vec<u8>,
    /// A decoder can start here (an H.264 IDR, a VP8 keyframe).
    pub keyframe: bool,
}

/// Output of the depacketizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepacketizerEvent {
    /// A complete frame, in order.
    Frame(AccessUnit),
    /// Something was lost or broken and a frame was (or will be) dropped: request a keyframe (PLI).
    Loss {
        /// Sequence numbers skipped over (0 when the loss was a malformed packet, a missing FU-A start,
        /// an oversized frame or an event-queue overflow).
        missing_packets: u64,
    },
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerStats {
    /// Packets accepted (including malformed ones).
    pub packets: u64,
    /// Packets that were duplicates or arrived after their place in the sequence had passed.
    pub late_or_duplicate: u64,
    /// Sequence numbers declared missing.
    pub lost_packets: u64,
    /// Malformed payloads.
    pub malformed: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Frames dropped (incomplete, oversized, withheld while waiting for a keyframe, or overflowed).
    pub dropped_frames: u64,
    /// Loss events emitted.
    pub loss_events: u64,
    /// Restarts after a long run of packets from "before" the stream position (sender restart).
    pub resyncs: u64,
}

#[derive(Debug)]
enum Parsed<U> {
    Unit(U),
    /// Malformed: the packet breaks its frame.
    Broken,
    /// No payload: a padding-only packet (RFC 3550 §5.1; the padding itself is stripped before us).
    /// Browsers send these on the video SSRC to probe bandwidth, e.g. while the camera is off. It takes
    /// up its sequence number and nothing else.
    Padding,
}

#[derive(Debug)]
struct Packet<U> {
    timestamp: u32,
    marker: bool,
    parsed: Parsed<U>,
    bytes: usize,
}

/// The depacketizer for one RTP video stream (one SSRC) of payload format `F`.
#[derive(Debug)]
pub struct Depacketizer<F: PayloadFormat> {
    config: DepacketizerConfig,
    /// Highest extended sequence number seen.
    highest: Option<u64>,
    /// Next extended sequence number to hand to the assembler; `None` until the stream starts.
    next: Option<u64>,
    reorder: BTreeMap<u64, Packet<F::Unit>>,
    frame: Assembly<F>,
    waiting_for_keyframe: bool,
    gap_pending: bool,
    overflow_loss: bool,
    force_skip: bool,
    stale_run: usize,
    events: VecDeque<DepacketizerEvent>,
    stats: DepacketizerStats,
}

impl<F: PayloadFormat> Default for Depacketizer<F> {
    fn default() -> Self {
        Self::new(DepacketizerConfig::default())
    }
}

impl<F: PayloadFormat> Depacketizer<F> {
    /// Creates a depacketizer; zero limits are raised to 1.
    pub fn new(mut config: DepacketizerConfig) -> Self {
        config.reorder_window = config.reorder_window.max(1);
        config.reorder_frames = config.reorder_frames.max(1);
        config.max_pending_events = config.max_pending_events.max(1);
        config.max_frame_bytes = config.max_frame_bytes.max(1);
        Self {
            config,
            highest: None,
            next: None,
            reorder: BTreeMap::new(),
            frame: empty_frame(&config),
            waiting_for_keyframe: false,
            gap_pending: false,
            overflow_loss: false,
            force_skip: false,
            stale_run: 0,
            events: VecDeque::new(),
            stats: DepacketizerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> DepacketizerStats {
        self.stats
    }

    /// Whether frames are being withheld until a keyframe arrives (keep sending PLIs).
    pub fn waiting_for_keyframe(&self) -> bool {
        self.waiting_for_keyframe
    }

    /// Next output event, in order.
    pub fn poll_event(&mut self) -> Option<DepacketizerEvent> {
        if std::mem::take(&mut self.overflow_loss) {
            return Some(DepacketizerEvent::Loss { missing_packets: 0 });
        }
        self.events.pop_front()
    }

    /// Feeds one RTP packet. An `Err` means the payload was malformed: the packet still counts for
    /// sequencing, its frame is dropped and a loss event follows.
    pub fn push(
        &mut self,
        sequence_number: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), DepacketizerError> {
        self.stats.packets += 1;
        let mut ext = self.extend(sequence_number);
        if self.next.is_some_and(|n| ext < n) {
            self.stale_run += 1;
            if self.stale_run > self.config.stale_resync {
                // A long run of "old" packets is a new stream (sender restart with a lower sequence
                // number), not a storm of duplicates: start over from here.
                self.resync();
                ext = self.extend(sequence_number);
            }
        } else {
            self.stale_run = 0;
        }
        let parsed = if payload.is_empty() {
            Ok(Parsed::Padding)
        } else if payload.len() > self.config.max_frame_bytes.min(MAX_RTP_PAYLOAD) {
            Err(DepacketizerError::TooLarge(payload.len()))
        } else {
            F::parse(payload).map(Parsed::Unit)
        };
        let (parsed, result, bytes) = match parsed {
            Ok(p) => (p, Ok(()), payload.len()),
            Err(e) => {
                self.stats.malformed += 1;
                (Parsed::Broken, Err(e), 0)
            }
        };
        let stale = self.next.is_some_and(|n| ext < n);
        if stale || self.reorder.contains_key(&ext) {
            self.stats.late_or_duplicate += 1;
            return result;
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.reorder.insert(ext, Packet { timestamp, marker, parsed, bytes });
        self.drain();
        result
    }

    /// Maps a 16-bit sequence number to the 64-bit sequence closest to the highest seen (RFC 3550 A.1
    /// style unwrapping). Starts at 2^32 so that early reordering cannot go below zero.
    fn extend(&self, seq: u16) -> u64 {
        match self.highest {
            None => (1u64 << 32) + u64::from(seq),
            Some(h) => {
                let delta = i64::from(seq.wrapping_sub(h as u16) as i16);
                h.saturating_add_signed(delta)
            }
        }
    }

    fn resync(&mut self) {
        self.stats.resyncs += 1;
        self.stale_run = 0;
        self.reorder.clear();
        self.next = None;
        self.highest = None;
        self.gap_pending = false;
        if self.frame.active {
            self.break_frame();
        }
        self.frame = empty_frame(&self.config);
        if !self.waiting_for_keyframe || !self.config.wait_for_keyframe_after_loss {
            self.emit_loss(0);
        }
    }

    /// Whether packets are held back waiting for an earlier, missing one (a NACK's retransmission may
    /// still fill the gap). An engine bounds that wait in time with [`Self::skip_missing`].
    pub fn is_waiting_for_missing(&self) -> bool {
        self.next.is_some() && !self.reorder.is_empty()
    }

    /// Stops waiting for missing packets: every gap before buffered packets is declared lost now.
    ///
    /// The depacketizer has no clock; it gives up on a missing packet when later packets show it is
    /// overdue. When the stream pauses right after a gap, nothing later arrives: an engine that wants a
    /// time bound calls this from its timer (e.g. when no packet has arrived for 100 ms).
    pub fn skip_missing(&mut self) {
        self.force_skip = true;
        self.drain();
        self.force_skip = false;
    }

    /// Moves packets from the reorder buffer to the assembler in sequence order.
    fn drain(&mut self) {
        if self.next.is_none() {
            // Start once the earliest packet heads a contiguous run ending in a marker, or the window fills.
            let Some(&first) = self.reorder.keys().next() else { return };
            let complete = (first..)
                .zip(&self.reorder)
                .take_while(|(expect, (seq, _))| *expect == **seq)
                .any(|(_, (_, pkt))| pkt.marker);
            if !complete && self.reorder.len() < self.config.reorder_window && !self.force_skip {
                return;
            }
            self.next = Some(first);
        }
        loop {
            let Some(next) = self.next else { return };
            if let Some(pkt) = self.reorder.remove(&next) {
                self.next = Some(next + 1);
                self.assemble(pkt);
                continue;
            }
            // `next` is missing: wait unless the window is exceeded.
            let Some((&first, _)) = self.reorder.first_key_value() else { return };
            let span = self.highest.map_or(0, |h| h.saturating_sub(next));
            let buffered_bytes: usize = self.reorder.values().map(|p| p.bytes).sum();
            let later_frames = self.reorder.values().filter(|p| p.marker).count();
            if !self.force_skip
                && span < self.config.reorder_window as u64
                && buffered_bytes <= self.config.max_frame_bytes
                && (later_frames < self.config.reorder_frames
                    || span < self.config.min_reorder_packets as u64)
            {
                return;
            }
            let missing = first - next;
            self.stats.lost_packets += missing;
            self.emit_loss(missing);
            self.gap_pending = true;
            self.next = Some(first);
        }
    }

    fn emit_loss(&mut self, missing_packets: u64) {
        self.stats.loss_events += 1;
        if self.config.wait_for_keyframe_after_loss {
            self.waiting_for_keyframe = true;
        }
        self.push_event(DepacketizerEvent::Loss { missing_packets });
    }

    fn push_event(&mut self, event: DepacketizerEvent) {
        while self.events.len() >= self.config.max_pending_events {
            // Nobody is polling fast enough: drop the oldest event. A dropped frame is itself a loss, which
            // `poll_event` reports before anything else.
            match self.events.pop_front() {
                Some(DepacketizerEvent::Frame(_)) => {
                    self.stats.dropped_frames += 1;
                    self.stats.loss_events += 1;
                    if self.config.wait_for_keyframe_after_loss {
                        self.waiting_for_keyframe = true;
                    }
                    self.overflow_loss = true;
                }
                Some(DepacketizerEvent::Loss { .. }) => self.overflow_loss = true,
                None => break,
            }
        }
        self.events.push_back(event);
    }
}
