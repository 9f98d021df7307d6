//! Shared harness for engine tests: the real signaling server in-process and engines with synthetic
//! sources whose received media is checked frame by frame.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kaiwa_devices::{TestPatternSource, ToneSource};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig};
use kaiwa_engine::sinks::{AudioSink, DecodedVideo, MediaSinks, VideoSink};
use kaiwa_engine::{Engine, EngineConfig, EngineEvent};
use kaiwa_media::video::{StampReader, TestPattern, psnr};
use kaiwa_protocol::PeerInfo;

pub use kaiwa_testkit::SignalingServer as Server;

pub async fn start_server(config: kaiwa_signaling::Config) -> Server {
    Server::start(config).await
}

/// What one engine received from one remote participant.
#[derive(Default)]
pub struct Received {
    pub name: String,
    /// Frame counters read from decoded pictures, in decode order.
    pub counters: Vec<u32>,
    /// Frames whose stamp could not be read.
    pub unreadable: u64,
    pub psnr: Vec<f64>,
    /// Capture → decoded latency of each frame, µs (same machine clock).
    pub latency_us: Vec<u64>,
    pub audio: Vec<i16>,
    /// Frame counters read from the decoded pictures of the screen they share, and those pictures' sizes.
    pub screen_counters: Vec<u32>,
    pub screen_sizes: Vec<(u32, u32)>,
}

pub struct Recorder {
    pub size: (u32, u32),
    pub by_peer: Mutex<Vec<(String, Arc<Mutex<Received>>)>>,
    /// What the speaker played (the mix of everyone at their volumes), the last 10 s at most.
    pub speaker: Arc<Mutex<Vec<i16>>>,
}

impl Recorder {
    pub fn peer(&self, name: &str) -> Arc<Mutex<Received>> {
        let mut all = self.by_peer.lock().unwrap();
        if let Some((_, r)) = all.iter().find(|(n, _)| n == name) {
            return r.clone();
        }
        let r = Arc::new(Mutex::new(Received { name: name.to_owned(), ..Default::default() }));
        all.push((name.to_owned(), r.clone()));
        r
    }
}

impl MediaSinks for Recorder {
    fn video(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let received = self.peer(&peer.name);
        let pattern = TestPattern::new(self.size.0, self.size.1).unwrap();
        Some(Box::new(move |decoded: &DecodedVideo| {
            let mut r = received.lock().unwrap();
            match pattern.read_stamp(&decoded.frame) {
                Some(stamp) => {
                    r.counters.push(stamp.counter);
                    r.latency_us.push(kaiwa_devices::wall_clock_us().saturating_sub(stamp.capture_us));
                    // Every 5th frame: PSNR against the exact source picture, regenerated from its stamp.
                    if stamp.counter % 5 == 0 {
                        let source = pattern.frame(stamp.counter, stamp.capture_us);
                        if let Some(p) = psnr(&source, &decoded.frame) {
                            r.psnr.push(p);
                        }
                    }
                }
                None => r.unreadable += 1,
            }
        }))
    }

    /// A shared screen here is a test pattern of its own size (read at whatever size it arrives).
    fn screen(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let received = self.peer(&peer.name);
        let mut stamps = StampReader::default();
        Some(Box::new(move |decoded: &DecodedVideo| {
            let mut r = received.lock().unwrap();
            r.screen_sizes.push((decoded.frame.width(), decoded.frame.height()));
            if let Some(stamp) = stamps.read(&decoded.frame) {
                r.screen_counters.push(stamp.counter);
            }
        }))
    }

    fn audio(&self, peer: &PeerInfo) -> Option<AudioSink> {
        let received = self.peer(&peer.name);
        Some(Box::new(move |pcm: &[i16]| received.lock().unwrap().audio.extend_from_slice(pcm)))
    }

    fn speaker(&self) -> Option<AudioSink> {
        let played = self.speaker.clone();
        Some(Box::new(move |pcm: &[i16]| {
            let mut played = played.lock().unwrap();
            played.extend_from_slice(pcm);
            let excess = played.len().saturating_sub(480_000);
            played.drain(..excess);
        }))
    }
}

pub struct Party {
    pub name: String,
    pub engine: Engine,
    pub recorder: Arc<Recorder>,
}

pub fn party(server: &Server, room: &str, name: &str, tone_hz: f64) -> Party {
    party_sized(server, room, name, tone_hz, (640, 480))
}

pub fn party_sized(server: &Server, room: &str, name: &str, tone_hz: f64, size: (u32, u32)) -> Party {
    let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
    party_with(server, room, name, tone_hz, size, network)
}

pub fn party_with(
    server: &Server,
    room: &str,
    name: &str,
    tone_hz: f64,
    size: (u32, u32),
    network: NetworkConfig,
) -> Party {
    party_at(&server.ws_url(), room, name, tone_hz, size, network)
}

/// A party whose signaling goes to `ws_url` (a relay in front of the server, say).
pub fn party_at(
    ws_url: &str,
    room: &str,
    name: &str,
    tone_hz: f64,
    size: (u32, u32),
    network: NetworkConfig,
) -> Party {
    let url = ServerUrl::parse(ws_url).unwrap();
    let recorder = Arc::new(Recorder { size, by_peer: Mutex::new(Vec::new()), speaker: Default::default() });
    let config = EngineConfig {
        signaling: SignalingConfig::new(url, room, name),
        network,
        extra_ice_servers: Vec::new(),
        video: Some(Box::new(TestPatternSource::new(size.0, size.1, 30).unwrap())),
        audio: Some(Box::new(ToneSource::new(tone_hz))),
        sinks: recorder.clone(),
        video_send: Default::default(),
        audio_processing: kaiwa_media::audio::ProcessingConfig::OFF,
    };
    Party { name: name.to_owned(), engine: Engine::start(config).unwrap(), recorder }
}

/// Waits (bounded) for an event matching `pred`, returning it.
pub async fn wait_for(
    engine: &mut Engine,
    what: &str,
    mut pred: impl FnMut(&EngineEvent) -> bool,
) -> EngineEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, engine.next_event()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(EngineEvent::Failed(why))) => panic!("engine failed while waiting for {what}: {why}"),
            Ok(Some(_)) => continue,
            Ok(None) => panic!("engine stopped while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Waits until `engine` reports `n` connected peers.
pub async fn wait_connected(engine: &mut Engine, n: usize) {
    let mut connected = std::collections::HashSet::new();
    while connected.len() < n {
        if let EngineEvent::PeerState { id, state: kaiwa_engine::PeerState::Connected } =
            wait_for(engine, "peers connected", |e| matches!(e, EngineEvent::PeerState { .. })).await
        {
            connected.insert(id);
        }
    }
}

/// Waits until `p`'s stats show exactly `n` connections, all connected.
pub async fn wait_all_connected(p: &Party, n: usize) {
    eventually(&format!("{} connected to {n}", p.name), || async move {
        let stats = p.engine.stats().await;
        stats.len() == n && stats.iter().all(|s| s.state == kaiwa_engine::PeerState::Connected)
    })
    .await;
}

/// Waits until the engine says it is in the room (so the next party joins after it).
pub async fn wait_joined(engine: &mut Engine) {
    wait_for(engine, "joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
}

/// Waits (bounded: 30 s) until `cond` holds, looking every 50 ms. For what happens in real time — media
/// arriving — instead of a fixed sleep that guesses how long it takes.
pub async fn eventually<F, Fut>(what: &str, cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(within(Duration::from_secs(30), cond).await, "timed out waiting for {what}");
}

/// Whether `cond` comes to hold within `limit`, looking every 50 ms.
pub async fn within<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `p` has decoded at least `n` frames from `from`.
pub async fn wait_decoded(p: &Party, from: &str, n: usize) {
    eventually(
        &format!("{} to decode {n} frames from {from}", p.name),
        || async move { decoded(p, from) >= n },
    )
    .await;
}

/// Waits until no frame from `from` has reached `p` for 300 ms (bounded: 30 s): the frames in flight when
/// a camera went off have landed.
pub async fn wait_quiet(p: &Party, from: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = decoded(p, from);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = decoded(p, from);
        if now == seen {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "frames from {from} kept coming to {}", p.name);
        seen = now;
    }
}

/// Frames decoded so far from `from`.
pub fn decoded(p: &Party, from: &str) -> usize {
    p.recorder.peer(from).lock().unwrap().counters.len()
}

/// Frames of the screen `from` shares that `p` decoded so far.
pub fn screen_decoded(p: &Party, from: &str) -> usize {
    p.recorder.peer(from).lock().unwrap().screen_sizes.len()
}

/// This process's threads (Linux). Tests that count them run alone in their process.
pub fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Threads:")?.trim().parse().ok()).unwrap_or(0)
}

/// This process's resident memory in bytes (Linux).
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}
