//! The actor in a room that goes through the SFU (docs/PROTOCOL.md "Big rooms"): one [`SfuLink`] instead
//! of a session per participant. A room that moves from a mesh keeps each mesh session until that
//! participant's media arrives through the SFU, then closes it without a word to the owner (the person is
//! still there). Chat lines and media states go through the server, as there is no data channel. A screen
//! we share goes to the SFU as well (to everyone at once).

use kaiwa_protocol::SfuStream;

use super::*;
use crate::chat::{ChannelMessage, MediaAnnouncement};
use crate::sfu::{SfuLink, SfuNote};

/// What a media state through the server says of the screen we share (the browser client says the same).
const SFU_SCREEN: &str = "sfu";

impl Actor {
    /// Whether the room goes through the SFU.
    pub(super) fn through_sfu(&self) -> bool {
        self.sfu.is_some()
    }

    /// The room goes through the SFU from now on (we joined it so, or it moved), with the screen we share.
    fn sfu_link(&mut self) -> &SfuLink {
        let ctx = &self.ctx;
        let (servers, notes) = (&self.ice_servers, &self.sfu_notes);
        self.sfu.get_or_insert_with(|| {
            info!("the room goes through the SFU");
            let link = SfuLink::start(ctx.clone(), servers.clone(), notes.clone());
            link.share_screen(ctx.screen_feed());
            link
        })
    }

    /// Joined a room that goes through the SFU: everyone is shown, and reached once the server says
    /// publish.
    pub(super) async fn joined_through_sfu(&mut self, peers: Vec<PeerInfo>) {
        self.sfu_link();
        for peer in peers {
            self.emit(EngineEvent::PeerJoined(peer)).await;
        }
        self.announce_media_through_server();
    }

    /// Before a (re)join: an SFU link of the room before ends, and its participants (under ids that are
    /// gone now) with it.
    pub(super) async fn leave_sfu_room(&mut self) {
        let Some(link) = self.sfu.take() else { return };
        link.close().await;
        let gone: Vec<PeerInfo> =
            self.announced.values().filter(|p| !self.peers.contains_key(&p.id)).cloned().collect();
        for peer in gone {
            self.emit(EngineEvent::PeerLeft(peer)).await;
        }
    }

    pub(super) async fn on_sfu_signaling(&mut self, event: SignalingEvent) {
        match event {
            SignalingEvent::SfuPublish => self.sfu_link().publish(),
            SignalingEvent::SfuAnswer(sdp) => match &self.sfu {
                Some(link) => link.on_answer(sdp),
                None => debug!("an SFU answer outside an SFU room"),
            },
            SignalingEvent::SfuOffer { sdp, streams } => self.on_sfu_offer(sdp, streams),
            SignalingEvent::Message { from, message } => self.on_message(from, message).await,
            _ => {}
        }
    }

    fn on_sfu_offer(&mut self, sdp: String, streams: Vec<SfuStream>) {
        let peers = self.announced.values().cloned().collect();
        match &self.sfu {
            Some(link) => link.on_offer(sdp, streams, peers),
            None => debug!("an SFU offer outside an SFU room"),
        }
    }

    /// A participant joined the SFU room: shown, told our media state; the SFU brings their media.
    pub(super) async fn peer_joined_through_sfu(&mut self, peer: PeerInfo) {
        self.send_through_server(&peer.id, self.media_state_json());
        self.emit(EngineEvent::PeerJoined(peer)).await;
    }

    /// A participant left the SFU room.
    pub(super) async fn peer_left_through_sfu(&mut self, info: Option<PeerInfo>, id: PeerId) {
        if let Some(link) = &self.sfu {
            link.left(id.clone());
        }
        if self.peers.contains_key(&id) {
            self.end_session(&id).await;
        } else if let Some(info) = info {
            self.emit(EngineEvent::PeerLeft(info)).await;
        }
    }

    /// A chat line or media state that came through the server, from someone in the room.
    async fn on_message(&mut self, from: PeerId, message: ChannelMessage) {
        if !self.announced.contains_key(&from) {
            return debug!(%from, "a message from someone not in the room");
        }
        match message {
            ChannelMessage::Chat(message) => self.emit(EngineEvent::Chat { from, message }).await,
            ChannelMessage::Media(MediaAnnouncement { mic, camera, screen, .. }) => {
                let screen = screen.is_some();
                self.emit(EngineEvent::PeerMedia { id: from, mic, camera, screen }).await
            }
            ChannelMessage::Id(_) => {}
        }
    }

    pub(super) fn on_sfu_note(&mut self, note: SfuNote) {
        match note {
            SfuNote::Arrived(id) => {
                if let Some(handle) = self.peers.remove(&id) {
                    info!(peer = %handle.info.name, "their media arrives through the SFU: mesh connection closed");
                    self.waits.settled(&id);
                    let _ = handle.inputs.send(PeerInput::Handover);
                }
            }
        }
    }

    /// Our microphone, camera and shared screen as the data channel would carry them; the screen only as
    /// [`SFU_SCREEN`] (receivers tell its stream by the SFU's description of it).
    fn media_state_json(&self) -> String {
        self.ctx.media_state(self.screen.as_ref().map(|_| SFU_SCREEN.to_owned()))
    }

    /// In an SFU room: tells everyone our microphone, camera and shared screen.
    pub(super) fn announce_media_through_server_if_sfu(&self) {
        if self.through_sfu() {
            self.announce_media_through_server();
        }
    }

    /// Tells everyone in the SFU room our microphone, camera and shared screen.
    pub(super) fn announce_media_through_server(&self) {
        let json = self.media_state_json();
        for id in self.announced.keys() {
            self.send_through_server(id, json.clone());
        }
    }

    /// A chat line for everyone in the SFU room.
    pub(super) fn chat_through_server(&self, message: &ChatMessage) {
        let json = message.to_json();
        for id in self.announced.keys() {
            self.send_through_server(id, json.clone());
        }
    }

    fn send_through_server(&self, to: &PeerId, json: String) {
        if !self.ctx.signaling.message(to, json) {
            debug!(%to, "signaling queue full or closed: message dropped");
        }
    }
}
