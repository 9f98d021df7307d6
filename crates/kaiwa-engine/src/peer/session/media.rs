//! The session's own media: our audio, camera and screen tracks (added, removed on camera off or when
//! sharing ends, each with its writer), and what we announce of them on the data channel.

use super::*;

impl PeerContext {
    /// The screen we share now, if any.
    pub fn screen_feed(&self) -> Option<VideoFeed> {
        self.screen.lock().ok().and_then(|s| s.clone())
    }

    /// `{"type":"media",…}` with our microphone and camera now, and `screen` as the receiver tells our
    /// shared screen (a mesh peer by its stream id; through the SFU only that we share).
    pub fn media_state(&self, screen: Option<String>) -> String {
        ChannelMessage::media_state(&MediaAnnouncement {
            mic: self.audio.is_some() && self.mic_enabled.load(Relaxed),
            camera: ctx_video_enabled(self),
            video_codecs: self.network.video_codecs.iter().map(|c| c.encoding_name().to_owned()).collect(),
            screen,
        })
    }
}

impl PeerSession {
    /// A video track of ours fed by `feed` (the camera's or the screen's sender), added to the connection,
    /// with its writer and its keyframe-request reader.
    async fn add_local_video(
        &mut self,
        feed: &VideoFeed,
        label: &str,
        stats: Arc<SendStats>,
    ) -> Result<LocalTrack, webrtc::error::Error> {
        let stop = self.stop.child_token();
        let codecs = &self.ctx.network.video_codecs;
        let (added, video) = tracks::add_video(&self.pc, feed, label, codecs, stats, stop.clone()).await?;
        Ok(LocalTrack {
            sender: added.sender,
            stream_id: added.stream_id,
            payload_type: Arc::new(AtomicU8::new(NO_PT)),
            video: Some(video),
            stop,
        })
    }

    pub(super) async fn add_video_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some(feed) = self.ctx.video.clone() else { return Ok(()) };
        self.video = Some(self.add_local_video(&feed, "camera", self.send_stats.clone()).await?);
        Ok(())
    }

    /// Adds the screen's track while we share one. The peer hears which stream it is from `set_screen`
    /// before the offer; on a new connection, from the announcement when the data channel opens, which may
    /// come after the track (the receiver sorts that out, `remote_tracks.rs`).
    pub(super) async fn add_screen_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some(feed) = self.ctx.screen_feed() else { return Ok(()) };
        self.screen = Some(self.add_local_video(&feed, "screen", self.screen_send_stats.clone()).await?);
        Ok(())
    }

    pub(super) async fn add_audio_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some(packets) = &self.ctx.audio else { return Ok(()) };
        let payload_type = Arc::new(AtomicU8::new(NO_PT));
        let stop = self.stop.child_token();
        let stats = self.send_stats.clone();
        let added = tracks::add_audio(&self.pc, packets, payload_type.clone(), stats, stop.clone()).await?;
        let (sender, stream_id) = (added.sender, added.stream_id);
        self.audio = Some(LocalTrack { sender, stream_id, payload_type, video: None, stop });
        Ok(())
    }

    /// Camera off removes our video track, camera on adds a new one; webrtc-rs then asks for negotiation
    /// and the usual offer/answer (perfect negotiation) follows.
    /// With no video format in common with the peer, the camera stays off for it (a track would only make
    /// every later offer fail: webrtc-rs refuses to describe a sender without codecs).
    pub(super) async fn set_video(&mut self, on: bool) {
        if on && self.video.is_none() && !self.video_formats.unavailable() {
            if let Err(e) = self.add_video_track().await {
                warn!(error = %e, "cannot add the video track");
            }
        } else if !on {
            self.remove_video_track().await;
        }
    }

    /// Sharing starts (a track for the screen) or ends (its track removed); the peer hears of it on the
    /// data channel before the offer, so it can tell the new track from a camera. As for the camera, not
    /// with a peer we share no video format with.
    pub(super) async fn set_screen(&mut self, on: bool) {
        if on && self.screen.is_none() && !self.video_formats.unavailable() {
            if let Err(e) = self.add_screen_track().await {
                warn!(error = %e, "cannot add the screen's track");
            }
        } else if !on {
            self.remove_screen_track().await;
        }
        self.announce_media().await;
    }

    async fn remove_track(&mut self, track: Option<LocalTrack>) {
        if let Some(track) = track {
            track.stop.cancel();
            if let Err(e) = self.pc.remove_track(&track.sender).await {
                warn!(error = %e, "cannot remove a track");
            }
        }
    }

    pub(super) async fn remove_video_track(&mut self) {
        let track = self.video.take();
        self.remove_track(track).await;
    }

    pub(super) async fn remove_screen_track(&mut self) {
        let track = self.screen.take();
        self.remove_track(track).await;
    }

    /// Every video track of ours starts again on a keyframe (the connection is up, or back up).
    pub(super) fn request_keyframes(&self) {
        for video in self.video.iter().chain(self.screen.iter()).filter_map(|t| t.video.as_ref()) {
            video.request_keyframe();
        }
    }

    /// `{"type":"media",…}` with our microphone, camera and screen now.
    pub(super) fn media_announcement(&self) -> String {
        self.ctx.media_state(self.screen.as_ref().map(|t| t.stream_id.clone()))
    }

    pub(super) async fn announce_media(&self) {
        if let Some(channel) = &self.chat {
            let _ = channel.send_text(&self.media_announcement()).await;
        }
    }
}
