//! Audio capture and encode thread: 20 ms frames from an [`AudioSource`], Opus-encoded (48 kHz mono,
//! in-band FEC), broadcast to every peer's writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use bytes::Bytes;
use kaiwa_devices::AudioSource;
use kaiwa_media::audio::{FRAME_SAMPLES, OpusEncoder, OpusEncoderConfig};
use tokio::sync::broadcast;
use tracing::warn;

#[derive(Debug, Default)]
pub struct AudioSendControl {
    stop: AtomicBool,
    muted: AtomicBool,
    pub frames_encoded: AtomicU64,
    pub bytes: AtomicU64,
}

impl AudioSendControl {
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Relaxed);
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Relaxed)
    }
}

pub struct AudioSender {
    pub control: Arc<AudioSendControl>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AudioSender {
    pub fn start(mut source: Box<dyn AudioSource>, out: broadcast::Sender<Bytes>) -> std::io::Result<Self> {
        let control = Arc::new(AudioSendControl::default());
        let ctl = control.clone();
        let thread = std::thread::Builder::new().name("kaiwa-audio-send".into()).spawn(move || {
            let mut encoder = match OpusEncoder::new(OpusEncoderConfig::default()) {
                Ok(e) => e,
                Err(e) => {
                    warn!(error = %e, "cannot start the Opus encoder; sending no audio");
                    return;
                }
            };
            let mut pcm = [0i16; FRAME_SAMPLES];
            while !ctl.stop.load(Relaxed) {
                match source.next_frame(&mut pcm) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        warn!(error = %e, source = %source.describe(), "audio source failed");
                        break;
                    }
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
