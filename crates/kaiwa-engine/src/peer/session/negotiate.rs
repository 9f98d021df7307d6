//! The session's part in offer/answer: offers, remote descriptions and candidates, carried out as
//! `negotiation.rs` decides; what the exchange settled (payload types, codecs, video formats).

use super::*;

impl PeerSession {
    /// Answers the current remote offer. An offer whose video we share no format with (say AV1 only) makes
    /// webrtc-rs refuse to answer while our camera track is attached; without it the video section is
    /// answered rejected and audio and chat connect as usual.
    pub(super) async fn create_answer(&mut self) -> Result<RTCSessionDescription, webrtc::error::Error> {
        match self.pc.create_answer(None).await {
            Err(webrtc::error::Error::ErrSenderWithNoCodecs)
                if self.video.is_some() || self.screen.is_some() =>
            {
                info!(peer = %self.remote.name, "no video format in common: answering without video");
                self.remove_video_track().await;
                self.remove_screen_track().await;
                self.pc.create_answer(None).await
            }
            result => result,
        }
    }

    /// After every completed exchange: is there video with this peer, and if that changed, act on it.
    pub(super) async fn update_video_formats(&mut self) {
        let (Some(local), Some(remote)) =
            (self.pc.local_description().await, self.pc.remote_description().await)
        else {
            return;
        };
        let now = self.video_formats.after_exchange(&local.sdp, &remote.sdp);
        if now.shared != self.video_formats.shared {
            match now.shared {
                Some(false) => {
                    warn!(peer = %self.remote.name, theirs = ?now.peer_codecs, "no video format in common");
                    // Our offer was answered without video: later offers must not carry the tracks either.
                    self.remove_video_track().await;
                    self.remove_screen_track().await;
                }
                Some(true) if self.video_formats.unavailable() && ctx_video_enabled(&self.ctx) => {
                    info!(peer = %self.remote.name, "a video format in common again: camera back on");
                    self.video_formats = now;
                    self.set_video(true).await;
                    if self.ctx.screen_feed().is_some() {
                        self.set_screen(true).await;
                    }
                    return;
                }
                _ => {}
            }
        }
        self.video_formats = now;
    }

    pub(super) fn signal(&self, data: SignalData) {
        if !self.ctx.signaling.signal(&self.remote.id, data) {
            debug!("signaling queue full or closed: signal dropped");
        }
    }

    /// Where the offer/answer exchange stands, from the peer connection.
    pub(super) async fn exchange(&self) -> Exchange {
        Exchange::of(
            self.pc.pending_local_description().await.is_some(),
            self.pc.pending_remote_description().await.is_some(),
        )
    }

    pub(super) async fn make_offer(&mut self, reason: OfferReason) {
        let at = self.exchange().await;
        match negotiation::on_offer_wanted(reason, at, self.negotiated, self.video_formats.unavailable()) {
            OnOfferWanted::Offer => {}
            OnOfferWanted::Postpone => {
                return debug!("not stable: offer postponed to the end of the exchange");
            }
            OnOfferWanted::Skip => return,
        }
        let result = async {
            let offer = self.pc.create_offer(None).await?;
            let sdp = offer.sdp.clone();
            self.pc.set_local_description(offer).await?;
            Ok::<_, webrtc::error::Error>(sdp)
        }
        .await;
        match result {
            Ok(sdp) => {
                self.negotiation.offers += 1;
                self.signal(SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp } });
            }
            Err(e) => warn!(error = %e, "cannot make an offer"),
        }
    }

    pub(super) async fn on_remote_description(&mut self, desc: SessionDescription) {
        let is_offer = desc.kind == SdpType::Offer;
        if is_offer && !self.offer_limit.allow(Instant::now()) {
            if self.offer_limit.dropped == 1 {
                warn!(peer = %self.remote.name, "renegotiation storm: ignoring offers over the limit");
            }
            return;
        }
        let sdp = crate::peer::rejected_sections::without_rejected_credentials(&desc.sdp).into_owned();
        let rtc_desc = match desc.kind {
            SdpType::Offer => RTCSessionDescription::offer(sdp),
            SdpType::Answer => RTCSessionDescription::answer(sdp),
            SdpType::Pranswer => RTCSessionDescription::pranswer(sdp),
            SdpType::Rollback => return,
        };
        let rtc_desc = match rtc_desc {
            Ok(d) => d,
            Err(e) => return warn!(error = %e, "unusable session description"),
        };
        let (rollback, answer) = match negotiation::on_remote(self.polite, desc.kind, self.exchange().await) {
            OnRemote::Apply { rollback, answer } => (rollback, answer),
            OnRemote::Ignore(why) => {
                self.ignore_offer = why == Ignored::CollidingOffer;
                if self.ignore_offer {
                    self.negotiation.ignored_offers += 1;
                }
                return debug!(?why, "remote description ignored");
            }
        };
        self.ignore_offer = false;
        let result = async {
            if rollback {
                debug!("polite: rolling back our offer for theirs");
                self.negotiation.rollbacks += 1;
                self.pc.set_local_description(RTCSessionDescription::rollback(None)?).await?;
            }
            self.pc.set_remote_description(rtc_desc).await?;
            for c in std::mem::take(&mut self.pending_candidates) {
                if let Err(e) = self.pc.add_ice_candidate(c).await {
                    debug!(error = %e, "queued candidate refused");
                }
            }
            if answer {
                let answer = self.create_answer().await?;
                let sdp = answer.sdp.clone();
                self.pc.set_local_description(answer).await?;
                self.signal(SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Answer, sdp } });
            }
            Ok::<_, webrtc::error::Error>(())
        }
        .await;
        if let Err(e) = result {
            warn!(error = %e, offer = is_offer, "negotiation step failed");
            return;
        }
        self.negotiated = true;
        self.negotiated_flag.store(true, Relaxed);
        self.update_video_formats().await;
        for track in self.video.iter_mut().chain(self.screen.iter_mut()).chain(self.audio.iter_mut()) {
            track
                .payload_type
                .store(tracks::negotiated_payload_type(&track.sender).await.unwrap_or(NO_PT), Relaxed);
            if let Some(video) = &mut track.video
                && let Some(codec) = video.follow(&track.sender).await
            {
                info!(peer = %self.remote.name, %codec, stream = %track.stream_id, "sending video");
            }
        }
    }

    pub(super) async fn on_remote_candidate(&mut self, c: IceCandidateInit) {
        let init = crate::peer::candidates::to_webrtc(c);
        if negotiation::queue_candidate(self.pc.remote_description().await.is_some()) {
            self.pending_candidates.push(init);
        } else if let Err(e) = self.pc.add_ice_candidate(init).await
            && !self.ignore_offer
        {
            debug!(error = %e, "remote candidate refused");
        }
    }
}
