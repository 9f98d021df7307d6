//! The clients: idle connections that only answer pings, and the endpoints of the relay pairs, which send
//! stamped signals and measure how long the server took to relay them.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::flavor::{Event, Flavor};

pub type Ws = WebSocketStream<TcpStream>;

/// Waits for the next text frame, answering Engine.IO pings on the way.
async fn next_text(ws: &mut Ws, flavor: Flavor) -> anyhow::Result<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await?.context("closed")?? {
            Message::Text(t) if flavor.is_ping(&t) => ws.send(Message::text("3")).await?,
            Message::Text(t) => return Ok(t.to_string()),
            Message::Close(f) => bail!("closed by server: {f:?}"),
            _ => continue,
        }
    }
}

async fn connect(addr: std::net::SocketAddr, flavor: Flavor) -> anyhow::Result<Ws> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(16 * 1024);
    let url = format!("ws://{addr}{}", flavor.ws_path());
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
    if flavor == Flavor::SocketIo {
        // Engine.IO open packet, then connect to the main namespace.
        let open = next_text(&mut ws, flavor).await?;
        if !open.starts_with("0{") {
            bail!("expected an Engine.IO open packet, got {open:?}");
        }
        ws.send(Message::text("40")).await?;
        let connected = next_text(&mut ws, flavor).await?;
        if !connected.starts_with("40") {
            bail!("expected a Socket.IO connect packet, got {connected:?}");
        }
    }
    Ok(ws)
}

pub async fn next_event(ws: &mut Ws, flavor: Flavor) -> anyhow::Result<Event> {
    let text = next_text(ws, flavor).await?;
    flavor.parse(&text)
}

pub async fn join(addr: std::net::SocketAddr, flavor: Flavor, room: &str) -> anyhow::Result<(Ws, String)> {
    let mut ws = connect(addr, flavor).await?;
    ws.send(Message::text(flavor.join(room))).await?;
    match next_event(&mut ws, flavor).await? {
        Event::Joined(id) => Ok((ws, id)),
        other => bail!("expected joined, got {other:?}"),
    }
}

/// Keeps an idle connection alive (reading answers the server's pings) until `stop`.
pub async fn idle(mut ws: Ws, flavor: Flavor, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) if flavor.is_ping(&t) => {
                    if ws.send(Message::text("3")).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

fn signal(flavor: Flavor, to: &str, t0: Instant) -> Message {
    Message::text(flavor.signal(to, t0.elapsed().as_nanos() as u64))
}

/// One-way latency of a relayed signal sent by this process, in microseconds.
fn latency_us(text: &str, t0: Instant) -> Option<u64> {
    let i = text.find(r#""t":"#)? + 4;
    let digits: String = text[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let sent: u64 = digits.parse().ok()?;
    Some((t0.elapsed().as_nanos() as u64).saturating_sub(sent) / 1000)
}

#[derive(Clone, Copy)]
pub enum Role {
    /// Sends one message per `every` to the partner.
    Paced { every: Duration, phase: Duration },
    /// Only receives.
    Sink,
    /// Starts `initial` messages, then answers every message with one back.
    Echo { initial: usize },
}

pub struct EndpointStats {
    pub received: u64,
    pub latencies_us: Vec<u64>,
}

pub async fn endpoint(
    ws: &mut Ws,
    flavor: Flavor,
    partner: &str,
    role: Role,
    t0: Instant,
    stop: CancellationToken,
) -> anyhow::Result<EndpointStats> {
    let mut stats = EndpointStats { received: 0, latencies_us: Vec::new() };
    let mut ticker = match role {
        Role::Paced { every, phase } => {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + phase, every);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            Some(i)
        }
        _ => None,
    };
    if let Role::Echo { initial } = role {
        for _ in 0..initial {
            ws.feed(signal(flavor, partner, t0)).await?;
        }
        ws.flush().await?;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(stats),
            _ = async { ticker.as_mut().unwrap().tick().await }, if ticker.is_some() => {
                ws.send(signal(flavor, partner, t0)).await?;
            }
            m = ws.next() => {
                // Handle everything already received, answering in one write.
                let mut next = Some(m);
                while let Some(m) = next {
                    match m {
                        Some(Ok(Message::Text(t))) => {
                            if let Some(us) = latency_us(&t, t0) {
                                stats.received += 1;
                                stats.latencies_us.push(us);
                                if matches!(role, Role::Echo { .. }) {
                                    ws.feed(signal(flavor, partner, t0)).await?;
                                }
                            } else if flavor.is_ping(&t) {
                                ws.feed(Message::text("3")).await?;
                            } else if flavor.is_error(&t) {
                                bail!("server error: {t}");
                            }
                        }
                        Some(Ok(_)) => {}
                        other => bail!("connection ended: {other:?}"),
                    }
                    next = ws.next().now_or_never();
                }
                ws.flush().await?;
            }
        }
    }
}
