//! What nodes say to each other through Redis: each node listens on its own channel, `kaiwa:to:{node}`.
//! One line of text per message, fields split by single spaces with the free-form part last:
//!
//! - `J {seq} {room} {node} {peer JSON}`: a participant joined (published by the join script);
//! - `L {seq} {room} {id}`: a participant left (published by the leave script);
//! - `M {seq} {room} {id}`: participant `id`'s join moved the room to the SFU (published by the join script,
//!   after its `J`);
//! - `S {room} {to} {frame}`: a signal for one participant, already in its wire form.
//!
//! `seq` orders membership changes of all rooms ([`super::scripts`]). A message that does not parse is
//! dropped: it comes from our own Redis, but a bug must not take the node down.

use kaiwa_protocol::{PeerId, PeerInfo};

/// The Redis channel a node listens on.
pub fn channel(node: &str) -> String {
    format!("kaiwa:to:{node}")
}

#[derive(Debug, Clone, PartialEq)]
pub enum Wire {
    Joined { seq: u64, room: String, node: String, peer: PeerInfo },
    Left { seq: u64, room: String, id: PeerId },
    Moved { seq: u64, room: String, by: PeerId },
    Signal { room: String, to: PeerId, frame: String },
}

impl Wire {
    pub fn parse(text: &str) -> Option<Wire> {
        let (kind, rest) = text.split_once(' ')?;
        match kind {
            "J" => {
                let mut it = rest.splitn(4, ' ');
                let seq = it.next()?.parse().ok()?;
                let room = it.next()?.to_owned();
                let node = it.next()?.to_owned();
                let peer = serde_json::from_str(it.next()?).ok()?;
                Some(Wire::Joined { seq, room, node, peer })
            }
            "L" => {
                let mut it = rest.splitn(3, ' ');
                let seq = it.next()?.parse().ok()?;
                Some(Wire::Left { seq, room: it.next()?.to_owned(), id: it.next()?.to_owned() })
            }
            "M" => {
                let mut it = rest.splitn(3, ' ');
                let seq = it.next()?.parse().ok()?;
                Some(Wire::Moved { seq, room: it.next()?.to_owned(), by: it.next()?.to_owned() })
            }
            "S" => {
                let mut it = rest.splitn(3, ' ');
                let room = it.next()?.to_owned();
                let to = it.next()?.to_owned();
                Some(Wire::Signal { room, to, frame: it.next()?.to_owned() })
            }
            _ => None,
        }
    }

    /// The signal message a node publishes (the scripts write the other two).
    pub fn signal(room: &str, to: &str, frame: &str) -> String {
        format!("S {room} {to} {frame}")
    }
}

/// `"{node} {peer JSON}"` as the join script stores and returns a participant.
pub fn parse_member(text: &str) -> Option<(String, PeerInfo)> {
    let (node, peer) = text.split_once(' ')?;
    Some((node.to_owned(), serde_json::from_str(peer).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerInfo {
        PeerInfo { id: "00ab".into(), name: "Zoë K".into(), fingerprint: None }
    }

    #[test]
    fn reads_what_the_scripts_and_nodes_write() {
        let json = serde_json::to_string(&peer()).unwrap();
        assert_eq!(
            Wire::parse(&format!("J 7 room-1 n1 {json}")),
            Some(Wire::Joined { seq: 7, room: "room-1".into(), node: "n1".into(), peer: peer() })
        );
        assert_eq!(
            Wire::parse("L 8 room-1 00ab"),
            Some(Wire::Left { seq: 8, room: "room-1".into(), id: "00ab".into() })
        );
        assert_eq!(
            Wire::parse("M 9 room-1 00ab"),
            Some(Wire::Moved { seq: 9, room: "room-1".into(), by: "00ab".into() })
        );
        let frame = r#"{"type":"signal","from":"01","data":{"sdp":"a b"}}"#;
        assert_eq!(
            Wire::parse(&Wire::signal("room-1", "00ab", frame)),
            Some(Wire::Signal { room: "room-1".into(), to: "00ab".into(), frame: frame.into() })
        );
        assert_eq!(parse_member(&format!("n2 {json}")), Some(("n2".into(), peer())));
    }

    #[test]
    fn drops_what_does_not_parse() {
        for text in [
            "",
            "J",
            "J x room n {}",
            "J 1 room n not-json",
            "L 1 room",
            "M 1 room",
            "S room",
            "X 1 2 3",
            "é",
        ] {
            assert_eq!(Wire::parse(text), None, "{text:?}");
        }
        assert_eq!(parse_member("n1"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".*") {
            let _ = Wire::parse(&text);
            let _ = parse_member(&text);
        }
    }
}
