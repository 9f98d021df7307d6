//! Per-peer call statistics: network figures from webrtc-rs's stats report, media figures from our own
//! pipelines (webrtc-rs knows nothing of our encoder and decoders).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use kaiwa_protocol::PeerInfo;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::statistics::StatsSelector;
use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};
use rtc::statistics::stats::ice_candidate_pair::RTCIceCandidatePairStats;
use serde::Serialize;
use webrtc::peer_connection::PeerConnection;

use crate::events::PeerState;
use crate::media::audio_playout::AudioRecvStats;
use crate::media::video_recv::VideoRecvStats;
use crate::peer::{NegotiationCounters, SendStats};

#[derive(Debug, Clone, Default, Serialize)]
pub struct VideoInStats {
    pub packets: u64,
    pub packets_dropped_by_us: u64,
    pub packets_lost: i64,
    pub frames_decoded: u64,
    pub frames_dropped: u64,
    pub decode_errors: u64,
    pub keyframe_requests_sent: u64,
    pub freezes: u64,
    /// Total time frozen (the gaps counted in `freezes`), ms.
    pub freeze_ms: u64,
    pub recoveries: u64,
    pub max_recovery_ms: u64,
    pub width: u64,
    pub height: u64,
    pub jitter_ms: f64,
    /// How long decoded frames are held before they are shown (jitter and repairs absorbed).
    pub playout_delay_ms: u64,
    /// The codec received (MIME type, e.g. `video/VP8`).
    pub codec: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AudioInStats {
    pub packets: u64,
    pub packets_lost: i64,
    pub concealed_frames: u64,
    /// 20 ms frames played out (decoded or concealed): `concealed_frames` is a share of these.
    pub frames_played: u64,
    pub late_packets: u64,
    pub jitter_buffer_ms: u64,
    pub jitter_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OutStats {
    pub video_frames: u64,
    pub video_frames_skipped: u64,
    pub audio_frames: u64,
    pub keyframe_requests_received: u64,
    /// Congestion control's current estimate, bits per second (through the SFU, the sending
    /// connection's).
    pub target_bitrate_bps: f64,
    /// The video codec negotiated for what we send (MIME type).
    pub video_codec: Option<String>,
    /// Frames of our shared screen sent (`video_frames` counts the camera's).
    pub screen_frames: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerStats {
    pub id: String,
    pub name: String,
    pub state: PeerState,
    /// From creating the connection to ICE+DTLS connected.
    pub setup_ms: Option<u64>,
    /// host / srflx / prflx / relay, for our side and theirs of the selected pair.
    pub local_candidate: Option<String>,
    pub remote_candidate: Option<String>,
    /// For a relayed path: how we reach the TURN server (`udp`, `tcp` or `tls`).
    pub relay_transport: Option<String>,
    /// What the selected pair itself runs over: `udp`, or `tcp` for ICE-TCP.
    pub pair_protocol: Option<String>,
    pub rtt_ms: Option<f64>,
    /// Through the SFU: what our sending connection sent (everyone receives that one stream), and
    /// `bytes_received` what the receiving connection got from everyone.
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub codecs: Vec<String>,
    /// The code both people see for this connection when no one sits between them (`123 456`), from our
    /// certificate and the one the peer presented in the handshake; none before the handshake.
    pub verification_code: Option<String>,
    /// Whether we and the peer have a video format in common, and the video codecs the peer offered.
    pub video_formats: crate::peer::VideoFormats,
    pub video_in: VideoInStats,
    /// The screen the peer shares, while it shares one (`packets_lost` and `jitter_ms` are in `video_in`,
    /// for both video streams).
    pub screen_in: Option<VideoInStats>,
    pub audio_in: AudioInStats,
    pub out: OutStats,
    pub negotiation: NegotiationCounters,
    /// Received through the SFU (one connection for everyone in a big room: the network figures are that
    /// connection's, loss and jitter those of this participant's streams on it), not over a connection of
    /// our own to this participant.
    pub via_sfu: bool,
}

fn candidate<'r>(
    report: &'r RTCStatsReport,
    id: &str,
    local: bool,
) -> Option<&'r rtc::statistics::stats::ice_candidate::RTCIceCandidateStats> {
    let key =
        if local { format!("RTCLocalIceCandidate_{id}") } else { format!("RTCRemoteIceCandidate_{id}") };
    match report.get(&key).or_else(|| report.get(id))? {
        RTCStatsReportEntry::LocalCandidate(c) | RTCStatsReportEntry::RemoteCandidate(c) => Some(c),
        _ => None,
    }
}

fn candidate_type(report: &RTCStatsReport, id: &str, local: bool) -> Option<String> {
    candidate(report, id, local).map(|c| c.candidate_type.to_string())
}

/// The type the peer signaled for the remote end of the selected pair, when it was first learned from the
/// peer's checks. webrtc-rs keeps such a candidate peer-reflexive even once the same address is trickled:
/// in the NAT lab a call through the other side's TURN relay, whose checks came before its trickled relay
/// candidate, was reported as direct.
async fn signaled_remote_type(pc: &Arc<dyn PeerConnection>) -> Option<String> {
    let ice = pc.sctp().await?.transport().ice_transport();
    let pair = ice.get_selected_candidate_pair().await.ok()??;
    let remote = pair.remote();
    ice.get_remote_candidates()
        .await
        .ok()?
        .into_iter()
        .find(|c| c.address == remote.address && c.port == remote.port && c.typ != remote.typ)
        .map(|c| c.typ.to_string())
}

/// The figures our own pipelines keep for one peer (webrtc-rs knows nothing of them).
pub struct OwnFigures<'a> {
    pub sent: &'a SendStats,
    /// What our screen's track sent.
    pub screen_sent: &'a SendStats,
    pub video: Option<&'a VideoRecvStats>,
    /// The peer's shared screen, decoded.
    pub screen: Option<&'a VideoRecvStats>,
    pub audio: Option<&'a AudioRecvStats>,
    pub negotiation: NegotiationCounters,
    pub relays: &'a crate::net::RelayTransports,
    /// The codec our video goes out in.
    pub video_out: Option<kaiwa_media::video::VideoCodec>,
    pub video_formats: &'a crate::peer::VideoFormats,
    pub verification_code: Option<String>,
    /// Through the SFU, the m-sections that carry this participant (the connection's other streams are
    /// everyone else's); `None`: every stream of the connection is theirs.
    pub mids: Option<&'a [String]>,
}

/// One connection's statistics report, fetched once for every participant it carries (through the SFU,
/// everyone: each fetch is a round trip through the connection's driver, which carries their media too).
pub struct ConnectionReport {
    report: RTCStatsReport,
    /// The type of the selected pair's remote end: as the peer signaled it, for one first learned as
    /// peer-reflexive.
    remote_candidate: Option<String>,
}

impl ConnectionReport {
    pub async fn fetch(pc: &Arc<dyn PeerConnection>) -> ConnectionReport {
        let report = pc.get_stats(Instant::now(), StatsSelector::None).await;
        let remote_candidate = match remote_type(&report) {
            Some(prflx) if prflx == "prflx" => Some(signaled_remote_type(pc).await.unwrap_or(prflx)),
            other => other,
        };
        ConnectionReport { report, remote_candidate }
    }
}

/// The type of the selected pair's remote end: peer-reflexive when the report does not list it (webrtc-rs
/// lists only the remote candidates that were signaled; Chromium's checks typically arrive before its
/// trickled candidates).
fn remote_type(report: &RTCStatsReport) -> Option<String> {
    let pair = selected_pair(report)?;
    candidate_type(report, &pair.remote_candidate_id, false)
        .or_else(|| (!pair.remote_candidate_id.is_empty()).then(|| "prflx".to_owned()))
}

fn selected_pair(report: &RTCStatsReport) -> Option<&RTCIceCandidatePairStats> {
    match report.get(&report.transport()?.selected_candidate_pair_id) {
        Some(RTCStatsReportEntry::IceCandidatePair(pair)) => Some(pair),
        _ => None,
    }
}

/// A peer's statistics from its own connection.
pub async fn collect(
    pc: &Arc<dyn PeerConnection>,
    remote: &PeerInfo,
    state: PeerState,
    setup: Option<Duration>,
    own: OwnFigures<'_>,
) -> PeerStats {
    figures(&ConnectionReport::fetch(pc).await, remote, state, setup, own)
}

/// A peer's statistics from a report of the connection that carries them.
pub fn figures(
    connection: &ConnectionReport,
    remote: &PeerInfo,
    state: PeerState,
    setup: Option<Duration>,
    own: OwnFigures<'_>,
) -> PeerStats {
    let report = &connection.report;
    let OwnFigures {
        sent,
        screen_sent,
        video,
        screen,
        audio,
        negotiation,
        relays,
        video_out,
        video_formats,
        verification_code,
        mids,
    } = own;
    let mut stats = PeerStats {
        id: remote.id.clone(),
        name: remote.name.clone(),
        state,
        setup_ms: setup.map(|d| d.as_millis() as u64),
        local_candidate: None,
        pair_protocol: None,
        remote_candidate: None,
        relay_transport: None,
        rtt_ms: None,
        bytes_sent: 0,
        bytes_received: 0,
        codecs: Vec::new(),
        verification_code,
        video_formats: video_formats.clone(),
        video_in: VideoInStats::default(),
        screen_in: screen.map(|s| decode_figures(s, VideoInStats::default())),
        audio_in: AudioInStats::default(),
        out: OutStats {
            video_frames: sent.video_frames.load(Relaxed),
            video_frames_skipped: sent.video_frames_skipped.load(Relaxed),
            audio_frames: sent.audio_frames.load(Relaxed),
            keyframe_requests_received: sent.keyframe_requests_received.load(Relaxed),
            target_bitrate_bps: 0.0,
            video_codec: None,
            screen_frames: screen_sent.video_frames.load(Relaxed),
        },
        negotiation,
        via_sfu: false,
    };
    if let Some(t) = report.transport() {
        stats.bytes_sent = t.bytes_sent;
        stats.bytes_received = t.bytes_received;
    }
    if let Some(pair) = selected_pair(report) {
        stats.rtt_ms = Some(pair.current_round_trip_time * 1000.0);
        stats.local_candidate = candidate_type(report, &pair.local_candidate_id, true);
        stats.pair_protocol = candidate(report, &pair.local_candidate_id, true)
            .map(|c| c.protocol.to_lowercase())
            .filter(|p| !p.is_empty());
        if stats.local_candidate.as_deref() == Some("relay") {
            let url =
                candidate(report, &pair.local_candidate_id, true).map(|c| c.url.as_str()).unwrap_or_default();
            stats.relay_transport = Some(relays.of_url(url).to_owned());
        }
        stats.remote_candidate = connection.remote_candidate.clone();
    }
    for entry in report.iter() {
        if let RTCStatsReportEntry::Codec(c) = entry
            && !stats.codecs.contains(&c.mime_type)
        {
            stats.codecs.push(c.mime_type.clone());
        }
    }
    let theirs = |mid: &String| mids.is_none_or(|mids| mids.contains(mid));
    for inbound in report.inbound_rtp_streams().filter(|i| theirs(&i.mid)) {
        let r = &inbound.received_rtp_stream_stats;
        match r.rtp_stream_stats.kind {
            RtpCodecKind::Video => {
                stats.video_in.packets_lost += r.packets_lost;
                // RTP timestamp units at 90 kHz
                stats.video_in.jitter_ms = stats.video_in.jitter_ms.max(r.jitter / 90.0);
            }
            RtpCodecKind::Audio => {
                stats.audio_in.packets_lost = r.packets_lost;
                stats.audio_in.jitter_ms = r.jitter / 48.0;
            }
            _ => {}
        }
    }
    for outbound in report.outbound_rtp_streams() {
        stats.out.target_bitrate_bps = stats.out.target_bitrate_bps.max(outbound.target_bitrate);
    }
    if let Some(v) = video {
        stats.video_in = decode_figures(v, std::mem::take(&mut stats.video_in));
    }
    stats.out.video_codec = video_out.map(|c| c.mime_type().to_owned());
    if let Some(a) = audio {
        stats.audio_in.packets = a.packets.load(Relaxed);
        stats.audio_in.concealed_frames = a.concealed.load(Relaxed);
        stats.audio_in.frames_played = a.frames.load(Relaxed);
        stats.audio_in.late_packets = a.late.load(Relaxed);
        stats.audio_in.jitter_buffer_ms = a.jitter_delay_ms.load(Relaxed);
    }
    stats
}

/// Our decode thread's figures for one incoming video track, over `base` (webrtc-rs's loss and jitter).
fn decode_figures(v: &VideoRecvStats, base: VideoInStats) -> VideoInStats {
    VideoInStats {
        packets: v.packets.load(Relaxed),
        packets_dropped_by_us: v.packets_dropped.load(Relaxed),
        frames_decoded: v.frames_decoded.load(Relaxed),
        frames_dropped: v.frames_dropped.load(Relaxed),
        decode_errors: v.decode_errors.load(Relaxed),
        keyframe_requests_sent: v.keyframe_requests.load(Relaxed),
        freezes: v.freezes.load(Relaxed),
        freeze_ms: v.freeze_ms.load(Relaxed),
        recoveries: v.recoveries.load(Relaxed),
        max_recovery_ms: v.max_recovery_ms.load(Relaxed),
        width: v.width.load(Relaxed),
        height: v.height.load(Relaxed),
        playout_delay_ms: v.playout_delay_ms.load(Relaxed),
        codec: v.codec().map(|c| c.mime_type().to_owned()),
        ..base
    }
}
