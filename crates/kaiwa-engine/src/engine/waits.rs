//! What the actor is waiting for, with time passed in: connections put off after a rejoin, id claims
//! waiting for the server's announcement, and participants the server says left while our connection to
//! them is still up. No clock and no I/O: the actor asks [`Waits::due`] on its tick and acts on the answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kaiwa_protocol::{PeerId, PeerInfo};

use crate::peer::IdClaim;

/// How long a rejoined engine waits for id announcements before connecting to a "new" participant.
pub(super) const REKEY_GRACE: Duration = Duration::from_millis(1500);
/// How long an id claim waits for the server to announce the claimed id before it is dropped.
pub(super) const CLAIM_WAIT: Duration = Duration::from_secs(10);
/// How long a connection that is still up outlives the server's word that its participant left: their
/// signaling connection may only have dropped (a congested link timed it out), and they are rejoining to
/// claim it under a new id. Measured in the lab: Ann's signaling timed out during a 400 kbit/s drop; Bo
/// closed the connection at once while Ann, rejoined, kept hers, and neither ever offered again.
pub(super) const DEPARTURE_GRACE: Duration = Duration::from_secs(10);

/// A participant to connect to later.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PutOff {
    pub peer: PeerInfo,
    /// Whether we offer first.
    pub initiator: bool,
}

/// An id claim, with when it arrived (it is judged again as if then).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WaitingClaim {
    pub claim: IdClaim,
    pub arrived: Instant,
}

/// What has come due on a tick.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Due {
    /// Put-off connections to start now.
    pub connect: Vec<PutOff>,
    /// Departed participants whose connection to end: it went down, or they did not come back in time.
    pub end: Vec<PeerId>,
}

#[derive(Debug, Default)]
pub(super) struct Waits {
    put_off: Vec<(PutOff, Instant)>,
    claims: Vec<WaitingClaim>,
    departing: HashMap<PeerId, Instant>,
}

impl Waits {
    /// Nothing to wait for: the actor's tick can sleep.
    pub fn is_empty(&self) -> bool {
        self.put_off.is_empty() && self.claims.is_empty() && self.departing.is_empty()
    }

    /// Connects to `peer` after [`REKEY_GRACE`], unless something settles it before.
    pub fn put_off(&mut self, peer: PeerInfo, initiator: bool, now: Instant) {
        self.put_off.retain(|(p, _)| p.peer.id != peer.id);
        self.put_off.push((PutOff { peer, initiator }, now + REKEY_GRACE));
    }

    /// The put-off connection to `id`, taken out (they are talking to us already: connect now).
    pub fn take_put_off(&mut self, id: &PeerId) -> Option<PutOff> {
        let pos = self.put_off.iter().position(|(p, _)| p.peer.id == *id)?;
        Some(self.put_off.swap_remove(pos).0)
    }

    /// Forgets every put-off connection (a new join starts afresh).
    pub fn clear_put_off(&mut self) {
        self.put_off.clear();
    }

    /// Keeps a claim until the server announces its id, [`CLAIM_WAIT`] at most from when it arrived. A
    /// newer claim for the same old id replaces the one before.
    pub fn wait_for_announcement(&mut self, claim: IdClaim, arrived: Instant) {
        self.claims.retain(|c| c.claim.old != claim.old);
        self.claims.push(WaitingClaim { claim, arrived });
    }

    /// The claims whose new id the server has now announced, taken out to be judged again.
    pub fn announced_claims(&mut self, announced: impl Fn(&PeerId) -> bool) -> Vec<WaitingClaim> {
        let (ready, waiting) =
            std::mem::take(&mut self.claims).into_iter().partition(|c| announced(&c.claim.new));
        self.claims = waiting;
        ready
    }

    /// The server says `id` left while our connection to them is up: wait [`DEPARTURE_GRACE`] for them to
    /// come back under a new id.
    pub fn departed(&mut self, id: PeerId, now: Instant) {
        self.departing.insert(id, now + DEPARTURE_GRACE);
    }

    /// `id` needs no more waiting: they came back under a new id, or their connection ended. Any
    /// connection put off to them goes too.
    pub fn settled(&mut self, id: &PeerId) {
        self.departing.remove(id);
        self.put_off.retain(|(p, _)| p.peer.id != *id);
    }

    /// What has come due at `now`. `connected` says whether our connection to a participant is up (a
    /// departed one whose connection went down ends at once). Expired claims are dropped.
    pub fn due(&mut self, now: Instant, connected: impl Fn(&PeerId) -> bool) -> Due {
        let (ready, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.put_off).into_iter().partition(|(_, due)| *due <= now);
        self.put_off = later;
        self.claims.retain(|c| c.arrived + CLAIM_WAIT > now);
        let mut end: Vec<PeerId> = self
            .departing
            .iter()
            .filter(|(id, due)| **due <= now || !connected(id))
            .map(|(id, _)| id.clone())
            .collect();
        end.sort();
        for id in &end {
            self.departing.remove(id);
        }
        Due { connect: ready.into_iter().map(|(p, _)| p).collect(), end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str) -> PeerInfo {
        PeerInfo { id: id.into(), name: id.to_uppercase(), fingerprint: None }
    }

    fn claim(old: &str, new: &str) -> IdClaim {
        IdClaim { old: old.into(), new: new.into(), fingerprint: Some("fp".into()) }
    }

    fn always(_: &PeerId) -> bool {
        true
    }

    #[test]
    fn a_put_off_connection_starts_after_the_rekey_grace() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.put_off(peer("a"), true, t0);
        assert_eq!(w.due(t0 + REKEY_GRACE - Duration::from_millis(1), always), Due::default());
        let due = w.due(t0 + REKEY_GRACE, always);
        assert_eq!(due.connect, vec![PutOff { peer: peer("a"), initiator: true }]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_signal_from_a_put_off_participant_takes_it_out() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.put_off(peer("a"), false, t0);
        w.put_off(peer("b"), false, t0);
        assert_eq!(w.take_put_off(&"a".into()).map(|p| p.peer.id), Some("a".into()));
        assert_eq!(w.take_put_off(&"a".into()), None);
        let due = w.due(t0 + REKEY_GRACE, always);
        assert_eq!(due.connect.len(), 1);
        assert_eq!(due.connect[0].peer.id, PeerId::from("b"));
    }

    #[test]
    fn putting_off_twice_keeps_one_connection() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.put_off(peer("a"), false, t0);
        w.put_off(peer("a"), true, t0 + Duration::from_millis(500));
        assert!(w.due(t0 + REKEY_GRACE, always).connect.is_empty(), "the later one counts");
        assert_eq!(w.due(t0 + REKEY_GRACE * 2, always).connect.len(), 1);
    }

    #[test]
    fn leaving_or_a_new_join_cancels_put_off_connections() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.put_off(peer("a"), false, t0);
        w.put_off(peer("b"), false, t0);
        w.settled(&"a".into());
        assert_eq!(w.due(t0 + REKEY_GRACE, always).connect.len(), 1);
        w.put_off(peer("c"), false, t0);
        w.clear_put_off();
        assert!(w.is_empty());
    }

    #[test]
    fn a_departed_participant_is_kept_for_the_grace_while_connected() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.departed("a".into(), t0);
        assert!(w.due(t0 + DEPARTURE_GRACE - Duration::from_millis(1), always).end.is_empty());
        assert_eq!(w.due(t0 + DEPARTURE_GRACE, always).end, vec![PeerId::from("a")]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_departed_participant_whose_connection_goes_down_ends_at_once() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.departed("a".into(), t0);
        w.departed("b".into(), t0);
        let due = w.due(t0 + Duration::from_millis(100), |id| id.as_str() == "b");
        assert_eq!(due.end, vec![PeerId::from("a")]);
        assert!(!w.is_empty(), "b is still waited for");
    }

    #[test]
    fn a_departed_participant_who_comes_back_is_not_ended() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.departed("a".into(), t0);
        w.settled(&"a".into());
        assert!(w.due(t0 + DEPARTURE_GRACE, always).end.is_empty());
    }

    #[test]
    fn a_claim_waits_for_its_announcement_then_expires() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.wait_for_announcement(claim("old1", "new1"), t0);
        w.wait_for_announcement(claim("old2", "new2"), t0);
        let ready = w.announced_claims(|id| id.as_str() == "new1");
        assert_eq!(ready, vec![WaitingClaim { claim: claim("old1", "new1"), arrived: t0 }]);
        w.due(t0 + CLAIM_WAIT - Duration::from_millis(1), always);
        assert!(!w.is_empty());
        w.due(t0 + CLAIM_WAIT, always);
        assert!(w.is_empty(), "the unannounced claim expired");
        assert!(w.announced_claims(|_| true).is_empty());
    }

    #[test]
    fn a_newer_claim_for_the_same_old_id_replaces_the_one_before() {
        let t0 = Instant::now();
        let mut w = Waits::default();
        w.wait_for_announcement(claim("old", "new1"), t0);
        w.wait_for_announcement(claim("old", "new2"), t0 + Duration::from_secs(1));
        let ready = w.announced_claims(|_| true);
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].claim.new, PeerId::from("new2"));
    }
}
