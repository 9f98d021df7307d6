//! The connection that sends our microphone and camera to the SFU: it offers (send-only), the SFU answers.
//! Our camera's encoder is shared with any mesh connection still open; camera off pauses it, and the track
//! stays (nothing to renegotiate).
//!
//! Its congestion control is the delay half alone (`Estimator::without_loss`): Janus's transport-wide
//! feedback lists about every other packet of ours as missing while its subscribers lose none, and the
//! loss half took the estimate to its floor (160×120) within ten seconds. The estimate starts at, and
//! stays under, what a big room's tile needs ([`super::SFU_VIDEO_BPS`] and our audio); a thinner uplink
//! brings it lower (the engine reads it with [`Publisher::target_bitrate`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use kaiwa_protocol::IceServer;
use rtc::rtp_transceiver::RTCRtpTransceiverDirection;
use rtc::statistics::StatsSelector;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};
use webrtc::peer_connection::{PeerConnection, RTCSessionDescription};
use webrtc::rtp_transceiver::RtpSender;

use super::gather::Gather;
use crate::peer::PeerContext;
use crate::peer::SendStats;
use crate::peer::factory::{NetworkConfig, build_peer_connection};
use crate::peer::handler::{Forwarder, PcEvent};
use crate::peer::tracks::{self, NO_PT, NegotiatedVideo, SentVideo};

/// The most the sending connection's estimate goes to: the camera's [`super::SFU_VIDEO_BPS`], our audio
/// (~40 kbit/s with its headers) and some room for keyframes.
const MAX_BPS: u32 = super::SFU_VIDEO_BPS + 100_000;

pub struct Publisher {
    pub pc: Arc<dyn PeerConnection>,
    pub gather: Gather,
    /// What we sent (the same figures for everyone in the room: they all receive this one stream).
    pub sent: Arc<SendStats>,
    audio: Option<(Arc<dyn RtpSender>, Arc<AtomicU8>)>,
    camera: Option<Camera>,
    stop: CancellationToken,
}

struct Camera {
    sender: Arc<dyn RtpSender>,
    video: SentVideo,
}

impl Publisher {
    /// Builds the connection with our tracks and sets its offer.
    pub async fn start(
        ctx: &PeerContext,
        ice_servers: &[IceServer],
        parent: &CancellationToken,
        forward: impl Fn(PcEvent) + Send + Sync + 'static,
    ) -> Result<Publisher, webrtc::error::Error> {
        let network = NetworkConfig {
            loss_based: false,
            initial_bitrate_bps: MAX_BPS,
            max_bitrate_bps: MAX_BPS,
            ..ctx.network.clone()
        };
        let pc = build_peer_connection(
            &network,
            ice_servers,
            Some(&ctx.identity),
            crate::peer::dtls_role::answering_role(true),
            Arc::new(Forwarder::new(forward)),
        )
        .await?;
        let stop = parent.child_token();
        let sent = Arc::new(SendStats::default());
        let mut publisher =
            Publisher { pc, gather: Gather::default(), sent, audio: None, camera: None, stop };
        if let Err(e) = publisher.add_tracks(ctx).await {
            publisher.close().await;
            return Err(e);
        }
        Ok(publisher)
    }

    async fn add_tracks(&mut self, ctx: &PeerContext) -> Result<(), webrtc::error::Error> {
        if let Some(packets) = &ctx.audio {
            let payload_type = Arc::new(AtomicU8::new(NO_PT));
            let (stats, stop) = (self.sent.clone(), self.stop.clone());
            let added = tracks::add_audio(&self.pc, packets, payload_type.clone(), stats, stop).await?;
            self.audio = Some((added.sender, payload_type));
        }
        if let Some(feed) = &ctx.video {
            let negotiated = Arc::new(NegotiatedVideo::default());
            let codecs = &ctx.network.video_codecs;
            let (stats, stop) = (self.sent.clone(), self.stop.clone());
            let added =
                tracks::add_video(&self.pc, feed, "camera", codecs, negotiated.clone(), stats, stop).await?;
            let video = SentVideo::new(negotiated, feed.control.clone());
            self.camera = Some(Camera { sender: added.sender, video });
        }
        // We only send here; the others arrive on the receiving connection.
        for transceiver in self.pc.get_transceivers().await {
            transceiver.set_direction(RTCRtpTransceiverDirection::Sendonly).await?;
        }
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer).await
    }

    /// The SFU's answer: from now on our media flows in the payload types and codec it chose.
    pub async fn on_answer(&mut self, sdp: String) -> Result<(), webrtc::error::Error> {
        self.pc.set_remote_description(RTCSessionDescription::answer(sdp)?).await?;
        if let Some((sender, payload_type)) = &self.audio {
            payload_type.store(tracks::negotiated_payload_type(sender).await.unwrap_or(NO_PT), Relaxed);
        }
        if let Some(camera) = &mut self.camera
            && let Some(codec) = camera.video.follow(&camera.sender).await
        {
            info!(%codec, "sending video to the SFU");
        }
        Ok(())
    }

    /// What congestion control allows this connection now (bits per second), once it has an estimate.
    pub async fn target_bitrate(&self) -> Option<f64> {
        let report = self.pc.get_stats(std::time::Instant::now(), StatsSelector::None).await;
        let target = report.outbound_rtp_streams().map(|o| o.target_bitrate).fold(0.0, f64::max);
        (target > 0.0).then_some(target)
    }

    /// Our camera starts again on a keyframe, so everyone can decode it.
    pub fn request_keyframe(&self) {
        if let Some(camera) = &self.camera {
            camera.video.request_keyframe();
        }
    }

    /// The codec our camera goes out in.
    pub fn video_codec(&self) -> Option<kaiwa_media::video::VideoCodec> {
        self.camera.as_ref().and_then(|c| c.video.codec())
    }

    pub async fn close(self) {
        self.stop.cancel();
        if let Err(e) = self.pc.close().await {
            debug!(error = %e, "close failed");
        }
    }
}
