//! Building a WebRTC peer connection with exactly Kaiwa's codecs, interceptors and ICE tuning.

use std::sync::Arc;
use std::time::Duration;

use kaiwa_protocol::IceServer;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder, Registry, Slot};
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
};
use rtc::peer_connection::transport::RTCDtlsRole;
use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use webrtc::peer_connection::{
    CongestionFeedback, MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceServer, RTCIceTransportPolicy, SettingEngineBuilder,
    configure_congestion_control,
};

use kaiwa_media::video::VideoCodec;

use super::Ceiling;
use super::estimator::Estimator;
use super::pacer::Pacer;
use super::rtcp_forward::{KeyframeRequestForwarder, SLOT};

pub const H264_PAYLOAD_TYPE: u8 = 102;
pub const VP8_PAYLOAD_TYPE: u8 = 96;
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// H.264 constrained baseline, packetization mode 1: what openh264 makes and every browser decodes.
/// webrtc-rs matches the fmtp's packetization-mode exactly and the first two bytes of profile-level-id.
pub fn h264_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "video/H264".to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// The SDP codec of each of `codecs`, with our payload types, in the same order.
pub fn video_codec_parameters(codecs: &[VideoCodec]) -> Vec<RTCRtpCodecParameters> {
    codecs
        .iter()
        .map(|codec| match codec {
            VideoCodec::H264 => {
                RTCRtpCodecParameters { rtp_codec: h264_codec(), payload_type: H264_PAYLOAD_TYPE }
            }
            VideoCodec::Vp8 => {
                RTCRtpCodecParameters { rtp_codec: vp8_codec(), payload_type: VP8_PAYLOAD_TYPE }
            }
        })
        .collect()
}

/// VP8 ([RFC 7741](https://www.rfc-editor.org/rfc/rfc7741)): what every WebRTC browser has (RFC 7742), and
/// all a Firefox without its OpenH264 plugin offers besides VP9 and AV1.
pub fn vp8_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "video/VP8".to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

/// Opus ([RFC 7587](https://www.rfc-editor.org/rfc/rfc7587)): always advertised as 48000/2; we send mono
/// with in-band FEC.
pub fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// Network and ICE settings for every peer connection of an engine.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Local UDP addresses to gather host candidates on; `0.0.0.0:0` means every interface.
    pub udp_addrs: Vec<String>,
    /// Local addresses to listen on for ICE-TCP (passive TCP host candidates, RFC 6544), so a browser
    /// whose UDP is blocked can still reach us directly; empty: none. A desktop that hosts the server
    /// listens (its LAN browsers are the ones this is for); elsewhere a TURN relay over TCP covers it.
    pub tcp_addrs: Vec<String>,
    /// Only relay (TURN) candidates.
    pub relay_only: bool,
    /// The video codecs negotiated, in order of preference (default: H.264, then VP8). Fewer make a test
    /// or a benchmark use one codec.
    pub video_codecs: Vec<VideoCodec>,
    /// Congestion control (queueing delay and loss from transport-wide CC feedback, `estimator.rs`)
    /// driving the pacer and the encoder's bitrate.
    pub congestion_control: bool,
    /// Whether loss in that feedback counts (not from an SFU that misreports it: `Estimator::without_loss`).
    pub loss_based: bool,
    /// Starting, lowest and highest bitrate for congestion control. The floor is low enough for a
    /// 250 kbit/s link (the sender scales its picture down to fit); random loss alone does not pull the
    /// estimate there, since the loss half only reacts above 10 % loss.
    pub initial_bitrate_bps: u32,
    pub min_bitrate_bps: u32,
    pub max_bitrate_bps: u32,
    /// A ceiling under `max_bitrate_bps` that moves while the call runs; `None`: the estimate may reach it.
    pub ceiling: Option<Ceiling>,
    /// A runtime of our own for webrtc-rs's sockets (e.g. [`crate::net::ImpairedRuntime`] to inject loss).
    pub runtime: Option<Arc<dyn webrtc::runtime::Runtime>>,
    /// How `turns:` servers' certificates are checked; `None`: like the signaling server's (pinned when
    /// it is pinned, so a self-hosted coturn can share a self-signed server's certificate).
    pub turn_trust: Option<crate::signaling::Trust>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            udp_addrs: vec!["0.0.0.0:0".into()],
            tcp_addrs: Vec::new(),
            relay_only: false,
            video_codecs: VideoCodec::ALL.to_vec(),
            congestion_control: true,
            loss_based: true,
            initial_bitrate_bps: 500_000,
            min_bitrate_bps: 80_000,
            max_bitrate_bps: 2_500_000,
            ceiling: None,
            runtime: None,
            turn_trust: None,
        }
    }
}

fn to_rtc_ice_servers(servers: &[IceServer]) -> Vec<RTCIceServer> {
    servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect()
}

/// Times a missing video packet is asked for again ([RFC 4585 §6.2.1](https://www.rfc-editor.org/rfc/rfc4585#section-6.2.1)
/// generic NACK), [`NACK_INTERVAL`] apart: few enough that retransmissions cannot crowd out new media on a
/// congested link.
const NACKS_PER_PACKET: u16 = 2;
/// How often the generator looks for missing packets: a repair is a round trip plus up to this. webrtc-rs's
/// 100 ms default alone took a repair past the ~180 ms gap that counts as a freeze on a 40 ms round trip;
/// the receiver waits at least 250 ms for a repair, longer on a long round trip (`media/repair_wait.rs`).
const NACK_INTERVAL: Duration = Duration::from_millis(10);

/// NACK for video (and PLI feedback announced): the generator asks for each missing packet at most
/// [`NACKS_PER_PACKET`] times; the responder resends from its history.
fn with_nack(registry: Registry, media: &mut MediaEngine) -> Registry {
    for parameter in ["", "pli"] {
        media.register_feedback(
            RTCPFeedback { typ: "nack".to_owned(), parameter: parameter.to_owned() },
            RtpCodecKind::Video,
        );
    }
    registry.with(Slot::NackResponder, NackResponderBuilder::new().build()).with(
        Slot::NackGenerator,
        NackGeneratorBuilder::new()
            .with_interval(NACK_INTERVAL)
            .with_max_nacks_per_packet(NACKS_PER_PACKET)
            .build(),
    )
}

/// A connection with no answer to its checks for this long is disconnected, and the session restarts ICE
/// a second later (`session.rs`); webrtc-rs's 5 s + 25 s before "failed" left a relayed call whose TURN
/// connection was reset silent for half a minute. With a check every [`ICE_KEEPALIVE`], three in a row
/// must go unanswered (at 5 % random loss, once in 8000 seconds).
/// How often a pair is checked while ICE looks for a path (webrtc-rs: 200 ms), and for how many checks a
/// pair without an answer is tried before it counts as failed (webrtc-rs: 7, so 1.4 s). Fast checks
/// connect a LAN call tens of milliseconds after the answer instead of hundreds. The attempts must still
/// span about as long as webrtc-rs's: webrtc-rs does not check again when a request arrives on a failed
/// pair (RFC 8445 §7.3.1.4's triggered check), so through two NATs, where the first checks die at the
/// far gateway until the far side has sent its own, a pair given up after a few milliseconds stays dead
/// (measured: a 5 ms × 7 budget never connected to Chromium through two home routers).
pub const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(20);
pub const ICE_CHECKS_PER_PAIR: u16 = 75;

pub const ICE_DISCONNECTED: Duration = Duration::from_secs(3);
pub const ICE_FAILED: Duration = Duration::from_secs(15);
pub const ICE_KEEPALIVE: Duration = Duration::from_secs(1);

/// `identity`: the certificate to use (a fresh one per connection when none); `answering_role`: the DTLS
/// end our answers take (`dtls_role.rs`).
pub async fn build_peer_connection(
    network: &NetworkConfig,
    ice_servers: &[IceServer],
    identity: Option<&super::identity::Identity>,
    answering_role: RTCDtlsRole,
    handler: Arc<dyn PeerConnectionEventHandler>,
) -> Result<Arc<dyn PeerConnection>, webrtc::error::Error> {
    let mut media = MediaEngine::default();
    // In order of preference: H.264 when both sides have it (cheapest for us), else VP8.
    for codec in video_codec_parameters(&network.video_codecs) {
        media.register_codec(codec, RtpCodecKind::Video)?;
    }
    media.register_codec(
        RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: OPUS_PAYLOAD_TYPE },
        RtpCodecKind::Audio,
    )?;
    // webrtc-rs's defaults (`register_default_interceptors`), except NACK: its generator asks again every
    // 100 ms for as long as a packet is missing, so on a congested link every lost packet was sent many
    // times over (measured: 6.6 Mbit/s sent into a 500 kbit/s link) and the call never recovered.
    let mut registry = with_nack(Registry::new(), &mut media);
    configure_simulcast_extension_headers(&mut media)?;
    registry = configure_twcc_receiver_only(registry, &mut media)?;
    registry = configure_rtcp_reports(registry);
    if network.congestion_control {
        let mut estimator = Estimator::new(
            f64::from(network.initial_bitrate_bps),
            f64::from(network.min_bitrate_bps),
            f64::from(network.max_bitrate_bps),
        );
        if !network.loss_based {
            estimator = estimator.without_loss();
        }
        if let Some(ceiling) = &network.ceiling {
            estimator = estimator.under(ceiling.clone());
        }
        registry = configure_congestion_control(registry, estimator, CongestionFeedback::Twcc, &mut media)?
            .with(Slot::Pacer, Pacer::new(f64::from(network.initial_bitrate_bps)));
    }
    registry = registry.with(Slot::from(SLOT), KeyframeRequestForwarder::default());

    // ICE tuned for fast setup: a check every 20 ms instead of 200 ms, and no waiting period for
    // peer-reflexive pairs (a check overtaking its trickled candidate otherwise stalls nomination 1 s).
    let settings = SettingEngineBuilder::new()
        .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_CHECKS_PER_PAIR))
        .with_host_acceptance_min_wait(Some(Duration::ZERO))
        .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
        .with_srflx_acceptance_min_wait(Some(Duration::from_millis(50)))
        .with_relay_acceptance_min_wait(Some(Duration::from_millis(100)))
        // Query-only mDNS binds :5353 and fails on hosts without a multicast route; browsers on a page
        // served from our own server see our address anyway.
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_ice_timeouts(Some(ICE_DISCONNECTED), Some(ICE_FAILED), Some(ICE_KEEPALIVE))
        // An ICE restart binds new sockets and gathers afresh, TURN allocations included: the old
        // allocation may be what broke (a reset TURN/TCP connection takes it along), and reusing the
        // socket would reuse webrtc-rs's TURN client for it.
        .with_discard_local_candidates_during_ice_restart(true)
        .with_answering_dtls_role(answering_role)
        .build();
    let mut config = RTCConfigurationBuilder::new().with_ice_servers(to_rtc_ice_servers(ice_servers));
    if network.relay_only {
        config = config.with_ice_transport_policy(RTCIceTransportPolicy::Relay);
    }
    if let Some(identity) = identity {
        config = config.with_certificates(vec![identity.certificate().clone()]);
    }
    let mut builder = PeerConnectionBuilder::new();
    if let Some(runtime) = &network.runtime {
        builder = builder.with_runtime(runtime.clone());
    }
    let pc = builder
        .with_configuration(config.build())
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .with_handler(handler)
        .with_udp_addrs(network.udp_addrs.clone())
        .with_tcp_addrs(network.tcp_addrs.clone())
        .with_data_channel_send_buffer_limit(1 << 20)
        .build()
        .await?;
    Ok(Arc::new(pc))
}
