//! One participant of an SFU room: a task that owns its two Janus handles and brokers between the client
//! and Janus.
//!
//! - The *publisher* handle joins the Janus room under the participant's id (`display`); the client's
//!   `sfu_offer` becomes a `configure`, Janus's answer an `sfu_answer`. Janus tells this handle who else
//!   publishes (`publishers`) and who stops (`unpublished`, `leaving`).
//!   A client that shares its screen offers again with the screen's m-section named (`screen`): it is
//!   published with the description [`SCREEN`], which Janus passes on to subscribers.
//! - The *subscriber* handle receives everyone else's streams on one connection: it joins with the streams
//!   published so far (each participant's microphone, camera and shared screen, by feed and mid), and
//!   `update`s as they come and go. Each change makes Janus offer again; the offer goes to the client as
//!   an `sfu_offer` with the participant behind each m-section, the client's `sfu_answer` goes back as
//!   `start`. One negotiation at a time: changes wait for the answer.

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_protocol::{ErrorCode, PeerId, ServerMessage, SfuStream};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::janus::{Answer, Handle, Janus, JanusError};
use crate::rooms::Outbox;

/// The description of a published stream that is a shared screen (Janus's `descriptions`, which
/// subscribers see as `feed_description`).
const SCREEN: &str = "screen";

/// Janus's VideoRoom error for a subscription to a feed (or a feed's stream) that is gone.
const NO_SUCH_FEED: i64 = 428;

/// What a client sends about its SFU connections.
#[derive(Debug)]
pub enum FromClient {
    /// The offer of its publishing connection, and the mid of its shared screen's m-section if it shares.
    Offer { sdp: String, screen: Option<String> },
    /// Its answer to our latest subscription offer.
    Answer(String),
}

pub struct Task {
    pub janus: std::sync::Arc<Janus>,
    pub room: u64,
    pub me: PeerId,
    pub outbox: Outbox,
    pub inbox: mpsc::Receiver<FromClient>,
    pub stop: CancellationToken,
}

/// A published stream: Janus's feed id and the stream's mid in it.
type StreamKey = (u64, String);

/// Who publishes in the room: each feed's participant and its streams now (audio and video, not disabled).
#[derive(Debug, Default, PartialEq)]
struct Feeds(BTreeMap<u64, Feed>);

#[derive(Debug, PartialEq)]
struct Feed {
    peer: PeerId,
    mids: BTreeSet<String>,
}

/// The subscriber side's state.
#[derive(Default)]
struct Subscription {
    handle: Option<Handle>,
    /// Streams we asked Janus for.
    streams: BTreeSet<StreamKey>,
    /// An offer went to the client and its answer has not come back.
    awaiting_answer: bool,
}

impl Task {
    pub async fn run(mut self) {
        let janus = self.janus.clone();
        let stop = self.stop.clone();
        let publisher = match janus.attach().await {
            Ok(handle) => handle,
            Err(e) => return self.fail(&e),
        };
        let mut sub = Subscription::default();
        let result = tokio::select! {
            _ = stop.cancelled() => Ok(()),
            _ = janus.closed.cancelled() => Err(JanusError::Closed),
            result = self.serve(publisher.id, publisher.events, &mut sub) => result,
        };
        if let Err(e) = result {
            self.fail(&e);
        }
        janus.detach(publisher.id).await;
        if let Some(handle) = sub.handle.take() {
            janus.detach(handle.id).await;
        }
    }

    fn fail(&self, e: &JanusError) {
        warn!(peer = %self.me, error = %e, "SFU connection failed");
        self.outbox.kicker.kick(ErrorCode::Unavailable, "the media server failed");
    }

    async fn serve(
        &mut self,
        publisher: u64,
        mut publisher_events: mpsc::Receiver<Value>,
        sub: &mut Subscription,
    ) -> Result<(), JanusError> {
        let join = json!({"request": "join", "ptype": "publisher", "room": self.room, "display": self.me});
        let joined = self.janus.message(publisher, join, None).await?;
        let mut feeds = Feeds::default();
        feeds.publishers(&joined.data["publishers"]);
        self.outbox.deliver(ServerMessage::SfuPublish.to_json().into());
        self.sync(sub, &feeds).await?;
        loop {
            let sub_event = async {
                match sub.handle.as_mut() {
                    Some(h) => h.events.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = self.inbox.recv() => match message {
                    None => return Ok(()),
                    Some(FromClient::Offer { sdp, screen }) => {
                        let mut configure = json!({"request": "configure", "audio": true, "video": true});
                        if let Some(mid) = screen {
                            configure["descriptions"] = json!([{"mid": mid, "description": SCREEN}]);
                        }
                        let answer = self.janus.message(publisher, configure, Some(jsep("offer", &sdp))).await?;
                        let sdp = sdp_of(&answer).ok_or_else(|| unexpected("configure without an answer"))?;
                        self.outbox.deliver(ServerMessage::SfuAnswer { sdp }.to_json().into());
                    }
                    Some(FromClient::Answer(sdp)) => {
                        let Some(handle) = sub.handle.as_ref().filter(|_| sub.awaiting_answer) else {
                            debug!(peer = %self.me, "an sfu_answer nobody asked for");
                            continue;
                        };
                        self.janus.message(handle.id, json!({"request": "start"}), Some(jsep("answer", &sdp))).await?;
                        sub.awaiting_answer = false;
                        self.sync(sub, &feeds).await?;
                    }
                },
                event = publisher_events.recv() => {
                    let Some(event) = event else { return Err(JanusError::Closed) };
                    feeds.event(&event["plugindata"]["data"]);
                    if !sub.awaiting_answer {
                        self.sync(sub, &feeds).await?;
                    }
                }
                event = sub_event => {
                    let Some(event) = event else { return Err(JanusError::Closed) };
                    // Janus renegotiates by itself when a feed it sends us goes away.
                    if let Some(sdp) = event["jsep"]["sdp"].as_str() {
                        let streams = streams_of(&event["plugindata"]["data"]);
                        self.offer(sub, sdp.to_owned(), streams);
                    }
                }
            }
        }
    }

    /// Asks Janus for the streams we lack and drops those gone, unless a negotiation is under way.
    async fn sync(&mut self, sub: &mut Subscription, feeds: &Feeds) -> Result<(), JanusError> {
        if sub.awaiting_answer {
            return Ok(());
        }
        let wanted = feeds.streams();
        let add: Vec<Value> =
            wanted.difference(&sub.streams).map(|(feed, mid)| json!({"feed": feed, "mid": mid})).collect();
        let remove: Vec<Value> =
            sub.streams.difference(&wanted).map(|(feed, mid)| json!({"feed": feed, "mid": mid})).collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let request = match sub.handle.as_ref() {
            None if add.is_empty() => return Ok(()),
            None => {
                let handle = self.janus.attach().await?;
                let join =
                    json!({"request": "join", "ptype": "subscriber", "room": self.room, "streams": add});
                let joined = self.janus.message(handle.id, join, None).await;
                match joined {
                    Ok(_) => sub.handle = Some(handle),
                    Err(_) => self.janus.detach(handle.id).await,
                }
                joined
            }
            Some(handle) => {
                let mut update = json!({"request": "update"});
                if !add.is_empty() {
                    update["subscribe"] = json!(add);
                }
                if !remove.is_empty() {
                    update["unsubscribe"] = json!(remove);
                }
                self.janus.message(handle.id, update, None).await
            }
        };
        let answer = match request {
            Ok(answer) => answer,
            // A publisher left (or stopped a stream) since its last news: the event saying so follows,
            // and with it the next try.
            Err(JanusError::Refused { code: NO_SUCH_FEED, reason }) => {
                debug!(peer = %self.me, %reason, "a stream went before we subscribed to it");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        sub.streams = wanted;
        if let Some(sdp) = sdp_of(&answer) {
            let streams = streams_of(&answer.data);
            self.offer(sub, sdp, streams);
        }
        Ok(())
    }

    fn offer(&self, sub: &mut Subscription, sdp: String, streams: Vec<SfuStream>) {
        sub.awaiting_answer = true;
        self.outbox.deliver(ServerMessage::SfuOffer { sdp, streams }.to_json().into());
    }
}

impl Feeds {
    /// Takes in a Janus `publishers` list: each publisher's participant and streams, as they are now.
    fn publishers(&mut self, list: &Value) {
        for p in list.as_array().into_iter().flatten() {
            let (Some(feed), Some(display)) = (p["id"].as_u64(), p["display"].as_str()) else { continue };
            let mids = p["streams"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| matches!(s["type"].as_str(), Some("audio" | "video")))
                .filter(|s| s["disabled"].as_bool() != Some(true))
                .filter_map(|s| s["mid"].as_str().map(str::to_owned))
                .collect();
            self.0.insert(feed, Feed { peer: display.to_owned(), mids });
        }
    }

    /// Takes in an event of the publisher handle: publishers that came or changed, and those gone.
    fn event(&mut self, data: &Value) {
        self.publishers(&data["publishers"]);
        for gone in ["unpublished", "leaving"] {
            if let Some(feed) = data[gone].as_u64() {
                self.0.remove(&feed);
            }
        }
    }

    /// Every stream published now.
    fn streams(&self) -> BTreeSet<StreamKey> {
        self.0.iter().flat_map(|(feed, f)| f.mids.iter().map(|mid| (*feed, mid.clone()))).collect()
    }
}

/// The active audio and video streams of a subscriber's `attached`/`updated` event, by participant.
fn streams_of(data: &Value) -> Vec<SfuStream> {
    let mut out = Vec::new();
    for s in data["streams"].as_array().into_iter().flatten() {
        let kind = s["type"].as_str().unwrap_or_default();
        if s["active"].as_bool() == Some(false) || !(kind == "audio" || kind == "video") {
            continue;
        }
        let (Some(mid), Some(peer)) = (s["mid"].as_str(), s["feed_display"].as_str()) else { continue };
        out.push(match s["feed_description"].as_str() {
            Some(SCREEN) if kind == "video" => SfuStream::screen(mid, peer),
            _ => SfuStream::new(mid, peer, kind),
        });
    }
    out
}

fn jsep(kind: &str, sdp: &str) -> Value {
    json!({"type": kind, "sdp": sdp})
}

fn sdp_of(answer: &Answer) -> Option<String> {
    answer.jsep.as_ref()?["sdp"].as_str().map(str::to_owned)
}

fn unexpected(what: &str) -> JanusError {
    JanusError::Unexpected(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_name_the_participant_behind_each_section_and_the_shared_screens() {
        let data = json!({"videoroom": "attached", "streams": [
            {"mid": "0", "type": "audio", "active": true, "feed_id": 1, "feed_display": "aa"},
            {"mid": "1", "type": "video", "active": true, "feed_id": 1, "feed_display": "aa"},
            {"mid": "2", "type": "video", "active": false, "feed_id": 2, "feed_display": "bb"},
            {"mid": "3", "type": "data", "active": true},
            {"mid": "4", "type": "video", "active": true, "feed_display": "aa", "feed_description": "screen"},
        ]});
        assert_eq!(
            streams_of(&data),
            [
                SfuStream::new("0", "aa", "audio"),
                SfuStream::new("1", "aa", "video"),
                SfuStream::screen("4", "aa")
            ]
        );
        assert!(streams_of(&json!({})).is_empty());
    }

    #[test]
    fn the_streams_to_receive_follow_what_each_publisher_sends_now() {
        let mut feeds = Feeds::default();
        feeds.publishers(&json!([
            {"id": 7, "display": "cc", "streams": [{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"}]},
            {"id": "x"},
            {"display": "dd"},
        ]));
        let key = |feed: u64, mid: &str| (feed, mid.to_owned());
        assert_eq!(feeds.streams(), BTreeSet::from([key(7, "0"), key(7, "1")]));
        // Cc shares a screen: a third stream.
        let sharing = json!({"type": "video", "mid": "2", "description": "screen"});
        let streams = json!([{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"}, sharing]);
        feeds.event(&json!({"publishers": [{"id": 7, "display": "cc", "streams": streams}]}));
        assert_eq!(feeds.streams(), BTreeSet::from([key(7, "0"), key(7, "1"), key(7, "2")]));
        // Sharing ends (Janus keeps the m-section, disabled); then Cc leaves.
        let streams = json!([{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"},
            {"type": "video", "mid": "2", "disabled": true}, {"type": "data", "mid": "3"}]);
        feeds.event(&json!({"publishers": [{"id": 7, "display": "cc", "streams": streams}]}));
        assert_eq!(feeds.streams(), BTreeSet::from([key(7, "0"), key(7, "1")]));
        feeds.event(&json!({"leaving": 7}));
        assert!(feeds.streams().is_empty());
    }
}
