//! The pacer in webrtc-rs's interceptor chain (its `Slot::Pacer`): video RTP goes through a
//! [`PacingQueue`] that follows the congestion controller's target; audio RTP and all RTCP pass at once.
//!
//! webrtc-rs's own pacer holds every packet, audio included, to the estimate itself: under random loss the
//! estimate fell, keyframes queued for seconds and a call never recovered. Without any pacer, a keyframe
//! leaves as one burst: on a thin link (measured at 1 Mbit/s and 500 kbit/s with a 300 ms bottleneck
//! queue) it overflowed the queue, the loss asked for another keyframe and video fell to about 1 fps. This
//! one smooths video at 2.5 × the target with a bound on how long a packet may wait, and never holds
//! audio, so neither starves.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::shared::marshal::MarshalSize;

use super::pacing::PacingQueue;

pub struct Pacer {
    video: PacingQueue<TaggedPacket>,
    /// SSRCs of our audio streams: never paced.
    audio_ssrcs: HashSet<u32>,
    inbound: VecDeque<TaggedPacket>,
    /// Ready for the next interceptor: unpaced traffic and released video.
    outbound: VecDeque<TaggedPacket>,
}

impl Pacer {
    /// Paces video at a multiple of `initial_bps` until congestion control says otherwise.
    pub fn new(initial_bps: f64) -> Self {
        Pacer {
            video: PacingQueue::new(initial_bps),
            audio_ssrcs: HashSet::new(),
            inbound: VecDeque::new(),
            outbound: VecDeque::new(),
        }
    }

    fn release(&mut self, now: Instant) {
        while let Some(mut packet) = self.video.pop(now) {
            // It departs now: the send history congestion control reads must see the release instant,
            // or the time spent here would be charged to the network.
            packet.now = now;
            self.outbound.push_back(packet);
        }
    }
}

impl rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for Pacer {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = webrtc::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        // The congestion controller is wire-ward of us and attaches its new target to the feedback packet
        // that produced it, on its way in.
        if let Some(Attribute::TargetBitrateChanged { bits_per_second }) =
            msg.message.get(&Attribute::TargetBitrateChanged { bits_per_second: 0.0 })
        {
            self.video.set_target_bitrate(*bits_per_second);
        }
        self.inbound.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.inbound.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        let now = msg.now;
        let bits = match &msg.message.packet {
            Packet::Rtp(rtp) if !self.audio_ssrcs.contains(&rtp.header.ssrc) => {
                (rtp.marshal_size() * 8) as f64
            }
            _ => {
                self.outbound.push_back(msg);
                return Ok(());
            }
        };
        // A refused packet (queue full) is lost like one dropped on the wire: NACK or a keyframe repairs it.
        self.video.push(msg, bits, now);
        self.release(now);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.outbound.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        self.release(now);
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.video.next_release()
    }
}

impl Interceptor for Pacer {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if info.mime_type.to_ascii_lowercase().starts_with("audio/") {
            self.audio_ssrcs.insert(info.ssrc);
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.audio_ssrcs.remove(&info.ssrc);
    }

    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
