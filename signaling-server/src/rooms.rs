//! Rooms and their participants, and delivery of messages to participants' outgoing queues.
//!
//! Lock order: the room map, then a room. Relaying takes only the sender's room lock, so rooms never
//! contend with each other. No lock is held across an `.await`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard};

use kaiwa_protocol::{ErrorCode, PeerId, PeerInfo, RoomCode, ServerMessage};
use tokio::sync::mpsc;

use crate::kicker::Kicker;
use crate::metrics::Metrics;

/// A text frame waiting in a connection's queue. `Arc<str>` rather than a `Bytes`-backed string keeps
/// each queue slot at 16 bytes (tokio allocates queue slots 32 at a time per connection) and a broadcast
/// shares one allocation between all recipients.
pub type OutFrame = Arc<str>;

/// The sending side of one participant's connection.
#[derive(Clone)]
pub struct Outbox {
    pub tx: mpsc::Sender<OutFrame>,
    pub kicker: Kicker,
}

impl Outbox {
    /// Queues a frame without waiting. A client whose queue is full cannot keep up: it is disconnected
    /// rather than letting its backlog grow or slowing the sender down.
    pub fn deliver(&self, text: OutFrame) -> bool {
        match self.tx.try_send(text) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kicker.kick(ErrorCode::SlowConsumer, "too many messages waiting for this client");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

struct Member {
    info: PeerInfo,
    outbox: Outbox,
    /// Said in its `join` that it can take part through the SFU.
    sfu_capable: bool,
}

pub struct Room {
    code: RoomCode,
    members: Mutex<Vec<Member>>,
    /// The room goes through the SFU (from the join that took it past the mesh limit on).
    sfu: std::sync::atomic::AtomicBool,
}

/// Why a join found the room full (`room_full` either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// It holds `max_room_size`.
    AtCapacity,
    /// It is at the mesh limit and someone in it (or the newcomer) cannot take part through the SFU, or it
    /// goes through the SFU and the newcomer cannot.
    ForAMesh,
}

impl Full {
    /// The refusal in words, for the `room_full` message.
    pub fn why(self) -> &'static str {
        match self {
            Full::AtCapacity => "the room is full",
            Full::ForAMesh => {
                "the room is full for this app: a room this big goes through the media server, which it cannot use"
            }
        }
    }
}

/// What a successful join did.
pub struct Joined {
    pub room: Arc<Room>,
    /// This join took the room past the mesh limit: everyone in it moves to the SFU now.
    pub moved_to_sfu: bool,
}

impl Room {
    pub fn code(&self) -> &RoomCode {
        &self.code
    }

    /// Whether the room goes through the SFU.
    pub fn through_sfu(&self) -> bool {
        self.sfu.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Everyone in the room now, with their outboxes.
    pub fn members_now(&self) -> Vec<(PeerInfo, Outbox)> {
        self.members().iter().map(|m| (m.info.clone(), m.outbox.clone())).collect()
    }

    fn members(&self) -> MutexGuard<'_, Vec<Member>> {
        // A poisoned lock means a panic elsewhere, which is already a bug; keep serving the data.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Relays `text` (an already formatted `signal`) to `to`. `Err` when `to` is not in this room.
    pub fn relay(&self, from: &str, to: &str, text: OutFrame) -> Result<bool, ErrorCode> {
        if from == to {
            return Err(ErrorCode::UnknownPeer);
        }
        let members = self.members();
        let target = members.iter().find(|m| m.info.id == to).ok_or(ErrorCode::UnknownPeer)?;
        Ok(target.outbox.deliver(text))
    }

    fn broadcast_except(members: &[Member], except: &str, text: &OutFrame) {
        for m in members.iter().filter(|m| m.info.id != except) {
            m.outbox.deliver(text.clone());
        }
    }
}

pub struct Rooms {
    map: Mutex<HashMap<String, Arc<Room>>>,
    max_room_size: usize,
    /// With an SFU: rooms of more than this many go through it. Without, rooms stop at `max_room_size`.
    sfu_above: Option<usize>,
    metrics: Arc<Metrics>,
}

impl Rooms {
    pub fn new(max_room_size: usize, sfu_above: Option<usize>, metrics: Arc<Metrics>) -> Self {
        Rooms { map: Mutex::new(HashMap::new()), max_room_size, sfu_above, metrics }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of participants in the room with this code (0 if it has none).
    pub fn participants(&self, code: &RoomCode) -> usize {
        let room = self.map().get(code.key()).cloned();
        room.map_or(0, |r| r.members().len())
    }

    /// The code of the room `code` names, as its creator typed it (`code` itself when there is no such room).
    pub fn shown(&self, code: RoomCode) -> RoomCode {
        self.map().get(code.key()).map_or(code, |room| room.code.clone())
    }

    /// Adds a participant and tells the others. `welcome` makes the newcomer's `joined` message from the room,
    /// the participants already there and whether the room goes through the SFU; it is queued before anyone
    /// can send the newcomer anything else. A room past the mesh limit moves to the SFU if everyone in it
    /// (and the newcomer) can; otherwise it is full.
    pub fn join(
        &self,
        code: RoomCode,
        me: PeerInfo,
        outbox: Outbox,
        sfu_capable: bool,
        welcome: impl FnOnce(&RoomCode, Vec<PeerInfo>, bool) -> String,
    ) -> Result<Joined, Full> {
        let mut map = self.map();
        let room = match map.entry(code.key().to_owned()) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(e) => {
                self.metrics.rooms.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let room = Room { code, members: Mutex::new(Vec::new()), sfu: Default::default() };
                e.insert(Arc::new(room)).clone()
            }
        };
        let mut members = room.members();
        let mesh_limit = self.sfu_above.unwrap_or(self.max_room_size);
        let moves = self.sfu_above.is_some()
            && !room.through_sfu()
            && members.len() >= mesh_limit
            && sfu_capable
            && members.iter().all(|m| m.sfu_capable);
        let full = if members.len() >= self.max_room_size {
            Some(Full::AtCapacity)
        } else if (members.len() >= mesh_limit && !room.through_sfu() && !moves)
            || (room.through_sfu() && !sfu_capable)
        {
            Some(Full::ForAMesh)
        } else {
            None
        };
        if let Some(full) = full {
            drop(members);
            // The room may have been created just now for this attempt; it must not linger empty.
            self.remove_if_empty(&mut map, &room);
            return Err(full);
        }
        if moves {
            room.sfu.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let others: Vec<PeerInfo> = members.iter().map(|m| m.info.clone()).collect();
        outbox.deliver(welcome(&room.code, others, room.through_sfu()).into());
        let text: OutFrame = ServerMessage::PeerJoined { peer: me.clone() }.to_json().into();
        Room::broadcast_except(&members, &me.id, &text);
        members.push(Member { info: me, outbox, sfu_capable });
        drop(members);
        self.metrics.participants.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Joined { room, moved_to_sfu: moves })
    }

    /// Removes a participant and tells the others; forgets the room once empty.
    pub fn leave(&self, room: &Arc<Room>, id: &PeerId) {
        let mut map = self.map();
        let mut members = room.members();
        let Some(pos) = members.iter().position(|m| &m.info.id == id) else { return };
        members.swap_remove(pos);
        let text: OutFrame = ServerMessage::PeerLeft { id: id.clone() }.to_json().into();
        Room::broadcast_except(&members, id, &text);
        drop(members);
        self.metrics.participants.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.remove_if_empty(&mut map, room);
    }

    fn remove_if_empty(&self, map: &mut HashMap<String, Arc<Room>>, room: &Arc<Room>) {
        if room.members().is_empty()
            && map.get(room.code.key()).is_some_and(|r| Arc::ptr_eq(r, room))
            && map.remove(room.code.key()).is_some()
        {
            self.metrics.rooms.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
