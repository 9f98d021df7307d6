//! The hostile cases and how a [`Hostile`] carries them out.

use kaiwa_protocol::{IceCandidateInit, PeerId, SdpType, SessionDescription, SignalData};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;

use super::Hostile;
use super::forge;

/// The hostile cases, in order, each a name and its steps, against a victim `victim` in a call with
/// `other`: malformed and oversized data-channel messages, a chat flood, false id and media claims, invalid
/// and contradictory descriptions (from `offer`, a valid one to mangle), a renegotiation storm, bogus ICE
/// candidates (loopback only: checks reach nothing outside this machine).
pub fn hostile_cases(victim: &str, other: &str, offer: &str) -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("malformed data-channel messages", malformed_messages()),
        (
            "a chat flood",
            (0..2000)
                .map(|i| Action::Text(format!(r#"{{"type":"chat","from":"M","text":"spam {i}","ts":1}}"#)))
                .collect(),
        ),
        (
            "false id and media claims",
            vec![
                Action::Text(format!(r#"{{"type":"id","id":"{other}"}}"#)),
                Action::Text(format!(r#"{{"type":"id","id":"{victim}"}}"#)),
                Action::Text(r#"{"type":"id","id":"0000000000000000"}"#.into()),
                Action::Text(r#"{"type":"media","mic":false,"camera":false,"videoCodecs":["AV1"]}"#.into()),
                Action::Text(format!(r#"{{"type":"media","id":"{other}","mic":false,"camera":false}}"#)),
            ],
        ),
        ("invalid and contradictory descriptions", invalid_descriptions(offer)),
        ("a renegotiation storm", (0..200).map(|_| Action::Sdp(SdpType::Offer, offer.to_owned())).collect()),
        ("bogus ICE candidates", bogus_candidates()),
    ]
}

/// How many video tracks the track flood adds. (Many more do not fit in one offer under the signaling
/// server's 64 KB message limit: webrtc-rs writes ~4 KB per video section.)
pub const TRACK_FLOOD: usize = 8;

/// The media cases: RTP with garbage payloads (video and audio), broken H.264 packetization (truncated
/// and overrunning NAL units), an oversized access unit, keyframes announcing impossible picture sizes,
/// RTCP garbage, and a flood of video tracks (each its own SSRC) with garbage on them. They need a
/// connection with media (as [`Hostile::connect`] makes).
pub fn media_cases() -> Vec<(&'static str, Vec<Action>)> {
    let mut g = forge::Garbage::new(14);
    let video = |payload: Vec<u8>, marker: bool| Action::Rtp { kind: RtpCodecKind::Video, payload, marker };
    let garbage: Vec<Action> = (0..600)
        .map(|i| {
            let n = g.below(1200);
            let payload = g.bytes(n);
            if i % 2 == 0 {
                video(payload, i % 7 == 0)
            } else {
                Action::Rtp { kind: RtpCodecKind::Audio, payload, marker: false }
            }
        })
        .collect();
    let broken = forge::broken_h264_payloads(&mut g).into_iter().map(|p| video(p, true)).collect();
    let oversized = last_marked(forge::oversized_unit(&mut g, 3000)).map(|(p, m)| video(p, m)).collect();
    let impossible =
        forge::impossible_sizes(&mut g).into_iter().flat_map(last_marked).map(|(p, m)| video(p, m)).collect();
    let rtcp = forge::rtcp_garbage(&mut g, 500).into_iter().map(Action::Rtcp).collect();
    let mut flood = vec![Action::AddVideoTracks(TRACK_FLOOD)];
    flood.extend((0..20).map(|_| Action::RtpOnAddedTracks(g.bytes(300))));
    vec![
        ("RTP with garbage payloads", garbage),
        ("truncated and overrunning H.264 units", broken),
        ("an oversized access unit (3.3 MB)", oversized),
        ("keyframes of impossible picture sizes", impossible),
        ("RTCP garbage", rtcp),
        ("a flood of video tracks (SSRCs)", flood),
    ]
}

/// Packets of one access unit, the marker bit on the last.
fn last_marked(packets: Vec<Vec<u8>>) -> impl Iterator<Item = (Vec<u8>, bool)> {
    let last = packets.len().saturating_sub(1);
    packets.into_iter().enumerate().map(move |(i, p)| (p, i == last))
}

impl Hostile {
    /// Carries out one step against `to`; whether it went out (or, for added tracks, was answered).
    /// Refusals are the point of most steps: callers look only at the ones that must get through.
    pub async fn act(&mut self, to: &PeerId, action: Action) -> bool {
        let sent = match action {
            Action::Text(t) => self.send_text(to, &t).await,
            Action::Bytes(b) => self.send_bytes(to, &b).await,
            Action::Sdp(kind, sdp) => {
                self.signal(to, SignalData::Sdp { sdp: SessionDescription { kind, sdp } });
                Ok(())
            }
            Action::Candidate(c) => {
                self.signal(to, SignalData::Candidate { candidate: Some(c) });
                Ok(())
            }
            Action::Rtp { kind, payload, marker } => self.send_rtp(to, kind, payload, marker).await,
            Action::Rtcp(bytes) => self.send_rtcp(to, bytes).await,
            Action::AddVideoTracks(n) => self.add_video_tracks(to, n).await,
            Action::RtpOnAddedTracks(payload) => self.send_rtp_on_added(to, &payload).await,
        };
        if let Err(e) = &sent {
            tracing::debug!(error = %e, "hostile step not carried out");
        }
        sent.is_ok()
    }
}

/// One hostile step.
pub enum Action {
    Text(String),
    Bytes(Vec<u8>),
    Sdp(SdpType, String),
    Candidate(IceCandidateInit),
    /// One RTP packet on the hostile's audio or video track.
    Rtp {
        kind: RtpCodecKind,
        payload: Vec<u8>,
        marker: bool,
    },
    /// One RTCP packet, bytes as they are.
    Rtcp(Vec<u8>),
    /// This many more video tracks, negotiated.
    AddVideoTracks(usize),
    /// One RTP packet on each added video track.
    RtpOnAddedTracks(Vec<u8>),
}

fn malformed_messages() -> Vec<Action> {
    let mut v: Vec<Action> = [
        "",
        "{",
        "}",
        "null",
        "[]",
        "\"chat\"",
        "{\"type\":null}",
        "{\"type\":\"chat\"}",
        "{\"type\":\"chat\",\"from\":1,\"text\":[],\"ts\":\"x\"}",
        "{\"type\":\"id\",\"id\":\"\"}",
        "{\"type\":\"media\",\"mic\":\"yes\"}",
        "{\"type\":\"media\",\"videoCodecs\":{\"a\":1}}",
        "{\"type\":\"unknown\",\"x\":1}",
        "\u{0}\u{1}\u{ffff}",
    ]
    .iter()
    .map(|s| Action::Text((*s).to_owned()))
    .collect();
    v.push(Action::Text("[".repeat(50_000)));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"M","text":"{}","ts":1}}"#, "x".repeat(60_000))));
    v.push(Action::Text(format!(r#"{{"type":"id","id":"{}"}}"#, "é".repeat(5_000))));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"{}","text":"hi","ts":1}}"#, "M".repeat(10_000))));
    v.push(Action::Bytes(vec![0xff, 0xfe, 0x00, 0x80]));
    v.push(Action::Bytes(vec![0x7b; 100_000]));
    v
}

fn invalid_descriptions(offer: &str) -> Vec<Action> {
    let mut v = vec![
        Action::Sdp(SdpType::Offer, String::new()),
        Action::Sdp(SdpType::Offer, "garbage".into()),
        Action::Sdp(SdpType::Answer, "v=0\r\n".into()),
        Action::Sdp(SdpType::Pranswer, offer.to_owned()),
        Action::Sdp(SdpType::Rollback, String::new()),
        Action::Sdp(SdpType::Answer, offer.to_owned()),
        Action::Sdp(SdpType::Offer, offer.replace("a=fingerprint:sha-256", "a=fingerprint:sha-1")),
        Action::Sdp(SdpType::Offer, offer.replace("m=application", "m=video")),
        Action::Sdp(
            SdpType::Offer,
            offer.replace("a=ice-ufrag:", "a=ice-ufrag:x").replace("a=mid:", "a=mid:9"),
        ),
        Action::Sdp(SdpType::Offer, format!("{offer}{}", "a=x:y\r\n".repeat(20_000))),
        Action::Sdp(SdpType::Offer, offer.lines().rev().collect::<Vec<_>>().join("\r\n")),
    ];
    v.push(Action::Sdp(SdpType::Offer, "m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n".repeat(500)));
    v
}

fn bogus_candidates() -> Vec<Action> {
    let candidate = |c: String, mid: Option<&str>, index: Option<u16>| {
        Action::Candidate(IceCandidateInit {
            candidate: c,
            sdp_mid: mid.map(Into::into),
            sdp_m_line_index: index,
            username_fragment: None,
        })
    };
    let mut v = vec![
        candidate(String::new(), None, None),
        candidate("candidate:garbage".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 notaport typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 999.1.1.1 9 typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 9 typ host".into(), Some("99"), Some(65535)),
        candidate(format!("candidate:{}", "x".repeat(100_000)), Some("0"), Some(0)),
    ];
    // Many plausible ones, to loopback addresses and ports nothing listens on (the checks stay on this
    // machine and reach no other test's sockets).
    for (i, (host, port)) in
        (2..252u32).flat_map(|h| [1u16, 7, 9, 13, 19, 37].map(move |p| (h, p))).enumerate()
    {
        v.push(candidate(
            format!("candidate:{i} 1 udp 2122260223 127.0.0.{host} {port} typ host"),
            Some("0"),
            Some(0),
        ));
    }
    v
}
