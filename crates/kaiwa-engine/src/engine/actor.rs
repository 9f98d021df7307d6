//! The engine's actor: one task that owns the peer sessions and turns signaling events and the owner's
//! commands into what each session does.

use super::*;

impl Actor {
    pub(super) async fn run(
        mut self,
        mut signaling: mpsc::Receiver<SignalingEvent>,
        mut commands: mpsc::Receiver<Command>,
        mut rekeys: mpsc::UnboundedReceiver<IdClaim>,
        mut sfu_notes: mpsc::UnboundedReceiver<SfuNote>,
    ) {
        let mut bitrate_tick = tokio::time::interval(BITRATE_INTERVAL);
        let mut waits_tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                event = signaling.recv() => match event {
                    Some(e) => if !self.on_signaling(e).await { break },
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(Command::Leave(done)) => {
                        self.close_all().await;
                        self.ctx.signaling.leave().await;
                        let _ = done.send(());
                        return;
                    }
                    Some(c) => self.on_command(c).await,
                    None => break,
                },
                _ = bitrate_tick.tick() => {
                    self.end_share_if_source_ended().await;
                    self.follow_congestion_control().await;
                }
                Some(claim) = rekeys.recv() => self.on_claim(claim, now()).await,
                Some(note) = sfu_notes.recv() => self.on_sfu_note(note),
                _ = waits_tick.tick(), if !self.waits.is_empty() => self.on_waits_tick(now()).await,
            }
        }
        self.close_all().await;
    }

    pub(super) async fn emit(&self, event: EngineEvent) {
        let _ = self.events.send(event).await;
    }

    /// False when the call cannot go on.
    pub(super) async fn on_signaling(&mut self, event: SignalingEvent) -> bool {
        match event {
            SignalingEvent::Joined { id, room, peers, ice_servers, max_peers, rejoined, sfu } => {
                info!(%room, %id, others = peers.len(), rejoined, sfu, "in the room");
                self.leave_sfu_room().await;
                self.my_id = Some(id.clone());
                self.my_id_tx.send_replace(id.clone());
                self.generation += 1;
                self.waits.clear_put_off();
                self.announced = peers.iter().map(|p| (p.id.clone(), p.clone())).collect();
                let mut servers = ice_servers;
                servers.extend(self.extra_ice_servers.iter().cloned());
                self.ice_servers = self.turn_streams.rewrite(&servers);
                self.emit(EngineEvent::Joined { id, room, max_peers, rejoined }).await;
                if sfu {
                    self.joined_through_sfu(peers).await;
                    return true;
                }
                if rejoined {
                    // Tell everyone we are still connected to who we are now.
                    for handle in self.peers.values() {
                        let _ = handle.inputs.send(PeerInput::AnnounceId);
                    }
                }
                // The newcomer offers to everyone already there, except those we are still connected to
                // (they announced their new id over our connection before we got back).
                for peer in peers {
                    match self.peers.get_mut(&peer.id) {
                        Some(handle) => handle.generation = self.generation,
                        None => self.add_peer_soon(peer, true).await,
                    }
                }
                self.retry_claims().await;
            }
            SignalingEvent::PeerJoined(peer) => {
                self.announced.insert(peer.id.clone(), peer.clone());
                if self.through_sfu() {
                    self.peer_joined_through_sfu(peer).await;
                    return true;
                }
                self.add_peer_soon(peer, false).await;
                self.retry_claims().await;
            }
            SignalingEvent::PeerLeft(id) => {
                let info = self.announced.remove(&id);
                if self.through_sfu() {
                    self.peer_left_through_sfu(info, id).await;
                    return true;
                }
                self.waits.settled(&id);
                match self.peers.get(&id) {
                    Some(handle) if handle.connected.load(Relaxed) => {
                        info!(peer = %handle.info.name, "left the server, still connected: waiting for a rejoin");
                        self.waits.departed(id, now());
                    }
                    _ => self.end_session(&id).await,
                }
            }
            SignalingEvent::Signal { from, data } => {
                // A participant we meant to connect to a moment later is already talking to us.
                if let Some(put_off) = self.waits.take_put_off(&from) {
                    self.add_peer(put_off.peer, false).await;
                }
                self.deliver_signal(from, data);
            }
            event @ (SignalingEvent::Message { .. }
            | SignalingEvent::SfuPublish
            | SignalingEvent::SfuAnswer(_)
            | SignalingEvent::SfuOffer { .. }) => self.on_sfu_signaling(event).await,

            SignalingEvent::ServerError { code, message } => {
                warn!(%code, %message, "the server refused a message")
            }
            SignalingEvent::Reconnecting { reason, retry_in, .. } => {
                self.emit(EngineEvent::SignalingLost { reason, retry_in }).await;
            }
            SignalingEvent::Failed(failure) => {
                let code = match &failure {
                    SignalingFailure::RoomFull { .. } => Some(kaiwa_protocol::ErrorCode::RoomFull),
                    SignalingFailure::Refused { code, .. } => Some(*code),
                    _ => None,
                };
                self.emit(EngineEvent::Failed(Failure { code, message: failure.to_string() })).await;
                return false;
            }
        }
        true
    }

    pub(super) fn deliver_signal(&self, from: PeerId, data: kaiwa_protocol::SignalData) {
        match self.peers.get(&from) {
            Some(handle) => {
                let _ = handle.inputs.send(PeerInput::Remote(data));
            }
            None => debug!(%from, "signal from an unknown participant"),
        }
    }

    pub(super) async fn add_peer(&mut self, peer: PeerInfo, initiator: bool) {
        let Some(my_id) = self.my_id.clone() else { return };
        if self.peers.contains_key(&peer.id) {
            return;
        }
        match PeerSession::start(self.ctx.clone(), my_id, peer.clone(), self.ice_servers.clone(), initiator)
            .await
        {
            Ok(mut handle) => {
                handle.generation = self.generation;
                self.peers.insert(peer.id.clone(), handle);
                self.emit(EngineEvent::PeerJoined(peer)).await;
            }
            Err(e) => {
                warn!(error = %e, peer = %peer.name, "cannot create a peer connection");
                let why = format!("cannot set up a connection to {}: {e}", peer.name);
                self.emit(EngineEvent::Failed(Failure::from(why))).await;
            }
        }
    }

    pub(super) async fn on_command(&mut self, command: Command) {
        match command {
            Command::Chat(text) => {
                let msg = ChatMessage::now(&self.ctx.my_name, &text);
                if self.through_sfu() {
                    return self.chat_through_server(&msg);
                }
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::SendChat(msg.clone()));
                }
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.collect_stats().await);
            }
            Command::Renegotiate => {
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::Renegotiate);
                }
            }
            Command::SetVideo(on) => {
                self.ctx.video_enabled.store(on, std::sync::atomic::Ordering::Relaxed);
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::SetVideo(on));
                    let _ = handle.inputs.send(PeerInput::AnnounceMedia);
                }
                if let Some(link) = self.sfu.as_ref().filter(|_| on) {
                    link.request_keyframe();
                }
                self.announce_media_through_server_if_sfu();
            }
            Command::ShareScreen(source) => self.share_screen(source),
            Command::SetMuted(muted) => {
                self.ctx.mic_enabled.store(!muted, std::sync::atomic::Ordering::Relaxed);
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::AnnounceMedia);
                }
                self.announce_media_through_server_if_sfu();
            }
            Command::Leave(_) => {}
        }
    }

    /// Everyone's statistics: each session's, and everyone's received through the SFU.
    pub(super) async fn collect_stats(&self) -> Vec<PeerStats> {
        let mut all = match &self.sfu {
            Some(link) => link.stats().await,
            None => Vec::new(),
        };
        all.extend(self.session_stats().await);
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        all
    }

    /// The statistics of each session (a connection of our own to one participant).
    async fn session_stats(&self) -> Vec<PeerStats> {
        let mut pending = Vec::new();
        for handle in self.peers.values() {
            let (tx, rx) = oneshot::channel();
            if handle.inputs.send(PeerInput::Stats(tx)).is_ok() {
                pending.push(rx);
            }
        }
        let mut all = Vec::new();
        for rx in pending {
            if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), rx).await {
                all.push(s);
            }
        }
        all
    }

    /// Starts (or replaces, or ends) the screen's sender and tells every session; each adds or removes
    /// its screen track, which renegotiates. The old sender stops once no session holds its feed.
    pub(super) fn share_screen(&mut self, source: Option<Box<dyn VideoSource>>) {
        let sharing = self.screen.is_some();
        if sharing {
            // A new source is a new track: the old one leaves first.
            self.set_screen_feed(None);
        }
        self.screen = None;
        let Some(source) = source else { return };
        let (frames, _) = broadcast::channel(8);
        let config = VideoSendConfig::screen();
        let start = config.max_bitrate_bps.min(video_share(f64::from(self.ctx.network.initial_bitrate_bps)));
        match VideoSender::start(source, config, frames.clone()) {
            Ok(sender) => {
                sender.control.set_target_bitrate(start);
                let feed = VideoFeed { frames, control: sender.control.clone() };
                self.screen = Some(sender);
                self.set_screen_feed(Some(feed));
            }
            Err(e) => warn!(error = %e, "cannot start sending the screen"),
        }
    }

    /// A shared screen whose source stopped (its window closed) stops being shared, and the owner hears why.
    async fn end_share_if_source_ended(&mut self) {
        let Some(why) = self.screen.as_ref().and_then(|s| s.control.ended.get().cloned()) else { return };
        info!(%why, "the shared screen ended");
        self.share_screen(None);
        self.emit(EngineEvent::ScreenShareEnded(ShareEnded::SourceEnded(why))).await;
    }

    fn set_screen_feed(&self, feed: Option<VideoFeed>) {
        let on = feed.is_some();
        if let Ok(mut screen) = self.ctx.screen.lock() {
            *screen = feed;
        }
        for handle in self.peers.values() {
            let _ = handle.inputs.send(PeerInput::SetScreen(on));
        }
        if let Some(link) = &self.sfu {
            link.share_screen(self.ctx.screen_feed());
            self.announce_media_through_server();
        }
    }

    /// One encoder serves every peer, so it follows the most constrained path's estimate. While a screen
    /// is shared it gets most of that, the camera the rest ([`split_for_screen`]).
    pub(super) async fn follow_congestion_control(&self) {
        let camera = self.ctx.video.as_ref().map(|f| &f.control);
        let screen = self.screen.as_ref().map(|s| &s.control);
        if (camera.is_none() && screen.is_none())
            || (self.peers.is_empty() && self.sfu.is_none())
            || !self.ctx.network.congestion_control
        {
            return;
        }
        // Our own connections' estimates: the mesh sessions', and the one that sends to the SFU.
        let stats = self.session_stats().await;
        let sfu = match &self.sfu {
            Some(link) => link.target_bitrate().await,
            None => None,
        };
        let target = stats
            .iter()
            .map(|s| s.out.target_bitrate_bps)
            .chain(sfu)
            .filter(|b| *b > 0.0)
            .fold(f64::INFINITY, f64::min);
        let camera_on = camera.is_some() && self.ctx.video_enabled.load(Relaxed);
        // Everyone receives everyone through the SFU: a big room's camera is a small tile (and a shared
        // screen beside it still sharp).
        let (sfu_camera, sfu_screen) = (crate::sfu::SFU_VIDEO_BPS, crate::sfu::SFU_SCREEN_BPS);
        let sfu_cap = (if camera_on { sfu_camera } else { 0 }
            + if screen.is_some() { sfu_screen } else { 0 })
        .max(sfu_camera);
        let total = match (target.is_finite(), self.sfu.is_some()) {
            (true, true) => video_share(target).min(sfu_cap),
            (false, true) => sfu_cap,
            (true, false) => video_share(target),
            (false, false) => return,
        };
        let camera_cap = if self.sfu.is_some() { sfu_camera } else { u32::MAX };
        match (camera, screen) {
            (Some(camera), Some(screen)) => {
                let (for_camera, for_screen) = split_for_screen(total, camera_on, camera_cap);
                if camera_on {
                    camera.set_target_bitrate(for_camera);
                }
                screen.set_target_bitrate(for_screen);
            }
            (Some(only), None) | (None, Some(only)) => only.set_target_bitrate(total),
            (None, None) => {}
        }
    }

    pub(super) async fn close_all(&mut self) {
        if let Some(link) = self.sfu.take() {
            link.close().await;
        }
        for (_, handle) in self.peers.drain() {
            let _ = handle.inputs.send(PeerInput::Close);
        }
        // Give the sessions a moment to close their connections cleanly (DTLS close_notify, TURN refresh 0).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How a video budget is split while a screen is shared: the screen takes three quarters (its text must
/// stay sharp; the camera becomes a thumbnail beside it), and the camera's part is at most `camera_cap`;
/// the screen takes all of it while the camera is off.
pub(super) fn split_for_screen(total_bps: u32, camera_on: bool, camera_cap: u32) -> (u32, u32) {
    if !camera_on {
        return (0, total_bps);
    }
    let camera = (total_bps / 4).min(camera_cap);
    (camera, total_bps - camera)
}

/// How often the encoder is told the congestion controller's estimate.
const BITRATE_INTERVAL: Duration = Duration::from_millis(250);

/// The part of a connection's estimate the video encoder may use: room is left for audio (Opus at 32 kbit/s
/// is ~55 kbit/s with RTP, SRTP, UDP and IP headers at 50 packets a second) and for video's own headers.
pub(super) fn video_share(estimate_bps: f64) -> u32 {
    (estimate_bps * 0.9 - 60_000.0).max(30_000.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_screen_takes_most_of_the_budget_and_all_of_it_without_a_camera() {
        assert_eq!(split_for_screen(1_000_000, true, u32::MAX), (250_000, 750_000));
        assert_eq!(split_for_screen(1_000_000, false, u32::MAX), (0, 1_000_000));
        assert_eq!(split_for_screen(3, true, u32::MAX), (0, 3));
        // Through the SFU the camera stays a small tile's.
        assert_eq!(split_for_screen(2_000_000, true, 300_000), (300_000, 1_700_000));
    }
}
