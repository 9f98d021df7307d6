//! Audio capture and encode thread: 20 ms frames from an [`AudioSource`], cleaned up by the
//! [`AudioProcessor`] (echo cancellation against the far-end frames the playout thread hands over, noise
//! suppression, gain control; each switchable at run time), Opus-encoded (48 kHz mono, in-band FEC),
//! broadcast to every peer's writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::Receiver;

use bytes::Bytes;
use kaiwa_devices::AudioSource;
use kaiwa_media::audio::{AudioProcessor, FRAME_SAMPLES, OpusEncoder, OpusEncoderConfig, ProcessingConfig};
use tokio::sync::broadcast;
use tracing::{debug, warn};

use super::far_end::FarEndFrame;

#[derive(Debug, Default)]
pub struct AudioSendControl {
    stop: AtomicBool,
    muted: AtomicBool,
    /// The wanted [`ProcessingConfig`], as bits (see [`encode`]); the thread applies changes per frame.
    processing: AtomicU8,
    pub frames_encoded: AtomicU64,
    pub bytes: AtomicU64,
    /// Far-end frames fed to the echo canceller.
    pub far_end_frames: AtomicU64,
    /// The echo canceller's last echo return loss enhancement, in hundredths of a dB (0 while unknown).
    pub erle_centi_db: AtomicU64,
    /// The measured echo path delay in ms, plus 1 (0 while unknown).
    pub echo_path_ms: AtomicU64,
}

impl AudioSendControl {
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Relaxed);
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Relaxed)
    }

    pub fn set_processing(&self, config: ProcessingConfig) {
        self.processing.store(encode(config), Relaxed);
    }

    pub fn processing(&self) -> ProcessingConfig {
        decode(self.processing.load(Relaxed))
    }
}

fn encode(c: ProcessingConfig) -> u8 {
    u8::from(c.echo_cancellation) | u8::from(c.noise_suppression) << 1 | u8::from(c.gain_control) << 2
}

fn decode(bits: u8) -> ProcessingConfig {
    ProcessingConfig {
        echo_cancellation: bits & 1 != 0,
        noise_suppression: bits & 2 != 0,
        gain_control: bits & 4 != 0,
    }
}

/// Statistics of the echo canceller are read this often (they are aggregated per second anyway).
const STATS_EVERY_FRAMES: u64 = 50;

pub struct AudioSender {
    pub control: Arc<AudioSendControl>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AudioSender {
    /// Starts the `kaiwa-audio-send` thread. `far_end` brings the frames the speaker plays (the echo
    /// canceller's reference); `processing` is the initial configuration.
    pub fn start(
        mut source: Box<dyn AudioSource>,
        processing: ProcessingConfig,
        far_end: Receiver<FarEndFrame>,
        out: broadcast::Sender<Bytes>,
    ) -> std::io::Result<Self> {
        let control = Arc::new(AudioSendControl::default());
        control.set_processing(processing);
        let ctl = control.clone();
        let thread = std::thread::Builder::new().name("kaiwa-audio-send".into()).spawn(move || {
            let mut encoder = match OpusEncoder::new(OpusEncoderConfig::default()) {
                Ok(e) => e,
                Err(e) => {
                    warn!(error = %e, "cannot start the Opus encoder; sending no audio");
                    return;
                }
            };
            let mut processor = AudioProcessor::new(processing);
            let mut pcm = [0i16; FRAME_SAMPLES];
            let mut captured = 0u64;
            while !ctl.stop.load(Relaxed) {
                match source.next_frame(&mut pcm) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        warn!(error = %e, source = %source.describe(), "audio source failed");
                        break;
                    }
                }
                let wanted = ctl.processing();
                if wanted != processor.config() {
                    debug!(?wanted, "audio processing switched");
                    processor.set_config(wanted);
                }
                // What the speaker played since the last microphone frame, then the frame itself.
                for frame in far_end.try_iter() {
                    ctl.far_end_frames.fetch_add(1, Relaxed);
                    if let Err(e) = processor.analyze_render(&frame) {
                        debug!(error = %e, "far-end frame rejected");
                    }
                }
                if let Err(e) = processor.process_capture(&mut pcm) {
                    debug!(error = %e, "audio processing failed; sending the frame as captured");
                }
                captured += 1;
                if captured.is_multiple_of(STATS_EVERY_FRAMES) {
                    let stats = processor.stats();
                    let erle = stats.erle_db.unwrap_or(0.0);
                    ctl.erle_centi_db.store((erle.max(0.0) * 100.0) as u64, Relaxed);
                    ctl.echo_path_ms.store(stats.echo_path_ms.map_or(0, |ms| u64::from(ms) + 1), Relaxed);
                }
                if ctl.muted.load(Relaxed) {
                    pcm.fill(0);
                }
                match encoder.encode(&pcm) {
                    Ok(packet) => {
                        ctl.frames_encoded.fetch_add(1, Relaxed);
                        ctl.bytes.fetch_add(packet.len() as u64, Relaxed);
                        let _ = out.send(Bytes::from(packet));
                    }
                    Err(e) => warn!(error = %e, "opus encode failed"),
                }
            }
        })?;
        Ok(AudioSender { control, thread: Some(thread) })
    }
}

impl Drop for AudioSender {
    fn drop(&mut self) {
        self.control.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_bits_round_trip() {
        for bits in 0..8u8 {
            assert_eq!(encode(decode(bits)), bits);
        }
        let c = AudioSendControl::default();
        c.set_processing(ProcessingConfig::ON);
        assert_eq!(c.processing(), ProcessingConfig::ON);
    }
}
