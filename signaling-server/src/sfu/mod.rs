//! Big rooms through an SFU: Janus's VideoRoom plugin (`--janus URL`). A room that grows past the mesh
//! limit (`--sfu-above`, or from its first participant with `--sfu-above 0`) gets a Janus room, and each
//! participant a [`member`] task that brokers its SFU negotiation over our own WebSocket: clients never
//! talk to Janus's API. In a cluster each node brokers its own clients, in the one Janus room whose id
//! every node derives from the room's code ([`janus_room_id`]). ARCHITECTURE.md, "Big rooms", has the
//! design.

mod janus;
mod member;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use kaiwa_protocol::{ErrorCode, PeerId, PeerInfo};
use serde_json::json;
use sha1::{Digest, Sha1};
use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use janus::Janus;
pub use janus::JanusError;
pub use member::FromClient;

use crate::rooms::{Outbox, Room};

/// Messages from one client queued for its member task.
const INBOX: usize = 16;
/// Janus's VideoRoom error for a `create` of a room id that exists (another node made it first).
const ROOM_EXISTS: i64 = 427;

/// The Janus room of our room `key`, the same on every node: 48 bits of the key's SHA-1 (an id stays
/// exact in JSON numbers, and two rooms meeting on one id is a one-in-2⁴⁸ chance per pair).
pub fn janus_room_id(key: &str) -> u64 {
    let digest = Sha1::digest(format!("kaiwa room {key}").as_bytes());
    digest[..6].iter().fold(0, |id, byte| id << 8 | u64::from(*byte))
}

/// The SFU side of the server: the Janus connection and the rooms on it.
pub struct Sfu {
    url: String,
    max_room_size: usize,
    janus: tokio::sync::Mutex<Option<Arc<Janus>>>,
    rooms: Mutex<HashMap<String, Arc<OnceCell<Arc<SfuRoom>>>>>,
}

/// One of our rooms on Janus.
struct SfuRoom {
    janus: Arc<Janus>,
    id: u64,
    members: Mutex<HashMap<PeerId, Member>>,
}

struct Member {
    inbox: mpsc::Sender<FromClient>,
    stop: CancellationToken,
}

impl SfuRoom {
    fn members(&self) -> MutexGuard<'_, HashMap<PeerId, Member>> {
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sfu {
    pub fn new(url: String, max_room_size: usize) -> Self {
        Sfu { url, max_room_size, janus: Default::default(), rooms: Default::default() }
    }

    /// The server's SFU, if it has one (`--janus`).
    pub fn for_config(config: &crate::config::Config) -> Option<Arc<Self>> {
        config.janus.clone().map(|url| Arc::new(Sfu::new(url, config.max_room_size)))
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Arc<OnceCell<Arc<SfuRoom>>>>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Janus session, connected again if the last one ended.
    async fn janus(&self) -> Result<Arc<Janus>, JanusError> {
        let mut janus = self.janus.lock().await;
        if let Some(j) = janus.as_ref().filter(|j| !j.closed.is_cancelled()) {
            return Ok(j.clone());
        }
        let j = Janus::connect(&self.url).await?;
        info!(url = %self.url, "connected to Janus");
        *janus = Some(j.clone());
        Ok(j)
    }

    /// The Janus room for our room `key`, made on first use (and again after Janus went away: its rooms
    /// went with it); in a cluster another node may have made it already.
    async fn room(&self, key: &str) -> Result<Arc<SfuRoom>, JanusError> {
        let cell = {
            let mut rooms = self.rooms();
            let cell = rooms.entry(key.to_owned()).or_default();
            if cell.get().is_some_and(|room| room.janus.closed.is_cancelled()) {
                *cell = Arc::default();
            }
            cell.clone()
        };
        let room = cell
            .get_or_try_init(|| async {
                let janus = self.janus().await?;
                let id = janus_room_id(key);
                let admin = janus.attach().await?;
                let created = janus
                    .message(
                        admin.id,
                        json!({
                            "request": "create",
                            "room": id,
                            "is_private": true,
                            "publishers": self.max_room_size,
                            "audiocodec": "opus",
                            "videocodec": "vp8,h264",
                            "h264_profile": "42e01f",
                            "bitrate": BITRATE,
                            "notify_joining": false,
                        }),
                        None,
                    )
                    .await;
                janus.detach(admin.id).await;
                match created {
                    Ok(_) => info!(room = key, janus_room = id, "room moved to the SFU"),
                    Err(JanusError::Refused { code: ROOM_EXISTS, .. }) => {
                        info!(room = key, janus_room = id, "room on the SFU already")
                    }
                    Err(e) => return Err(e),
                }
                Ok::<_, JanusError>(Arc::new(SfuRoom { janus, id, members: Default::default() }))
            })
            .await?;
        Ok(room.clone())
    }

    /// After a join into a room that goes through the SFU: starts the newcomer's member task, or, when
    /// its join moved the room there, everyone's.
    pub async fn admit(self: Arc<Self>, room: Arc<Room>, me: PeerInfo, outbox: Outbox, moved: bool) {
        // Everyone in the room now, or only the newcomer.
        let starting = if moved { room.members_now() } else { vec![(me, outbox)] };
        let starting = starting.into_iter().map(|(peer, outbox)| (peer.id, outbox)).collect();
        self.admit_members(room.code().key().to_owned(), starting).await;
    }

    /// Starts the member tasks of these participants of room `key`, making its Janus room first if need be.
    /// A participant the SFU cannot take is disconnected (`unavailable`) and rejoins.
    pub async fn admit_members(self: Arc<Self>, key: String, members: Vec<(PeerId, Outbox)>) {
        match self.room(&key).await {
            Ok(sfu_room) => {
                for (id, outbox) in members {
                    self.start_member(&sfu_room, id, outbox);
                }
            }
            Err(e) => {
                warn!(room = key, error = %e, "no SFU room");
                for (_, outbox) in members {
                    outbox.kicker.kick(ErrorCode::Unavailable, "the media server cannot be reached");
                }
            }
        }
    }

    fn start_member(&self, room: &Arc<SfuRoom>, id: PeerId, outbox: Outbox) {
        let (inbox, rx) = mpsc::channel(INBOX);
        let stop = CancellationToken::new();
        let mut members = room.members();
        if members.contains_key(&id) {
            return;
        }
        members.insert(id.clone(), Member { inbox, stop: stop.clone() });
        let task = member::Task { janus: room.janus.clone(), room: room.id, me: id, outbox, inbox: rx, stop };
        tokio::spawn(task.run());
    }

    /// Hands an `sfu_offer` or `sfu_answer` to the client's member task. `Err` when the client is not in
    /// an SFU room (yet).
    pub fn pass_on(&self, key: &str, id: &str, message: FromClient) -> Result<(), ErrorCode> {
        let cell = self.rooms().get(key).cloned();
        let room = cell.as_ref().and_then(|c| c.get()).ok_or(ErrorCode::BadMessage)?;
        let inbox = room.members().get(id).map(|m| m.inbox.clone()).ok_or(ErrorCode::BadMessage)?;
        inbox.try_send(message).map_err(|_| ErrorCode::RateLimited)
    }

    /// A participant left: its member task ends (Janus tells the others). The Janus room is destroyed
    /// once nobody of this node is in it and the participant was the `last` of the room (in a cluster
    /// others may be in it through other nodes).
    pub async fn leave(&self, key: &str, id: &str, last: bool) {
        let Some(cell) = self.rooms().get(key).cloned() else { return };
        let Some(room) = cell.get().cloned() else { return };
        let empty = {
            let mut members = room.members();
            if let Some(m) = members.remove(id) {
                m.stop.cancel();
            }
            members.is_empty()
        };
        if !empty {
            return;
        }
        {
            let mut rooms = self.rooms();
            if rooms.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                rooms.remove(key);
            }
        }
        if !last {
            return;
        }
        if let Ok(admin) = room.janus.attach().await {
            let destroy = json!({"request": "destroy", "room": room.id});
            if let Err(e) = room.janus.message(admin.id, destroy, None).await {
                warn!(janus_room = room.id, error = %e, "could not destroy the SFU room");
            }
            room.janus.detach(admin.id).await;
        }
    }
}

/// What each publisher may send in all, in bits per second (Janus asks for it with REMB): a big room's
/// small camera picture (clients send it at 300 kbit/s at most) and a shared screen beside it (1.2 Mbit/s
/// at most, for its text to stay sharp).
const BITRATE: u32 = 1_600_000;

#[cfg(test)]
mod tests {
    #[test]
    fn every_node_finds_a_room_under_one_janus_id() {
        let id = super::janus_room_id("team-sync");
        assert_eq!(id, super::janus_room_id("team-sync"));
        assert_ne!(id, super::janus_room_id("team-sync2"));
        assert!(id < 1 << 48, "{id}");
    }
}
