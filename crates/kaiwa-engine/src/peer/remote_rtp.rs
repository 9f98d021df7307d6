//! Remote tracks' pumps: received RTP handed straight to the decode threads and the audio playout, and
//! the keyframe requests the decoders ask for.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use kaiwa_media::video::VideoCodec;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use tokio::sync::mpsc;
use tracing::debug;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::remote_tracks::Playing;
use super::tracks::StopSignal;
use crate::media::audio_playout::{AudioRecvStats, PlayoutInput};
use crate::media::video_recv::{RtpIn, VideoReceiver, VideoRecvStats, VideoSink};

/// How our keyframe requests (PLIs, [RFC 4585 §6.3.1](https://www.rfc-editor.org/rfc/rfc4585#section-6.3.1))
/// go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PliForm {
    /// A PLI alone (reduced-size RTCP, RFC 5506).
    Alone,
    /// After a receiver report about the same stream, in one compound packet: Janus 1.1 (Debian 12's)
    /// routes a lone PLI by its sender SSRC only, which a receive-only connection has none of, so it never
    /// reached the publisher (and a browser, which sends keyframes only when asked, froze for good). The
    /// report's block names the stream. Fixed upstream in Janus 1.3 (PLIs from Pion clients).
    AfterReport,
}

/// How a remote video track is played.
pub struct VideoPlayback {
    /// The decode thread's name is `kaiwa-video-recv-{label}`.
    pub label: String,
    pub sink: VideoSink,
    pub form: PliForm,
    /// The payload types of its m-section (see [`pump_video`]).
    pub negotiated: Vec<(u8, VideoCodec)>,
}

/// Starts playing `track`: a decode thread feeding the sink, and its pump (a child of `parent`).
pub fn play_video(
    parent: &StopSignal,
    track: Arc<dyn TrackRemote>,
    playback: VideoPlayback,
) -> std::io::Result<(Playing, Arc<VideoRecvStats>)> {
    let VideoPlayback { label, sink, form, negotiated } = playback;
    let (pli_tx, pli_rx) = mpsc::channel(4);
    let receiver = VideoReceiver::start(&label, sink, pli_tx)?;
    let stats = receiver.stats.clone();
    let playing = Playing::start(parent, |stop| pump_video(track, receiver, pli_rx, form, negotiated, stop));
    Ok((playing, stats))
}

/// Hands a remote video track's RTP to its decode thread and sends the PLIs the decoder asks for.
/// `negotiated`: the payload types of its m-section, for when webrtc-rs does not know the codec.
/// Returns when the track ends or `stop` is cancelled.
pub async fn pump_video(
    track: Arc<dyn TrackRemote>,
    receiver: VideoReceiver,
    mut pli_rx: mpsc::Receiver<()>,
    form: PliForm,
    negotiated: Vec<(u8, VideoCodec)>,
    stop: StopSignal,
) {
    let mut media_ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    // The SSRC our keyframe requests come from: not 0, under which Janus files a receive-only stream's
    // unknown peer SSRC (a request from 0 would be taken for the first stream's).
    let sender_ssrc = rand::random::<u32>().max(1);
    // The codec of the payload type in use, looked up again when the payload type changes.
    let mut current: Option<(u8, Option<VideoCodec>)> = None;
    loop {
        tokio::select! {
            event = track.poll() => match event {
                Some(TrackRemoteEvent::OnRtpPacket(p)) => {
                    media_ssrc = p.header.ssrc;
                    let pt = p.header.payload_type;
                    if current.is_none_or(|(known, _)| known != pt) {
                        let codec = track.codec(media_ssrc).await;
                        // webrtc-rs sometimes has no codec for a stream it announced (through Janus, one
                        // video in a room of twelve every few runs, lost for good): then the payload type's,
                        // as negotiated.
                        let ours = codec
                            .as_ref()
                            .and_then(|c| VideoCodec::from_mime_type(&c.mime_type))
                            .or_else(|| negotiated.iter().find(|(p, _)| *p == pt).map(|(_, c)| *c));
                        if ours.is_none() {
                            debug!(pt, codec = ?codec.map(|c| c.mime_type), "video in a codec we cannot decode");
                        }
                        current = Some((pt, ours));
                    }
                    let Some((_, Some(codec))) = current else {
                        receiver.stats.packets_dropped.fetch_add(1, Relaxed);
                        continue;
                    };
                    let rtp = RtpIn {
                        codec,
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
            _ = stop.cancelled() => return,
            Some(()) = pli_rx.recv() => {
                let pli: Box<dyn rtc::rtcp::Packet> = Box::new(PictureLossIndication { sender_ssrc, media_ssrc });
                let packets = match form {
                    PliForm::Alone => vec![pli],
                    PliForm::AfterReport => {
                        let block = ReceptionReport { ssrc: media_ssrc, ..Default::default() };
                        let report = ReceiverReport { ssrc: sender_ssrc, reports: vec![block], ..Default::default() };
                        vec![Box::new(report), pli]
                    }
                };
                if let Err(e) = track.write_rtcp(packets).await {
                    debug!(error = %e, "PLI not sent");
                }
            }
        }
    }
}

/// Hands a remote audio track's RTP to the playout thread, stamped with its arrival time, until the track
/// ends or `stop` is cancelled; then removes the stream from playout.
pub async fn pump_audio(
    track: Arc<dyn TrackRemote>,
    key: String,
    playout: std::sync::mpsc::SyncSender<PlayoutInput>,
    stats: Arc<AudioRecvStats>,
    stop: StopSignal,
) {
    loop {
        let event = tokio::select! {
            event = track.poll() => event,
            _ = stop.cancelled() => break,
        };
        let Some(event) = event else { break };
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

/// The video payload types a receiver negotiated, with our codec for each.
pub async fn received_video_codecs(
    receiver: &Arc<dyn webrtc::rtp_transceiver::RtpReceiver>,
) -> Vec<(u8, VideoCodec)> {
    let Ok(params) = receiver.get_parameters().await else { return Vec::new() };
    params
        .rtp_parameters
        .codecs
        .iter()
        .filter_map(|c| {
            VideoCodec::from_mime_type(&c.rtp_codec.mime_type).map(|codec| (c.payload_type, codec))
        })
        .collect()
}
