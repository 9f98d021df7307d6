//! `kaiwa call`: a headless call. Prints a live status line and a final summary; exits 0 only when media
//! flowed both ways with every peer.

use kaiwa_media::video::VideoCodec;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kaiwa_devices::{
    AudioSource, ClickSource, TestPatternSource, ToneSource, VideoSource, WavFileSource, WavRecorder,
    Y4mFileSource, Y4mRecorder,
};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig, Trust};
use kaiwa_engine::sinks::{AudioSink, DecodedVideo, MediaSinks, VideoSink};
use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::{Engine, EngineConfig, EngineEvent, PeerState, ProcessingConfig};
use kaiwa_media::video::TestPattern;
use kaiwa_protocol::{IceServer, PeerInfo};

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// Signaling server, e.g. ws://192.168.1.5:8080/ws or wss://host:8443/ws
    #[arg(long, value_name = "URL")]
    server: String,
    /// Room code
    #[arg(long, value_name = "CODE")]
    room: String,
    /// Your name as the others see it
    #[arg(long, default_value = "kaiwa-cli")]
    name: String,
    /// testpattern, a .y4m file, camera[:ID] or none
    #[arg(long, default_value = "testpattern", value_name = "SOURCE")]
    video: String,
    /// tone[:HZ], clicks (for latency measurements), a .wav file (48 kHz), mic[:DEVICE] or none
    #[arg(long, default_value = "tone:440", value_name = "SOURCE")]
    audio: String,
    /// Echo cancellation, noise suppression and gain control of the sent audio: auto = on for mic, off
    /// for synthetic and file sources (noise suppression would eat test tones and clicks)
    #[arg(long, value_enum, default_value_t = AudioProcessing::Auto)]
    audio_processing: AudioProcessing,
    /// Test pattern size
    #[arg(long, default_value = "640x480", value_name = "WxH")]
    size: String,
    /// Test pattern frame rate
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Highest video bitrate, kbit/s
    #[arg(long, default_value_t = 1500, value_name = "KBPS")]
    max_bitrate: u32,
    /// Write each remote peer's decoded video (.y4m) and audio (.wav) here
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Leave after this many seconds (default: until Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Write the final per-peer statistics as JSON
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// Append every peer's statistics once a second to this file, one JSON object per line
    /// (`{"t": seconds since start, "peers": [...]}`): how a call went over time
    #[arg(long, value_name = "FILE")]
    stats_log: Option<PathBuf>,
    /// Also put every latency sample (ms) into --stats-json (for distributions, e.g. the benchmarks)
    #[arg(long)]
    latency_samples: bool,
    /// Picture quality against what was sent: the peers send this Y4M file, whose frames carry test-pattern
    /// stamps (the benchmarks' content); every sixth received frame is scaled back to the file's size and
    /// its luma PSNR (below the stamp strip) taken against the file's frame with the stamp's counter
    /// (into --stats-json)
    #[arg(long, value_name = "FILE.y4m")]
    psnr_reference: Option<PathBuf>,
    /// Trust a self-signed wss:// server with this SHA-256 certificate fingerprint (as it printed)
    #[arg(long, value_name = "HEX")]
    trust_fingerprint: Option<String>,
    /// Extra STUN server (repeatable)
    #[arg(long = "stun", value_name = "URL")]
    stun: Vec<String>,
    /// Extra TURN server (repeatable; with --turn-user/--turn-password)
    #[arg(long = "turn", value_name = "URL")]
    turn: Vec<String>,
    #[arg(long, value_name = "USER")]
    turn_user: Option<String>,
    #[arg(long, value_name = "PASSWORD")]
    turn_password: Option<String>,
    /// Use TURN relays only (no direct connection)
    #[arg(long)]
    relay_only: bool,
    /// Offer only this video codec (default: H.264 first, then VP8); for tests and benchmarks
    #[arg(long, value_name = "CODEC")]
    video_codec: Option<VideoCodec>,
    /// Local address for media sockets (default: every interface)
    #[arg(long, default_value = "0.0.0.0:0", value_name = "ADDR:PORT")]
    bind: String,
    /// Also take ICE over TCP on the --bind address (passive TCP candidates), as the desktop app does
    /// when it hosts: browsers whose UDP is blocked can reach us directly
    #[arg(long)]
    ice_tcp: bool,
    /// Play everyone's mixed audio on a speaker (the default output, or the named device)
    #[arg(long, value_name = "DEVICE", num_args = 0..=1, default_missing_value = "")]
    speaker: Option<String>,
    /// No live status line (for logs)
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AudioProcessing {
    Auto,
    On,
    Off,
}

impl AudioProcessing {
    fn config(self, audio: &str) -> ProcessingConfig {
        ProcessingConfig::all(match self {
            AudioProcessing::On => true,
            AudioProcessing::Off => false,
            AudioProcessing::Auto => audio == "mic" || audio.starts_with("mic:"),
        })
    }
}

/// Period of `--audio clicks`; receivers measure click latency modulo it.
const CLICK_PERIOD_MS: u32 = 500;

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').context("--size is WIDTHxHEIGHT, e.g. 640x480")?;
    Ok((w.trim().parse().context("bad width")?, h.trim().parse().context("bad height")?))
}

fn video_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn VideoSource>>> {
    let (w, h) = parse_size(&args.size)?;
    Ok(match args.video.as_str() {
        "none" => None,
        "testpattern" => Some(Box::new(TestPatternSource::new(w, h, args.fps)?)),
        v if v == "camera" || v.starts_with("camera:") => {
            let id = v.strip_prefix("camera:");
            let request = kaiwa_devices::CameraRequest { width: w, height: h, fps: args.fps };
            Some(Box::new(kaiwa_devices::CameraSource::open_with(id, request)?))
        }
        path => Some(Box::new(Y4mFileSource::open(Path::new(path))?)),
    })
}

fn audio_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn AudioSource>>> {
    Ok(match args.audio.as_str() {
        "none" => None,
        "tone" => Some(Box::new(ToneSource::new(440.0))),
        "clicks" => Some(Box::new(ClickSource::new(CLICK_PERIOD_MS))),
        t if let Some(hz) = t.strip_prefix("tone:") => {
            let hz: f64 = hz.parse().context("--audio tone:HZ needs a number")?;
            if !(20.0..=20_000.0).contains(&hz) {
                bail!("--audio tone:HZ must be between 20 and 20000 Hz");
            }
            Some(Box::new(ToneSource::new(hz)))
        }
        "mic" => Some(Box::new(kaiwa_devices::MicSource::open(None)?)),
        m if let Some(device) = m.strip_prefix("mic:") => {
            Some(Box::new(kaiwa_devices::MicSource::open(Some(device))?))
        }
        path => Some(Box::new(WavFileSource::open(Path::new(path))?)),
    })
}

/// Sinks for the CLI: measure what arrives (latency from test-pattern stamps and wall-clock clicks), and
/// record when asked.
struct CliSinks {
    record: Option<PathBuf>,
    psnr_reference: Option<Arc<PsnrReference>>,
    fps: u32,
    started: Instant,
    click_period_us: u64,
    videos: Mutex<Vec<Arc<Mutex<Option<Y4mRecorder>>>>>,
    audios: Mutex<Vec<Arc<Mutex<Option<WavRecorder>>>>>,
    measures: Mutex<HashMap<String, Arc<Mutex<Measure>>>>,
    speaker: Mutex<Option<kaiwa_devices::SpeakerSink>>,
}

/// What the CLI measures of one remote peer's media.
#[derive(Default)]
struct Measure {
    first_frame: Option<Duration>,
    /// Capture → decoded, from the test pattern's stamp (same machine, wall clock).
    video_latency_us: Vec<u64>,
    /// Click → heard, from clicks on wall-clock period boundaries.
    audio_latency_us: Vec<u64>,
    quiet_samples: usize,
    /// With `--psnr-reference`: luma PSNR of sampled frames (dB), and sampled frames whose stamp could not
    /// be read.
    psnr_db: Vec<f64>,
    psnr_unreadable: u64,
}

/// `--psnr-reference`: the frames that were sent, and the stamp reader at their size.
struct PsnrReference {
    frames: Vec<kaiwa_media::video::I420Frame>,
    pattern: TestPattern,
}

impl PsnrReference {
    fn load(path: &Path) -> anyhow::Result<PsnrReference> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut reader = kaiwa_media::video::Y4mReader::new(std::io::BufReader::new(file))?;
        let header = reader.header();
        let mut frames = Vec::new();
        while let Some(f) = reader.read_frame()? {
            frames.push(f);
        }
        if frames.is_empty() {
            bail!("{} has no frames", path.display());
        }
        Ok(PsnrReference { frames, pattern: TestPattern::new(header.width, header.height)? })
    }

    /// Luma PSNR of `frame` (scaled to the reference size) against the sent frame with its stamp, below the
    /// stamp strip.
    fn psnr(&self, frame: &kaiwa_media::video::I420Frame) -> Option<f64> {
        let full =
            kaiwa_media::video::quality::scaled_luma(frame, self.pattern.width(), self.pattern.height());
        let stamp = self.pattern.read_stamp(&full)?;
        let sent = &self.frames[stamp.counter as usize % self.frames.len()];
        // Below the stamp strip: its background is below the legal luma range, which a browser's RGB
        // conversion clamps, so only the picture itself is compared (as the bench page does).
        let strip = self.pattern.strip_height();
        kaiwa_media::video::quality::psnr_below(&full, sent, strip).map(|db| db.min(99.0))
    }
}

#[derive(serde::Serialize)]
struct Percentiles {
    p50_ms: f64,
    p95_ms: f64,
    samples: usize,
}

fn percentiles(values: &[u64]) -> Option<Percentiles> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    Some(Percentiles { p50_ms: at(0.5), p95_ms: at(0.95), samples: v.len() })
}

/// A peer's final figures: the engine's stats plus what the CLI measured.
#[derive(serde::Serialize)]
struct PeerReport {
    #[serde(flatten)]
    stats: PeerStats,
    first_frame_ms: Option<u64>,
    video_latency: Option<Percentiles>,
    audio_latency: Option<Percentiles>,
    /// Luma PSNR of the sampled received frames against what was sent (`--psnr-reference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    psnr_db: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psnr_unreadable: Option<u64>,
    /// Every sample, with `--latency-samples` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    video_latency_samples_ms: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_latency_samples_ms: Option<Vec<f64>>,
}

impl CliSinks {
    fn measure(&self, peer: &PeerInfo) -> Arc<Mutex<Measure>> {
        let mut all = self.measures.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(peer.id.clone()).or_default().clone()
    }

    fn report(&self, stats: PeerStats, samples: bool) -> PeerReport {
        let measure = self.measures.lock().ok().and_then(|m| m.get(&stats.id).cloned());
        let m = measure.as_ref().and_then(|m| m.lock().ok());
        let all = |v: &[u64]| v.iter().map(|&us| us as f64 / 1000.0).collect::<Vec<f64>>();
        PeerReport {
            video_latency_samples_ms: m.as_ref().filter(|_| samples).map(|m| all(&m.video_latency_us)),
            audio_latency_samples_ms: m.as_ref().filter(|_| samples).map(|m| all(&m.audio_latency_us)),
            first_frame_ms: m.as_ref().and_then(|m| m.first_frame).map(|d| d.as_millis() as u64),
            video_latency: m.as_ref().and_then(|m| percentiles(&m.video_latency_us)),
            // One onset is just the start of a steady tone; clicks give one per period.
            audio_latency: m
                .as_ref()
                .filter(|m| m.audio_latency_us.len() >= 5)
                .and_then(|m| percentiles(&m.audio_latency_us)),
            psnr_db: m.as_ref().filter(|m| !m.psnr_db.is_empty()).map(|m| m.psnr_db.clone()),
            psnr_unreadable: m
                .as_ref()
                .filter(|m| !m.psnr_db.is_empty() || m.psnr_unreadable > 0)
                .map(|m| m.psnr_unreadable),
            stats,
        }
    }
}

/// Click detection threshold (|sample|) and the silence that must precede a click.
const CLICK_LEVEL: i16 = 4000;
const CLICK_QUIET_SAMPLES: usize = 48 * 100;

/// `NAME-ID` for a peer's recordings: both come from the network, so only letters and digits are kept
/// (anything else becomes `_`) and they are cut by characters, never inside one.
fn file_stem(peer: &PeerInfo) -> String {
    let plain = |text: &str, most: usize| -> String {
        text.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).take(most).collect()
    };
    format!("{}-{}", plain(&peer.name, 32), plain(&peer.id, 8))
}

impl MediaSinks for CliSinks {
    fn video(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let rec = self.record.as_ref().map(|dir| {
            Arc::new(Mutex::new(Some(Y4mRecorder::new(
                dir.join(format!("{}.y4m", file_stem(peer))),
                self.fps,
            ))))
        });
        if let Some(rec) = &rec {
            self.videos.lock().ok()?.push(rec.clone());
        }
        let measure = self.measure(peer);
        let started = self.started;
        let mut pattern: Option<TestPattern> = None;
        let reference = self.psnr_reference.clone();
        let mut decoded = 0u64;
        Some(Box::new(move |v: &DecodedVideo| {
            decoded += 1;
            // Outside the lock: the comparison takes about a millisecond.
            let quality = reference.as_ref().filter(|_| decoded.is_multiple_of(6)).map(|r| r.psnr(&v.frame));
            if let Ok(mut m) = measure.lock() {
                match quality {
                    Some(Some(db)) => m.psnr_db.push(db),
                    Some(None) => m.psnr_unreadable += 1,
                    None => {}
                }
                m.first_frame.get_or_insert_with(|| started.elapsed());
                let size = (v.frame.width(), v.frame.height());
                if pattern.as_ref().is_none_or(|p| (p.width(), p.height()) != size) {
                    pattern = TestPattern::new(size.0, size.1).ok();
                }
                if let Some(stamp) = pattern.as_ref().and_then(|p| p.read_stamp(&v.frame)) {
                    m.video_latency_us.push(kaiwa_devices::wall_clock_us().saturating_sub(stamp.capture_us));
                }
            }
            if let Some(rec) = &rec
                && let Ok(mut guard) = rec.lock()
                && let Some(r) = guard.as_mut()
                && let Err(e) = r.write(&v.frame)
            {
                tracing::warn!(error = %e, "recording stopped");
                *guard = None;
            }
        }))
    }

    fn speaker(&self) -> Option<AudioSink> {
        let mut sink = self.speaker.lock().ok()?.take()?;
        Some(Box::new(move |pcm: &[i16]| {
            if let Err(e) = sink.play(pcm) {
                tracing::debug!(error = %e, "speaker");
            }
        }))
    }

    fn audio(&self, peer: &PeerInfo) -> Option<AudioSink> {
        let rec = self.record.as_ref().map(|dir| {
            Arc::new(Mutex::new(Some(WavRecorder::new(dir.join(format!("{}.wav", file_stem(peer)))))))
        });
        if let Some(rec) = &rec {
            self.audios.lock().ok()?.push(rec.clone());
        }
        let measure = self.measure(peer);
        let period = self.click_period_us;
        Some(Box::new(move |pcm: &[i16]| {
            // This frame starts playing now; sample i is heard i/48 ms later.
            let now = kaiwa_devices::wall_clock_us();
            if let Ok(mut m) = measure.lock() {
                for (i, &s) in pcm.iter().enumerate() {
                    if s.saturating_abs() >= CLICK_LEVEL {
                        if m.quiet_samples >= CLICK_QUIET_SAMPLES {
                            let heard = now + i as u64 * 1000 / 48;
                            m.audio_latency_us.push(heard % period);
                        }
                        m.quiet_samples = 0;
                    } else {
                        m.quiet_samples = m.quiet_samples.saturating_add(1);
                    }
                }
            }
            if let Some(rec) = &rec
                && let Ok(mut guard) = rec.lock()
                && let Some(r) = guard.as_mut()
            {
                r.write(pcm);
            }
        }))
    }
}

impl CliSinks {
    fn finish(&self) -> anyhow::Result<()> {
        for v in self.videos.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default() {
            if let Some(r) = v.lock().ok().and_then(|mut g| g.take()) {
                r.finish()?;
            }
        }
        for a in self.audios.lock().map(|mut a| std::mem::take(&mut *a)).unwrap_or_default() {
            if let Some(r) = a.lock().ok().and_then(|mut g| g.take()) {
                r.finish()?;
            }
        }
        Ok(())
    }
}

fn media_flowed_both_ways(s: &PeerStats) -> bool {
    let sent = s.out.video_frames > 0 || s.out.audio_frames > 0;
    let received = s.video_in.frames_decoded > 0 || s.audio_in.packets > 0;
    sent && received
}

fn status_line(elapsed: Duration, stats: &[PeerStats], previous: &HashMap<String, (u64, u64)>) -> String {
    let mut line = format!("{:>4.0}s", elapsed.as_secs_f64());
    if stats.is_empty() {
        line.push_str(" | waiting for others to join");
    }
    for s in stats {
        let (rx_before, frames_before) =
            previous.get(&s.id).copied().unwrap_or((s.bytes_received, s.video_in.frames_decoded));
        let kbps = (s.bytes_received.saturating_sub(rx_before)) * 8 / 1000;
        let fps = s.video_in.frames_decoded.saturating_sub(frames_before);
        let path = match (s.local_candidate.as_deref(), s.relay_transport.as_deref()) {
            (Some(kind), Some(transport)) => format!("{kind}/{transport}"),
            (Some(kind), None) if s.pair_protocol.as_deref() == Some("tcp") => format!("{kind}/tcp"),
            (kind, _) => kind.unwrap_or("-").to_owned(),
        };
        let state = match s.state {
            PeerState::Connecting => "connecting",
            PeerState::Connected => "connected",
            PeerState::Reconnecting => "reconnecting",
            PeerState::Closed => "closed",
        };
        line.push_str(&format!(
            " | {}: {state} via {path}, rtt {:.1} ms, in {kbps} kb/s {fps} fps {}x{}, audio {} pkts",
            s.name,
            s.rtt_ms.unwrap_or(0.0),
            s.video_in.width,
            s.video_in.height,
            s.audio_in.packets
        ));
    }
    line
}

pub async fn run(args: CallArgs) -> anyhow::Result<std::process::ExitCode> {
    let url = ServerUrl::parse(&args.server)?;
    let mut signaling = SignalingConfig::new(url, args.room.clone(), args.name.clone());
    if let Some(fp) = &args.trust_fingerprint {
        signaling.trust = Trust::Pinned(fp.parse().context("--trust-fingerprint")?);
    }
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut extra_ice_servers = Vec::new();
    if !args.stun.is_empty() {
        extra_ice_servers.push(IceServer { urls: args.stun.clone(), username: None, credential: None });
    }
    if !args.turn.is_empty() {
        extra_ice_servers.push(IceServer {
            urls: args.turn.clone(),
            username: args.turn_user.clone(),
            credential: args.turn_password.clone(),
        });
    }
    let sinks = Arc::new(CliSinks {
        record: args.record.clone(),
        psnr_reference: match &args.psnr_reference {
            Some(path) => Some(Arc::new(PsnrReference::load(path)?)),
            None => None,
        },
        fps: args.fps,
        started: Instant::now(),
        click_period_us: u64::from(CLICK_PERIOD_MS) * 1000,
        videos: Default::default(),
        audios: Default::default(),
        measures: Default::default(),
        speaker: Mutex::new(match &args.speaker {
            None => None,
            Some(name) => {
                Some(kaiwa_devices::SpeakerSink::open(Some(name.as_str()).filter(|n| !n.is_empty()))?)
            }
        }),
    });
    let config = EngineConfig {
        signaling,
        network: NetworkConfig {
            udp_addrs: vec![args.bind.clone()],
            tcp_addrs: if args.ice_tcp { vec![args.bind.clone()] } else { Vec::new() },
            relay_only: args.relay_only,
            video_codecs: args.video_codec.map_or_else(|| VideoCodec::ALL.to_vec(), |c| vec![c]),
            max_bitrate_bps: args.max_bitrate.saturating_mul(1000),
            ..Default::default()
        },
        extra_ice_servers,
        video: video_source(&args)?,
        audio: audio_source(&args)?,
        audio_processing: args.audio_processing.config(&args.audio),
        sinks: sinks.clone(),
        video_send: kaiwa_engine::media::video_send::VideoSendConfig {
            max_bitrate_bps: args.max_bitrate.saturating_mul(1000),
            ..Default::default()
        },
    };
    let mut engine = Engine::start(config)?;
    let started = Instant::now();
    let deadline = args.duration.map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut previous: HashMap<String, (u64, u64)> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut failure: Option<String> = None;
    // The last figures of everyone who was in the call, including those who left before the end.
    let mut seen: HashMap<String, PeerStats> = HashMap::new();
    let mut stats_log = match &args.stats_log {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let until_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = until_deadline => break,
            _ = &mut ctrl_c => break,
            event = engine.next_event() => match event {
                Some(EngineEvent::Failed(why)) => {
                    failure = Some(why);
                    break;
                }
                Some(EngineEvent::Joined { room, max_peers, rejoined, .. }) => {
                    eprintln!("{} room {room} (up to {max_peers} people)", if rejoined { "rejoined" } else { "joined" });
                }
                Some(EngineEvent::PeerJoined(p)) => {
                    eprintln!("{} is here", p.name);
                    names.insert(p.id.clone(), p.name.clone());
                }
                Some(EngineEvent::PeerLeft(p)) => eprintln!("{} left", p.name),
                Some(EngineEvent::PeerRenamed { old, new }) => {
                    // The same person under a new id: one line in the summary, not two.
                    if let Some(name) = names.remove(&old) {
                        names.insert(new.clone(), name);
                    }
                    if let Some(s) = seen.remove(&old) {
                        seen.insert(new, s);
                    }
                }
                Some(EngineEvent::Chat { message, .. }) => eprintln!("[chat] {}: {}", message.from, message.text),
                Some(EngineEvent::SignalingLost { reason, retry_in }) => {
                    eprintln!("signaling server lost ({reason}); calls go on; retrying in {:.1}s", retry_in.as_secs_f64())
                }
                Some(EngineEvent::PeerMedia { id, mic, camera }) => {
                    let name = names.get(&id).map(String::as_str).unwrap_or("a participant");
                    eprintln!("{name}: microphone {}, camera {}", on_off(mic), on_off(camera));
                }
                Some(EngineEvent::PeerState { .. } | EngineEvent::PeerAudioLevel { .. }) => {}
                None => break,
            },
            _ = tick.tick() => {
                let stats = engine.stats().await;
                if !args.quiet {
                    let line = status_line(started.elapsed(), &stats, &previous);
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r{line}\x1b[K");
                    let _ = err.flush();
                }
                if let Some(log) = &mut stats_log {
                    let line = serde_json::json!({ "t": started.elapsed().as_secs_f64(), "peers": &stats });
                    writeln!(log, "{line}").and_then(|()| log.flush()).context("cannot write the stats log")?;
                }
                previous = stats.iter().map(|s| (s.id.clone(), (s.bytes_received, s.video_in.frames_decoded))).collect();
                for s in stats {
                    seen.insert(s.id.clone(), s);
                }
            }
        }
    }
    if !args.quiet {
        eprintln!();
    }
    for s in engine.stats().await {
        seen.insert(s.id.clone(), s);
    }
    let mut stats: Vec<PeerStats> = seen.into_values().collect();
    stats.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let processing = engine.audio_processing();
    engine.leave().await;
    sinks.finish()?;
    let reports: Vec<PeerReport> =
        stats.iter().cloned().map(|s| sinks.report(s, args.latency_samples)).collect();
    if let Some(path) = &args.stats_json {
        std::fs::write(path, serde_json::to_string_pretty(&reports)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(why) = failure {
        bail!("{why}");
    }
    println!("call summary ({:.0} s):", started.elapsed().as_secs_f64());
    for r in &reports {
        let s = &r.stats;
        let latency =
            |p: &Option<Percentiles>| p.as_ref().map(|p| format!("{:.1}/{:.1} ms", p.p50_ms, p.p95_ms));
        if let Some(v) = latency(&r.video_latency) {
            println!("  {}: video capture→decoded p50/p95 {v}", s.name);
        }
        if let Some(a) = latency(&r.audio_latency) {
            println!("  {}: audio click→heard p50/p95 {a}", s.name);
        }
        println!(
            "  {}: {} via {}/{}, rtt {:.1} ms, video in {} frames {}x{} {} ({} freezes), audio in {} packets, sent {} video {} / {} audio frames{}",
            s.name,
            if media_flowed_both_ways(s) { "media both ways" } else { "NO MEDIA BOTH WAYS" },
            s.local_candidate.as_deref().unwrap_or("-"),
            s.remote_candidate.as_deref().unwrap_or("-"),
            s.rtt_ms.unwrap_or(0.0),
            s.video_in.frames_decoded,
            s.video_in.width,
            s.video_in.height,
            codec_name(s.video_in.codec.as_deref()),
            s.video_in.freezes,
            s.audio_in.packets,
            s.out.video_frames,
            codec_name(s.out.video_codec.as_deref()),
            s.out.audio_frames,
            s.setup_ms.map(|ms| format!(", connected in {ms} ms")).unwrap_or_default(),
        );
        if let Some(code) = &s.verification_code {
            println!(
                "  {}: verification code {code} (they see the same unless someone is in between)",
                s.name
            );
        }
        if s.video_formats.unavailable() {
            let ours = args.video_codec.map_or_else(|| VideoCodec::ALL.to_vec(), |c| vec![c]);
            println!("  {}: {}", s.name, no_common_video(&s.video_formats.peer_codecs, &ours));
        }
    }
    if stats.is_empty() {
        println!("  nobody else joined");
    }
    if processing.echo_cancellation || processing.noise_suppression || processing.gain_control {
        println!(
            "  audio processing on: echo return loss enhancement {}, echo path {}, {} speaker frames as echo reference ({} dropped)",
            processing.erle_db.map_or("-".to_owned(), |db| format!("{db:.1} dB")),
            processing.echo_path_ms.map_or("-".to_owned(), |ms| format!("{ms} ms")),
            processing.far_end_frames,
            processing.far_end_dropped,
        );
    }
    let ok = !stats.is_empty() && stats.iter().all(media_flowed_both_ways);
    Ok(if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(2) })
}

/// "no video: no common video format (they offer AV1, VP9; we have H.264, VP8)".
fn no_common_video(theirs: &[String], ours: &[VideoCodec]) -> String {
    let offered = if theirs.is_empty() { "unknown".to_owned() } else { theirs.join(", ") };
    let ours: Vec<String> = ours.iter().map(ToString::to_string).collect();
    format!("no video: no common video format (they offer {offered}; we have {})", ours.join(", "))
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// A codec's MIME type as a person reads it (`video/VP8` → `VP8`).
fn codec_name(mime: Option<&str>) -> String {
    mime.and_then(VideoCodec::from_mime_type).map_or_else(|| "-".to_owned(), |c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 14): ids come from other participants (an `id` claim over the data channel),
    /// and slicing one at byte 8 panicked when a multi-byte character straddled it.
    #[test]
    fn file_stems_take_any_id_and_name_and_stay_plain_file_names() {
        for (id, name) in [
            ("aaaaaaaé", "Ann"),
            ("ééééé", "Bo"),
            ("", ""),
            ("../../etc", "a/b\\c"),
            ("0123456789abcdef", "名前"),
        ] {
            let stem = file_stem(&PeerInfo::new(id, name));
            assert!(!stem.contains(['/', '\\']) && !stem.contains(".."), "{id:?} {name:?} -> {stem:?}");
        }
        assert_eq!(file_stem(&PeerInfo::new("0123456789abcdef", "Ann Lee")), "Ann_Lee-01234567");
    }
}
