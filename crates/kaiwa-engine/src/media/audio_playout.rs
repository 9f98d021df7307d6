//! The audio receive side of a call: one thread that owns a jitter buffer + Opus decoder per remote
//! participant, pops 20 ms from each on a steady clock, hands each participant's audio to its sink (a
//! recorder) and the mix of all to the speaker sink. Each mixed frame is also the echo canceller's far-end
//! reference: it is handed to the audio-send thread through a [`FarEndSender`] (never waits; drops when full).
//!
//! Packets arrive from the track pump tasks through a bounded channel together with their arrival time, so
//! the jitter buffer measures real network jitter, not this thread's scheduling.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_devices::Pacer;
use kaiwa_media::audio::{AudioReceiver, FRAME_SAMPLES, JitterConfig, Mixer, ReceiverStats};
use tracing::debug;

use super::far_end::FarEndSender;

/// Packets queued for the playout thread before the pumps start dropping them.
const QUEUE: usize = 512;

pub type AudioSink = Box<dyn FnMut(&[i16]) + Send>;

pub enum PlayoutInput {
    /// A participant's audio starts: `sink` gets their decoded audio (e.g. a WAV recorder), if any.
    Add {
        key: String,
        sink: Option<AudioSink>,
        stats: Arc<AudioRecvStats>,
    },
    Packet {
        key: String,
        seq: u16,
        timestamp: u32,
        payload: Bytes,
        arrival: Instant,
    },
    Remove {
        key: String,
    },
}

/// How loud a participant is right now: the peak of the last 20 ms played from them, 0..=1. Written by the
/// playout thread and read by the GUI (a speaking indicator) through an atomic, never a lock.
#[derive(Debug, Clone, Default)]
pub struct AudioLevel(Arc<AtomicU32>);

impl AudioLevel {
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Relaxed)).clamp(0.0, 1.0)
    }

    pub fn set_from(&self, pcm: &[i16]) {
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0) as f32 / 32768.0;
        self.0.store(peak.to_bits(), Relaxed);
    }
}

/// How loud to play a participant in the mix, 0 (silent) to 2 (twice as loud), set by the owner (a
/// per-person volume slider) and read by the playout thread through an atomic, never a lock. Their own
/// level and recordings are not affected: only what comes out of our speaker.
#[derive(Debug, Clone)]
pub struct AudioVolume(Arc<AtomicU32>);

impl AudioVolume {
    pub const MAX: f32 = 2.0;

    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Relaxed))
    }

    /// Sets the gain, clamped to 0..=[`Self::MAX`] (a non-number is silence).
    pub fn set(&self, gain: f32) {
        let gain = if gain.is_nan() { 0.0 } else { gain.clamp(0.0, Self::MAX) };
        self.0.store(gain.to_bits(), Relaxed);
    }
}

impl Default for AudioVolume {
    fn default() -> Self {
        AudioVolume(Arc::new(AtomicU32::new(1.0f32.to_bits())))
    }
}

#[derive(Debug, Default)]
pub struct AudioRecvStats {
    pub packets: AtomicU64,
    pub packets_dropped: AtomicU64,
    pub concealed: AtomicU64,
    pub late: AtomicU64,
    pub lost: AtomicU64,
    pub jitter_delay_ms: AtomicU64,
    pub frames: AtomicU64,
    pub level: AudioLevel,
    pub volume: AudioVolume,
}

impl AudioRecvStats {
    fn update(&self, s: &ReceiverStats) {
        self.concealed.store(s.jitter.concealed, Relaxed);
        self.late.store(s.jitter.late, Relaxed);
        self.lost.store(s.jitter.lost, Relaxed);
        self.jitter_delay_ms.store(u64::from(s.jitter.target_delay_ms), Relaxed);
        self.frames.store(s.frames, Relaxed);
    }
}

struct Stream {
    receiver: AudioReceiver,
    sink: Option<AudioSink>,
    stats: Arc<AudioRecvStats>,
}

pub struct AudioPlayout {
    pub input: SyncSender<PlayoutInput>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AudioPlayout {
    /// Starts the `kaiwa-audio-playout` thread; `speaker` gets the mix of everyone every 20 ms, and so does
    /// `far_end` (the echo canceller) whenever there is a speaker.
    pub fn start(speaker: Option<AudioSink>, far_end: Option<FarEndSender>) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kaiwa-audio-playout".into())
            .spawn(move || run(rx, speaker, far_end, st))?;
        Ok(AudioPlayout { input: tx, stop, thread: Some(thread) })
    }
}

impl Drop for AudioPlayout {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The jitter buffer starts at 10 ms of delay (a LAN has ~1 ms of jitter) and grows when the network
/// needs more; mouth-to-ear latency is mostly this plus the 20 ms playout tick.
fn jitter_config() -> JitterConfig {
    JitterConfig { min_delay: Duration::from_millis(10), ..JitterConfig::default() }
}

fn run(
    rx: Receiver<PlayoutInput>,
    mut speaker: Option<AudioSink>,
    far_end: Option<FarEndSender>,
    stop: Arc<AtomicBool>,
) {
    let mut streams: HashMap<String, Stream> = HashMap::new();
    let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
    let mut mixer = Mixer::new(FRAME_SAMPLES);
    let mut mixed = [0i16; FRAME_SAMPLES];
    let mut frames: Vec<[i16; FRAME_SAMPLES]> = Vec::new();
    let mut gains: Vec<f32> = Vec::new();
    while !stop.load(Relaxed) {
        pacer.wait();
        loop {
            match rx.try_recv() {
                Ok(PlayoutInput::Add { key, sink, stats }) => match AudioReceiver::new(jitter_config()) {
                    Ok(receiver) => {
                        streams.insert(key, Stream { receiver, sink, stats });
                    }
                    Err(e) => debug!(error = %e, "cannot start an Opus decoder"),
                },
                Ok(PlayoutInput::Packet { key, seq, timestamp, payload, arrival }) => {
                    if let Some(s) = streams.get_mut(&key) {
                        s.stats.packets.fetch_add(1, Relaxed);
                        s.receiver.push(seq, timestamp, &payload, arrival);
                    }
                }
                Ok(PlayoutInput::Remove { key }) => {
                    if let Some(s) = streams.remove(&key) {
                        s.stats.level.set_from(&[]);
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if streams.is_empty() {
            continue;
        }
        let now = Instant::now();
        frames.clear();
        gains.clear();
        for s in streams.values_mut() {
            let pcm = s.receiver.pop(now);
            s.stats.update(&s.receiver.stats());
            s.stats.level.set_from(&pcm);
            if let Some(sink) = s.sink.as_mut() {
                sink(&pcm);
            }
            frames.push(pcm);
            gains.push(s.stats.volume.get());
        }
        if let Some(speaker) = speaker.as_mut() {
            let inputs: Vec<(&[i16], f32)> = frames.iter().zip(&gains).map(|(f, &g)| (&f[..], g)).collect();
            mixer.mix(&inputs, &mut mixed);
            speaker(&mixed);
            if let Some(far_end) = &far_end {
                far_end.send(&mixed);
            }
        }
    }
}
