//! [`AudioReceiver`]: jitter buffer + Opus decoder for one remote participant, producing 20 ms PCM frames.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::time::Instant;

use super::FRAME_SAMPLES;
use super::jitter::{Arrival, JitterBuffer, JitterConfig, JitterStats, Playout};
use super::opus_codec::{OpusDecoder, OpusError};

/// Receiver counters on top of the jitter buffer's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiverStats {
    /// The jitter buffer's counters.
    pub jitter: JitterStats,
    /// Packets that failed to decode (concealed instead).
    pub decode_errors: u64,
    /// Frames produced.
    pub frames: u64,
}

/// One remote audio stream: push RTP payloads as they arrive, pop one 960-sample frame every 20 ms.
#[derive(Debug)]
pub struct AudioReceiver {
    jitter: JitterBuffer,
    decoder: OpusDecoder,
    decode_errors: u64,
    frames: u64,
}

impl AudioReceiver {
    /// Creates a receiver.
    pub fn new(config: JitterConfig) -> Result<Self, OpusError> {
        Ok(Self {
            jitter: JitterBuffer::new(config),
            decoder: OpusDecoder::new()?,
            decode_errors: 0,
            frames: 0,
        })
    }

    /// Feeds one RTP packet (sequence number, 48 kHz timestamp, Opus payload).
    pub fn push(&mut self, seq: u16, rtp_timestamp: u32, payload: &[u8], now: Instant) -> Arrival {
        self.jitter.push(seq, rtp_timestamp, payload, now)
    }

    /// The next 20 ms of audio. Never fails: undecodable packets are concealed and counted.
    pub fn pop(&mut self, now: Instant) -> [i16; FRAME_SAMPLES] {
        let mut out = [0i16; FRAME_SAMPLES];
        let result = match self.jitter.pop(now) {
            Playout::Packet(p) => self.decoder.decode(&p, &mut out),
            Playout::Fec(next) => self.decoder.decode_fec(&next, &mut out),
            Playout::Conceal => self.decoder.conceal(&mut out),
            Playout::Silence => Ok(()),
        };
        if result.is_err() {
            self.decode_errors += 1;
            if self.decoder.conceal(&mut out).is_err() {
                out.fill(0);
            }
        }
        self.frames += 1;
        out
    }

    /// Counters.
    pub fn stats(&self) -> ReceiverStats {
        ReceiverStats { jitter: self.jitter.stats(), decode_errors: self.decode_errors, frames: self.frames }
    }
}
