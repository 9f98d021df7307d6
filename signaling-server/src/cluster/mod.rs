//! Cluster mode (`--redis URL`): the rooms live in Redis, so clients of one room may be connected to
//! different servers ("nodes") and behave as on one. ARCHITECTURE.md, "Signaling cluster", has the design;
//! in short:
//!
//! - membership changes run as Lua scripts ([`scripts`]), atomically: capacity is exact and every change has
//!   a place in one sequence;
//! - each node listens on its own Redis channel; the scripts publish changes to the nodes of a room, nodes
//!   publish signals to the recipient's node ([`wire`]); one Redis connection delivers in order;
//! - a node holds a lease in Redis it renews four times per lease; every node reaps the participants of
//!   nodes whose lease lapsed (killed or frozen), which announces them as left;
//! - a node that loses Redis, or finds its lease gone, disconnects its clients in rooms (`unavailable`): they
//!   reconnect and join again, as after a server restart;
//! - with an SFU (`--janus`), the join script also decides when a room moves there, and tells the room's
//!   nodes; each node brokers its own clients' SFU connections (`crate::sfu`) in the one Janus room of
//!   that room.

mod local;
mod scripts;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use kaiwa_protocol::{ErrorCode, PeerInfo, RoomCode};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::metrics::Metrics;
use crate::rooms::{Full, Outbox};
use crate::sfu::Sfu;
use local::{Applied, LocalRooms};
use scripts::Scripts;
use wire::Wire;

/// Why a client was disconnected when its node lost Redis.
const LOST: &str = "the server lost its connection to the other servers";
/// Waits between attempts to reach Redis.
const RETRY: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// One node of the cluster.
pub struct Cluster {
    client: redis::Client,
    node: String,
    lease: Duration,
    max_room_size: usize,
    scripts: Scripts,
    /// The connection for commands while Redis is reachable and our lease held; `None` between.
    conn: Mutex<Option<MultiplexedConnection>>,
    /// Counts the times the node lost Redis; a membership from an earlier epoch was already taken out.
    epoch: AtomicU64,
    local: LocalRooms,
    /// Wakes the connection task when a command failed.
    fault: Notify,
    metrics: Arc<Metrics>,
    /// Big rooms' SFU, and the mesh limit past which rooms move there.
    sfu: Option<(Arc<Sfu>, usize)>,
}

/// A client's place in a room of the cluster.
pub struct Membership {
    key: String,
    pub code: RoomCode,
    epoch: u64,
    /// The client takes part through the SFU: the room went there at its join or while it was under way.
    pub through_sfu: bool,
}

impl Cluster {
    /// A node for the Redis at `url` (not connected until [`Cluster::run`]). Its lease is two thirds of
    /// the idle timeout, so a dead node's participants are announced as left within the time a silent
    /// client is given. With `sfu` (the SFU and its mesh limit), rooms past the limit move there.
    pub fn new(
        url: &str,
        max_room_size: usize,
        idle_timeout: Duration,
        metrics: Arc<Metrics>,
        sfu: Option<(Arc<Sfu>, usize)>,
    ) -> redis::RedisResult<Arc<Self>> {
        Ok(Arc::new(Cluster {
            client: redis::Client::open(url)?,
            node: format!("{:016x}", rand::random::<u64>()),
            lease: (idle_timeout * 2 / 3).max(Duration::from_millis(400)),
            max_room_size,
            scripts: Scripts::new(),
            conn: Mutex::new(None),
            epoch: AtomicU64::new(0),
            local: LocalRooms::default(),
            fault: Notify::new(),
            metrics,
            sfu,
        }))
    }

    /// Whether the node is serving rooms now (`/healthz`).
    pub fn ready(&self) -> bool {
        self.conn_slot().is_some()
    }

    fn conn_slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn conn(&self) -> Result<MultiplexedConnection, ErrorCode> {
        self.conn_slot().clone().ok_or(ErrorCode::Unavailable)
    }

    fn failed(&self, what: &str, e: &dyn std::fmt::Display) -> ErrorCode {
        warn!(node = %self.node, what, error = %e, "Redis command failed");
        self.fault.notify_waiters();
        ErrorCode::Unavailable
    }

    fn update_gauges(&self) {
        let (rooms, participants) = self.local.counts();
        self.metrics.rooms.store(rooms as u64, Relaxed);
        self.metrics.participants.store(participants as u64, Relaxed);
    }

    /// Adds a participant to the room and queues its `joined` (made by `welcome` from the room's code, the
    /// participants already there in join order, and whether the room goes through the SFU); the others
    /// hear `peer_joined`. Refused: the error code, and why in words.
    pub async fn join(
        &self,
        code: RoomCode,
        me: PeerInfo,
        outbox: Outbox,
        sfu_capable: bool,
        welcome: impl FnOnce(&RoomCode, Vec<PeerInfo>, bool) -> String,
    ) -> Result<Membership, (ErrorCode, &'static str)> {
        const TRY_AGAIN: &str = "cannot join a room now: try again";
        let mut conn = self.conn().map_err(|code| (code, TRY_AGAIN))?;
        let epoch = self.epoch.load(Relaxed);
        let key = code.key().to_owned();
        let failed = |what: &str, e: &dyn std::fmt::Display| (self.failed(what, e), TRY_AGAIN);
        let json = serde_json::to_string(&me).map_err(|e| failed("encode", &e))?;
        let sfu_above = self.sfu.as_ref().map_or(-1, |(_, above)| *above as i64);
        self.local.hold(&key, &me.id, outbox);
        let reply: redis::RedisResult<Vec<String>> = self
            .scripts
            .join
            .arg(&key)
            .arg(code.to_string())
            .arg(&me.id)
            .arg(json)
            .arg(&self.node)
            .arg(self.max_room_size)
            .arg(if sfu_capable { "1" } else { "0" })
            .arg(sfu_above)
            .invoke_async(&mut conn)
            .await;
        let answer = match reply {
            Ok(answer) => answer,
            Err(e) => {
                self.local.remove(&key, &me.id);
                return Err(failed("join", &e));
            }
        };
        match answer.as_slice() {
            [ok, seq, shown, sfu, _moved, others @ ..] if ok == "ok" => {
                let seq: u64 = seq.parse().map_err(|e| failed("join answer", &e))?;
                let shown = RoomCode::parse(shown).unwrap_or(code);
                let sfu = sfu == "1";
                let others: Vec<(String, PeerInfo)> =
                    others.iter().filter_map(|o| wire::parse_member(o)).collect();
                let peers = others.iter().map(|(_, peer)| peer.clone()).collect();
                let welcome = welcome(&shown, peers, sfu);
                let moved_since = self.local.admit(&key, &me.id, &self.node, seq, &others, welcome.into());
                self.update_gauges();
                Ok(Membership { key, code: shown, epoch, through_sfu: sfu || moved_since })
            }
            [full, why] if full == "full" => {
                self.local.remove(&key, &me.id);
                let full = if why == "mesh" { Full::ForAMesh } else { Full::AtCapacity };
                Err((ErrorCode::RoomFull, full.why()))
            }
            _ => {
                // "gone": our lease lapsed (this node was frozen); the connection task starts over.
                self.local.remove(&key, &me.id);
                Err(failed("join", &"the node's lease lapsed"))
            }
        }
    }

    /// Takes a participant out of its room; the others hear `peer_left`. Returns whether it was the last
    /// one (as far as is known: not when the node lost Redis).
    pub async fn leave(&self, m: &Membership, id: &str) -> bool {
        self.local.remove(&m.key, id);
        self.update_gauges();
        if m.epoch != self.epoch.load(Relaxed) {
            return false; // Taken out when the node lost Redis.
        }
        let Ok(mut conn) = self.conn() else { return false };
        match self.scripts.leave.arg(&m.key).arg(id).invoke_async::<i64>(&mut conn).await {
            Ok(left) => left == 2,
            Err(e) => {
                self.failed("leave", &e);
                false
            }
        }
    }

    /// Sends `frame` (a `signal` in its wire form) to participant `to` of the room, wherever it is
    /// connected. Returns whether a node took it.
    pub async fn signal(&self, m: &Membership, from: &str, to: &str, frame: &str) -> Result<bool, ErrorCode> {
        let node = self.local.node_of(&m.key, from, to)?;
        let mut conn = self.conn()?;
        // Even to a client of this node the signal goes through Redis, so it stays behind the membership
        // change that introduced its sender.
        match conn.publish::<_, _, u64>(wire::channel(&node), Wire::signal(&m.key, to, frame)).await {
            Ok(nodes) => Ok(nodes > 0),
            Err(e) => Err(self.failed("publish", &e)),
        }
    }

    /// The room's code as its creator typed it, and how many are in it.
    pub async fn room_status(&self, code: &RoomCode) -> Result<(RoomCode, usize), ErrorCode> {
        let mut conn = self.conn()?;
        let key = code.key();
        let (shown, participants): (Option<String>, usize) = redis::pipe()
            .hget(format!("kaiwa:room:{key}"), "shown")
            .zcard(format!("kaiwa:room:{key}:order"))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.failed("room status", &e))?;
        let shown = shown.and_then(|s| RoomCode::parse(&s).ok()).unwrap_or_else(|| code.clone());
        Ok((shown, participants))
    }

    /// Keeps the node connected to Redis until `stop`: registers it, renews its lease, reaps dead nodes'
    /// participants and delivers what other nodes send; starts over whenever Redis is lost. At `stop` it
    /// takes its remaining participants out and gives up its lease.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut failures = 0usize;
        while !stop.is_cancelled() {
            let messages = match tokio::time::timeout(self.lease, self.connect()).await {
                Ok(Ok(messages)) => messages,
                Ok(Err(e)) => {
                    self.retry_later(&mut failures, e.to_string(), &stop).await;
                    continue;
                }
                Err(_) => {
                    self.retry_later(&mut failures, "timed out".into(), &stop).await;
                    continue;
                }
            };
            info!(node = %self.node, "in the cluster");
            failures = 0;
            let why = self.serve(messages, &stop).await;
            *self.conn_slot() = None;
            self.epoch.fetch_add(1, Relaxed);
            let kicked = self.local.kick_all(ErrorCode::Unavailable, LOST);
            self.update_gauges();
            match why {
                Some(why) => warn!(node = %self.node, why, kicked, "left the cluster; reconnecting"),
                None => info!(node = %self.node, "left the cluster"),
            }
        }
    }

    async fn retry_later(&self, failures: &mut usize, e: String, stop: &CancellationToken) {
        if *failures == 0 {
            warn!(node = %self.node, error = %e, "cannot reach Redis; retrying");
        } else {
            debug!(node = %self.node, error = %e, "cannot reach Redis");
        }
        let wait = RETRY[(*failures).min(RETRY.len() - 1)];
        *failures += 1;
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }

    /// Connects, listens on this node's channel and registers (taking over what an earlier life of the
    /// node left in Redis). The subscription comes first, so nothing sent to the node is missed.
    async fn connect(&self) -> redis::RedisResult<redis::aio::PubSubStream> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.lease / 2))
            .set_response_timeout(Some(self.lease / 2));
        let mut conn = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(wire::channel(&self.node)).await?;
        let gone: u64 =
            self.scripts.register.arg(&self.node).arg(self.lease_ms()).invoke_async(&mut conn).await?;
        if gone > 0 {
            info!(node = %self.node, gone, "took this node's earlier participants out of their rooms");
        }
        *self.conn_slot() = Some(conn);
        Ok(pubsub.into_on_message())
    }

    fn lease_ms(&self) -> u64 {
        self.lease.as_millis() as u64
    }

    /// One connected stretch. Returns why it ended (`None`: stopped).
    async fn serve(
        &self,
        mut messages: redis::aio::PubSubStream,
        stop: &CancellationToken,
    ) -> Option<String> {
        let mut tick = tokio::time::interval(self.lease / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => {
                    self.deregister().await;
                    return None;
                }
                _ = self.fault.notified() => return Some("a command failed".into()),
                msg = messages.next() => {
                    let Some(msg) = msg else { return Some("the subscription ended".into()) };
                    let Some(wire) = msg.get_payload::<String>().ok().as_deref().and_then(Wire::parse) else {
                        debug!("unreadable message from the cluster");
                        continue;
                    };
                    match self.local.apply(wire) {
                        Applied::Nothing => {}
                        Applied::Relayed => {
                            self.metrics.messages_relayed_total.fetch_add(1, Relaxed);
                        }
                        Applied::Moved { room, members } => match &self.sfu {
                            Some((sfu, _)) => {
                                tokio::spawn(sfu.clone().admit_members(room, members));
                            }
                            None => warn!(room, "a room moved to the SFU, but this node has none"),
                        },
                    }
                }
                _ = tick.tick() => {
                    if let Err(why) = self.renew().await {
                        return Some(why);
                    }
                }
            }
        }
    }

    /// Renews the lease and reaps the participants of nodes whose lease lapsed.
    async fn renew(&self) -> Result<(), String> {
        let mut conn = self.conn().map_err(|_| "not connected".to_string())?;
        let renewed: Option<String> = redis::cmd("SET")
            .arg(format!("kaiwa:alive:{}", self.node))
            .arg(1)
            .arg("XX")
            .arg("PX")
            .arg(self.lease_ms())
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if renewed.is_none() {
            return Err("the lease lapsed (the node was stopped, or Redis lost its data)".into());
        }
        let gone: u64 =
            self.scripts.reap.prepare_invoke().invoke_async(&mut conn).await.map_err(|e| e.to_string())?;
        if gone > 0 {
            info!(gone, "took the participants of departed nodes out of their rooms");
        }
        Ok(())
    }

    async fn deregister(&self) {
        let Ok(mut conn) = self.conn() else { return };
        if let Err(e) = self.scripts.deregister.arg(&self.node).invoke_async::<u64>(&mut conn).await {
            warn!(error = %e, "could not leave the cluster cleanly; the lease will lapse");
        }
    }
}
