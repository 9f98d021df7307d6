//! Who the actor is connected to as participants come, go and come back: connections delayed after a
//! rejoin, id claims (judged by `peer/id_claims.rs`), renames, and the grace a still-connected participant
//! gets when the server says they left.

use super::*;

/// How long a rejoined engine waits for id announcements before connecting to a "new" participant.
const REKEY_GRACE: Duration = Duration::from_millis(1500);
/// How long an id claim waits for the server to announce the claimed id before it is dropped.
const CLAIM_WAIT: Duration = Duration::from_secs(10);
/// How long a connection that is still up outlives the server's word that its participant left: their
/// signaling connection may only have dropped (a congested link timed it out), and they are rejoining to
/// claim it under a new id. Measured in the lab: Ann's signaling timed out during a 400 kbit/s drop; Bo
/// closed the connection at once while Ann, rejoined, kept hers, and neither ever offered again.
pub(super) const DEPARTURE_GRACE: Duration = Duration::from_secs(10);

impl Actor {
    /// Closes the connection to `id`, and the owner is told they left.
    pub(super) async fn end_session(&mut self, id: &PeerId) {
        self.departing.remove(id);
        if let Some(handle) = self.peers.remove(id) {
            let _ = handle.inputs.send(PeerInput::Close);
            info!(peer = %handle.info.name, "left");
            self.emit(EngineEvent::PeerLeft(handle.info)).await;
        }
    }

    /// Ends the connections of departed participants that went down or did not come back in time.
    pub(super) async fn end_departed(&mut self, now: tokio::time::Instant) {
        let over: Vec<PeerId> = self
            .departing
            .iter()
            .filter(|(id, due)| {
                **due <= now || !self.peers.get(*id).is_some_and(|h| h.connected.load(Relaxed))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in over {
            self.end_session(&id).await;
        }
    }

    /// Connects to `peer` now, or — while sessions from before a rejoin have not all announced their new
    /// ids — in a moment, so as not to build a second connection to someone we are still talking to.
    pub(super) async fn add_peer_soon(&mut self, peer: PeerInfo, initiator: bool) {
        let stale = self.peers.values().any(|h| h.generation < self.generation);
        if stale {
            let due = tokio::time::Instant::now() + REKEY_GRACE;
            self.pending.push((peer, initiator, due));
        } else {
            self.add_peer(peer, initiator).await;
        }
    }

    pub(super) async fn start_due_peers(&mut self) {
        let now = tokio::time::Instant::now();
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending).into_iter().partition(|(_, _, t)| *t <= now);
        self.pending = later;
        for (peer, initiator, _) in due {
            if !self.peers.contains_key(&peer.id) {
                self.add_peer(peer, initiator).await;
            }
        }
    }

    /// A peer we are connected to says its signaling id is now another (both of us rejoined after a
    /// server restart); [`id_claims::judge`] decides whether to believe it.
    pub(super) async fn on_claim(&mut self, claim: IdClaim, now: tokio::time::Instant) {
        let known = self.peers.contains_key(&claim.old);
        match id_claims::judge(&claim, known, self.announced.get(&claim.new)) {
            Verdict::Accept => self.rekey(claim).await,
            Verdict::Wait => {
                self.claims.retain(|(c, _)| c.old != claim.old);
                self.claims.push((claim, now + CLAIM_WAIT));
            }
            Verdict::Refuse(why) => warn!(old = %claim.old, new = %claim.new, why, "id claim refused"),
        }
    }

    /// Claims that waited for the server's announcement of their id, judged again.
    pub(super) async fn retry_claims(&mut self) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.claims)
            .into_iter()
            .partition(|(c, _)| self.announced.contains_key(&c.new));
        self.claims = waiting;
        for (claim, due) in ready {
            self.on_claim(claim, due - CLAIM_WAIT).await;
        }
    }

    /// Keeps the connection of a believed claim, filed under the new id; the owner is told.
    pub(super) async fn rekey(&mut self, claim: IdClaim) {
        let IdClaim { old, new, .. } = claim;
        let Some(mut handle) = self.peers.remove(&old) else { return };
        self.departing.remove(&old);
        if let Some(duplicate) = self.peers.remove(&new) {
            // A session made for the "newcomer" before we knew it was an old friend (the same certificate).
            let _ = duplicate.inputs.send(PeerInput::Close);
        }
        self.pending.retain(|(p, _, _)| p.id != new);
        if let Some(info) = self.announced.get(&new) {
            handle.info = info.clone();
        }
        handle.generation = self.generation;
        let _ = handle.inputs.send(PeerInput::Renamed(new.clone()));
        self.peers.insert(new.clone(), handle);
        self.emit(EngineEvent::PeerRenamed { old, new }).await;
    }
}
