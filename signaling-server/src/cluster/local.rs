//! A cluster node's view of the rooms its own clients are in: who of them is in which room, and a replica of
//! each such room's membership (id → node) kept from the events in sequence order, so a signal finds its
//! recipient's node without asking Redis.
//!
//! A client joins in two steps: it is *held* before the join script runs, then *admitted* with the script's
//! answer. Whatever reaches it in between (events from the same script and later ones, signals) is kept and
//! delivered after its `joined`, and events from before its join are dropped: every participant sees
//! `joined`, then the changes after it, in the one order Redis gave them.
//!
//! No I/O: deliveries go to the participants' [`Outbox`]es, which never wait.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use kaiwa_protocol::{ErrorCode, PeerId, PeerInfo, ServerMessage};

use super::wire::Wire;
use crate::rooms::{OutFrame, Outbox};

/// Most messages kept for a participant whose join is under way; more means something is wrong (the join
/// script's answer cannot take that long), and the participant is disconnected.
const MAX_HELD: usize = 256;

struct Member {
    id: PeerId,
    outbox: Outbox,
    /// The sequence number of its join once admitted; `None` while held.
    joined: Option<u64>,
    /// Held messages: a membership change's sequence number and frame, or a signal (`None`).
    held: Vec<(Option<u64>, OutFrame)>,
}

/// The room's membership as of event `seq`: each participant's node.
struct Replica {
    seq: u64,
    nodes: HashMap<PeerId, String>,
}

/// A membership change: who, and their node (`None`: left).
type Change = (PeerId, Option<String>);

#[derive(Default)]
struct Room {
    members: Vec<Member>,
    replica: Option<Replica>,
    /// Changes seen before the first join's answer made the replica, to apply on top of it.
    early: Vec<(u64, Change)>,
    /// The sequence number of the join that moved the room to the SFU, once seen.
    moved_at: Option<u64>,
}

impl Room {
    /// Brings the replica up to change `seq` (older changes are already in it).
    fn record(&mut self, seq: u64, (id, node): Change) {
        match self.replica.as_mut() {
            Some(r) if r.seq < seq => {
                r.seq = seq;
                match node {
                    Some(node) => r.nodes.insert(id, node),
                    None => r.nodes.remove(&id),
                };
            }
            Some(_) => {}
            None if self.early.len() < MAX_HELD => self.early.push((seq, (id, node))),
            None => {}
        }
    }

    /// Delivers a membership change to everyone admitted before it, except its subject.
    fn deliver_change(&mut self, seq: u64, subject: &str, frame: &OutFrame) {
        for m in self.members.iter_mut().filter(|m| m.id != subject) {
            match m.joined {
                Some(joined) if joined < seq => {
                    m.outbox.deliver(frame.clone());
                }
                Some(_) => {}
                None => hold(m, Some(seq), frame.clone()),
            }
        }
    }
}

fn hold(m: &mut Member, seq: Option<u64>, frame: OutFrame) {
    if m.held.len() >= MAX_HELD {
        m.outbox.kicker.kick(ErrorCode::SlowConsumer, "too many messages during the join");
        return;
    }
    m.held.push((seq, frame));
}

/// What a message from the cluster asks of the node beyond delivering frames.
pub enum Applied {
    Nothing,
    /// A signal was delivered (or held for a client whose join is under way).
    Relayed,
    /// The room moved to the SFU: these clients of the node, in the room before the move, move now. (Those
    /// whose join comes after it learn it from their join's answer, those whose join is under way from
    /// [`LocalRooms::admit`].)
    Moved {
        room: String,
        members: Vec<(PeerId, Outbox)>,
    },
}

/// The rooms of one node's clients.
#[derive(Default)]
pub struct LocalRooms {
    rooms: Mutex<HashMap<String, Room>>,
}

impl LocalRooms {
    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a client about to join `room`: messages for it are kept until [`Self::admit`].
    pub fn hold(&self, room: &str, id: &str, outbox: Outbox) {
        let mut rooms = self.rooms();
        let room = rooms.entry(room.to_owned()).or_default();
        room.members.push(Member { id: id.to_owned(), outbox, joined: None, held: Vec::new() });
    }

    /// The join script let the client in as change `seq`, with `others` (node, participant) already there:
    /// queues `welcome`, then what was held for it after `seq`. Returns whether the room moved to the SFU
    /// after that join, while it was under way (the client moves too).
    pub fn admit(
        &self,
        room: &str,
        id: &str,
        node: &str,
        seq: u64,
        others: &[(String, PeerInfo)],
        welcome: OutFrame,
    ) -> bool {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(room) else { return false };
        if room.replica.as_ref().is_none_or(|r| r.seq < seq) {
            let mut nodes: HashMap<PeerId, String> =
                others.iter().map(|(node, peer)| (peer.id.clone(), node.clone())).collect();
            nodes.insert(id.to_owned(), node.to_owned());
            room.replica = Some(Replica { seq, nodes });
            for (change_seq, change) in std::mem::take(&mut room.early) {
                room.record(change_seq, change);
            }
        }
        let moved_after = room.moved_at.is_some_and(|moved| moved > seq);
        let Some(m) = room.members.iter_mut().find(|m| m.id == id) else { return false };
        m.outbox.deliver(welcome);
        for (change, frame) in std::mem::take(&mut m.held) {
            if change.is_none_or(|change| change > seq) {
                m.outbox.deliver(frame);
            }
        }
        m.joined = Some(seq);
        moved_after
    }

    /// Forgets a client (it left, or its join failed). Returns whether the room still has clients here.
    pub fn remove(&self, room_key: &str, id: &str) -> bool {
        let mut rooms = self.rooms();
        let Some(room) = rooms.get_mut(room_key) else { return false };
        room.members.retain(|m| m.id != id);
        if room.members.is_empty() {
            rooms.remove(room_key);
            return false;
        }
        true
    }

    /// The node of participant `to` of `room`, as far as this node knows.
    pub fn node_of(&self, room: &str, from: &str, to: &str) -> Result<String, ErrorCode> {
        if from == to {
            return Err(ErrorCode::UnknownPeer);
        }
        let rooms = self.rooms();
        let replica = rooms.get(room).and_then(|r| r.replica.as_ref());
        replica.and_then(|r| r.nodes.get(to).cloned()).ok_or(ErrorCode::UnknownPeer)
    }

    /// Acts on a message from another node (or the scripts).
    pub fn apply(&self, wire: Wire) -> Applied {
        let mut rooms = self.rooms();
        match wire {
            Wire::Joined { seq, room, node, peer } => {
                let Some(room) = rooms.get_mut(&room) else { return Applied::Nothing };
                room.record(seq, (peer.id.clone(), Some(node)));
                let id = peer.id.clone();
                let frame: OutFrame = ServerMessage::PeerJoined { peer }.to_json().into();
                room.deliver_change(seq, &id, &frame);
                Applied::Nothing
            }
            Wire::Left { seq, room, id } => {
                let Some(room) = rooms.get_mut(&room) else { return Applied::Nothing };
                room.record(seq, (id.clone(), None));
                let frame: OutFrame = ServerMessage::PeerLeft { id: id.clone() }.to_json().into();
                room.deliver_change(seq, &id, &frame);
                Applied::Nothing
            }
            Wire::Moved { seq, room: key, by } => {
                let Some(room) = rooms.get_mut(&key) else { return Applied::Nothing };
                room.moved_at = room.moved_at.max(Some(seq));
                let members = room
                    .members
                    .iter()
                    .filter(|m| m.id != by && m.joined.is_some_and(|joined| joined < seq))
                    .map(|m| (m.id.clone(), m.outbox.clone()))
                    .collect();
                Applied::Moved { room: key, members }
            }
            Wire::Signal { room, to, frame } => {
                let Some(m) = rooms.get_mut(&room).and_then(|r| r.members.iter_mut().find(|m| m.id == to))
                else {
                    return Applied::Nothing;
                };
                let delivered = if m.joined.is_some() {
                    m.outbox.deliver(frame.into())
                } else {
                    hold(m, None, frame.into());
                    true
                };
                if delivered { Applied::Relayed } else { Applied::Nothing }
            }
        }
    }

    /// Disconnects every client in a room (the node lost Redis, so its rooms are no longer shared) and
    /// forgets them. Returns how many.
    pub fn kick_all(&self, code: ErrorCode, why: &'static str) -> usize {
        let rooms = std::mem::take(&mut *self.rooms());
        let mut kicked = 0;
        for m in rooms.into_values().flat_map(|r| r.members) {
            m.outbox.kicker.kick(code, why);
            kicked += 1;
        }
        kicked
    }

    /// Rooms with a client of this node, and those clients.
    pub fn counts(&self) -> (usize, usize) {
        let rooms = self.rooms();
        (rooms.len(), rooms.values().map(|r| r.members.len()).sum())
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
