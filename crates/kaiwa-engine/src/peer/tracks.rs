//! Local tracks (and the tasks writing encoded media into them) and remote track pumps (handing received
//! RTP straight to the decode threads).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::debug;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::factory::{h264_codec, opus_codec};
use super::rtcp_forward::is_keyframe_request;
use crate::media::audio_playout::{AudioRecvStats, PlayoutInput};
use crate::media::video_recv::{RtpIn, VideoReceiver};
use crate::media::video_send::{EncodedVideo, VideoSendControl};

/// Payload type not negotiated (yet).
pub const NO_PT: u8 = 0;

/// Cancels a peer's tasks when the peer goes away.
pub type StopSignal = CancellationToken;

pub fn local_track(
    kind: RtpCodecKind,
    ssrc: u32,
) -> Result<Arc<TrackLocalStaticSample>, webrtc::error::Error> {
    let (label, codec) = match kind {
        RtpCodecKind::Video => ("camera", h264_codec()),
        _ => ("microphone", opus_codec()),
    };
    // Track ids must be unique across both ends of the connection: webrtc-rs delivers inbound RTCP to the
    // track with the matching id, and a remote track named like ours would swallow our PLIs.
    let id = format!("kaiwa-{label}-{ssrc:08x}");
    let track = MediaStreamTrack::new(
        format!("kaiwa-{ssrc:08x}"),
        id.clone(),
        label.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    );
    Ok(Arc::new(TrackLocalStaticSample::new(Instant::now(), track)?))
}

/// Counters of what one peer was sent.
#[derive(Debug, Default)]
pub struct SendStats {
    pub video_frames: AtomicU64,
    pub video_frames_skipped: AtomicU64,
    pub audio_frames: AtomicU64,
    pub keyframe_requests_received: AtomicU64,
}

/// Writes encoded video into one peer's track. Starts (and restarts after falling behind) on a keyframe.
pub async fn write_video(
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    payload_type: Arc<AtomicU8>,
    mut frames: broadcast::Receiver<Arc<EncodedVideo>>,
    control: Arc<VideoSendControl>,
    stats: Arc<SendStats>,
    stop: StopSignal,
) {
    let mut in_sync = false;
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
                control.request_keyframe();
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let pt = payload_type.load(Relaxed);
        if pt == NO_PT {
            in_sync = false;
            continue;
        }
        if !in_sync {
            if !frame.keyframe {
                control.request_keyframe();
                continue;
            }
            in_sync = true;
        }
        let sample =
            Sample { data: frame.data.clone(), duration: frame.duration, ..Sample::new(frame.captured_at) };
        match track.sample_writer(ssrc, pt).write_sample(&sample).await {
            Ok(()) => {
                stats.video_frames.fetch_add(1, Relaxed);
            }
            Err(e) => {
                debug!(error = %e, "video write failed");
                in_sync = false;
            }
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
    track: Arc<TrackLocalStaticSample>,
    control: Arc<VideoSendControl>,
    stats: Arc<SendStats>,
) {
    while let Some(event) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event
            && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
        {
            stats.keyframe_requests_received.fetch_add(1, Relaxed);
            control.request_keyframe();
        }
    }
}

/// Hands a remote video track's RTP to its decode thread and sends the PLIs the decoder asks for.
pub async fn pump_video(
    track: Arc<dyn TrackRemote>,
    receiver: VideoReceiver,
    mut pli_rx: mpsc::Receiver<()>,
) {
    let mut media_ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    loop {
        tokio::select! {
            event = track.poll() => match event {
                Some(TrackRemoteEvent::OnRtpPacket(p)) => {
                    media_ssrc = p.header.ssrc;
                    let rtp = RtpIn {
                        sequence_number: p.header.sequence_number,
                        timestamp: p.header.timestamp,
                        marker: p.header.marker,
                        payload: p.payload,
                    };
                    if receiver.packets.try_send(rtp).is_err() {
                        receiver.stats.packets_dropped.fetch_add(1, Relaxed);
                    }
                }
                Some(TrackRemoteEvent::OnEnded) | None => return,
                Some(_) => {}
            },
            Some(()) = pli_rx.recv() => {
                let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc };
                if let Err(e) = track.write_rtcp(vec![Box::new(pli)]).await {
                    debug!(error = %e, "PLI not sent");
                }
            }
        }
    }
}

/// Hands a remote audio track's RTP to the playout thread, stamped with its arrival time.
pub async fn pump_audio(
    track: Arc<dyn TrackRemote>,
    key: String,
    playout: std::sync::mpsc::SyncSender<PlayoutInput>,
    stats: Arc<AudioRecvStats>,
) {
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(p) => {
                let input = PlayoutInput::Packet {
                    key: key.clone(),
                    seq: p.header.sequence_number,
                    timestamp: p.header.timestamp,
                    payload: p.payload,
                    arrival: Instant::now(),
                };
                if playout.try_send(input).is_err() {
                    stats.packets_dropped.fetch_add(1, Relaxed);
                }
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    let _ = playout.try_send(PlayoutInput::Remove { key });
}

/// The negotiated payload type of a sender (read again after every negotiation).
pub async fn negotiated_payload_type(sender: &Arc<dyn webrtc::rtp_transceiver::RtpSender>) -> Option<u8> {
    let params = sender.get_parameters().await.ok()?;
    params.rtp_parameters.codecs.first().map(|c| c.payload_type)
}

/// Keeps the compiler honest about the trait object we hand to `add_track`.
pub fn as_track_local(track: &Arc<TrackLocalStaticSample>) -> Arc<dyn TrackLocal> {
    track.clone()
}
