//! Opus encoder and decoder ([RFC 6716](https://www.rfc-editor.org/rfc/rfc6716)) for call audio: mono,
//! 48 kHz, 20 ms frames, in-band FEC. RTP carriage is [RFC 7587](https://www.rfc-editor.org/rfc/rfc7587)
//! (48 kHz RTP clock whatever the coded bandwidth; browsers send mono unless `stereo=1` is negotiated).
//!
//! Loss handling on the decoder side (RFC 6716 §4.4 and libopus' API):
//! * packet loss concealment (PLC): [`OpusDecoder::conceal`] decodes "nothing" for one frame;
//! * forward error correction: when packet *n* is lost but *n+1* has arrived,
//!   [`OpusDecoder::decode_fec`] recovers *n* from the LBRR data carried in *n+1*; *n+1* is then decoded
//!   normally in its own turn.

use opus::{Application, Bitrate, Channels, Decoder, Encoder};
use thiserror::Error;

use super::{FRAME_SAMPLES, SAMPLE_RATE};

/// Largest Opus packet we produce or accept (RFC 6716 §3.4: 1275 bytes per frame, up to 48 frames of
/// 2.5 ms; a 20 ms mono frame is far smaller).
pub const MAX_PACKET: usize = 1500;
/// Longest duration one Opus packet can decode to (120 ms at 48 kHz).
pub const MAX_PACKET_SAMPLES: usize = 5760;

/// Opus errors.
#[derive(Debug, Error)]
pub enum OpusError {
    /// The input frame is not exactly [`FRAME_SAMPLES`] long.
    #[error("expected {FRAME_SAMPLES} samples, got {0}")]
    FrameSize(usize),
    /// Bad configuration value.
    #[error("invalid opus config: {0}")]
    InvalidConfig(String),
    /// The packet is empty or too large.
    #[error("invalid packet of {0} bytes")]
    InvalidPacket(usize),
    /// The packet decodes to something other than one 20 ms frame.
    #[error("packet decodes to {0} samples, expected {FRAME_SAMPLES}")]
    UnexpectedDuration(usize),
    /// libopus reported an error.
    #[error("libopus: {0}")]
    Codec(#[from] opus::Error),
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusEncoderConfig {
    /// Target bitrate in bits per second (6 000..=510 000).
    pub bitrate_bps: u32,
    /// In-band FEC (LBRR) on.
    pub fec: bool,
    /// Expected packet loss, percent (0..=100); drives how much FEC the encoder spends.
    pub expected_loss_pct: u8,
}

impl Default for OpusEncoderConfig {
    fn default() -> Self {
        Self { bitrate_bps: 32_000, fec: true, expected_loss_pct: 10 }
    }
}

/// Mono 48 kHz VoIP encoder producing one packet per 20 ms frame.
pub struct OpusEncoder {
    inner: Encoder,
    config: OpusEncoderConfig,
    out: Vec<u8>,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// Creates an encoder.
    pub fn new(config: OpusEncoderConfig) -> Result<Self, OpusError> {
        let inner = Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip)?;
        let mut enc = Self { inner, config, out: vec![0; MAX_PACKET] };
        enc.set_bitrate(config.bitrate_bps)?;
        enc.inner.set_inband_fec(config.fec)?;
        enc.set_expected_loss(config.expected_loss_pct)?;
        Ok(enc)
    }

    /// The current settings.
    pub fn config(&self) -> OpusEncoderConfig {
        self.config
    }

    /// Changes the bitrate (6 kbps – 510 kbps).
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), OpusError> {
        if !(6_000..=510_000).contains(&bps) {
            return Err(OpusError::InvalidConfig(format!("bitrate {bps}")));
        }
        self.inner.set_bitrate(Bitrate::Bits(bps as i32))?;
        self.config.bitrate_bps = bps;
        Ok(())
    }

    /// Changes the expected loss percentage (clamped to 100).
    pub fn set_expected_loss(&mut self, pct: u8) -> Result<(), OpusError> {
        let pct = pct.min(100);
        self.inner.set_packet_loss_perc(i32::from(pct))?;
        self.config.expected_loss_pct = pct;
        Ok(())
    }

    /// Encodes exactly one 20 ms frame ([`FRAME_SAMPLES`] samples).
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, OpusError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(OpusError::FrameSize(pcm.len()));
        }
        let n = self.inner.encode(pcm, &mut self.out)?;
        Ok(self.out.get(..n).unwrap_or_default().to_vec())
    }
}

/// Mono 48 kHz decoder for one remote stream.
pub struct OpusDecoder {
    inner: Decoder,
    scratch: Vec<i16>,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// Creates a decoder.
    pub fn new() -> Result<Self, OpusError> {
        Ok(Self { inner: Decoder::new(SAMPLE_RATE, Channels::Mono)?, scratch: vec![0; MAX_PACKET_SAMPLES] })
    }

    /// Decodes one packet into `out` (exactly [`FRAME_SAMPLES`] long). A packet of another duration is
    /// an error (the decoder state has still advanced; follow with [`conceal`](Self::conceal) if needed).
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<(), OpusError> {
        if out.len() != FRAME_SAMPLES {
            return Err(OpusError::FrameSize(out.len()));
        }
        if packet.is_empty() || packet.len() > MAX_PACKET {
            return Err(OpusError::InvalidPacket(packet.len()));
        }
        let n = self.inner.decode(packet, &mut self.scratch, false)?;
        if n != FRAME_SAMPLES {
            return Err(OpusError::UnexpectedDuration(n));
        }
        out.copy_from_slice(&self.scratch[..FRAME_SAMPLES]);
        Ok(())
    }

    /// Packet loss concealment for one lost 20 ms frame.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<(), OpusError> {
        if out.len() != FRAME_SAMPLES {
            return Err(OpusError::FrameSize(out.len()));
        }
        let n = self.inner.decode(&[], out, false)?;
        if n != FRAME_SAMPLES {
            out.fill(0);
            return Err(OpusError::UnexpectedDuration(n));
        }
        Ok(())
    }

    /// Recovers the lost frame *before* `next_packet` from the FEC data in `next_packet`. If that packet
    /// carries no FEC data libopus falls back to concealment.
    pub fn decode_fec(&mut self, next_packet: &[u8], out: &mut [i16]) -> Result<(), OpusError> {
        if out.len() != FRAME_SAMPLES {
            return Err(OpusError::FrameSize(out.len()));
        }
        if next_packet.is_empty() || next_packet.len() > MAX_PACKET {
            return Err(OpusError::InvalidPacket(next_packet.len()));
        }
        // With fec = true, libopus decodes exactly out.len() samples of the previous frame.
        let n = self.inner.decode(next_packet, out, true)?;
        if n != FRAME_SAMPLES {
            out.fill(0);
            return Err(OpusError::UnexpectedDuration(n));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        assert!(enc.encode(&[0; 100]).is_err());
        assert!(enc.set_bitrate(1).is_err());
        let mut dec = OpusDecoder::new().unwrap();
        let mut out = [0i16; FRAME_SAMPLES];
        assert!(dec.decode(&[], &mut out).is_err());
        assert!(dec.decode(&[0xff; 3], &mut out).is_err() || out.len() == FRAME_SAMPLES);
        assert!(dec.decode_fec(&[], &mut out).is_err());
        assert!(dec.conceal(&mut [0; 10]).is_err());
        dec.conceal(&mut out).unwrap();
    }
}
