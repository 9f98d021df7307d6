//! The connection that receives everyone else through the SFU: the SFU offers (again whenever someone
//! starts or stops publishing, or sharing a screen), we answer. Each incoming track belongs to the
//! participant the server named for its m-section; their camera and shared screen go to decode threads
//! and their audio to playout, as on a mesh connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use kaiwa_protocol::{IceServer, PeerId, PeerInfo, SfuStream};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState, RTCSessionDescription};
use webrtc::rtp_transceiver::RtpReceiver;

use super::gather::Gather;
use super::publish::Publisher;
use super::streams::{self, Streams};
use crate::events::{EngineEvent, PeerState};
use crate::media::audio_playout::{AudioRecvStats, PlayoutInput};
use crate::media::video_recv::VideoRecvStats;
use crate::peer::factory::build_peer_connection;
use crate::peer::handler::{Forwarder, PcEvent};
use crate::peer::remote_rtp::{self, VideoPlayback};
use crate::peer::remote_tracks::Playing;
use crate::peer::{NegotiationCounters, PeerContext, SendStats, VideoFormats};
use crate::stats::{ConnectionReport, OwnFigures, PeerStats};

pub struct Receiver {
    pub pc: Arc<dyn PeerConnection>,
    pub gather: Gather,
    streams: Streams,
    /// Everyone whose media the SFU offered us, by id.
    participants: HashMap<PeerId, Participant>,
    state: PeerState,
    created_at: Instant,
    connected_at: Option<Instant>,
    stop: CancellationToken,
}

struct Participant {
    info: PeerInfo,
    video: Option<(Playing, Arc<VideoRecvStats>)>,
    /// The screen they share, while they share one.
    screen: Option<(Playing, Arc<VideoRecvStats>)>,
    audio: Option<(Playing, Arc<AudioRecvStats>)>,
    /// Their media was seen arriving (and the engine told).
    arrived: bool,
}

impl Participant {
    async fn stop(self) {
        let videos = [self.video, self.screen].into_iter().flatten().map(|(p, _)| p);
        for playing in videos.chain(self.audio.map(|(p, _)| p)) {
            playing.stop().await;
        }
    }
}

/// The playout key of a participant's audio through the SFU: not their id, which a mesh connection to
/// them still open uses (its end must not remove this stream).
fn playout_key(id: &PeerId) -> String {
    format!("sfu:{id}")
}

impl Receiver {
    pub async fn start(
        ctx: &PeerContext,
        ice_servers: &[IceServer],
        parent: &CancellationToken,
        forward: impl Fn(PcEvent) + Send + Sync + 'static,
    ) -> Result<Receiver, webrtc::error::Error> {
        let pc = build_peer_connection(
            &ctx.network,
            ice_servers,
            Some(&ctx.identity),
            crate::peer::dtls_role::answering_role(false),
            Arc::new(Forwarder::new(forward)),
        )
        .await?;
        Ok(Receiver {
            pc,
            gather: Gather::default(),
            streams: Streams::default(),
            participants: HashMap::new(),
            state: PeerState::Connecting,
            created_at: Instant::now(),
            connected_at: None,
            stop: parent.child_token(),
        })
    }

    /// Answers the SFU's offer. Participants no longer in it stop playing.
    pub async fn on_offer(
        &mut self,
        sdp: String,
        streams: &[SfuStream],
        room: &HashMap<PeerId, PeerInfo>,
    ) -> Result<(), webrtc::error::Error> {
        self.streams.update(streams);
        let gone: Vec<PeerId> =
            self.participants.keys().filter(|id| !self.streams.has(id)).cloned().collect();
        for id in gone {
            self.remove(&id).await;
        }
        // Those who stopped sharing a screen: it stops playing.
        for (id, participant) in &mut self.participants {
            if !self.streams.shares(id)
                && let Some((playing, _)) = participant.screen.take()
            {
                debug!(peer = %participant.info.name, "their shared screen ended");
                playing.stop().await;
            }
        }
        // Someone the server no longer has in the room (an offer made before they left) gets no place.
        for stream in streams {
            if let (false, Some(info)) =
                (self.participants.contains_key(&stream.peer), room.get(&stream.peer))
            {
                let participant = Participant {
                    info: info.clone(),
                    video: None,
                    screen: None,
                    audio: None,
                    arrived: false,
                };
                self.participants.insert(stream.peer.clone(), participant);
            }
        }
        self.pc.set_remote_description(RTCSessionDescription::offer(sdp)?).await?;
        let answer = self.pc.create_answer(None).await?;
        self.pc.set_local_description(answer).await
    }

    /// The participant left: their media stops.
    pub async fn remove(&mut self, id: &PeerId) {
        if let Some(participant) = self.participants.remove(id) {
            participant.stop().await;
        }
    }

    /// The m-section a track arrived on, and its receiver, from the connection's transceivers.
    async fn mid_of(&self, track: &Arc<dyn TrackRemote>) -> Option<(String, Arc<dyn RtpReceiver>)> {
        for transceiver in self.pc.get_transceivers().await {
            let Ok(Some(receiver)) = transceiver.receiver().await else { continue };
            if std::ptr::addr_eq(Arc::as_ptr(receiver.track()), Arc::as_ptr(track)) {
                return transceiver.mid().await.ok().flatten().map(|mid| (mid, receiver));
            }
        }
        None
    }

    /// A track of someone's: it replaces what played of theirs in its kind.
    pub async fn on_track(&mut self, ctx: &PeerContext, track: Arc<dyn TrackRemote>) {
        let Some((mid, rtp_receiver)) = self.mid_of(&track).await else {
            return debug!("a track from the SFU on no m-section we know");
        };
        let Some((id, screen)) = self.streams.peer(&mid).map(|(id, screen)| (id.clone(), screen)) else {
            return debug!(%mid, "a track from the SFU the server named no one for");
        };
        let Some(participant) = self.participants.get_mut(&id) else { return };
        let kind = track.kind().await;
        debug!(peer = %participant.info.name, %mid, ?kind, screen, "a track through the SFU");
        match kind {
            RtpCodecKind::Video => {
                let slot = if screen { &mut participant.screen } else { &mut participant.video };
                if let Some((playing, _)) = slot.take() {
                    playing.stop().await;
                }
                let sink = if screen {
                    ctx.sinks.screen(&participant.info)
                } else {
                    ctx.sinks.video(&participant.info)
                };
                let Some(sink) = sink else { return };
                let label: String =
                    participant.info.name.chars().filter(char::is_ascii_alphanumeric).take(10).collect();
                let playback = VideoPlayback {
                    label: format!("{label}-sfu{}", if screen { "-s" } else { "" }),
                    sink,
                    form: remote_rtp::PliForm::AfterReport,
                    negotiated: remote_rtp::received_video_codecs(&rtp_receiver).await,
                };
                match remote_rtp::play_video(&self.stop, track, playback) {
                    Ok(playing) => *slot = Some(playing),
                    Err(e) => warn!(error = %e, "cannot start a video decode thread"),
                }
            }
            RtpCodecKind::Audio => {
                if let Some((playing, _)) = participant.audio.take() {
                    playing.stop().await;
                }
                let stats = Arc::new(AudioRecvStats::default());
                let key = playout_key(&id);
                let add = PlayoutInput::Add {
                    key: key.clone(),
                    sink: ctx.sinks.audio(&participant.info),
                    stats: stats.clone(),
                };
                if ctx.playout.try_send(add).is_err() {
                    return warn!("audio playout busy: a participant's audio not played");
                }
                let level = EngineEvent::PeerAudioLevel {
                    id,
                    level: stats.level.clone(),
                    volume: stats.volume.clone(),
                };
                let _ = ctx.events.send(level).await;
                let playout = ctx.playout.clone();
                let pump_stats = stats.clone();
                let playing = Playing::start(&self.stop, |stop| {
                    remote_rtp::pump_audio(track, key, playout, pump_stats, stop)
                });
                participant.audio = Some((playing, stats));
            }
            _ => {}
        }
    }

    /// Participants whose media arrived since the last call; they are shown as connected.
    pub async fn arrivals(&mut self, ctx: &PeerContext) -> Vec<PeerId> {
        let mut arrived = Vec::new();
        for (id, participant) in &mut self.participants {
            if participant.arrived {
                continue;
            }
            let frames = participant.video.as_ref().map_or(0, |(_, s)| s.frames_decoded.load(Relaxed));
            let packets = participant.audio.as_ref().map_or(0, |(_, s)| s.packets.load(Relaxed));
            if streams::arrived(frames, packets) {
                info!(peer = %participant.info.name, "media arrives through the SFU");
                participant.arrived = true;
                arrived.push(id.clone());
            }
        }
        for id in &arrived {
            let state = if self.state == PeerState::Connecting { PeerState::Connected } else { self.state };
            let _ = ctx.events.send(EngineEvent::PeerState { id: id.clone(), state }).await;
        }
        arrived
    }

    /// The connection's state is everyone's whose media arrived.
    pub async fn on_state(&mut self, ctx: &PeerContext, state: RTCPeerConnectionState) {
        let now = match state {
            RTCPeerConnectionState::Connected => PeerState::Connected,
            RTCPeerConnectionState::Disconnected | RTCPeerConnectionState::Failed => PeerState::Reconnecting,
            RTCPeerConnectionState::Closed => PeerState::Closed,
            _ => return,
        };
        if now == PeerState::Connected && self.connected_at.is_none() {
            self.connected_at = Some(Instant::now());
        }
        if now == self.state {
            return;
        }
        self.state = now;
        for (id, participant) in &self.participants {
            if participant.arrived {
                let _ = ctx.events.send(EngineEvent::PeerState { id: id.clone(), state: now }).await;
            }
        }
    }

    /// Everyone's figures: what we decode of theirs; the network figures are the SFU connection's.
    pub async fn stats(&self, ctx: &PeerContext, publisher: Option<&Publisher>) -> Vec<PeerStats> {
        let nothing_sent = SendStats::default();
        let sent = publisher.map_or(&nothing_sent, |p| &p.sent);
        let screen_sent = publisher.map_or(&nothing_sent, |p| &p.screen_sent);
        // What we send, everyone receives: the sending connection's bytes and estimate.
        let (bytes_sent, target) = match publisher {
            Some(publisher) => publisher.sending().await,
            None => (0, None),
        };
        let connection = ConnectionReport::fetch(&self.pc).await;
        let mut all = Vec::new();
        for (id, participant) in &self.participants {
            let mids = self.streams.mids_of(id);
            let mut stats = crate::stats::figures(
                &connection,
                &participant.info,
                self.state,
                self.connected_at.map(|t| t - self.created_at),
                OwnFigures {
                    sent,
                    screen_sent,
                    video: participant.video.as_ref().map(|(_, s)| &**s),
                    screen: participant.screen.as_ref().map(|(_, s)| &**s),
                    audio: participant.audio.as_ref().map(|(_, s)| &**s),
                    negotiation: NegotiationCounters::default(),
                    relays: &ctx.relays,
                    video_out: publisher.and_then(Publisher::video_codec),
                    video_formats: &VideoFormats::default(),
                    verification_code: None,
                    mids: Some(&mids),
                },
            );
            stats.via_sfu = true;
            stats.bytes_sent = bytes_sent;
            stats.out.target_bitrate_bps = target.unwrap_or(0.0);
            all.push(stats);
        }
        all
    }

    pub async fn close(self) {
        self.stop.cancel();
        for (_, participant) in self.participants {
            participant.stop().await;
        }
        if let Err(e) = self.pc.close().await {
            debug!(error = %e, "close failed");
        }
    }
}
