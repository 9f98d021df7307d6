//! `kaiwa call`'s arguments.

use super::*;

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// Signaling server, e.g. ws://192.168.1.5:8080/ws or wss://host:8443/ws
    #[arg(long, value_name = "URL")]
    pub(super) server: String,
    /// Room code
    #[arg(long, value_name = "CODE")]
    pub(super) room: String,
    /// Your name as the others see it
    #[arg(long, default_value = "kaiwa-cli")]
    pub(super) name: String,
    /// testpattern, a .y4m file, camera[:ID], none, or screen[:MONITOR] / portal: share the screen with no
    /// camera (as `--video none --share screen[:MONITOR]`)
    #[arg(long, default_value = "testpattern", value_name = "SOURCE")]
    pub(super) video: String,
    /// Share a screen beside the video, as a second video track: screen[:MONITOR] (the DISPLAY's on X11;
    /// under Wayland the desktop asks which, through its screen-cast portal), portal (the desktop asks,
    /// X11 too), window:ID (one X window, e.g. window:0x1a00007), or for tests a testpattern or .y4m file
    #[arg(long, value_name = "SOURCE")]
    pub(super) share: Option<String>,
    /// A chat line to send once the first peer can hear it (repeatable: one line each)
    #[arg(long, value_name = "TEXT")]
    pub(super) say: Vec<String>,
    /// tone[:HZ], clicks (for latency measurements), a .wav file (48 kHz), mic[:DEVICE] or none
    #[arg(long, default_value = "tone:440", value_name = "SOURCE")]
    pub(super) audio: String,
    /// Echo cancellation, noise suppression and gain control of the sent audio: auto = on for mic, off
    /// for synthetic and file sources (noise suppression would eat test tones and clicks)
    #[arg(long, value_enum, default_value_t = AudioProcessing::Auto)]
    pub(super) audio_processing: AudioProcessing,
    /// Test pattern size
    #[arg(long, default_value = "640x480", value_name = "WxH")]
    pub(super) size: String,
    /// Test pattern frame rate
    #[arg(long, default_value_t = 30)]
    pub(super) fps: u32,
    /// Highest video bitrate, kbit/s
    #[arg(long, default_value_t = 1500, value_name = "KBPS")]
    pub(super) max_bitrate: u32,
    /// Write each remote peer's decoded video (.y4m) and audio (.wav) here
    #[arg(long, value_name = "DIR")]
    pub(super) record: Option<PathBuf>,
    /// Leave after this many seconds (default: until Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    pub(super) duration: Option<f64>,
    /// Write the final per-peer statistics as JSON
    #[arg(long, value_name = "FILE")]
    pub(super) stats_json: Option<PathBuf>,
    /// Append every peer's statistics once a second (--stats-every) to this file, one JSON object per line
    /// (`{"t": seconds since start, "peers": [...]}`): how a call went over time
    #[arg(long, value_name = "FILE")]
    pub(super) stats_log: Option<PathBuf>,
    /// How often the status line and --stats-log are written, e.g. 250ms
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_every)]
    pub(super) stats_every: Duration,
    /// Also put every latency sample (ms) into --stats-json (for distributions, e.g. the benchmarks)
    #[arg(long)]
    pub(super) latency_samples: bool,
    /// Picture quality against what was sent: the peers send this Y4M file, whose frames carry test-pattern
    /// stamps (the benchmarks' content); every sixth received frame is scaled back to the file's size and
    /// its luma PSNR (below the stamp strip) taken against the file's frame with the stamp's counter
    /// (into --stats-json)
    #[arg(long, value_name = "FILE.y4m")]
    pub(super) psnr_reference: Option<PathBuf>,
    /// Trust a self-signed wss:// server with this SHA-256 certificate fingerprint (as it printed)
    #[arg(long, value_name = "HEX")]
    pub(super) trust_fingerprint: Option<String>,
    /// Extra STUN server (repeatable)
    #[arg(long = "stun", value_name = "URL")]
    pub(super) stun: Vec<String>,
    /// Extra TURN server (repeatable; with --turn-user/--turn-password)
    #[arg(long = "turn", value_name = "URL")]
    pub(super) turn: Vec<String>,
    #[arg(long, value_name = "USER")]
    pub(super) turn_user: Option<String>,
    #[arg(long, value_name = "PASSWORD")]
    pub(super) turn_password: Option<String>,
    /// Use TURN relays only (no direct connection)
    #[arg(long)]
    pub(super) relay_only: bool,
    /// Offer only this video codec (default: H.264 first, then VP8); for tests and benchmarks
    #[arg(long, value_name = "CODEC")]
    pub(super) video_codec: Option<VideoCodec>,
    /// Local address for media sockets (default: every interface)
    #[arg(long, default_value = "0.0.0.0:0", value_name = "ADDR:PORT")]
    pub(super) bind: String,
    /// Also take ICE over TCP on the --bind address (passive TCP candidates), as the desktop app does
    /// when it hosts: browsers whose UDP is blocked can reach us directly
    #[arg(long)]
    pub(super) ice_tcp: bool,
    /// Play everyone's mixed audio on a speaker (the default output, or the named device)
    #[arg(long, value_name = "DEVICE", num_args = 0..=1, default_missing_value = "")]
    pub(super) speaker: Option<String>,
    /// No live status line (for logs)
    #[arg(long)]
    pub(super) quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum AudioProcessing {
    Auto,
    On,
    Off,
}

impl AudioProcessing {
    pub(super) fn config(self, audio: &str) -> ProcessingConfig {
        ProcessingConfig::all(match self {
            AudioProcessing::On => true,
            AudioProcessing::Off => false,
            AudioProcessing::Auto => audio == "mic" || audio.starts_with("mic:"),
        })
    }
}
pub(super) fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s.split_once('x').context("--size is WIDTHxHEIGHT, e.g. 640x480")?;
    Ok((w.trim().parse().context("bad width")?, h.trim().parse().context("bad height")?))
}

/// A statistics interval: a duration from 50 ms to a minute.
fn parse_every(text: &str) -> Result<Duration, String> {
    let every = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 250ms or 1s)"))?;
    if every < Duration::from_millis(50) || every > Duration::from_secs(60) {
        return Err("between 50ms and 60s".into());
    }
    Ok(every)
}
