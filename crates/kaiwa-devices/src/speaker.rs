//! Speaker playback with cpal.
//!
//! `play` (on the engine's playout thread) resamples the 48 kHz mono mix to the device's rate, upmixes it to
//! the device's channels and pushes it into a lock-free SPSC ring. The real-time output callback only pops
//! from the ring (silence when it runs dry, counted) and bumps atomics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE, ToneGenerator};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::audio_device::{
    AudioStats, Counters, Direction, FATAL_NONE, Watchdog, choose_config, find_device, format_label,
    low_latency, map_error,
};
use crate::{Pacer, SourceError};

/// A stream that has not called back for this long is considered dead and reopened.
const STALL: Duration = Duration::from_secs(1);

/// How a speaker is opened.
#[derive(Debug, Clone)]
pub struct SpeakerOptions {
    /// Device id or name from [`crate::list_speakers`]; `None` for the system default.
    pub device: Option<String>,
    /// Ask the device for this rate instead of 48 kHz (tests use it to exercise resampling).
    pub sample_rate: Option<u32>,
    /// Audio queued beyond this is dropped (counted as overrun) so delay never builds up.
    pub max_latency: Duration,
    /// Audio the callback waits for before it starts (again) after running dry; absorbs jitter.
    pub prebuffer: Duration,
}

impl Default for SpeakerOptions {
    fn default() -> Self {
        SpeakerOptions {
            device: None,
            sample_rate: None,
            max_latency: Duration::from_millis(200),
            prebuffer: Duration::from_millis(40),
        }
    }
}

/// Plays 48 kHz mono audio on a speaker.
pub struct SpeakerSink {
    opts: SpeakerOptions,
    /// `None` after the device failed and could not be reopened yet.
    st: Option<SpeakerStream>,
    /// The last device description, for messages while `st` is `None`.
    label: String,
    /// 48 kHz mono samples waiting for a full resampler chunk.
    pending: VecDeque<f32>,
    chunk: Vec<f32>,
    resampled: Vec<f32>,
    interleaved: Vec<f32>,
    reopens: u64,
    retired: AudioStats,
    last_reopen: Option<Instant>,
    watchdog: Watchdog,
}

struct SpeakerStream {
    _stream: cpal::Stream,
    prod: HeapProd<f32>,
    counters: Arc<Counters>,
    channels: usize,
    rate: u32,
    resampler: Option<Fft<f32>>,
    describe: String,
}

impl SpeakerSink {
    /// Opens the default speaker (`None`) or the one with this id or name, at 48 kHz if it can.
    pub fn open(device: Option<&str>) -> Result<Self, SourceError> {
        Self::open_with(SpeakerOptions { device: device.map(str::to_string), ..SpeakerOptions::default() })
    }

    pub fn open_with(opts: SpeakerOptions) -> Result<Self, SourceError> {
        let st = SpeakerStream::open(&opts, opts.device.as_deref())?;
        Ok(SpeakerSink {
            opts,
            label: st.describe.clone(),
            st: Some(st),
            pending: VecDeque::with_capacity(4 * FRAME_SAMPLES),
            chunk: vec![0.0; FRAME_SAMPLES],
            resampled: Vec::new(),
            interleaved: Vec::new(),
            reopens: 0,
            retired: AudioStats::default(),
            last_reopen: None,
            watchdog: Watchdog::new(),
        })
    }

    pub fn describe(&self) -> String {
        format!("speaker {}", self.label)
    }

    /// The device's native rate and channel count (`None` while the device is gone).
    pub fn device_format(&self) -> Option<(u32, u16)> {
        self.st.as_ref().map(|st| (st.rate, st.channels as u16))
    }

    /// Health counters since `open` (across reopens).
    pub fn stats(&self) -> AudioStats {
        let now =
            self.st.as_ref().map(|st| AudioStats::from_counters(&st.counters, 0, 0, 0)).unwrap_or_default();
        AudioStats {
            overrun_samples: self.retired.overrun_samples + now.overrun_samples,
            trimmed_samples: 0,
            underruns: self.retired.underruns + now.underruns,
            callbacks: self.retired.callbacks + now.callbacks,
            stream_errors: self.retired.stream_errors + now.stream_errors,
            reopens: self.reopens,
        }
    }

    /// Audio queued for the device and not yet played.
    pub fn queued(&self) -> Duration {
        let Some(st) = self.st.as_ref() else { return Duration::ZERO };
        let frames = st.prod.occupied_len() / st.channels;
        Duration::from_secs_f64(frames as f64 / st.rate as f64)
    }

    /// Queues 48 kHz mono audio (normally one 20 ms frame from the mixer). Never blocks: if more than
    /// `max_latency` is already queued, the audio is dropped and counted. If the device failed, it is
    /// reopened (falling back to the default speaker); an error means no speaker could be opened.
    pub fn play(&mut self, frame: &[i16]) -> Result<(), SourceError> {
        let failed = match self.st.as_ref() {
            None => true,
            Some(st) => {
                st.counters.fatal.load(Ordering::Acquire) != FATAL_NONE
                    || self.watchdog.stalled(&st.counters, STALL)
            }
        };
        if failed {
            self.reopen()?;
        }
        self.pending.extend(frame.iter().map(|&s| f32::from(s) / 32768.0));
        while self.pending.len() >= FRAME_SAMPLES {
            for (c, s) in self.chunk.iter_mut().zip(self.pending.drain(..FRAME_SAMPLES)) {
                *c = s;
            }
            let Some(st) = self.st.as_mut() else { break };
            let mono: &[f32] = match st.resampler.as_mut() {
                None => &self.chunk,
                Some(r) => {
                    self.resampled.resize(r.output_frames_max(), 0.0);
                    let n_out = self.resampled.len();
                    let input = InterleavedSlice::new(&self.chunk[..], 1, FRAME_SAMPLES)
                        .map_err(|e| SourceError::Media(format!("resampler input: {e}")))?;
                    let mut output = InterleavedSlice::new_mut(&mut self.resampled[..], 1, n_out)
                        .map_err(|e| SourceError::Media(format!("resampler output: {e}")))?;
                    let (_, written) = r
                        .process_into_buffer(&input, &mut output, None)
                        .map_err(|e| SourceError::Media(format!("resampling failed: {e}")))?;
                    &self.resampled[..written]
                }
            };
            let ch = st.channels;
            self.interleaved.clear();
            for &s in mono {
                self.interleaved.extend(std::iter::repeat_n(s, ch));
            }
            let max = (st.rate as f64 * self.opts.max_latency.as_secs_f64()) as usize * ch;
            let room = max.saturating_sub(st.prod.occupied_len()).min(st.prod.vacant_len()) / ch * ch;
            let n = self.interleaved.len().min(room);
            let pushed = st.prod.push_slice(&self.interleaved[..n]);
            let lost = self.interleaved.len() - pushed;
            if lost > 0 {
                st.counters.overrun_samples.fetch_add(lost as u64, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Waits until everything queued has been handed to the device (or `timeout` passes).
    pub fn drain(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.st.as_ref().is_some_and(|st| st.prod.occupied_len() > 0) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Replaces a failed stream: the same device if it is back, else the default one. The failed stream is
    /// closed at once; attempts are made at most every `STALL` (in between, `play` fails at once).
    fn reopen(&mut self) -> Result<(), SourceError> {
        if let Some(old) = self.st.take() {
            let s = AudioStats::from_counters(&old.counters, 0, 0, 0);
            self.retired.overrun_samples += s.overrun_samples;
            self.retired.underruns += s.underruns;
            self.retired.callbacks += s.callbacks;
            self.retired.stream_errors += s.stream_errors;
        }
        if self.last_reopen.is_some_and(|t| t.elapsed() < STALL) {
            return Err(SourceError::Device(format!("the speaker {} is not available", self.label)));
        }
        self.last_reopen = Some(Instant::now());
        self.watchdog = Watchdog::new();
        self.pending.clear();
        let st = SpeakerStream::open(&self.opts, self.opts.device.as_deref()).or_else(|e| {
            if self.opts.device.is_some() { SpeakerStream::open(&self.opts, None) } else { Err(e) }
        })?;
        self.label = st.describe.clone();
        self.st = Some(st);
        self.reopens += 1;
        Ok(())
    }
}

impl SpeakerStream {
    fn open(opts: &SpeakerOptions, device: Option<&str>) -> Result<Self, SourceError> {
        let dir = Direction::Output;
        let (device, label) = find_device(dir, device)?;
        let cfg = choose_config(&device, dir, &label, opts.sample_rate)?;
        let describe = format_label(&label, &cfg);
        let channels = cfg.channels() as usize;
        let rate = cfg.sample_rate();
        let secs = opts.max_latency.as_secs_f64() + 0.1;
        let rb = HeapRb::<f32>::new(((rate as f64 * secs) as usize * channels).max(4096));
        let (prod, cons) = rb.split();
        let counters = Arc::new(Counters::default());
        let prebuffer = (rate as f64 * opts.prebuffer.as_secs_f64()) as usize * channels;
        let config = low_latency(&cfg, Duration::from_millis(20));
        let stream = match cfg.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, config, cons, prebuffer, &counters),
            SampleFormat::I16 => build::<i16>(&device, config, cons, prebuffer, &counters),
            SampleFormat::I32 => build::<i32>(&device, config, cons, prebuffer, &counters),
            SampleFormat::U16 => build::<u16>(&device, config, cons, prebuffer, &counters),
            SampleFormat::U8 => build::<u8>(&device, config, cons, prebuffer, &counters),
            SampleFormat::F64 => build::<f64>(&device, config, cons, prebuffer, &counters),
            other => {
                return Err(SourceError::Device(format!(
                    "speaker {label}: unsupported sample format {other}"
                )));
            }
        }
        .map_err(|e| map_error(dir, &label, e))?;
        stream.play().map_err(|e| map_error(dir, &label, e))?;
        let resampler = crate::audio_device::resampler(SAMPLE_RATE, rate, FixedSync::Input)?;
        Ok(SpeakerStream { _stream: stream, prod, counters, channels, rate, resampler, describe })
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut cons: HeapCons<f32>,
    prebuffer: usize,
    counters: &Arc<Counters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let on_data = Arc::clone(counters);
    let on_error = Arc::clone(counters);
    // Playing: false until `prebuffer` samples are queued, and again after running dry.
    let mut playing = false;
    device.build_output_stream::<T, _, _>(
        config,
        move |out: &mut [T], _info| {
            // Real-time thread: ring and atomics only.
            on_data.callbacks.fetch_add(1, Ordering::Relaxed);
            if !playing {
                if cons.occupied_len() < prebuffer.max(1) {
                    out.fill(T::EQUILIBRIUM);
                    return;
                }
                playing = true;
            }
            for slot in out.iter_mut() {
                match cons.try_pop() {
                    Some(s) => *slot = T::from_sample(s),
                    None => {
                        *slot = T::EQUILIBRIUM;
                        if playing {
                            playing = false;
                            on_data.underruns.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        },
        move |e| on_error.on_error(&e),
        None,
    )
}

/// The speaker-test sound: one second of 440 Hz (A4) with 20 ms fades, 48 kHz mono.
pub fn test_sound() -> Vec<i16> {
    let mut samples = ToneGenerator::new(440.0, SAMPLE_RATE, 0.3).take(SAMPLE_RATE as usize);
    let fade = SAMPLE_RATE as usize / 50;
    let n = samples.len();
    for i in 0..fade {
        let g = i as f32 / fade as f32;
        samples[i] = (f32::from(samples[i]) * g) as i16;
        samples[n - 1 - i] = (f32::from(samples[n - 1 - i]) * g) as i16;
    }
    samples
}

/// Plays [`test_sound`] on a speaker from a new thread (the GUI's "test speaker" button) and returns at
/// once; join the handle to learn whether it worked.
pub fn play_test_sound(device: Option<String>) -> std::io::Result<JoinHandle<Result<(), SourceError>>> {
    std::thread::Builder::new().name("kaiwa-test-sound".into()).spawn(move || {
        let mut sink = SpeakerSink::open(device.as_deref())?;
        let sound = test_sound();
        let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
        for frame in sound.chunks(FRAME_SAMPLES) {
            pacer.wait();
            sink.play(frame)?;
        }
        // Flush the resampler's last partial chunk with silence, then let the device play it all.
        sink.play(&[0; FRAME_SAMPLES])?;
        sink.drain(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(100));
        Ok(())
    })
}
