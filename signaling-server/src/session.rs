//! One client's WebSocket connection: a reader task that parses and acts on client messages, and a
//! writer task (`writer.rs`) that drains the client's bounded outgoing queue and pings it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::SystemTime;

use futures_util::StreamExt;
use kaiwa_protocol::{
    ClientMessage, ErrorCode, MAX_NAME_CHARS, PROTOCOL_VERSION, PeerId, PeerInfo, RoomCode, ServerMessage,
};
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, trace};

use crate::cluster::{Cluster, Membership};
use crate::kicker::Kicker;
use crate::rate_limit::{RateLimiter, Verdict};
use crate::rooms::{Outbox, Room};
use crate::sfu::FromClient;
use crate::state::{Directory, State};
use crate::writer::Clock;

/// Bad messages tolerated from one connection before it is closed as abusive.
const MAX_BAD_MESSAGES: u32 = 32;

/// Runs a session to its end. `full` sessions only get `server_full` and are closed.
pub async fn run<S>(ws: WebSocketStream<S>, state: Arc<State>, full: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::channel(state.config.limits.send_queue);
    let kicker = Kicker::new(&state.shutdown);
    let clock = Arc::new(Clock { start: Instant::now(), last_heard_ms: AtomicU64::new(0) });
    let writer =
        tokio::spawn(crate::writer::write_loop(sink, rx, kicker.clone(), clock.clone(), state.clone()));
    if full {
        state.metrics.count_error(ErrorCode::ServerFull);
        kicker.kick(ErrorCode::ServerFull, "the server is at its connection limit");
    } else {
        let mut reader =
            Reader { state: &state, outbox: Outbox { tx, kicker: kicker.clone() }, joined: None, bad: 0 };
        reader.run(stream, &clock).await;
        if let Some(joined) = reader.joined.take() {
            reader.leave(joined).await;
        }
        kicker.stop();
    }
    let _ = writer.await;
}

/// Where a joined participant is.
enum Place {
    Local(Arc<Room>),
    Cluster(Arc<Cluster>, Membership),
}

impl Place {
    /// The room's code as its creator typed it.
    fn code(&self) -> &RoomCode {
        match self {
            Place::Local(room) => room.code(),
            Place::Cluster(_, m) => &m.code,
        }
    }
}

struct Joined {
    place: Place,
    id: PeerId,
    name: String,
    /// `{"type":"signal","from":"<id>","data":`: the start of every signal relayed from this participant.
    signal_prefix: String,
}

struct Reader<'a> {
    state: &'a State,
    outbox: Outbox,
    joined: Option<Joined>,
    bad: u32,
}

impl Reader<'_> {
    async fn run<S>(
        &mut self,
        mut stream: futures_util::stream::SplitStream<WebSocketStream<S>>,
        clock: &Clock,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let limits = &self.state.config.limits;
        let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst, clock.start.into_std());
        let join_deadline = clock.start + limits.join_timeout;
        let token = self.outbox.kicker.token().clone();
        loop {
            let frame = tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep_until(join_deadline), if self.joined.is_none() => {
                    self.fail(ErrorCode::Timeout, "no join within the join timeout");
                    return;
                }
                frame = stream.next() => frame,
            };
            let now = Instant::now();
            let msg = match frame {
                None => return,
                Some(Ok(msg)) => msg,
                Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                    debug!(error = %e, "oversized frame");
                    self.fail(ErrorCode::TooLarge, "message over the size limit");
                    return;
                }
                Some(Err(e)) => {
                    debug!(error = %e, "connection ended");
                    return;
                }
            };
            clock.heard(now);
            if matches!(msg, Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) {
                continue;
            }
            if matches!(msg, Message::Close(_)) {
                return;
            }
            self.state.metrics.messages_received_total.fetch_add(1, Relaxed);
            match limiter.check(now.into_std()) {
                Verdict::Allow => {}
                Verdict::Refuse => {
                    self.reply_error(ErrorCode::RateLimited, "slow down: message dropped");
                    continue;
                }
                Verdict::Abuse => {
                    self.fail(ErrorCode::RateLimited, "flooding");
                    return;
                }
            }
            match msg {
                Message::Text(text) => self.handle_text(&text).await,
                _ => self.bad_message("binary frames are not part of the protocol"),
            }
            if token.is_cancelled() {
                return;
            }
        }
    }

    async fn handle_text(&mut self, text: &str) {
        trace!(len = text.len(), "message");
        match ClientMessage::parse(text) {
            Err(e) => {
                debug!(error = %e, "bad message");
                self.reply_error(ErrorCode::BadMessage, &e.to_string());
                self.count_bad();
            }
            Ok(ClientMessage::Join { room, name, version, fingerprint, sfu }) => {
                self.join(&room, &name, version, fingerprint.as_deref(), sfu).await
            }
            Ok(ClientMessage::SfuOffer { sdp, screen }) => self.sfu(FromClient::Offer { sdp, screen }),
            Ok(ClientMessage::SfuAnswer { sdp }) => self.sfu(FromClient::Answer(sdp)),
            Ok(ClientMessage::Signal { to, data }) => self.signal(&to, &data).await,
            Ok(ClientMessage::Leave) => match self.joined.take() {
                Some(joined) => self.leave(joined).await,
                None => self.reply_error(ErrorCode::NotJoined, "leave before join"),
            },
            Ok(ClientMessage::Ping) => self.reply(ServerMessage::Pong.to_json()),
        }
    }

    async fn join(&mut self, room: &str, name: &str, version: u32, fingerprint: Option<&str>, sfu: bool) {
        if self.joined.is_some() {
            return self.reply_error(ErrorCode::AlreadyJoined, "already in a room: leave first");
        }
        if version != PROTOCOL_VERSION {
            return self.reply_error(
                ErrorCode::VersionMismatch,
                &format!("this server speaks protocol version {PROTOCOL_VERSION}"),
            );
        }
        let code = match RoomCode::parse(room) {
            Ok(code) => code,
            Err(e) => return self.reply_error(ErrorCode::BadRoomCode, &e.to_string()),
        };
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            self.count_bad();
            return self.reply_error(
                ErrorCode::BadMessage,
                &format!("a name has 1 to {MAX_NAME_CHARS} characters and no control characters"),
            );
        }
        let id: PeerId = format!("{:016x}", rand::random::<u64>());
        // Passed on to the others as said, in canonical form; anything that is not a SHA-256 fingerprint is
        // dropped (the participant then cannot take an id back after a reconnect, nothing more).
        let fingerprint = fingerprint.and_then(kaiwa_protocol::Fingerprint::normalize);
        let me = PeerInfo { id: id.clone(), name: name.to_owned(), fingerprint };
        let config = &self.state.config;
        let max_peers = config.max_room_size;
        let welcome = |room: &RoomCode, peers, sfu| {
            ServerMessage::Joined {
                id: id.clone(),
                room: room.to_string(),
                peers,
                ice_servers: crate::turn::ice_servers_for(config, &id, SystemTime::now()),
                max_peers,
                sfu,
            }
            .to_json()
        };
        let outbox = self.outbox.clone();
        // Refused: the code, and why in words.
        let joined: Result<Place, (ErrorCode, &'static str)> = match &self.state.rooms {
            Directory::Local(rooms) => {
                let me_too = me.clone();
                let joined = rooms.join(code, me, outbox.clone(), sfu, welcome);
                joined.map_err(|full| (ErrorCode::RoomFull, full.why())).map(|joined| {
                    if let Some(sfu) = self.state.sfu.as_ref().filter(|_| joined.room.through_sfu()) {
                        let admit =
                            sfu.clone().admit(joined.room.clone(), me_too, outbox, joined.moved_to_sfu);
                        self.state.tasks.spawn(admit);
                    }
                    Place::Local(joined.room)
                })
            }
            Directory::Cluster(cluster) => {
                cluster.join(code, me, outbox.clone(), sfu, welcome).await.map(|m| {
                    if let Some(sfu) = self.state.sfu.as_ref().filter(|_| m.through_sfu) {
                        let admit =
                            sfu.clone().admit_members(m.code.key().to_owned(), vec![(id.clone(), outbox)]);
                        self.state.tasks.spawn(admit);
                    }
                    Place::Cluster(cluster.clone(), m)
                })
            }
        };
        match joined {
            Err((ErrorCode::RoomFull, why)) => self.reply_error(ErrorCode::RoomFull, why),
            Err((code, why)) => self.fail(code, why),
            Ok(place) => {
                self.state.metrics.joins_total.fetch_add(1, Relaxed);
                info!(room = %place.code(), peer = %id, name, "joined");
                let signal_prefix = format!(r#"{{"type":"signal","from":{},"data":"#, serde_json::json!(id));
                self.joined = Some(Joined { place, id, name: name.to_owned(), signal_prefix });
            }
        }
    }

    async fn leave(&mut self, joined: Joined) {
        match (&self.state.rooms, &joined.place) {
            (Directory::Local(rooms), Place::Local(room)) => {
                rooms.leave(room, &joined.id);
                if let Some(sfu) = &self.state.sfu {
                    sfu.leave(room.code().key(), &joined.id, true).await;
                }
            }
            (_, Place::Cluster(cluster, m)) => {
                let last = cluster.leave(m, &joined.id).await;
                if let Some(sfu) = &self.state.sfu {
                    sfu.leave(m.code.key(), &joined.id, last).await;
                }
            }
            (Directory::Cluster(_), Place::Local(_)) => {}
        }
        info!(room = %joined.place.code(), peer = %joined.id, name = %joined.name, "left");
    }

    async fn signal(&mut self, to: &str, data: &RawValue) {
        let Some(joined) = &self.joined else {
            return self.reply_error(ErrorCode::NotJoined, "signal before join");
        };
        // `from` is stamped here, whatever the client claims; `data` is relayed byte for byte.
        let data = data.get();
        let mut text = String::with_capacity(joined.signal_prefix.len() + data.len() + 1);
        text.push_str(&joined.signal_prefix);
        text.push_str(data);
        text.push('}');
        let relayed = match &joined.place {
            Place::Local(room) => room.relay(&joined.id, to, text.into()),
            Place::Cluster(cluster, m) => cluster.signal(m, &joined.id, to, &text).await,
        };
        match relayed {
            Ok(delivered) => {
                if delivered {
                    self.state.metrics.messages_relayed_total.fetch_add(1, Relaxed);
                }
            }
            Err(ErrorCode::UnknownPeer) => {
                self.reply_error(ErrorCode::UnknownPeer, "no such participant in this room")
            }
            Err(code) => self.fail(code, "the server lost its connection to the other servers"),
        }
    }

    /// An `sfu_offer` or `sfu_answer`, for the client's member task in its SFU room.
    fn sfu(&mut self, message: FromClient) {
        let target = match (&self.joined, &self.state.sfu) {
            (Some(Joined { place, id, .. }), Some(sfu)) => sfu.pass_on(place.code().key(), id, message),
            _ => Err(ErrorCode::BadMessage),
        };
        match target {
            Ok(()) => {}
            Err(ErrorCode::BadMessage) => {
                self.bad_message("sfu messages are for rooms that go through the SFU")
            }
            Err(code) => self.reply_error(code, "too many SFU messages at once"),
        }
    }

    fn bad_message(&mut self, why: &str) {
        debug!(why, "bad message");
        self.reply_error(ErrorCode::BadMessage, why);
        self.count_bad();
    }

    fn count_bad(&mut self) {
        self.bad += 1;
        if self.bad > MAX_BAD_MESSAGES {
            self.outbox.kicker.kick(ErrorCode::BadMessage, "too many bad messages");
        }
    }

    fn reply(&self, text: String) {
        self.outbox.deliver(text.into());
    }

    fn reply_error(&self, code: ErrorCode, message: &str) {
        self.state.metrics.count_error(code);
        self.reply(ServerMessage::error(code, message).to_json());
    }

    /// Sends the error as the connection's last words and closes it.
    fn fail(&self, code: ErrorCode, why: &'static str) {
        self.state.metrics.count_error(code);
        self.outbox.kicker.kick(code, why);
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
