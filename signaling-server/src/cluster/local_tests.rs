use kaiwa_protocol::{ErrorCode, PeerInfo, ServerMessage};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Applied, LocalRooms};
use crate::cluster::wire::Wire;
use crate::kicker::Kicker;
use crate::rooms::{OutFrame, Outbox};

struct Client {
    rx: mpsc::Receiver<OutFrame>,
    kicker: Kicker,
}

impl Client {
    /// The frames queued for the client, in order.
    fn received(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.rx.try_recv().ok()).map(|frame| frame.to_string()).collect()
    }
}

fn client(queue: usize) -> (Outbox, Client) {
    let (tx, rx) = mpsc::channel(queue);
    let kicker = Kicker::new(&CancellationToken::new());
    (Outbox { tx, kicker: kicker.clone() }, Client { rx, kicker })
}

fn peer(id: &str) -> PeerInfo {
    PeerInfo::new(id, id)
}

fn joined(seq: u64, id: &str, node: &str) -> Wire {
    Wire::Joined { seq, room: "r".into(), node: node.into(), peer: peer(id) }
}

fn welcome(id: &str) -> OutFrame {
    ServerMessage::Pong.to_json().replace("pong", &format!("pong-{id}")).into()
}

fn signal(to: &str, text: &str) -> Wire {
    let frame =
        ServerMessage::Signal { from: "x".into(), data: serde_json::value::to_raw_value(text).unwrap() };
    Wire::Signal { room: "r".into(), to: to.into(), frame: frame.to_json() }
}

#[test]
fn a_held_client_gets_joined_first_then_only_what_came_after_its_join() {
    let rooms = LocalRooms::default();
    let (outbox, mut a) = client(16);
    rooms.hold("r", "a", outbox);
    // Events reach the node before the join script's answer: b joined before a (seq 4), a itself (5), c after (6).
    rooms.apply(joined(4, "b", "n2"));
    rooms.apply(joined(5, "a", "n1"));
    assert!(matches!(rooms.apply(signal("a", "offer")), Applied::Relayed));
    rooms.apply(joined(6, "c", "n2"));
    assert!(a.rx.try_recv().is_err(), "nothing before joined");
    rooms.admit("r", "a", "n1", 5, &[("n2".into(), peer("b"))], welcome("a"));
    let got = a.rx.try_recv().unwrap();
    assert!(got.contains("pong-a"), "{got}");
    let rest = a.received();
    assert!(rest[0].contains("offer"), "{rest:?}");
    assert_eq!(rest[1], ServerMessage::PeerJoined { peer: peer("c") }.to_json());
    assert_eq!(rest.len(), 2);
    assert_eq!(rooms.node_of("r", "a", "b"), Ok("n2".into()));
    assert_eq!(rooms.node_of("r", "a", "c"), Ok("n2".into()));
    assert_eq!(rooms.node_of("r", "a", "a"), Err(ErrorCode::UnknownPeer));
}

#[test]
fn changes_go_to_everyone_admitted_before_them_but_not_their_subject() {
    let rooms = LocalRooms::default();
    let (oa, mut a) = client(16);
    let (ob, mut b) = client(16);
    rooms.hold("r", "a", oa);
    rooms.admit("r", "a", "n1", 1, &[], welcome("a"));
    rooms.hold("r", "b", ob);
    rooms.apply(joined(2, "b", "n1"));
    rooms.admit("r", "b", "n1", 2, &[("n1".into(), peer("a"))], welcome("b"));
    a.received();
    b.received();
    rooms.apply(Wire::Left { seq: 3, room: "r".into(), id: "c".into() });
    let left = ServerMessage::PeerLeft { id: "c".into() }.to_json();
    assert_eq!(a.received(), vec![left.clone()]);
    assert_eq!(b.received(), vec![left]);
    // A replayed (older) change does not undo the replica.
    rooms.apply(Wire::Left { seq: 2, room: "r".into(), id: "b".into() });
    assert_eq!(rooms.node_of("r", "a", "b"), Ok("n1".into()));
    assert!(b.received().is_empty(), "its own departure is not news to b");
    assert!(rooms.remove("r", "a"));
    assert!(!rooms.remove("r", "b"));
    assert_eq!(rooms.counts(), (0, 0));
    let late = rooms.apply(signal("a", "late"));
    assert!(matches!(late, Applied::Nothing), "a signal for someone gone is dropped");
}

#[test]
fn a_join_that_never_ends_cannot_hoard_messages() {
    let rooms = LocalRooms::default();
    let (outbox, a) = client(4);
    rooms.hold("r", "a", outbox);
    for i in 0..=super::MAX_HELD {
        rooms.apply(signal("a", &i.to_string()));
    }
    assert_eq!(a.kicker.reason().map(|r| r.0), Some(ErrorCode::SlowConsumer));
}

#[test]
fn losing_redis_disconnects_every_client_in_a_room() {
    let rooms = LocalRooms::default();
    let (oa, a) = client(4);
    let (ob, b) = client(4);
    rooms.hold("r", "a", oa);
    rooms.hold("s", "b", ob);
    assert_eq!(rooms.counts(), (2, 2));
    assert_eq!(rooms.kick_all(ErrorCode::Unavailable, "lost"), 2);
    assert_eq!(a.kicker.reason(), Some((ErrorCode::Unavailable, "lost")));
    assert_eq!(b.kicker.reason(), Some((ErrorCode::Unavailable, "lost")));
    assert_eq!(rooms.counts(), (0, 0));
}

#[test]
fn a_move_to_the_sfu_takes_everyone_who_was_in_the_room_before_it() {
    let rooms = LocalRooms::default();
    let (oa, _a) = client(16);
    let (ob, _b) = client(16);
    let (oc, _c) = client(16);
    // a is in the room; b's join (seq 2) is still under way here when c's (seq 3) moves the room; c starts
    // its own connection to the SFU.
    rooms.hold("r", "a", oa);
    assert!(!rooms.admit("r", "a", "n1", 1, &[], welcome("a")));
    rooms.hold("r", "b", ob);
    rooms.hold("r", "c", oc);
    let before_c = [("n1".into(), peer("a")), ("n1".into(), peer("b"))];
    assert!(!rooms.admit("r", "c", "n1", 3, &before_c, welcome("c")));
    let Applied::Moved { room, members } =
        rooms.apply(Wire::Moved { seq: 3, room: "r".into(), by: "c".into() })
    else {
        panic!("not a move")
    };
    assert_eq!(room, "r");
    assert_eq!(members.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["a"]);
    // b joined before the move (its answer said "mesh") and is admitted after it: it moves too.
    assert!(rooms.admit("r", "b", "n1", 2, &[("n1".into(), peer("a"))], welcome("b")));
    // One that joins after the move learns it from its own answer.
    let (od, _d) = client(16);
    rooms.hold("r", "d", od);
    assert!(!rooms.admit("r", "d", "n1", 4, &[], welcome("d")));
    let elsewhere = rooms.apply(Wire::Moved { seq: 9, room: "elsewhere".into(), by: "x".into() });
    assert!(matches!(elsewhere, Applied::Nothing), "a room with nobody of this node");
}
