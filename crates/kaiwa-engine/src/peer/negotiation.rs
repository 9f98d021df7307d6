//! Perfect negotiation (<https://www.w3.org/TR/webrtc/#perfect-negotiation-example>) as pure decisions:
//! given where the exchange stands and what arrived, what the session does next. No clock, no I/O; the
//! session (`session.rs`) reads the peer connection's state, asks here, and carries the answer out.
//!
//! Roles: of two participants the one whose id sorts lower is polite (docs/PROTOCOL.md). On colliding
//! offers ("glare") the polite side rolls its own back and answers; the impolite side ignores the other's.
//! webrtc-rs has no implicit rollback, so a rollback is a step of its own.

use kaiwa_protocol::SdpType;

/// Where the offer/answer exchange stands (RFC 8829 §3.2; the states perfect negotiation tells apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// No exchange under way.
    Stable,
    /// Our offer is out, waiting for the answer.
    OfferSent,
    /// Their offer is applied, our answer not yet.
    OfferReceived,
}

impl Exchange {
    /// From the peer connection's pending descriptions.
    pub fn of(pending_local: bool, pending_remote: bool) -> Exchange {
        match (pending_local, pending_remote) {
            (false, false) => Exchange::Stable,
            (true, _) => Exchange::OfferSent,
            (false, true) => Exchange::OfferReceived,
        }
    }
}

/// What to do with a remote description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRemote {
    /// Apply it: rolling our own offer back first if `rollback`, answering after if `answer`.
    Apply { rollback: bool, answer: bool },
    /// Leave it: why.
    Ignore(Ignored),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Impolite, and our offer is out: theirs loses the glare.
    CollidingOffer,
    /// An answer while no offer of ours is out.
    UnexpectedAnswer,
    /// A kind we do not take from peers (a provisional answer, a rollback).
    UnsupportedKind,
}

/// The polite/impolite rule for a remote description of `kind` arriving while the exchange is `at`.
pub fn on_remote(polite: bool, kind: SdpType, at: Exchange) -> OnRemote {
    match kind {
        SdpType::Offer => {
            let collision = at != Exchange::Stable;
            if collision && !polite {
                OnRemote::Ignore(Ignored::CollidingOffer)
            } else {
                OnRemote::Apply { rollback: collision, answer: true }
            }
        }
        SdpType::Answer if at == Exchange::OfferSent => OnRemote::Apply { rollback: false, answer: false },
        SdpType::Answer => OnRemote::Ignore(Ignored::UnexpectedAnswer),
        SdpType::Pranswer | SdpType::Rollback => OnRemote::Ignore(Ignored::UnsupportedKind),
    }
}

/// Why we want to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferReason {
    /// webrtc-rs asks (a track added or removed).
    NegotiationNeeded,
    /// We asked ourselves (the first offer, a codec change).
    Requested,
}

/// What to do when an offer is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOfferWanted {
    Offer,
    /// An exchange is under way: it ends first (webrtc-rs asks again if still needed).
    Postpone,
    /// Nothing an offer could settle (see below).
    Skip,
}

/// `negotiated`: a first exchange is done (until then it covers whatever is asked for); `video_unavailable`:
/// no video format in common, when webrtc-rs asks for negotiation after every exchange because its check
/// compares the rejected video section with the transceiver's direction, which no exchange can settle
/// (measured: 90 offers a minute).
pub fn on_offer_wanted(
    reason: OfferReason,
    at: Exchange,
    negotiated: bool,
    video_unavailable: bool,
) -> OnOfferWanted {
    if reason == OfferReason::NegotiationNeeded && (!negotiated || video_unavailable) {
        return OnOfferWanted::Skip;
    }
    if at != Exchange::Stable { OnOfferWanted::Postpone } else { OnOfferWanted::Offer }
}

/// Who restarts ICE when the connection fails: the impolite side leads, so both ends do not restart at
/// once (their restart offers would collide).
pub fn leads_ice_restart(polite: bool) -> bool {
    !polite
}

/// Remote candidates wait for the remote description (webrtc-rs refuses them before); errors adding one
/// while we ignore a colliding offer are expected (its candidates belong to the offer we dropped).
pub fn queue_candidate(remote_description_set: bool) -> bool {
    !remote_description_set
}

#[cfg(test)]
mod tests {
    use super::*;
    use Exchange::*;

    const POLITE: bool = true;
    const IMPOLITE: bool = false;

    #[test]
    fn an_offer_in_a_stable_state_is_answered_by_either_side() {
        for polite in [POLITE, IMPOLITE] {
            assert_eq!(
                on_remote(polite, SdpType::Offer, Stable),
                OnRemote::Apply { rollback: false, answer: true }
            );
        }
    }

    #[test]
    fn glare_the_polite_side_rolls_back_and_answers_the_impolite_side_ignores() {
        assert_eq!(
            on_remote(POLITE, SdpType::Offer, OfferSent),
            OnRemote::Apply { rollback: true, answer: true }
        );
        assert_eq!(on_remote(IMPOLITE, SdpType::Offer, OfferSent), OnRemote::Ignore(Ignored::CollidingOffer));
        // Both sides offered at once: exactly one offer survives, so the exchange completes.
        let survivors = [POLITE, IMPOLITE]
            .iter()
            .filter(|&&p| matches!(on_remote(p, SdpType::Offer, OfferSent), OnRemote::Apply { .. }))
            .count();
        assert_eq!(survivors, 1);
    }

    #[test]
    fn a_second_offer_while_answering_replaces_the_first_at_the_polite_side() {
        assert_eq!(
            on_remote(POLITE, SdpType::Offer, OfferReceived),
            OnRemote::Apply { rollback: true, answer: true }
        );
        assert_eq!(
            on_remote(IMPOLITE, SdpType::Offer, OfferReceived),
            OnRemote::Ignore(Ignored::CollidingOffer)
        );
    }

    #[test]
    fn answers_only_to_our_offer() {
        assert_eq!(
            on_remote(POLITE, SdpType::Answer, OfferSent),
            OnRemote::Apply { rollback: false, answer: false }
        );
        for at in [Stable, OfferReceived] {
            assert_eq!(on_remote(IMPOLITE, SdpType::Answer, at), OnRemote::Ignore(Ignored::UnexpectedAnswer));
        }
        for kind in [SdpType::Pranswer, SdpType::Rollback] {
            assert_eq!(on_remote(POLITE, kind, Stable), OnRemote::Ignore(Ignored::UnsupportedKind));
        }
    }

    #[test]
    fn renegotiation_waits_for_a_stable_state_and_never_loops_without_video() {
        use OfferReason::*;
        assert_eq!(on_offer_wanted(NegotiationNeeded, Stable, true, false), OnOfferWanted::Offer);
        assert_eq!(on_offer_wanted(NegotiationNeeded, OfferSent, true, false), OnOfferWanted::Postpone);
        assert_eq!(on_offer_wanted(NegotiationNeeded, Stable, false, false), OnOfferWanted::Skip);
        assert_eq!(on_offer_wanted(NegotiationNeeded, Stable, true, true), OnOfferWanted::Skip);
        // Our own reasons (the first offer, an ICE restart) do not depend on either.
        assert_eq!(on_offer_wanted(Requested, Stable, false, true), OnOfferWanted::Offer);
        assert_eq!(on_offer_wanted(Requested, OfferReceived, true, false), OnOfferWanted::Postpone);
    }

    #[test]
    fn ice_restarts_are_led_by_one_side_only() {
        assert!(leads_ice_restart(IMPOLITE));
        assert!(!leads_ice_restart(POLITE));
    }

    #[test]
    fn exchange_from_pending_descriptions() {
        assert_eq!(Exchange::of(false, false), Stable);
        assert_eq!(Exchange::of(true, false), OfferSent);
        assert_eq!(Exchange::of(false, true), OfferReceived);
        assert_eq!(Exchange::of(true, true), OfferSent);
        assert!(queue_candidate(false) && !queue_candidate(true));
    }
}
