//! The peer connection's event handler. webrtc-rs awaits these callbacks on the connection's driver loop,
//! so they only forward the event to the peer's session task and return.

use std::sync::Arc;

use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState,
};

pub enum PcEvent {
    NegotiationNeeded,
    LocalCandidate(RTCIceCandidateInit),
    GatheringComplete,
    State(RTCPeerConnectionState),
    Track(Arc<dyn TrackRemote>),
    DataChannel(Arc<dyn DataChannel>),
}

/// Hands each event to `deliver` (which must not block: it queues the event for the session's task).
pub struct Forwarder {
    deliver: Box<dyn Fn(PcEvent) + Send + Sync>,
}

impl Forwarder {
    pub fn new(deliver: impl Fn(PcEvent) + Send + Sync + 'static) -> Self {
        Forwarder { deliver: Box::new(deliver) }
    }

    fn send(&self, e: PcEvent) {
        (self.deliver)(e);
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Forwarder {
    async fn on_negotiation_needed(&self) {
        self.send(PcEvent::NegotiationNeeded);
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            self.send(PcEvent::LocalCandidate(init));
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.send(PcEvent::GatheringComplete);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.send(PcEvent::State(state));
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        self.send(PcEvent::DataChannel(channel));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.send(PcEvent::Track(track));
    }
}
