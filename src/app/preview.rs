//! The pre-join preview: opens the camera and microphone (or their synthetic stand-ins) on threads of its
//! own, feeding a frame slot and a level meter. Dropping it stops the threads and releases the devices.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use eframe::egui;
use kaiwa_devices::{AudioDeviceInfo, CameraInfo};
use kaiwa_media::audio::FRAME_SAMPLES;

use super::media_sources::{MeteredAudio, TeeVideo, open_local};
use super::settings::Settings;
use super::video::FrameSlot;

/// What the device scan found.
#[derive(Default, Clone)]
pub struct Devices {
    pub cameras: Vec<CameraInfo>,
    pub microphones: Vec<AudioDeviceInfo>,
    pub speakers: Vec<AudioDeviceInfo>,
}

#[derive(Default)]
pub struct PreviewInfo {
    /// None until the scan is done.
    pub devices: Option<Devices>,
    pub notices: Vec<String>,
    pub source: String,
}

pub struct Preview {
    pub slot: Arc<FrameSlot>,
    pub level: Arc<AtomicU32>,
    pub info: Arc<Mutex<PreviewInfo>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Preview {
    pub fn start(ctx: &egui::Context, settings: &Settings) -> Preview {
        let slot = FrameSlot::new(ctx.clone());
        let level = Arc::new(AtomicU32::new(0));
        let info = Arc::new(Mutex::new(PreviewInfo::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let (s, l, i, st, settings, ctx) =
            (slot.clone(), level.clone(), info.clone(), stop.clone(), settings.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("kaiwa-preview".into()).spawn(move || {
            let devices = Devices {
                cameras: kaiwa_devices::list_cameras(),
                microphones: kaiwa_devices::list_microphones(),
                speakers: kaiwa_devices::list_speakers(),
            };
            let local = open_local(&settings);
            if let Ok(mut info) = i.lock() {
                info.devices = Some(devices);
                info.notices = local.notices.clone();
                info.source = local.video.describe();
            }
            ctx.request_repaint();
            let mut audio = MeteredAudio { inner: local.audio, level: l };
            let st2 = st.clone();
            let audio_thread =
                std::thread::Builder::new().name("kaiwa-preview-mic".into()).spawn(move || {
                    let mut buf = [0i16; FRAME_SAMPLES];
                    while !st2.load(Ordering::Relaxed) {
                        if audio.next_frame_checked(&mut buf).is_err() {
                            break;
                        }
                    }
                });
            let mut video = TeeVideo::new(local.video, s, Arc::new(AtomicBool::new(true)));
            while !st.load(Ordering::Relaxed) {
                use kaiwa_devices::VideoSource;
                match video.next_frame() {
                    Ok(Some(_)) => {}
                    Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
                    Err(_) => break,
                }
            }
            if let Ok(t) = audio_thread {
                let _ = t.join();
            }
        });
        if let Ok(t) = spawned {
            threads.push(t);
        }
        Preview { slot, level, info, stop, threads }
    }
}

impl MeteredAudio {
    fn next_frame_checked(
        &mut self,
        buf: &mut [i16; FRAME_SAMPLES],
    ) -> Result<bool, kaiwa_devices::SourceError> {
        use kaiwa_devices::AudioSource;
        self.next_frame(buf)
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
