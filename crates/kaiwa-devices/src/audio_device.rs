//! What microphones and speakers share: enumeration, picking a device and a stream format, turning cpal's
//! errors into plain-language [`SourceError`]s, and the counters the real-time callbacks bump.
//!
//! # What cpal can and cannot tell us (Linux, ALSA host)
//! - Devices are ALSA PCMs: `default`, `pulse` (PulseAudio/PipeWire via ALSA's pulse plugin), plugins and
//!   `hw:`/`plughw:` cards. When a sound server runs, `default` goes through it, so *the sound server*
//!   follows default-device changes and hot-plugged headsets for us; cpal itself sends no notification.
//! - A stream whose device disappears reports [`cpal::ErrorKind::DeviceNotAvailable`] (or stops delivering
//!   data, with some plugins) on its error callback. We flag that with an atomic and reopen the device
//!   (falling back to the default one) on the caller's thread at the next `next_frame`/`play`.
//! - [`cpal::ErrorKind::DeviceChanged`] (stream rerouted to a new default) is reported by some backends
//!   only; we treat it as informational.
//! - There is no hot-plug event for *new* devices: call `list_microphones`/`list_speakers` again (e.g. when
//!   the settings dialog opens).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use cpal::traits::{DeviceTrait, HostTrait};
use cpal::{SampleFormat, SupportedStreamConfig};

use crate::SourceError;
use kaiwa_media::audio::FRAME_SAMPLES;
use rubato::{Fft, FixedSync};

/// A microphone or speaker as the settings dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioDeviceInfo {
    /// Stable id to store in settings and pass to `open`, e.g. `alsa:pulse`.
    pub id: String,
    /// Human-readable name, e.g. "PulseAudio Sound Server".
    pub name: String,
    /// Whether this is the system's default device for its direction.
    pub is_default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Input,
    Output,
}

impl Direction {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Direction::Input => "microphone",
            Direction::Output => "speaker",
        }
    }
}

/// Microphones (capture devices), the default one marked. Empty, not an error, when there are none.
pub fn list_microphones() -> Vec<AudioDeviceInfo> {
    list(Direction::Input)
}

/// Speakers (playback devices), the default one marked. Empty, not an error, when there are none.
pub fn list_speakers() -> Vec<AudioDeviceInfo> {
    list(Direction::Output)
}

/// The default microphone, if the system has one.
pub fn default_microphone() -> Option<AudioDeviceInfo> {
    default_info(Direction::Input)
}

/// The default speaker, if the system has one.
pub fn default_speaker() -> Option<AudioDeviceInfo> {
    default_info(Direction::Output)
}

fn supports(device: &cpal::Device, dir: Direction) -> bool {
    match dir {
        Direction::Input => device.supports_input(),
        Direction::Output => device.supports_output(),
    }
}

fn default_device(host: &cpal::Host, dir: Direction) -> Option<cpal::Device> {
    match dir {
        Direction::Input => host.default_input_device(),
        Direction::Output => host.default_output_device(),
    }
}

fn info(device: &cpal::Device, default_id: Option<&str>) -> Option<AudioDeviceInfo> {
    let id = device.id().ok()?.to_string();
    let name = device.description().map(|d| d.name().to_string()).unwrap_or_else(|_| id.clone());
    let is_default = default_id == Some(id.as_str());
    Some(AudioDeviceInfo { id, name, is_default })
}

fn default_info(dir: Direction) -> Option<AudioDeviceInfo> {
    let host = cpal::default_host();
    let device = default_device(&host, dir).filter(|d| usable(d, dir))?;
    let mut info = info(&device, None)?;
    info.is_default = true;
    Some(info)
}

/// ALSA PCMs that are converters or helpers rather than devices a person would pick (`jack` and `oss` are
/// left out too: probing them can start a server or touch /dev/dsp).
const NOT_DEVICES: [&str; 12] = [
    "null",
    "lavrate",
    "samplerate",
    "speexrate",
    "speex",
    "upmix",
    "vdownmix",
    "jack",
    "oss",
    "a52",
    "usbstream",
    "arcam_av",
];

/// Whether the device can actually be opened for `dir` right now. For ALSA's virtual PCMs (`default`,
/// `pulse`, ...) this is the only way to know whether a card or sound server is behind them.
fn usable(device: &cpal::Device, dir: Direction) -> bool {
    match dir {
        Direction::Input => device.supported_input_configs().is_ok_and(|mut c| c.next().is_some()),
        Direction::Output => device.supported_output_configs().is_ok_and(|mut c| c.next().is_some()),
    }
}

fn listed(device: &cpal::Device, dir: Direction) -> bool {
    let Ok(id) = device.id() else { return false };
    let pcm = id.id();
    let base = pcm.split(':').next().unwrap_or(pcm);
    supports(device, dir) && !NOT_DEVICES.contains(&base) && usable(device, dir)
}

fn list(dir: Direction) -> Vec<AudioDeviceInfo> {
    let host = cpal::default_host();
    let default = default_device(&host, dir).filter(|d| usable(d, dir));
    let default_id = default.as_ref().and_then(|d| d.id().ok()).map(|id| id.to_string());
    let mut out: Vec<AudioDeviceInfo> = match host.devices() {
        Ok(devices) => {
            devices.filter(|d| listed(d, dir)).filter_map(|d| info(&d, default_id.as_deref())).collect()
        }
        Err(_) => Vec::new(),
    };
    // The default device first (ALSA does not always list `default` itself).
    if let Some(pos) = out.iter().position(|d| d.is_default) {
        let d = out.remove(pos);
        out.insert(0, d);
    } else if let Some(mut d) = default.as_ref().and_then(|d| info(d, None)) {
        d.is_default = true;
        out.insert(0, d);
    }
    out
}

/// Finds a device by id (`alsa:pulse`), bare backend id (`pulse`) or name; `None` means the default device.
pub(crate) fn find_device(
    dir: Direction,
    wanted: Option<&str>,
) -> Result<(cpal::Device, String), SourceError> {
    let host = cpal::default_host();
    let none = || match dir {
        Direction::Input => SourceError::NoMicrophone,
        Direction::Output => SourceError::NoSpeaker,
    };
    let Some(wanted) = wanted else {
        let device = default_device(&host, dir).ok_or_else(none)?;
        if !usable(&device, dir) && list(dir).is_empty() {
            return Err(none());
        }
        let label = info(&device, None).map(|i| i.name).unwrap_or_else(|| "default".into());
        return Ok((device, label));
    };
    let devices = host.devices().map_err(|e| map_error(dir, wanted, e))?;
    let mut any = false;
    for device in devices {
        if !supports(&device, dir) {
            continue;
        }
        any = true;
        let Ok(id) = device.id() else { continue };
        let name = device.description().map(|d| d.name().to_string()).unwrap_or_default();
        if id.to_string() == wanted || id.id() == wanted || name == wanted {
            return Ok((device, if name.is_empty() { wanted.to_string() } else { name }));
        }
    }
    if !any {
        return Err(none());
    }
    Err(SourceError::Device(format!(
        "the {} \"{wanted}\" is not connected (pick another one in the settings)",
        dir.noun()
    )))
}

/// Picks a stream format: the device's default channel count and sample format, at `rate` if it can
/// (default: 48 kHz, so no resampling is needed), else at the device's default rate.
pub(crate) fn choose_config(
    device: &cpal::Device,
    dir: Direction,
    label: &str,
    rate: Option<u32>,
) -> Result<SupportedStreamConfig, SourceError> {
    let default = match dir {
        Direction::Input => device.default_input_config(),
        Direction::Output => device.default_output_config(),
    }
    .map_err(|e| map_error(dir, label, e))?;
    let ranges: Vec<_> = match dir {
        Direction::Input => device.supported_input_configs().map(|r| r.collect()),
        Direction::Output => device.supported_output_configs().map(|r| r.collect()),
    }
    .map_err(|e| map_error(dir, label, e))?;
    let want_rate = rate.unwrap_or(kaiwa_media::audio::SAMPLE_RATE);
    let usable = |f: SampleFormat| SUPPORTED_FORMATS.contains(&f);
    let fits = |r: &cpal::SupportedStreamConfigRange| {
        usable(r.sample_format()) && r.min_sample_rate() <= want_rate && want_rate <= r.max_sample_rate()
    };
    // Same channels and format as the device prefers, then any channel count up to 2, then anything usable.
    let pick = ranges
        .iter()
        .find(|r| {
            fits(r) && r.channels() == default.channels() && r.sample_format() == default.sample_format()
        })
        .or_else(|| ranges.iter().find(|r| fits(r) && r.channels() <= 2))
        .or_else(|| ranges.iter().find(|r| fits(r)));
    if let Some(r) = pick {
        return Ok(r.with_sample_rate(want_rate));
    }
    if usable(default.sample_format()) {
        return Ok(default);
    }
    ranges.iter().find(|r| usable(r.sample_format())).map(|r| r.with_max_sample_rate()).ok_or_else(|| {
        SourceError::Device(format!("the {} \"{label}\" offers no sample format Kaiwa can use", dir.noun()))
    })
}

pub(crate) const SUPPORTED_FORMATS: [SampleFormat; 6] = [
    SampleFormat::F32,
    SampleFormat::I16,
    SampleFormat::I32,
    SampleFormat::U16,
    SampleFormat::U8,
    SampleFormat::F64,
];

/// Plain-language errors for the status line.
pub(crate) fn map_error(dir: Direction, label: &str, e: cpal::Error) -> SourceError {
    use cpal::ErrorKind as K;
    let noun = dir.noun();
    let msg = match e.kind() {
        K::DeviceBusy => format!("the {noun} \"{label}\" is in use by another application"),
        K::DeviceNotAvailable => format!("the {noun} \"{label}\" is not available (unplugged?)"),
        K::PermissionDenied => format!(
            "no permission to use the {noun} \"{label}\" (on Linux, is your user in the \"audio\" group?)"
        ),
        K::HostUnavailable => "the sound system is not running".to_string(),
        K::UnsupportedConfig => format!("the {noun} \"{label}\" does not support the requested format ({e})"),
        _ => format!("{noun} \"{label}\": {e}"),
    };
    SourceError::Device(msg)
}

/// Counters shared between a real-time callback (writer) and everyone else (readers).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Samples the microphone callback could not store (ring full) or `play` dropped (ring full).
    pub overrun_samples: AtomicU64,
    /// Output callbacks that had to play (partly) silence because the ring ran dry.
    pub underruns: AtomicU64,
    /// Callbacks run.
    pub callbacks: AtomicU64,
    /// Errors reported by the stream's error callback.
    pub stream_errors: AtomicU64,
    /// Last fatal stream error (see `FATAL_*`), 0 for none. Reset by the reopen logic.
    pub fatal: AtomicU8,
}

pub(crate) const FATAL_NONE: u8 = 0;
pub(crate) const FATAL_GONE: u8 = 1;
pub(crate) const FATAL_OTHER: u8 = 2;
pub(crate) const FATAL_STALLED: u8 = 3;

impl Counters {
    /// The error callback: atomics only (it may run on the audio thread).
    pub(crate) fn on_error(&self, e: &cpal::Error) {
        use cpal::ErrorKind as K;
        self.stream_errors.fetch_add(1, Ordering::Relaxed);
        match e.kind() {
            K::DeviceNotAvailable => self.fatal.store(FATAL_GONE, Ordering::Release),
            K::StreamInvalidated => self.fatal.store(FATAL_OTHER, Ordering::Release),
            // Xruns are recovered by cpal itself; DeviceChanged means the stream was rerouted and still runs.
            // Backend errors can be transient (ALSA's pulse plugin returns EIO from snd_pcm_avail_delay
            // while its stream connects); the owner's watchdog reopens a stream that stops calling back.
            _ => {}
        }
    }
}

/// Notices a stream that stopped calling back (a stall counts as failure after `patience`).
#[derive(Debug)]
pub(crate) struct Watchdog {
    callbacks: u64,
    errors: u64,
    since: std::time::Instant,
}

/// Errors in a row, without a single data callback, after which a stream counts as dead. cpal's ALSA
/// worker retries failing calls in a loop (ALSA's pulse plugin fails every call once its server is gone),
/// so this is reached within milliseconds; a healthy stream with an occasional xrun never gets near it.
const ERROR_BURST: u64 = 1000;

impl Watchdog {
    pub(crate) fn new() -> Self {
        Watchdog { callbacks: 0, errors: 0, since: std::time::Instant::now() }
    }

    /// True if `counters` saw no callback for `patience`, or a burst of errors and no callback.
    pub(crate) fn stalled(&mut self, counters: &Counters, patience: std::time::Duration) -> bool {
        let n = counters.callbacks.load(Ordering::Relaxed);
        let e = counters.stream_errors.load(Ordering::Relaxed);
        if n != self.callbacks {
            self.callbacks = n;
            self.errors = e;
            self.since = std::time::Instant::now();
            return false;
        }
        self.since.elapsed() >= patience || e.saturating_sub(self.errors) >= ERROR_BURST
    }
}

/// A snapshot of a device's health counters, for logs and the call-statistics panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AudioStats {
    /// Samples lost because a ring buffer was full (the reader or the device fell behind).
    pub overrun_samples: u64,
    /// Microphone: samples discarded to keep latency bounded. Speaker: always 0.
    pub trimmed_samples: u64,
    /// Speaker: callbacks that played silence because no audio was queued. Microphone: `next_frame` timeouts.
    pub underruns: u64,
    /// Real-time callbacks run so far.
    pub callbacks: u64,
    /// Errors the stream reported (xruns, device gone, ...).
    pub stream_errors: u64,
    /// Times the device was reopened after it failed.
    pub reopens: u64,
}

impl AudioStats {
    pub(crate) fn from_counters(c: &Arc<Counters>, trimmed: u64, extra_underruns: u64, reopens: u64) -> Self {
        AudioStats {
            overrun_samples: c.overrun_samples.load(Ordering::Relaxed),
            trimmed_samples: trimmed,
            underruns: c.underruns.load(Ordering::Relaxed) + extra_underruns,
            callbacks: c.callbacks.load(Ordering::Relaxed),
            stream_errors: c.stream_errors.load(Ordering::Relaxed),
            reopens,
        }
    }
}

/// The stream config for `cfg` with a short device buffer (`period` worth of frames, if the device allows
/// it): the ALSA default can be half a second or more, far too much delay for a call.
pub(crate) fn low_latency(cfg: &SupportedStreamConfig, period: std::time::Duration) -> cpal::StreamConfig {
    let mut config = cfg.config();
    if let cpal::SupportedBufferSize::Range { min, max } = *cfg.buffer_size() {
        let want = (f64::from(cfg.sample_rate()) * period.as_secs_f64()) as u32;
        config.buffer_size = cpal::BufferSize::Fixed(want.clamp(min, max.max(min)));
    }
    config
}

/// A device's chosen format, as shown in `describe()`.
pub(crate) fn format_label(label: &str, cfg: &SupportedStreamConfig) -> String {
    format!("{label} ({} Hz, {} ch, {})", cfg.sample_rate(), cfg.channels(), cfg.sample_format())
}

/// The FFT resampler between a device's rate and our 48 kHz, or `None` when they are equal. `sync` is the
/// side with the fixed 20 ms chunk: the output for the microphone, the input for the speaker.
pub(crate) fn resampler(from: u32, to: u32, sync: FixedSync) -> Result<Option<Fft<f32>>, SourceError> {
    if from == to {
        return Ok(None);
    }
    Fft::<f32>::new(from as usize, to as usize, FRAME_SAMPLES, 1, sync)
        .map(Some)
        .map_err(|e| SourceError::Media(format!("resampler {from} Hz -> {to} Hz: {e}")))
}
