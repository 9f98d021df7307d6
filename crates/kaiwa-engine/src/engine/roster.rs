//! Who the actor is connected to as participants come, go and come back: connections delayed after a
//! rejoin, id claims (judged by `peer/id_claims.rs`), renames, and the grace a still-connected participant
//! gets when the server says they left. When each wait ends is decided in `waits.rs`, with time passed in.

use std::time::Instant;

use super::waits::{Due, WaitingClaim};
use super::*;

impl Actor {
    /// Closes the connection to `id`, and the owner is told they left.
    pub(super) async fn end_session(&mut self, id: &PeerId) {
        self.waits.settled(id);
        if let Some(handle) = self.peers.remove(id) {
            let _ = handle.inputs.send(PeerInput::Close);
            info!(peer = %handle.info.name, "left");
            self.emit(EngineEvent::PeerLeft(handle.info)).await;
        }
    }

    /// Starts the put-off connections that are due and ends those of departed participants that went
    /// down or did not come back in time.
    pub(super) async fn on_waits_tick(&mut self, now: Instant) {
        let peers = &self.peers;
        let Due { connect, end } =
            self.waits.due(now, |id| peers.get(id).is_some_and(|h| h.connected.load(Relaxed)));
        for put_off in connect {
            if !self.peers.contains_key(&put_off.peer.id) {
                self.add_peer(put_off.peer, put_off.initiator).await;
            }
        }
        for id in end {
            self.end_session(&id).await;
        }
    }

    /// Connects to `peer` now, or — while sessions from before a rejoin have not all announced their new
    /// ids — in a moment, so as not to build a second connection to someone we are still talking to.
    pub(super) async fn add_peer_soon(&mut self, peer: PeerInfo, initiator: bool) {
        let stale = self.peers.values().any(|h| h.generation < self.generation);
        if stale {
            self.waits.put_off(peer, initiator, now());
        } else {
            self.add_peer(peer, initiator).await;
        }
    }

    /// A peer we are connected to says its signaling id is now another (both of us rejoined after a
    /// server restart); [`id_claims::judge`] decides whether to believe it.
    pub(super) async fn on_claim(&mut self, claim: IdClaim, arrived: Instant) {
        let known = self.peers.contains_key(&claim.old);
        match id_claims::judge(&claim, known, self.announced.get(&claim.new)) {
            Verdict::Accept => self.rekey(claim).await,
            Verdict::Wait => self.waits.wait_for_announcement(claim, arrived),
            Verdict::Refuse(why) => warn!(old = %claim.old, new = %claim.new, why, "id claim refused"),
        }
    }

    /// Claims that waited for the server's announcement of their id, judged again (as of when they came,
    /// so one that must wait again does not wait longer than [`super::waits::CLAIM_WAIT`] in all).
    pub(super) async fn retry_claims(&mut self) {
        let announced = &self.announced;
        for WaitingClaim { claim, arrived } in self.waits.announced_claims(|id| announced.contains_key(id)) {
            self.on_claim(claim, arrived).await;
        }
    }

    /// Keeps the connection of a believed claim, filed under the new id; the owner is told.
    pub(super) async fn rekey(&mut self, claim: IdClaim) {
        let IdClaim { old, new, .. } = claim;
        let Some(mut handle) = self.peers.remove(&old) else { return };
        self.waits.settled(&old);
        if let Some(duplicate) = self.peers.remove(&new) {
            // A session made for the "newcomer" before we knew it was an old friend (the same certificate).
            let _ = duplicate.inputs.send(PeerInput::Close);
        }
        self.waits.settled(&new);
        if let Some(info) = self.announced.get(&new) {
            handle.info = info.clone();
        }
        handle.generation = self.generation;
        let _ = handle.inputs.send(PeerInput::Renamed(new.clone()));
        self.peers.insert(new.clone(), handle);
        self.emit(EngineEvent::PeerRenamed { old, new }).await;
    }
}
