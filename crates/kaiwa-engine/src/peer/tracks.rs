//! Local tracks and the tasks writing encoded media into them (remote tracks' pumps: `remote_rtp.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_media::video::{VideoCodec, VideoPacketizer};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::debug;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};

use super::factory::{opus_codec, video_codec_parameters};
use super::rtcp_forward::is_keyframe_request;
use crate::media::video_send::{CodecUse, EncodedVideo, VideoFeed, VideoSendControl};

/// Payload type not negotiated (yet).
pub const NO_PT: u8 = 0;

/// Cancels a peer's tasks when the peer goes away.
pub type StopSignal = CancellationToken;

/// Track ids must be unique across both ends of the connection: webrtc-rs delivers inbound RTCP to the
/// track with the matching id, and a remote track named like ours would swallow our PLIs.
pub(crate) fn media_track(
    kind: RtpCodecKind,
    label: &str,
    ssrc: u32,
    codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
) -> MediaStreamTrack {
    MediaStreamTrack::new(
        stream_id(ssrc),
        format!("kaiwa-{label}-{ssrc:08x}"),
        label.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    )
}

/// The media stream id (the SDP's `msid`) of our track with `ssrc`: one stream per track.
pub(crate) fn stream_id(ssrc: u32) -> String {
    format!("kaiwa-{ssrc:08x}")
}

/// Our microphone's track: Opus, packetized by webrtc-rs.
pub fn local_audio_track(ssrc: u32) -> Result<Arc<TrackLocalStaticSample>, webrtc::error::Error> {
    let track = media_track(RtpCodecKind::Audio, "microphone", ssrc, opus_codec());
    Ok(Arc::new(TrackLocalStaticSample::new(Instant::now(), track)?))
}

/// A video track of ours (`label`: the camera or the screen); negotiation picks its codec per peer
/// ([`offer_video_codecs`]) and we packetize ourselves ([`write_video`]).
///
/// It is declared as VP8 when we offer VP8, since every WebRTC endpoint has it (RFC 7742): webrtc-rs binds
/// a sent stream to its interceptors (NACK responder, transport-wide CC, the pacer) only when the track's
/// declared codec is among the negotiated ones, and binds it once. They work per SSRC, whatever payload
/// type the packets carry, so H.264 sent on the same SSRC gets them too.
pub fn local_video_track(ssrc: u32, label: &str, codecs: &[VideoCodec]) -> Arc<TrackLocalStaticRTP> {
    let declared = if codecs.contains(&VideoCodec::Vp8) {
        VideoCodec::Vp8
    } else {
        codecs.first().copied().unwrap_or(VideoCodec::Vp8)
    };
    let codec = video_codec_parameters(&[declared]).remove(0).rtp_codec;
    Arc::new(TrackLocalStaticRTP::new(media_track(RtpCodecKind::Video, label, ssrc, codec)))
}

/// A track's declared codec also becomes its transceiver's only codec preference; this puts every video
/// codec of ours back, in our order (H.264 first), on every video transceiver.
pub async fn offer_video_codecs(
    pc: &Arc<dyn webrtc::peer_connection::PeerConnection>,
    codecs: &[VideoCodec],
) {
    let codecs = video_codec_parameters(codecs);
    for transceiver in pc.get_transceivers().await {
        let Ok(Some(sender)) = transceiver.sender().await else { continue };
        if sender.track().kind().await == RtpCodecKind::Video
            && let Err(e) = transceiver.set_codec_preferences(codecs.clone()).await
        {
            debug!(error = %e, "cannot set the video codec preferences");
        }
    }
}

/// One of our tracks, added to a connection with the task(s) feeding it.
pub struct AddedTrack {
    pub sender: Arc<dyn webrtc::rtp_transceiver::RtpSender>,
    /// Its media stream id (the SDP's `msid`).
    pub stream_id: String,
}

/// Adds our microphone's track to `pc` with the task writing `packets` into it (in the payload type
/// `payload_type` says, once negotiated) until `stop`.
pub async fn add_audio(
    pc: &Arc<dyn webrtc::peer_connection::PeerConnection>,
    packets: &broadcast::Sender<Bytes>,
    payload_type: Arc<AtomicU8>,
    stats: Arc<SendStats>,
    stop: StopSignal,
) -> Result<AddedTrack, webrtc::error::Error> {
    let ssrc = rand::random::<u32>();
    let track = local_audio_track(ssrc)?;
    let sender = pc.add_track(track.clone()).await?;
    tokio::spawn(write_audio(track, ssrc, payload_type, packets.subscribe(), stats, stop));
    Ok(AddedTrack { sender, stream_id: stream_id(ssrc) })
}

/// Adds a video track of ours (`label`: camera or screen) fed by `feed` to `pc`, offering `codecs`, with
/// its writer (in the codec the returned [`SentVideo`] follows) and its keyframe-request reader.
pub async fn add_video(
    pc: &Arc<dyn webrtc::peer_connection::PeerConnection>,
    feed: &VideoFeed,
    label: &str,
    codecs: &[VideoCodec],
    stats: Arc<SendStats>,
    stop: StopSignal,
) -> Result<(AddedTrack, SentVideo), webrtc::error::Error> {
    let negotiated = Arc::new(NegotiatedVideo::default());
    let ssrc = rand::random::<u32>();
    let track = local_video_track(ssrc, label, codecs);
    let sender = pc.add_track(track.clone()).await?;
    offer_video_codecs(pc, codecs).await;
    let frames = feed.frames.subscribe();
    let control = feed.control.clone();
    tokio::spawn(write_video(track.clone(), ssrc, negotiated.clone(), frames, control, stats.clone(), stop));
    tokio::spawn(read_local_rtcp(track, negotiated.clone(), feed.control.clone(), stats));
    let sent = SentVideo::new(negotiated, feed.control.clone());
    Ok((AddedTrack { sender, stream_id: stream_id(ssrc) }, sent))
}

/// The codec negotiated for one of our video tracks: its payload type and codec, or none yet.
#[derive(Debug, Default)]
pub struct NegotiatedVideo {
    payload_type: AtomicU8,
    /// 0: none; else 1 + [`VideoCodec::index`].
    codec: AtomicU8,
}

impl NegotiatedVideo {
    pub fn set(&self, negotiated: Option<(u8, VideoCodec)>) {
        let (pt, codec) = negotiated.map_or((NO_PT, 0), |(pt, c)| (pt, 1 + c.index() as u8));
        self.payload_type.store(pt, Relaxed);
        self.codec.store(codec, Relaxed);
    }

    pub fn get(&self) -> Option<(u8, VideoCodec)> {
        let codec = usize::from(self.codec.load(Relaxed)).checked_sub(1).and_then(VideoCodec::from_index)?;
        Some((self.payload_type.load(Relaxed), codec))
    }
}

/// One of our video tracks: the payload type and codec negotiated, our use of that codec's encoder, and
/// the sender whose encoders feed it (the camera's or the screen's).
pub struct SentVideo {
    pub negotiated: Arc<NegotiatedVideo>,
    /// Keeps the negotiated codec's encoder running.
    codec_use: Option<CodecUse>,
    control: Arc<VideoSendControl>,
}

impl SentVideo {
    pub fn new(negotiated: Arc<NegotiatedVideo>, control: Arc<VideoSendControl>) -> SentVideo {
        SentVideo { negotiated, codec_use: None, control }
    }

    pub fn codec(&self) -> Option<VideoCodec> {
        self.negotiated.get().map(|(_, c)| c)
    }

    /// After an exchange: the payload type and codec `sender` negotiated are what the writer sends in, and
    /// that codec's encoder runs. Returns the codec when it is newly in use.
    pub async fn follow(
        &mut self,
        sender: &Arc<dyn webrtc::rtp_transceiver::RtpSender>,
    ) -> Option<VideoCodec> {
        let now = negotiated_video(sender).await;
        self.negotiated.set(now);
        let codec = now.map(|(_, c)| c);
        if self.codec_use.as_ref().map(CodecUse::codec) == codec {
            return None;
        }
        self.codec_use = codec.map(|c| self.control.use_codec(c));
        codec
    }

    /// The writer starts again on a keyframe (once a codec is negotiated).
    pub fn request_keyframe(&self) {
        if let Some(codec) = self.codec() {
            self.control.request_keyframe(codec);
        }
    }
}

/// Largest RTP payload we make (webrtc-rs's MTU for its own packetizers).
const RTP_PAYLOAD_MTU: usize = 1200;
/// RTP's video clock.
const VIDEO_CLOCK_HZ: f64 = 90_000.0;

/// Counters of what one peer was sent.
#[derive(Debug, Default)]
pub struct SendStats {
    pub video_frames: AtomicU64,
    pub video_frames_skipped: AtomicU64,
    pub audio_frames: AtomicU64,
    pub keyframe_requests_received: AtomicU64,
}

/// Writes encoded video of the peer's negotiated codec into its track, packetized here (RFC 6184 or 7741).
/// Starts (and restarts after falling behind, or on a change of codec) on a keyframe.
pub async fn write_video(
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    negotiated: Arc<NegotiatedVideo>,
    mut frames: broadcast::Receiver<Arc<EncodedVideo>>,
    control: Arc<VideoSendControl>,
    stats: Arc<SendStats>,
    stop: StopSignal,
) {
    let mut in_sync = false;
    let mut packetizer: Option<(VideoCodec, VideoPacketizer)> = None;
    let mut sequence_number: u16 = rand::random();
    let mut timestamp: u32 = rand::random();
    loop {
        let frame = tokio::select! {
            _ = stop.cancelled() => return,
            f = frames.recv() => f,
        };
        let frame = match frame {
            Ok(f) => f,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                stats.video_frames_skipped.fetch_add(n, Relaxed);
                in_sync = false;
                if let Some((_, codec)) = negotiated.get() {
                    control.request_keyframe(codec);
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some((pt, codec)) = negotiated.get() else {
            in_sync = false;
            continue;
        };
        if frame.codec != codec {
            continue;
        }
        // The clock runs on through every frame of ours, sent or not, as a capture clock would.
        timestamp = timestamp.wrapping_add((frame.duration.as_secs_f64() * VIDEO_CLOCK_HZ).round() as u32);
        if packetizer.as_ref().is_none_or(|(c, _)| *c != codec) {
            packetizer = Some((codec, VideoPacketizer::new(codec, RTP_PAYLOAD_MTU)));
            in_sync = false;
        }
        if !in_sync {
            if !frame.keyframe {
                control.request_keyframe(codec);
                continue;
            }
            in_sync = true;
        }
        let Some((_, packetizer)) = packetizer.as_mut() else { continue };
        let mut sent = true;
        for payload in packetizer.packetize(&frame.data) {
            let packet = rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    marker: payload.marker,
                    payload_type: pt,
                    sequence_number,
                    timestamp,
                    ssrc,
                    ..Default::default()
                },
                payload: Bytes::from(payload.payload),
            };
            sequence_number = sequence_number.wrapping_add(1);
            if let Err(e) = track.write_rtp(packet).await {
                debug!(error = %e, "video write failed");
                sent = false;
                break;
            }
        }
        if sent {
            stats.video_frames.fetch_add(1, Relaxed);
        } else {
            in_sync = false;
        }
    }
}

/// Writes Opus packets into one peer's audio track.
pub async fn write_audio(
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    payload_type: Arc<AtomicU8>,
    mut packets: broadcast::Receiver<Bytes>,
    stats: Arc<SendStats>,
    stop: StopSignal,
) {
    loop {
        let packet = tokio::select! {
            _ = stop.cancelled() => return,
            p = packets.recv() => p,
        };
        let packet = match packet {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let pt = payload_type.load(Relaxed);
        if pt == NO_PT {
            continue;
        }
        let sample =
            Sample { data: packet, duration: Duration::from_millis(20), ..Sample::new(Instant::now()) };
        if track.sample_writer(ssrc, pt).write_sample(&sample).await.is_ok() {
            stats.audio_frames.fetch_add(1, Relaxed);
        }
    }
}

/// Reads the RTCP our forwarder lets through on the video track: every PLI/FIR asks for a keyframe.
pub async fn read_local_rtcp(
    track: Arc<TrackLocalStaticRTP>,
    negotiated: Arc<NegotiatedVideo>,
    control: Arc<VideoSendControl>,
    stats: Arc<SendStats>,
) {
    while let Some(event) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event
            && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
        {
            stats.keyframe_requests_received.fetch_add(1, Relaxed);
            if let Some((_, codec)) = negotiated.get() {
                control.request_keyframe(codec);
            }
        }
    }
}

/// The negotiated payload type of a sender (read again after every negotiation).
pub async fn negotiated_payload_type(sender: &Arc<dyn webrtc::rtp_transceiver::RtpSender>) -> Option<u8> {
    let params = sender.get_parameters().await.ok()?;
    params.rtp_parameters.codecs.first().map(|c| c.payload_type)
}

/// The video codec a sender negotiated: the first of the negotiated list that we can encode (the answer's
/// order: H.264 first when both sides have it).
pub async fn negotiated_video(
    sender: &Arc<dyn webrtc::rtp_transceiver::RtpSender>,
) -> Option<(u8, VideoCodec)> {
    let params = sender.get_parameters().await.ok()?;
    params
        .rtp_parameters
        .codecs
        .iter()
        .find_map(|c| VideoCodec::from_mime_type(&c.rtp_codec.mime_type).map(|codec| (c.payload_type, codec)))
}
