//! A signaling connection that stays joined: it reconnects with backoff and joins again after the server
//! restarts or the network drops, while the peer connections carry on.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kaiwa_protocol::{
    ClientMessage, ErrorCode, IceServer, PROTOCOL_VERSION, PeerId, PeerInfo, ServerMessage, SfuStream,
    SignalData,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};

use super::transport::{self, ConnectError, ServerUrl, Socket, Trust};
use crate::chat::ChannelMessage;

#[derive(Debug, Clone)]
pub struct SignalingConfig {
    pub url: ServerUrl,
    pub trust: Trust,
    pub room: String,
    pub name: String,
    /// Our DTLS certificate's fingerprint, announced in `join` (the engine sets it).
    pub fingerprint: Option<String>,
    /// Say in `join` that we can take part in a big room through the SFU (docs/PROTOCOL.md "Big rooms").
    pub sfu: bool,
    pub connect_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl SignalingConfig {
    pub fn new(url: ServerUrl, room: impl Into<String>, name: impl Into<String>) -> Self {
        SignalingConfig {
            url,
            trust: Trust::default(),
            room: room.into(),
            name: name.into(),
            fingerprint: None,
            sfu: true,
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(5),
        }
    }
}

#[derive(Debug)]
pub enum SignalingEvent {
    /// In the room. `rejoined` after a reconnect: ids (ours and the others') are new.
    Joined {
        id: PeerId,
        room: String,
        peers: Vec<PeerInfo>,
        ice_servers: Vec<IceServer>,
        max_peers: usize,
        rejoined: bool,
        /// The room goes through the SFU: connect to nobody, publish when told.
        sfu: bool,
    },
    PeerJoined(PeerInfo),
    PeerLeft(PeerId),
    Signal {
        from: PeerId,
        data: SignalData,
    },
    /// A chat line or media state sent through the server (in an SFU room there is no data channel).
    Message {
        from: PeerId,
        message: ChannelMessage,
    },
    /// The room now goes through the SFU: offer our media (`sfu_offer`).
    SfuPublish,
    /// The SFU's answer to our offer.
    SfuAnswer(String),
    /// The SFU offers the others' media; `streams` says whose each m-section is.
    SfuOffer {
        sdp: String,
        streams: Vec<SfuStream>,
    },
    /// The server refused a message of ours; the connection goes on.
    ServerError {
        code: ErrorCode,
        message: String,
    },
    /// The connection to the server was lost; the next attempt is in `retry_in`.
    Reconnecting {
        reason: String,
        retry_in: Duration,
        attempt: u32,
    },
    /// Signaling cannot go on (server unreachable at first, room full, bad room code, version mismatch).
    Failed(SignalingFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum SignalingFailure {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("room {room} is full ({message})")]
    RoomFull { room: String, message: String },
    #[error("the server refused to join: {code}: {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the signaling server closed the connection before we joined")]
    ClosedBeforeJoin,
}

enum Command {
    Send(ClientMessage),
    Leave,
}

/// Handle to the signaling task. Dropping it leaves the room.
pub struct SignalingClient {
    commands: mpsc::Sender<Command>,
}

impl SignalingClient {
    /// Starts connecting; events arrive on `events` until `Failed` or after `leave`.
    pub fn spawn(
        config: SignalingConfig,
        events: mpsc::Sender<SignalingEvent>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (commands, rx) = mpsc::channel(256);
        let task = tokio::spawn(run(config, rx, events));
        (SignalingClient { commands }, task)
    }

    /// Queues a signal for `to`. False if the queue is full or the task has ended; signals only make sense
    /// on the current connection, so they are not kept across reconnects.
    pub fn signal(&self, to: &PeerId, data: SignalData) -> bool {
        self.commands.try_send(Command::Send(ClientMessage::signal(to.clone(), &data))).is_ok()
    }

    /// Queues a chat line or media state (JSON as on the data channel) for `to`, through the server.
    pub fn message(&self, to: &PeerId, json: String) -> bool {
        match serde_json::value::RawValue::from_string(json) {
            Ok(data) => {
                self.commands.try_send(Command::Send(ClientMessage::Signal { to: to.clone(), data })).is_ok()
            }
            Err(_) => false,
        }
    }

    /// Queues our SFU offer (`sfu_offer`) or answer (`sfu_answer`).
    pub fn sfu(&self, message: ClientMessage) -> bool {
        self.commands.try_send(Command::Send(message)).is_ok()
    }

    /// Leaves the room and closes the connection.
    pub async fn leave(&self) {
        let _ = self.commands.send(Command::Leave).await;
    }
}

enum SessionEnd {
    Left,
    Lost(String),
    Failed(SignalingFailure),
}

async fn run(
    config: SignalingConfig,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<SignalingEvent>,
) {
    let mut joined_once = false;
    let mut attempt = 0u32;
    loop {
        let end = match transport::connect(&config.url, config.trust, config.connect_timeout).await {
            Ok(ws) => session(ws, &config, &mut commands, &events, &mut joined_once, &mut attempt).await,
            Err(e) if !joined_once => SessionEnd::Failed(e.into()),
            Err(e) => SessionEnd::Lost(e.to_string()),
        };
        match end {
            SessionEnd::Left => return,
            SessionEnd::Failed(f) => {
                let _ = events.send(SignalingEvent::Failed(f)).await;
                return;
            }
            SessionEnd::Lost(reason) => {
                attempt += 1;
                let retry_in = backoff(&config, attempt);
                warn!(%reason, attempt, ?retry_in, "signaling connection lost; reconnecting");
                if events.send(SignalingEvent::Reconnecting { reason, retry_in, attempt }).await.is_err() {
                    return;
                }
                // Wait, but leave at once if asked to.
                let sleep = tokio::time::sleep(retry_in);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        cmd = commands.recv() => match cmd {
                            None | Some(Command::Leave) => return,
                            Some(_) => {} // nobody to deliver it to now
                        },
                    }
                }
            }
        }
    }
}

/// Exponential backoff with ±20 % jitter, so clients of a restarted server do not return in lockstep.
fn backoff(config: &SignalingConfig, attempt: u32) -> Duration {
    let exp = config.backoff_min.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let base = exp.min(config.backoff_max);
    base.mul_f64(rand::random_range(0.8..1.2))
}

async fn session(
    mut ws: Socket,
    config: &SignalingConfig,
    commands: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<SignalingEvent>,
    joined_once: &mut bool,
    attempt: &mut u32,
) -> SessionEnd {
    let join = ClientMessage::Join {
        room: config.room.clone(),
        name: config.name.clone(),
        version: PROTOCOL_VERSION,
        fingerprint: config.fingerprint.clone(),
        sfu: config.sfu,
    };
    if let Err(e) = ws.send(Message::text(join.to_json())).await {
        return SessionEnd::Lost(e.to_string());
    }
    let mut in_room = false;
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None | Some(Command::Leave) => {
                    let _ = ws.send(Message::text(ClientMessage::Leave.to_json())).await;
                    let _ = ws.close(None).await;
                    return SessionEnd::Left;
                }
                Some(Command::Send(message)) => {
                    if let Err(e) = ws.send(Message::text(message.to_json())).await {
                        return SessionEnd::Lost(e.to_string());
                    }
                }
            },
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(f))) => {
                        let why = f.map(|f| format!("closed by the server ({} {})", u16::from(f.code), f.reason))
                            .unwrap_or_else(|| "closed by the server".into());
                        return lost_or_failed(in_room, *joined_once, why);
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return lost_or_failed(in_room, *joined_once, e.to_string()),
                    None => return lost_or_failed(in_room, *joined_once, "connection closed".into()),
                };
                let msg = match ServerMessage::parse(&text) {
                    Ok(m) => m,
                    Err(e) => {
                        debug!(error = %e, "ignoring an unreadable server message");
                        continue;
                    }
                };
                let event = match msg {
                    ServerMessage::Joined { id, room, peers, ice_servers, max_peers, sfu } => {
                        info!(%room, %id, peers = peers.len(), "joined");
                        let rejoined = *joined_once;
                        *joined_once = true;
                        *attempt = 0;
                        in_room = true;
                        SignalingEvent::Joined { id, room, peers, ice_servers, max_peers, rejoined, sfu }
                    }
                    ServerMessage::PeerJoined { peer } => SignalingEvent::PeerJoined(peer),
                    ServerMessage::PeerLeft { id } => SignalingEvent::PeerLeft(id),
                    // Offers, answers and candidates; else a chat line or media state through the server.
                    ServerMessage::Signal { from, data } => match SignalData::from_raw(&data) {
                        Ok(data) => SignalingEvent::Signal { from, data },
                        Err(e) => match ChannelMessage::parse(data.get()) {
                            Some(message) => SignalingEvent::Message { from, message },
                            None => {
                                debug!(%from, error = %e, "ignoring unreadable signal data");
                                continue;
                            }
                        },
                    },
                    ServerMessage::Error { code, message } if !in_room => {
                        let failure = match code {
                            ErrorCode::RoomFull => SignalingFailure::RoomFull { room: config.room.clone(), message },
                            _ => SignalingFailure::Refused { code, message },
                        };
                        // A room that filled up while we were away is worth retrying, and so is a server that
                        // cannot serve rooms for now; anything else is not.
                        if (code == ErrorCode::RoomFull && *joined_once) || code == ErrorCode::Unavailable {
                            return SessionEnd::Lost(failure.to_string());
                        }
                        return SessionEnd::Failed(failure);
                    }
                    ServerMessage::Error { code, message } => SignalingEvent::ServerError { code, message },
                    ServerMessage::SfuPublish => SignalingEvent::SfuPublish,
                    ServerMessage::SfuAnswer { sdp } => SignalingEvent::SfuAnswer(sdp),
                    ServerMessage::SfuOffer { sdp, streams } => SignalingEvent::SfuOffer { sdp, streams },
                    ServerMessage::Pong => continue,
                };
                if events.send(event).await.is_err() {
                    return SessionEnd::Left;
                }
            }
        }
    }
}

fn lost_or_failed(in_room: bool, joined_once: bool, why: String) -> SessionEnd {
    if in_room || joined_once {
        SessionEnd::Lost(why)
    } else {
        SessionEnd::Failed(SignalingFailure::ClosedBeforeJoin)
    }
}
