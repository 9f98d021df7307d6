//! Microphone capture with cpal.
//!
//! The real-time callback converts the device's samples to `f32` and pushes them, interleaved, into a
//! lock-free SPSC ring (`ringbuf`), bumping atomic counters; nothing else (no locks, allocation, logging or
//! panics). `next_frame` runs on the capture thread: it pops from the ring, downmixes to mono, resamples
//! to 48 kHz (`rubato`'s FFT resampler) and hands out exact 20 ms frames.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};
use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::audio_device::{
    AudioStats, Counters, Direction, FATAL_NONE, FATAL_STALLED, Watchdog, choose_config, find_device,
    format_label, low_latency, map_error,
};
use crate::{AudioSource, SourceError};

/// How a microphone is opened.
#[derive(Debug, Clone)]
pub struct MicOptions {
    /// Device id or name from [`crate::list_microphones`]; `None` for the system default.
    pub device: Option<String>,
    /// Ask the device for this rate instead of 48 kHz (tests use it to exercise resampling).
    pub sample_rate: Option<u32>,
    /// How long `next_frame` waits for audio before giving up with an error.
    pub timeout: Duration,
    /// Captured audio older than this is discarded, so a slow reader never builds up delay.
    pub max_latency: Duration,
}

impl Default for MicOptions {
    fn default() -> Self {
        MicOptions {
            device: None,
            sample_rate: None,
            timeout: Duration::from_secs(2),
            max_latency: Duration::from_millis(200),
        }
    }
}

/// A microphone as an [`AudioSource`]: 48 kHz mono, 20 ms frames, paced by the device's clock.
pub struct MicSource {
    opts: MicOptions,
    /// `None` after the device failed and could not be reopened yet.
    st: Option<MicStream>,
    /// The last device description, for messages while `st` is `None`.
    label: String,
    /// Mono 48 kHz samples ready to hand out.
    ready: VecDeque<f32>,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    resampled: Vec<f32>,
    trimmed: u64,
    timeouts: u64,
    reopens: u64,
    retired: AudioStats,
    last_reopen: Option<Instant>,
    watchdog: Watchdog,
}

struct MicStream {
    // Dropping the stream stops the callback; keep it first so it goes before the ring end.
    _stream: cpal::Stream,
    cons: HeapCons<f32>,
    counters: Arc<Counters>,
    channels: usize,
    rate: u32,
    resampler: Option<Fft<f32>>,
    describe: String,
}

impl MicSource {
    /// Opens the default microphone (`None`) or the one with this id or name, at 48 kHz if it can.
    pub fn open(device: Option<&str>) -> Result<Self, SourceError> {
        Self::open_with(MicOptions { device: device.map(str::to_string), ..MicOptions::default() })
    }

    pub fn open_with(opts: MicOptions) -> Result<Self, SourceError> {
        let st = MicStream::open(&opts, opts.device.as_deref())?;
        Ok(MicSource {
            opts,
            label: st.describe.clone(),
            st: Some(st),
            ready: VecDeque::with_capacity(4 * FRAME_SAMPLES),
            interleaved: Vec::new(),
            mono: Vec::new(),
            resampled: Vec::new(),
            trimmed: 0,
            timeouts: 0,
            reopens: 0,
            retired: AudioStats::default(),
            last_reopen: None,
            watchdog: Watchdog::new(),
        })
    }

    /// Health counters since `open` (across reopens).
    pub fn stats(&self) -> AudioStats {
        let now =
            self.st.as_ref().map(|st| AudioStats::from_counters(&st.counters, 0, 0, 0)).unwrap_or_default();
        AudioStats {
            overrun_samples: self.retired.overrun_samples + now.overrun_samples,
            trimmed_samples: self.trimmed,
            underruns: self.timeouts,
            callbacks: self.retired.callbacks + now.callbacks,
            stream_errors: self.retired.stream_errors + now.stream_errors,
            reopens: self.reopens,
        }
    }

    /// The device's native rate and channel count (`None` while the device is gone).
    pub fn device_format(&self) -> Option<(u32, u16)> {
        self.st.as_ref().map(|st| (st.rate, st.channels as u16))
    }

    /// Replaces a failed stream: the same device if it is back, else the default one. The failed stream is
    /// closed at once; attempts are made at most once a second (in between, this waits 20 ms and fails).
    fn reopen(&mut self) -> Result<(), SourceError> {
        if let Some(old) = self.st.take() {
            let s = AudioStats::from_counters(&old.counters, 0, 0, 0);
            self.retired.overrun_samples += s.overrun_samples;
            self.retired.callbacks += s.callbacks;
            self.retired.stream_errors += s.stream_errors;
        }
        if self.last_reopen.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            std::thread::sleep(Duration::from_millis(20));
            return Err(SourceError::Device(format!("the microphone {} is not available", self.label)));
        }
        self.last_reopen = Some(Instant::now());
        self.watchdog = Watchdog::new();
        self.ready.clear();
        let st = MicStream::open(&self.opts, self.opts.device.as_deref()).or_else(|e| {
            if self.opts.device.is_some() { MicStream::open(&self.opts, None) } else { Err(e) }
        })?;
        self.label = st.describe.clone();
        self.st = Some(st);
        self.reopens += 1;
        Ok(())
    }

    /// Moves at least `FRAME_SAMPLES` mono 48 kHz samples into `ready`, waiting for the device.
    fn fill(&mut self) -> Result<(), SourceError> {
        let deadline = Instant::now() + self.opts.timeout;
        while self.ready.len() < FRAME_SAMPLES {
            if self.st.as_ref().is_none_or(|st| st.counters.fatal.load(Ordering::Acquire) != FATAL_NONE) {
                self.reopen()?;
            }
            let Some(st) = self.st.as_mut() else { continue };
            let ch = st.channels;
            // Keep latency bounded: drop the oldest audio if the reader fell behind.
            let max = (st.rate as f64 * self.opts.max_latency.as_secs_f64()) as usize * ch;
            let occupied = st.cons.occupied_len();
            if occupied > max {
                let keep = (st.rate as usize / 50) * ch; // 20 ms
                let drop = (occupied - keep) / ch * ch;
                self.trimmed += st.cons.skip(drop) as u64 / ch as u64;
            }
            let need =
                st.resampler.as_ref().map_or(FRAME_SAMPLES - self.ready.len(), |r| r.input_frames_next());
            if st.cons.occupied_len() < need * ch {
                if self.watchdog.stalled(&st.counters, self.opts.timeout) {
                    // Dead (a burst of errors) or silent for a whole timeout: replace it now.
                    st.counters.fatal.store(FATAL_STALLED, Ordering::Release);
                }
                if Instant::now() >= deadline {
                    self.timeouts += 1;
                    // The stream stalled without reporting an error: replace it at the next call.
                    st.counters.fatal.store(FATAL_STALLED, Ordering::Release);
                    return Err(SourceError::Device(format!(
                        "no audio from the microphone {} for {} ms (unplugged or in use?)",
                        st.describe,
                        self.opts.timeout.as_millis()
                    )));
                }
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            self.interleaved.resize(need * ch, 0.0);
            let got = st.cons.pop_slice(&mut self.interleaved);
            debug_assert_eq!(got, need * ch);
            self.mono.clear();
            self.mono.extend(self.interleaved.chunks_exact(ch).map(|f| f.iter().sum::<f32>() / ch as f32));
            match st.resampler.as_mut() {
                None => self.ready.extend(self.mono.iter().copied()),
                Some(r) => {
                    self.resampled.resize(r.output_frames_max(), 0.0);
                    let n_in = self.mono.len();
                    let n_out = self.resampled.len();
                    let input = InterleavedSlice::new(&self.mono[..], 1, n_in)
                        .map_err(|e| SourceError::Media(format!("resampler input: {e}")))?;
                    let mut output = InterleavedSlice::new_mut(&mut self.resampled[..], 1, n_out)
                        .map_err(|e| SourceError::Media(format!("resampler output: {e}")))?;
                    let (_, written) = r
                        .process_into_buffer(&input, &mut output, None)
                        .map_err(|e| SourceError::Media(format!("resampling failed: {e}")))?;
                    self.ready.extend(self.resampled[..written].iter().copied());
                }
            }
        }
        Ok(())
    }
}

impl AudioSource for MicSource {
    fn describe(&self) -> String {
        format!("microphone {}", self.label)
    }

    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError> {
        self.fill()?;
        for (o, s) in out.iter_mut().zip(self.ready.drain(..FRAME_SAMPLES)) {
            *o = (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        }
        Ok(true)
    }
}

impl MicStream {
    fn open(opts: &MicOptions, device: Option<&str>) -> Result<Self, SourceError> {
        let dir = Direction::Input;
        let (device, label) = find_device(dir, device)?;
        let cfg = choose_config(&device, dir, &label, opts.sample_rate)?;
        let describe = format_label(&label, &cfg);
        let channels = cfg.channels() as usize;
        let rate = cfg.sample_rate();
        // Room for max_latency plus slack; the reader trims back to max_latency.
        let secs = opts.max_latency.as_secs_f64() + 0.3;
        let rb = HeapRb::<f32>::new(((rate as f64 * secs) as usize * channels).max(4096));
        let (prod, cons) = rb.split();
        let counters = Arc::new(Counters::default());
        let config = low_latency(&cfg, Duration::from_millis(10));
        let stream = match cfg.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, config, prod, &counters),
            SampleFormat::I16 => build::<i16>(&device, config, prod, &counters),
            SampleFormat::I32 => build::<i32>(&device, config, prod, &counters),
            SampleFormat::U16 => build::<u16>(&device, config, prod, &counters),
            SampleFormat::U8 => build::<u8>(&device, config, prod, &counters),
            SampleFormat::F64 => build::<f64>(&device, config, prod, &counters),
            other => {
                return Err(SourceError::Device(format!(
                    "microphone {label}: unsupported sample format {other}"
                )));
            }
        }
        .map_err(|e| map_error(dir, &label, e))?;
        stream.play().map_err(|e| map_error(dir, &label, e))?;
        let resampler = crate::audio_device::resampler(rate, SAMPLE_RATE, FixedSync::Output)?;
        Ok(MicStream { _stream: stream, cons, counters, channels, rate, resampler, describe })
    }
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    mut prod: HeapProd<f32>,
    counters: &Arc<Counters>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let ch = config.channels.max(1) as usize;
    let on_data = Arc::clone(counters);
    let on_error = Arc::clone(counters);
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _info| {
            // Real-time thread: ring and atomics only.
            on_data.callbacks.fetch_add(1, Ordering::Relaxed);
            let room = prod.vacant_len() / ch * ch;
            let n = data.len().min(room);
            let pushed = prod.push_iter(data[..n].iter().map(|s| f32::from_sample(*s)));
            let lost = data.len() - pushed;
            if lost > 0 {
                on_data.overrun_samples.fetch_add(lost as u64, Ordering::Relaxed);
            }
        },
        move |e| on_error.on_error(&e),
        None,
    )
}
