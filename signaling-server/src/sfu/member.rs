//! One participant of an SFU room: a task that owns its two Janus handles and brokers between the client
//! and Janus.
//!
//! - The *publisher* handle joins the Janus room under the participant's id (`display`); the client's
//!   `sfu_offer` becomes a `configure`, Janus's answer an `sfu_answer`. Janus tells this handle who else
//!   publishes (`publishers`) and who stops (`unpublished`, `leaving`).
//! - The *subscriber* handle receives everyone else's streams on one connection: it joins with the feeds
//!   published so far, and `update`s as they come and go. Each change makes Janus offer again; the offer
//!   goes to the client as an `sfu_offer` with the participant behind each m-section, the client's
//!   `sfu_answer` goes back as `start`. One negotiation at a time: changes wait for the answer.

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_protocol::{ErrorCode, PeerId, ServerMessage, SfuStream};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::janus::{Answer, Handle, Janus, JanusError};
use crate::rooms::Outbox;

/// What a client sends about its SFU connections.
#[derive(Debug)]
pub enum FromClient {
    /// The offer of its publishing connection.
    Offer(String),
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

/// The subscriber side's state.
#[derive(Default)]
struct Subscription {
    handle: Option<Handle>,
    /// Feeds we asked Janus for.
    feeds: BTreeSet<u64>,
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
        // Feed id → the participant publishing it.
        let mut feeds: BTreeMap<u64, PeerId> = BTreeMap::new();
        add_publishers(&mut feeds, &joined.data["publishers"]);
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
                    Some(FromClient::Offer(sdp)) => {
                        let configure = json!({"request": "configure", "audio": true, "video": true});
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
                    let data = &event["plugindata"]["data"];
                    add_publishers(&mut feeds, &data["publishers"]);
                    for gone in ["unpublished", "leaving"] {
                        if let Some(feed) = data[gone].as_u64() {
                            feeds.remove(&feed);
                        }
                    }
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

    /// Asks Janus for the feeds we lack and drops those gone, unless a negotiation is under way.
    async fn sync(
        &mut self,
        sub: &mut Subscription,
        feeds: &BTreeMap<u64, PeerId>,
    ) -> Result<(), JanusError> {
        if sub.awaiting_answer {
            return Ok(());
        }
        let wanted: BTreeSet<u64> = feeds.keys().copied().collect();
        let add: Vec<Value> = wanted.difference(&sub.feeds).map(|feed| json!({"feed": feed})).collect();
        let remove: Vec<Value> = sub.feeds.difference(&wanted).map(|feed| json!({"feed": feed})).collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let answer = match sub.handle.as_ref() {
            None if add.is_empty() => return Ok(()),
            None => {
                let handle = self.janus.attach().await?;
                let id = handle.id;
                sub.handle = Some(handle);
                let join =
                    json!({"request": "join", "ptype": "subscriber", "room": self.room, "streams": add});
                self.janus.message(id, join, None).await?
            }
            Some(handle) => {
                let mut update = json!({"request": "update"});
                if !add.is_empty() {
                    update["subscribe"] = json!(add);
                }
                if !remove.is_empty() {
                    update["unsubscribe"] = json!(remove);
                }
                self.janus.message(handle.id, update, None).await?
            }
        };
        sub.feeds = wanted;
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

/// Adds the publishers of a Janus `publishers` list (those with streams) to `feeds`.
fn add_publishers(feeds: &mut BTreeMap<u64, PeerId>, list: &Value) {
    for p in list.as_array().into_iter().flatten() {
        if let (Some(feed), Some(display)) = (p["id"].as_u64(), p["display"].as_str()) {
            feeds.insert(feed, display.to_owned());
        }
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
        if let (Some(mid), Some(peer)) = (s["mid"].as_str(), s["feed_display"].as_str()) {
            out.push(SfuStream { mid: mid.to_owned(), peer: peer.to_owned(), kind: kind.to_owned() });
        }
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
    fn streams_name_the_participant_behind_each_section() {
        let data = json!({"videoroom": "attached", "streams": [
            {"mid": "0", "type": "audio", "active": true, "feed_id": 1, "feed_display": "aa"},
            {"mid": "1", "type": "video", "active": true, "feed_id": 1, "feed_display": "aa"},
            {"mid": "2", "type": "video", "active": false, "feed_id": 2, "feed_display": "bb"},
            {"mid": "3", "type": "data", "active": true},
        ]});
        let streams = streams_of(&data);
        assert_eq!(
            streams,
            [
                SfuStream { mid: "0".into(), peer: "aa".into(), kind: "audio".into() },
                SfuStream { mid: "1".into(), peer: "aa".into(), kind: "video".into() },
            ]
        );
        assert!(streams_of(&json!({})).is_empty());
        let mut feeds = BTreeMap::new();
        add_publishers(&mut feeds, &json!([{"id": 7, "display": "cc"}, {"id": "x"}, {"display": "dd"}]));
        assert_eq!(feeds.into_iter().collect::<Vec<_>>(), [(7, "cc".to_owned())]);
    }
}
