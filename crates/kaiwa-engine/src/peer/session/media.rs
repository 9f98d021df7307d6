//! The session's media: our audio and video tracks (added, removed on camera off, each with its writer)
//! and the peer's incoming tracks (the newest of each kind played, see `remote_tracks.rs`).

use super::*;

impl PeerSession {
    pub(super) async fn add_video_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some((frames, control)) = &self.ctx.video else { return Ok(()) };
        let ssrc = rand::random::<u32>();
        let codecs = &self.ctx.network.video_codecs;
        let track = tracks::local_video_track(ssrc, codecs);
        let sender = self.pc.add_track(track.clone()).await?;
        tracks::offer_video_codecs(&self.pc, codecs).await;
        let negotiated = Arc::new(tracks::NegotiatedVideo::default());
        let stop = self.stop.child_token();
        tokio::spawn(tracks::write_video(
            track.clone(),
            ssrc,
            negotiated.clone(),
            frames.subscribe(),
            control.clone(),
            self.send_stats.clone(),
            stop.clone(),
        ));
        tokio::spawn(tracks::read_local_rtcp(
            track,
            negotiated.clone(),
            control.clone(),
            self.send_stats.clone(),
        ));
        self.video = Some(LocalTrack {
            sender,
            payload_type: Arc::new(AtomicU8::new(NO_PT)),
            video: Some((negotiated, None)),
            stop,
        });
        Ok(())
    }

    pub(super) async fn add_audio_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some(packets) = &self.ctx.audio else { return Ok(()) };
        let ssrc = rand::random::<u32>();
        let track = tracks::local_audio_track(ssrc)?;
        let sender = self.pc.add_track(track.clone()).await?;
        let payload_type = Arc::new(AtomicU8::new(NO_PT));
        let stop = self.stop.child_token();
        tokio::spawn(tracks::write_audio(
            track,
            ssrc,
            payload_type.clone(),
            packets.subscribe(),
            self.send_stats.clone(),
            stop.clone(),
        ));
        self.audio = Some(LocalTrack { sender, payload_type, video: None, stop });
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

    pub(super) async fn remove_video_track(&mut self) {
        if let Some(track) = self.video.take() {
            track.stop.cancel();
            if let Err(e) = self.pc.remove_track(&track.sender).await {
                warn!(error = %e, "cannot remove the video track");
            }
        }
    }

    pub(super) async fn on_track(&mut self, track: Arc<dyn TrackRemote>) {
        let kind = track.kind().await;
        // The newest track of a kind is played; the one before stops (see `remote_tracks.rs`).
        let previous = match kind {
            RtpCodecKind::Video => self.playing_video.take(),
            RtpCodecKind::Audio => self.playing_audio.take(),
            _ => None,
        };
        if let Some(previous) = previous {
            debug!(peer = %self.remote.name, ?kind, "a new incoming track replaces the one before");
            previous.stop().await;
        }
        match kind {
            RtpCodecKind::Video => {
                let Some(sink) = self.ctx.sinks.video(&self.remote) else { return };
                let label: String =
                    self.remote.name.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
                let (pli_tx, pli_rx) = mpsc::channel(4);
                match VideoReceiver::start(&label, sink, pli_tx) {
                    Ok(receiver) => {
                        self.video_stats = Some(receiver.stats.clone());
                        self.playing_video = Some(Playing::start(&self.stop, |stop| {
                            tracks::pump_video(track, receiver, pli_rx, stop)
                        }));
                    }
                    Err(e) => warn!(error = %e, "cannot start a video decode thread"),
                }
            }
            RtpCodecKind::Audio => {
                let stats = Arc::new(AudioRecvStats::default());
                let key = self.remote.id.clone();
                let add = PlayoutInput::Add {
                    key: key.clone(),
                    sink: self.ctx.sinks.audio(&self.remote),
                    stats: stats.clone(),
                };
                if self.ctx.playout.try_send(add).is_ok() {
                    self.audio_stats = Some(stats.clone());
                    let level = EngineEvent::PeerAudioLevel {
                        id: key.clone(),
                        level: stats.level.clone(),
                        volume: stats.volume.clone(),
                    };
                    let _ = self.ctx.events.send(level).await;
                    let playout = self.ctx.playout.clone();
                    self.playing_audio = Some(Playing::start(&self.stop, |stop| {
                        tracks::pump_audio(track, key, playout, stats, stop)
                    }));
                }
            }
            _ => {}
        }
    }
}
