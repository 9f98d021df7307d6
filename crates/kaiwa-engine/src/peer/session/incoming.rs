//! The peer's media as it reaches us: its tracks (which play, see `remote_tracks.rs`), each to a decode
//! thread or the audio playout, and what it announces of its media.

use super::*;

impl PeerSession {
    pub(super) async fn on_track(&mut self, track: Arc<dyn TrackRemote>) {
        match track.kind().await {
            RtpCodecKind::Video => {
                let stream_id = track.stream_id().await;
                self.incoming_video.arrived(stream_id, track);
                self.play_video().await;
            }
            RtpCodecKind::Audio => self.play_audio(track).await,
            _ => {}
        }
    }

    /// What the peer says of its media: passed on to the owner; a screen it shares (or no longer shares)
    /// changes which track plays as what.
    pub(super) async fn on_remote_media(&mut self, media: MediaAnnouncement) {
        if !media.video_codecs.is_empty() {
            self.video_formats.peer_codecs = media.video_codecs;
        }
        let was_sharing = self.incoming_video.sharing();
        self.incoming_video.announced(media.screen);
        if was_sharing != self.incoming_video.sharing() {
            info!(peer = %self.remote.name, sharing = !was_sharing, "the peer's screen sharing changed");
        }
        self.play_video().await;
        let event = EngineEvent::PeerMedia {
            id: self.remote.id.clone(),
            mic: media.mic,
            camera: media.camera,
            screen: self.incoming_video.sharing(),
        };
        let _ = self.ctx.events.send(event).await;
    }

    /// Plays the track chosen for each role: what played before in that role stops (its decode thread
    /// ends) and the chosen one starts on a decode thread of its own.
    async fn play_video(&mut self) {
        for role in VideoRole::ALL {
            let chosen = self.incoming_video.chosen(role).map(|(n, t)| (n, t.clone()));
            let slot = &mut self.playing_video[role.index()];
            if slot.as_ref().map(|(n, _, _)| *n) == chosen.as_ref().map(|(n, _)| *n) {
                continue;
            }
            if let Some((_, playing, _)) = slot.take() {
                debug!(peer = %self.remote.name, ?role, "an incoming video track stops playing");
                playing.stop().await;
            }
            let Some((number, track)) = chosen else { continue };
            let sink = match role {
                VideoRole::Camera => self.ctx.sinks.video(&self.remote),
                VideoRole::Screen => self.ctx.sinks.screen(&self.remote),
            };
            let Some(sink) = sink else { continue };
            let name: String =
                self.remote.name.chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect();
            let label = match role {
                VideoRole::Camera => name,
                VideoRole::Screen => format!("{name}-s"),
            };
            let playback =
                VideoPlayback { label, sink, form: remote_rtp::PliForm::Alone, negotiated: Vec::new() };
            match remote_rtp::play_video(&self.stop, track, playback) {
                Ok((playing, stats)) => self.playing_video[role.index()] = Some((number, playing, stats)),
                Err(e) => warn!(error = %e, "cannot start a video decode thread"),
            }
        }
    }

    /// The newest audio track plays; the one before stops (see `remote_tracks.rs`).
    async fn play_audio(&mut self, track: Arc<dyn TrackRemote>) {
        if let Some(previous) = self.playing_audio.take() {
            debug!(peer = %self.remote.name, "a new incoming audio track replaces the one before");
            previous.stop().await;
        }
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
                remote_rtp::pump_audio(track, key, playout, stats, stop)
            }));
        }
    }
}
