//! The engine's signaling client against the real server: join, relay, errors, and rejoining after the
//! server restarts on the same port.

use std::time::Duration;

use kaiwa_engine::signaling::{ServerUrl, SignalingClient, SignalingConfig, SignalingEvent};
use kaiwa_protocol::SignalData;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);

async fn start_server(
    addr: &str,
) -> (std::net::SocketAddr, CancellationToken, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(kaiwa_signaling::serve(
        listener,
        kaiwa_signaling::Config::default(),
        None,
        stop.clone(),
    ));
    (addr, stop, task)
}

async fn next(events: &mut mpsc::Receiver<SignalingEvent>) -> SignalingEvent {
    tokio::time::timeout(WAIT, events.recv()).await.expect("event in time").expect("client running")
}

fn client(addr: std::net::SocketAddr, name: &str) -> (SignalingClient, mpsc::Receiver<SignalingEvent>) {
    let url = ServerUrl::parse(&format!("ws://{addr}/ws")).unwrap();
    let mut config = SignalingConfig::new(url, "engine-room", name);
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(300);
    let (tx, rx) = mpsc::channel(64);
    let (client, _task) = SignalingClient::spawn(config, tx);
    (client, rx)
}

#[tokio::test]
async fn joins_relays_and_rejoins_after_a_server_restart() {
    let (addr, stop, task) = start_server("127.0.0.1:0").await;
    let (a, mut a_events) = client(addr, "A");
    let ida = match next(&mut a_events).await {
        SignalingEvent::Joined { id, peers, rejoined, .. } => {
            assert!(peers.is_empty());
            assert!(!rejoined);
            id
        }
        other => panic!("{other:?}"),
    };
    let (b, mut b_events) = client(addr, "B");
    let idb = match next(&mut b_events).await {
        SignalingEvent::Joined { id, peers, .. } => {
            assert_eq!(peers[0].id, ida);
            id
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(next(&mut a_events).await, SignalingEvent::PeerJoined(p) if p.id == idb));
    assert!(b.signal(&ida, SignalData::Candidate { candidate: None }));
    match next(&mut a_events).await {
        SignalingEvent::Signal { from, data } => {
            assert_eq!(from, idb);
            assert_eq!(data, SignalData::Candidate { candidate: None });
        }
        other => panic!("{other:?}"),
    }

    // The server goes away and comes back on the same port.
    stop.cancel();
    task.await.unwrap().unwrap();
    for events in [&mut a_events, &mut b_events] {
        assert!(matches!(next(events).await, SignalingEvent::Reconnecting { .. }));
    }
    let (_addr, stop2, _task2) = start_server(&addr.to_string()).await;
    let mut rejoined = 0;
    for events in [&mut a_events, &mut b_events] {
        loop {
            match next(events).await {
                SignalingEvent::Joined { rejoined: true, .. } => {
                    rejoined += 1;
                    break;
                }
                SignalingEvent::Reconnecting { .. } | SignalingEvent::PeerJoined(_) => continue,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(rejoined, 2);
    a.leave().await;
    stop2.cancel();
}

#[tokio::test]
async fn unreachable_server_and_full_room_fail_clearly() {
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (_c, mut events) = client(free, "X");
    match next(&mut events).await {
        SignalingEvent::Failed(f) => assert!(f.to_string().contains("cannot reach"), "{f}"),
        other => panic!("{other:?}"),
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = kaiwa_signaling::Config { max_room_size: 2, ..Default::default() };
    let stop = CancellationToken::new();
    tokio::spawn(kaiwa_signaling::serve(listener, config, None, stop.clone()));
    let (_a, mut ea) = client(addr, "A");
    let (_b, mut eb) = client(addr, "B");
    assert!(matches!(next(&mut ea).await, SignalingEvent::Joined { .. }));
    assert!(matches!(next(&mut eb).await, SignalingEvent::Joined { .. }));
    let (_c, mut ec) = client(addr, "C");
    match next(&mut ec).await {
        SignalingEvent::Failed(f) => assert!(f.to_string().contains("is full"), "{f}"),
        other => panic!("{other:?}"),
    }
    stop.cancel();
}

/// Trust on first use starts with a probe: it reports the certificate a self-signed server presents (the
/// fingerprint the server knows for itself) and that no certificate authority vouches for it; a pinned
/// connection with that fingerprint then joins. A plain TCP port that speaks no TLS is an error.
#[tokio::test]
async fn probe_reports_a_self_signed_servers_certificate() {
    use kaiwa_engine::signaling::{Trust, probe_certificate};
    let tls = kaiwa_signaling::tls::self_signed(None, vec!["127.0.0.1".into()]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let config = kaiwa_signaling::Config::default();
    tokio::spawn(kaiwa_signaling::serve(listener, config, Some(tls.config.clone()), stop.clone()));
    let url = ServerUrl::parse(&format!("wss://{addr}/ws")).unwrap();
    let cert = probe_certificate(&url, WAIT).await.unwrap();
    assert_eq!(cert.fingerprint, tls.fingerprint);
    assert!(!cert.authority_valid);

    let mut config = SignalingConfig::new(url, "probe-room", "Ann");
    config.trust = Trust::Pinned(cert.fingerprint);
    let (events_tx, mut events) = mpsc::channel(16);
    let (_client, _task) = SignalingClient::spawn(config, events_tx);
    assert!(matches!(next(&mut events).await, SignalingEvent::Joined { .. }));

    let (plain, plain_stop, _) = start_server("127.0.0.1:0").await;
    let url = ServerUrl::parse(&format!("wss://{plain}/ws")).unwrap();
    assert!(probe_certificate(&url, WAIT).await.is_err(), "a server without TLS has no certificate");
    plain_stop.cancel();
    stop.cancel();
}
