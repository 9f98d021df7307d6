//! The connection that sends our microphone, camera and any screen we share to the SFU: it offers
//! (send-only), the SFU answers. Our camera's encoder is shared with any mesh connection still open;
//! camera off pauses it, and the track stays (nothing to renegotiate). A shared screen is a track of its
//! own, added and removed as sharing starts and ends, each change a new offer (one exchange at a time:
//! a change during one waits for its answer); the offer names the screen's m-section so the server can
//! tell it from the camera.
//!
//! Its congestion control is the delay half alone (`Estimator::without_loss`): Janus's transport-wide
//! feedback lists about every other packet of ours as missing while its subscribers lose none, and the
//! loss half took the estimate to its floor (160×120) within ten seconds. The estimate starts at, and
//! stays under, what a big room's tile needs ([`super::SFU_VIDEO_BPS`] and our audio) while we share no
//! screen; while we share one its ceiling is the screen's [`super::SFU_SCREEN_BPS`] more ([`Ceiling`]),
//! climbed to as the path proves it carries it. A thinner uplink brings it lower (the engine reads it with
//! [`Publisher::target_bitrate`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use kaiwa_protocol::IceServer;
use rtc::rtp_transceiver::{RTCRtpSenderId, RTCRtpTransceiverDirection};
use rtc::statistics::StatsSelector;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};
use webrtc::peer_connection::{PeerConnection, RTCSessionDescription};
use webrtc::rtp_transceiver::{RtpSender, RtpTransceiver};

use super::gather::Gather;
use crate::media::video_send::VideoFeed;
use crate::peer::SendStats;
use crate::peer::factory::{NetworkConfig, build_peer_connection};
use crate::peer::handler::{Forwarder, PcEvent};
use crate::peer::tracks::{self, NO_PT, SentVideo};
use crate::peer::{Ceiling, PeerContext};

/// Where the sending connection's estimate starts, and the most it goes to while we share no screen: the
/// camera's [`super::SFU_VIDEO_BPS`], our audio (~40 kbit/s with its headers) and some room for keyframes.
/// (Letting it grow further paces the camera's frames at 2.5 × the estimate for nothing.)
const CAMERA_BPS: u32 = super::SFU_VIDEO_BPS + 100_000;

/// The most it goes to while we share a screen: the camera's and the screen's
/// [`super::SFU_SCREEN_BPS`], if the path carries them.
const WITH_SCREEN_BPS: u32 = CAMERA_BPS + super::SFU_SCREEN_BPS;

pub struct Publisher {
    pub pc: Arc<dyn PeerConnection>,
    pub gather: Gather,
    /// What we sent (the same figures for everyone in the room: they all receive this one stream).
    pub sent: Arc<SendStats>,
    /// What we sent of our shared screen.
    pub screen_sent: Arc<SendStats>,
    audio: Option<(Arc<dyn RtpSender>, Arc<AtomicU8>)>,
    camera: Option<Video>,
    screen: Option<Screen>,
    /// Where the estimate may go: higher while we share a screen.
    ceiling: Ceiling,
    /// Our offer went and its answer has not come back.
    awaiting_answer: bool,
    /// The tracks changed during an exchange: offer again once it is done.
    offer_again: bool,
    stop: CancellationToken,
}

struct Video {
    sender: Arc<dyn RtpSender>,
    video: SentVideo,
}

/// The shared screen's track, with its own writer (it ends when sharing does).
struct Screen {
    video: Video,
    stop: CancellationToken,
}

impl Publisher {
    /// Builds the connection with our tracks (and `screen`'s, if we share one) and sets its offer.
    pub async fn start(
        ctx: &PeerContext,
        ice_servers: &[IceServer],
        parent: &CancellationToken,
        screen: Option<&VideoFeed>,
        forward: impl Fn(PcEvent) + Send + Sync + 'static,
    ) -> Result<Publisher, webrtc::error::Error> {
        let ceiling = Ceiling::new(CAMERA_BPS);
        let network = NetworkConfig {
            loss_based: false,
            initial_bitrate_bps: CAMERA_BPS,
            max_bitrate_bps: WITH_SCREEN_BPS,
            ceiling: Some(ceiling.clone()),
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
        let mut publisher = Publisher {
            pc,
            gather: Gather::default(),
            sent: Arc::default(),
            screen_sent: Arc::default(),
            audio: None,
            camera: None,
            screen: None,
            ceiling,
            awaiting_answer: false,
            offer_again: false,
            stop,
        };
        if let Err(e) = publisher.add_tracks(ctx, screen).await {
            publisher.close().await;
            return Err(e);
        }
        Ok(publisher)
    }

    async fn add_tracks(
        &mut self,
        ctx: &PeerContext,
        screen: Option<&VideoFeed>,
    ) -> Result<(), webrtc::error::Error> {
        if let Some(packets) = &ctx.audio {
            let payload_type = Arc::new(AtomicU8::new(NO_PT));
            let (stats, stop) = (self.sent.clone(), self.stop.clone());
            let added = tracks::add_audio(&self.pc, packets, payload_type.clone(), stats, stop).await?;
            self.audio = Some((added.sender, payload_type));
        }
        if let Some(feed) = &ctx.video {
            let codecs = &ctx.network.video_codecs;
            let (stats, stop) = (self.sent.clone(), self.stop.clone());
            let (added, video) = tracks::add_video(&self.pc, feed, "camera", codecs, stats, stop).await?;
            self.camera = Some(Video { sender: added.sender, video });
        }
        if let Some(feed) = screen {
            self.add_screen(ctx, feed).await?;
        }
        // We only send here; the others arrive on the receiving connection.
        for transceiver in self.pc.get_transceivers().await {
            transceiver.set_direction(RTCRtpTransceiverDirection::Sendonly).await?;
        }
        self.offer().await.map(|_| ())
    }

    async fn add_screen(&mut self, ctx: &PeerContext, feed: &VideoFeed) -> Result<(), webrtc::error::Error> {
        let codecs = &ctx.network.video_codecs;
        let stop = self.stop.child_token();
        let stats = self.screen_sent.clone();
        let (added, video) = tracks::add_video(&self.pc, feed, "screen", codecs, stats, stop.clone())
            .await
            .inspect_err(|_| stop.cancel())?;
        self.screen = Some(Screen { video: Video { sender: added.sender, video }, stop });
        self.ceiling.set(WITH_SCREEN_BPS);
        Ok(())
    }

    /// Our shared screen starts (or is another one now) or ends. `Ok(true)`: a new offer is set, to send
    /// once its candidates are in; `Ok(false)`: it follows the answer to the one under way.
    pub async fn set_screen(
        &mut self,
        ctx: &PeerContext,
        feed: Option<&VideoFeed>,
    ) -> Result<bool, webrtc::error::Error> {
        if feed.is_none() && self.screen.is_none() {
            return Ok(false);
        }
        if let Some(old) = self.screen.take() {
            self.ceiling.set(CAMERA_BPS);
            old.stop.cancel();
            self.pc.remove_track(&old.video.sender).await?;
        }
        if let Some(feed) = feed {
            self.add_screen(ctx, feed).await?;
            if let Some(transceiver) = self.transceiver_of_screen().await {
                transceiver.set_direction(RTCRtpTransceiverDirection::Sendonly).await?;
            }
        }
        self.offer().await
    }

    /// Sets a new offer, unless an exchange is under way (then one follows its answer): whether it did.
    async fn offer(&mut self) -> Result<bool, webrtc::error::Error> {
        if self.awaiting_answer {
            self.offer_again = true;
            return Ok(false);
        }
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer).await?;
        self.awaiting_answer = true;
        Ok(true)
    }

    async fn transceiver_of_screen(&self) -> Option<Arc<dyn RtpTransceiver>> {
        let sender = self.screen.as_ref()?.video.sender.id();
        let transceivers = self.pc.get_transceivers().await;
        transceivers.into_iter().find(|t| RTCRtpSenderId::from(t.id()) == sender)
    }

    /// The mid of our shared screen's m-section, once an offer gave it one.
    pub async fn screen_mid(&self) -> Option<String> {
        self.transceiver_of_screen().await?.mid().await.ok().flatten()
    }

    /// The SFU's answer: from now on our media flows in the payload types and codecs it chose.
    /// `Ok(true)`: the tracks changed meanwhile, and a new offer is set.
    pub async fn on_answer(&mut self, sdp: String) -> Result<bool, webrtc::error::Error> {
        self.awaiting_answer = false;
        self.pc.set_remote_description(RTCSessionDescription::answer(sdp)?).await?;
        if let Some((sender, payload_type)) = &self.audio {
            payload_type.store(tracks::negotiated_payload_type(sender).await.unwrap_or(NO_PT), Relaxed);
        }
        let screen = self.screen.as_mut().map(|s| (&mut s.video, "screen"));
        for (video, what) in self.camera.as_mut().map(|c| (c, "camera")).into_iter().chain(screen) {
            if let Some(codec) = video.video.follow(&video.sender).await {
                info!(%codec, what, "sending video to the SFU");
            }
        }
        if std::mem::take(&mut self.offer_again) {
            return self.offer().await;
        }
        Ok(false)
    }

    /// What congestion control allows this connection now (bits per second), once it has an estimate.
    pub async fn target_bitrate(&self) -> Option<f64> {
        self.sending().await.1
    }

    /// The bytes this connection has sent, and its estimate once it has one.
    pub async fn sending(&self) -> (u64, Option<f64>) {
        let report = self.pc.get_stats(std::time::Instant::now(), StatsSelector::None).await;
        let target = report.outbound_rtp_streams().map(|o| o.target_bitrate).fold(0.0, f64::max);
        let bytes = report.transport().map_or(0, |t| t.bytes_sent);
        (bytes, (target > 0.0).then_some(target))
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
