//! The session's connection: events from the peer connection, its state (and ICE restarts when it goes
//! down), and the data channel.

use super::*;

impl PeerSession {
    pub(super) async fn on_pc_event(&mut self, event: PcEvent) {
        match event {
            // (Skipped while nothing an offer could settle: see `negotiation::on_offer_wanted`.)
            PcEvent::NegotiationNeeded => self.make_offer(OfferReason::NegotiationNeeded).await,
            PcEvent::LocalCandidate(c) => self
                .signal(SignalData::Candidate { candidate: Some(crate::peer::candidates::from_webrtc(c)) }),
            PcEvent::GatheringComplete => self.signal(SignalData::Candidate { candidate: None }),
            PcEvent::State(state) => self.on_connection_state(state).await,
            PcEvent::Track(track) => self.on_track(track).await,
            PcEvent::DataChannel(channel) => self.watch_chat(channel),
        }
    }

    pub(super) async fn on_connection_state(&mut self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                if self.connected_at.is_none() {
                    self.connected_at = Some(Instant::now());
                    info!(peer = %self.remote.name, setup_ms = self.created_at.elapsed().as_millis() as u64, "connected");
                }
                self.request_keyframes();
                self.set_state(PeerState::Connected).await;
            }
            RTCPeerConnectionState::Disconnected => {
                self.set_state(PeerState::Reconnecting).await;
                // A path that went quiet (a TURN connection reset, a NAT mapping gone) is not coming back by
                // itself: restart soon instead of waiting for ICE to call it failed.
                let inputs = self.inputs_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RESTART_AFTER).await;
                    let _ = inputs.send(PeerInput::RestartIfStillDown);
                });
            }
            RTCPeerConnectionState::Failed => {
                self.set_state(PeerState::Reconnecting).await;
                self.restart_ice("connection failed").await;
            }
            _ => {}
        }
    }

    /// ICE restart: the impolite side leads, so both ends do not restart at once.
    pub(super) async fn restart_ice(&mut self, why: &str) {
        if !negotiation::leads_ice_restart(self.polite) {
            return;
        }
        info!(peer = %self.remote.name, "{why}: restarting ICE");
        if let Err(e) = self.pc.restart_ice().await {
            warn!(error = %e, "ICE restart failed");
        }
        self.make_offer(OfferReason::Requested).await;
    }

    pub(super) async fn set_state(&mut self, state: PeerState) {
        self.connected_flag.store(state == PeerState::Connected, Relaxed);
        if self.state != state {
            self.state = state;
            let _ = self.ctx.events.send(EngineEvent::PeerState { id: self.remote.id.clone(), state }).await;
        }
    }

    pub(super) fn watch_chat(&mut self, channel: Arc<dyn DataChannel>) {
        let inputs = self.inputs_tx.clone();
        let connected = self.connected_flag.clone();
        tokio::spawn(async move {
            while let Some(event) = channel.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        let _ = inputs.send(PeerInput::ChatOpen(channel.clone()));
                    }
                    DataChannelEvent::OnMessage(msg) if msg.is_string => {
                        let Ok(text) = std::str::from_utf8(&msg.data) else { continue };
                        match ChannelMessage::parse(text) {
                            Some(ChannelMessage::Chat(chat)) => {
                                let _ = inputs.send(PeerInput::RemoteChat(chat));
                            }
                            Some(ChannelMessage::Id(id)) => {
                                let _ = inputs.send(PeerInput::RemoteId(id));
                            }
                            Some(ChannelMessage::Media(media)) => {
                                let _ = inputs.send(PeerInput::RemoteMedia(media));
                            }
                            None => debug!("unreadable data channel message"),
                        }
                    }
                    DataChannelEvent::OnClose => {
                        // The other end closed the channel: it is hanging up.
                        connected.store(false, Relaxed);
                        break;
                    }
                    _ => {}
                }
            }
        });
    }

    /// The connection's figures, with our pipelines' for this peer.
    pub(super) async fn stats(&self) -> PeerStats {
        crate::stats::collect(
            &self.pc,
            &self.remote,
            self.state,
            self.connected_at.map(|t| t - self.created_at),
            crate::stats::OwnFigures {
                sent: &self.send_stats,
                screen_sent: &self.screen_send_stats,
                video: self.playing_video[VideoRole::Camera.index()].as_ref().map(|(_, _, s)| &**s),
                screen: self.playing_video[VideoRole::Screen.index()].as_ref().map(|(_, _, s)| &**s),
                audio: self.audio_stats.as_deref(),
                negotiation: self.negotiation,
                relays: &self.ctx.relays,
                video_out: self.video.as_ref().and_then(|t| t.video.as_ref()).and_then(SentVideo::codec),
                video_formats: &self.video_formats,
                verification_code: crate::peer::identity::remote_fingerprint(&self.pc).await.and_then(
                    |theirs| {
                        crate::peer::identity::verification_code(self.ctx.identity.fingerprint(), &theirs)
                    },
                ),
                mids: None,
            },
        )
        .await
    }
}
