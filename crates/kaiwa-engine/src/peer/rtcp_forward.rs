//! The keyframe-request forwarder, an interceptor in webrtc-rs's chain: packets pass straight through, and
//! keyframe requests are marked on the way in. It lets PLI
//! ([RFC 4585 §6.3.1](https://www.rfc-editor.org/rfc/rfc4585#section-6.3.1)) and FIR
//! ([RFC 5104 §4.3.1](https://www.rfc-editor.org/rfc/rfc5104#section-4.3.1)) reach the application:
//! webrtc-rs 0.21 ends its chain with a terminus that swallows inbound RTCP unless a packet is marked
//! [`Attribute::DeliverToApplication`]. They then arrive on the local track's `poll()` and make the
//! encoder send a keyframe.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;

/// Where the forwarder sits in the chain: nearer the application than every built-in interceptor except
/// the jitter buffer (webrtc-rs orders interceptors by slot number).
pub const SLOT: usize = 12_500;

pub fn is_keyframe_request(p: &dyn rtc::rtcp::Packet) -> bool {
    p.as_any().downcast_ref::<PictureLossIndication>().is_some()
        || p.as_any().downcast_ref::<FullIntraRequest>().is_some()
}

fn mark_keyframe_requests(msg: &mut TaggedPacket) {
    if let Packet::Rtcp(packets) = &msg.message.packet
        && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
    {
        msg.message.add(Attribute::DeliverToApplication);
    }
}

#[derive(Default)]
pub struct KeyframeRequestForwarder {
    inbound: VecDeque<TaggedPacket>,
    outbound: VecDeque<TaggedPacket>,
}

impl rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestForwarder {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = webrtc::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        mark_keyframe_requests(&mut msg);
        self.inbound.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.inbound.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.outbound.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.outbound.pop_front()
    }
}

impl Interceptor for KeyframeRequestForwarder {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
