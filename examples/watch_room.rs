//! Joins a room on a Kaiwa signaling server and prints who comes and goes, and every signal received.
//!
//! Run with: `cargo run --example watch_room -- ws://127.0.0.1:8080/ws my-room`

use futures_util::{SinkExt, StreamExt};
use kaiwa_protocol::{ClientMessage, PROTOCOL_VERSION, ServerMessage, SignalData};
use tokio_tungstenite::tungstenite::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(room)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: watch_room ws://HOST:PORT/ws ROOM");
    };
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    let join = ClientMessage::Join {
        room,
        name: "watcher".into(),
        version: PROTOCOL_VERSION,
        fingerprint: None,
        sfu: false,
    };
    ws.send(Message::text(join.to_json())).await?;
    while let Some(frame) = ws.next().await {
        let Message::Text(text) = frame? else { continue };
        match ServerMessage::parse(&text)? {
            ServerMessage::Joined { id, room, peers, .. } => {
                println!(
                    "joined {room} as {id}; here: {:?}",
                    peers.iter().map(|p| &p.name).collect::<Vec<_>>()
                )
            }
            ServerMessage::PeerJoined { peer } => println!("+ {} ({})", peer.name, peer.id),
            ServerMessage::PeerLeft { id } => println!("- {id}"),
            ServerMessage::Signal { from, data } => match SignalData::from_raw(&data) {
                Ok(SignalData::Sdp { sdp }) => {
                    println!("{from}: {:?} ({} bytes of SDP)", sdp.kind, sdp.sdp.len())
                }
                Ok(SignalData::Candidate { candidate: Some(c) }) => {
                    println!("{from}: candidate {}", c.candidate)
                }
                Ok(SignalData::Candidate { candidate: None }) => println!("{from}: end of candidates"),
                Err(e) => println!("{from}: unreadable signal ({e})"),
            },
            ServerMessage::Error { code, message } => println!("error {code}: {message}"),
            // The watcher does not say it can use the SFU, so the server sends it none of these.
            ServerMessage::SfuPublish | ServerMessage::SfuAnswer { .. } | ServerMessage::SfuOffer { .. } => {}
            ServerMessage::Pong => {}
        }
    }
    Ok(())
}
