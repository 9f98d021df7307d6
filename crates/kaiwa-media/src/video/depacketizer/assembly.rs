//! Frame assembly: in-order packets of one timestamp become a frame through the codec's
//! [`PayloadFormat`], or the frame breaks (a gap, a malformed payload, a missing start) and is reported
//! lost once; after a loss, frames wait for a keyframe.
#![warn(clippy::indexing_slicing)]

use super::{
    AccessUnit, Depacketizer, DepacketizerConfig, DepacketizerEvent, FrameData, Packet, Parsed, PayloadFormat,
};

/// The frame in progress.
#[derive(Debug, Default)]
pub(super) struct Assembly<F> {
    pub(super) active: bool,
    timestamp: u32,
    data: FrameData,
    broken: bool,
    loss_reported: bool,
    format: F,
}

pub(super) fn empty_frame<F: PayloadFormat>(config: &DepacketizerConfig) -> Assembly<F> {
    Assembly { data: FrameData::with_limit(config.max_frame_bytes), ..Assembly::default() }
}

impl<F: PayloadFormat> Depacketizer<F> {
    /// Marks the frame in progress as broken, reporting the loss once per frame.
    pub(super) fn break_frame(&mut self) {
        self.frame.broken = true;
        self.frame.data.bytes = Vec::new();
        if !self.frame.loss_reported {
            self.frame.loss_reported = true;
            self.emit_loss(0);
        }
    }

    /// Ends the frame in progress: emit it, or count it as dropped.
    pub(super) fn finish_frame(&mut self) {
        if !self.frame.active {
            return;
        }
        if self.frame.format.unfinished() && !self.frame.broken {
            self.break_frame();
        }
        let frame = std::mem::replace(&mut self.frame, empty_frame(&self.config));
        if frame.broken || frame.data.bytes.is_empty() {
            self.stats.dropped_frames += 1;
            return;
        }
        if self.waiting_for_keyframe {
            if !frame.data.keyframe {
                self.stats.dropped_frames += 1;
                return;
            }
            self.waiting_for_keyframe = false;
        }
        self.stats.frames += 1;
        self.push_event(DepacketizerEvent::Frame(AccessUnit {
            timestamp: frame.timestamp,
            data: frame.data.bytes,
            keyframe: frame.data.keyframe,
        }));
    }

    /// Feeds the next in-order packet to the frame assembler.
    pub(super) fn assemble(&mut self, pkt: Packet<F::Unit>) {
        let clean_start = match &pkt.parsed {
            // Padding neither starts, continues nor ends a frame (nor clears a pending gap).
            Parsed::Padding => return,
            Parsed::Unit(unit) => F::starts_frame(unit),
            Parsed::Broken => false,
        };
        if self.frame.active && pkt.timestamp != self.frame.timestamp {
            // The previous frame ended without its marker packet.
            if self.gap_pending && !self.frame.broken {
                // Its tail may be what was lost (already reported).
                self.frame.broken = true;
                self.frame.loss_reported = true;
            }
            self.finish_frame();
        }
        if !self.frame.active {
            self.frame = Assembly { active: true, timestamp: pkt.timestamp, ..empty_frame(&self.config) };
            if self.gap_pending && !clean_start {
                self.frame.broken = true;
                self.frame.loss_reported = true;
            }
        } else if self.gap_pending {
            self.frame.broken = true;
            self.frame.loss_reported = true;
            self.frame.data.bytes = Vec::new();
        }
        self.gap_pending = false;

        match pkt.parsed {
            Parsed::Padding => {}
            Parsed::Broken => self.break_frame(),
            Parsed::Unit(unit) => {
                if !self.frame.broken && self.frame.format.append(unit, &mut self.frame.data).is_err() {
                    self.break_frame();
                }
            }
        }
        if pkt.marker {
            self.finish_frame();
        }
    }
}
