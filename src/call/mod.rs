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
use kaiwa_media::video::{StampReader, TestPattern};
use kaiwa_protocol::{IceServer, PeerInfo};

mod args;
mod report;
mod sinks;
mod sources;

pub use args::CallArgs;
use args::*;
use report::*;
use sinks::*;
use sources::*;

fn media_flowed_both_ways(s: &PeerStats) -> bool {
    let sent = s.out.video_frames > 0 || s.out.audio_frames > 0 || s.out.screen_frames > 0;
    let screen_in = s.screen_in.as_ref().map_or(0, |v| v.frames_decoded);
    let received = s.video_in.frames_decoded > 0 || s.audio_in.packets > 0 || screen_in > 0;
    sent && received
}

/// The status line; rates are over `every`, the time since the previous line.
fn status_line(
    elapsed: Duration,
    every: Duration,
    stats: &[PeerStats],
    previous: &HashMap<String, (u64, u64)>,
) -> String {
    let per_second = 1.0 / every.as_secs_f64();
    let mut line = format!("{:>4.0}s", elapsed.as_secs_f64());
    if stats.is_empty() {
        line.push_str(" | waiting for others to join");
    }
    for s in stats {
        let (rx_before, frames_before) =
            previous.get(&s.id).copied().unwrap_or((s.bytes_received, s.video_in.frames_decoded));
        let kbps = ((s.bytes_received.saturating_sub(rx_before)) as f64 * 8.0 / 1000.0 * per_second).round();
        let fps = (s.video_in.frames_decoded.saturating_sub(frames_before) as f64 * per_second).round();
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
    let share = share_source(&args)?;
    let mut engine = Engine::start(config)?;
    if let Some(source) = share {
        eprintln!("sharing {}", source.describe());
        engine.share_screen(Some(source)).await;
    }
    let mut say = args.say.clone();
    let started = Instant::now();
    let deadline = args.duration.map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut tick = tokio::time::interval(args.stats_every);
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
                    failure = Some(why.to_string());
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
                Some(EngineEvent::PeerMedia { id, mic, camera, screen }) => {
                    // The first announcement comes over a peer's open data channel: chat reaches them now.
                    for line in std::mem::take(&mut say) {
                        engine.send_chat(&line).await;
                    }
                    let name = names.get(&id).map(String::as_str).unwrap_or("a participant");
                    let sharing = if screen { ", sharing a screen" } else { "" };
                    eprintln!("{name}: microphone {}, camera {}{sharing}", on_off(mic), on_off(camera));
                }
                Some(EngineEvent::ScreenShareEnded(why)) => eprintln!("screen sharing stopped: {why}"),
                Some(EngineEvent::PeerState { .. } | EngineEvent::PeerAudioLevel { .. }) => {}
                None => break,
            },
            _ = tick.tick() => {
                let stats = engine.stats().await;
                if !args.quiet {
                    let line = status_line(started.elapsed(), args.stats_every, &stats, &previous);
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
        if let Some(v) = &s.screen_in {
            let (w, h, codec) = (v.width, v.height, codec_name(v.codec.as_deref()));
            println!(
                "  {}: their shared screen: {} frames {w}x{h} {codec} ({} freezes)",
                s.name, v.frames_decoded, v.freezes
            );
        }
        if s.out.screen_frames > 0 {
            println!("  {}: sent {} frames of our shared screen", s.name, s.out.screen_frames);
        }
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
