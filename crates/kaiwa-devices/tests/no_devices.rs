//! On a machine without cameras (and without sound cards or a sound server), enumeration is empty and
//! opening fails with clear errors, never panics. (CI machines have none; on a developer's machine with a
//! webcam or sound the strict checks are replaced by "opens or fails cleanly".)

use kaiwa_devices::{CameraSource, SourceError, VideoSource, list_cameras};

fn has_video_devices() -> bool {
    std::fs::read_dir("/dev")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("video")))
        .unwrap_or(false)
}

#[test]
fn no_camera_is_a_clean_error() {
    if has_video_devices() {
        match CameraSource::open(None) {
            Ok(cam) => eprintln!("opened {}", cam.describe()),
            Err(e) => eprintln!("camera present but: {e}"),
        }
        return;
    }
    assert!(list_cameras().is_empty(), "this machine has no camera, yet found {:?}", list_cameras());
    match CameraSource::open(None) {
        Err(e @ SourceError::NoCamera) => {
            assert_eq!(e.to_string(), "no camera found (connect one and try again)");
        }
        Err(other) => panic!("expected NoCamera, got {other}"),
        Ok(cam) => panic!("expected NoCamera, opened {}", cam.describe()),
    }
    // A camera the user picked earlier and has since unplugged.
    match CameraSource::open(Some("0")) {
        Err(SourceError::Device(msg)) => assert!(msg.contains("not connected"), "{msg}"),
        other => panic!("expected a 'not connected' error, got {:?}", other.err()),
    }
}

#[test]
fn no_sound_devices_is_a_clean_error() {
    // No sound card here, and this process has no PULSE_SERVER (the PulseAudio tests run in children).
    let (mics, speakers) = (kaiwa_devices::list_microphones(), kaiwa_devices::list_speakers());
    if std::path::Path::new("/dev/snd").exists() || !mics.is_empty() || !speakers.is_empty() {
        // A machine with sound: opening must work or fail cleanly.
        eprintln!("microphones {mics:?}, speakers {speakers:?}");
        if let Err(e) = kaiwa_devices::MicSource::open(None) {
            eprintln!("microphone: {e}");
        }
        if let Err(e) = kaiwa_devices::SpeakerSink::open(None) {
            eprintln!("speaker: {e}");
        }
        return;
    }
    assert_eq!(kaiwa_devices::default_microphone(), None);
    assert!(matches!(kaiwa_devices::MicSource::open(None), Err(SourceError::NoMicrophone)));
    match kaiwa_devices::SpeakerSink::open(None) {
        Err(e @ SourceError::NoSpeaker) => assert!(e.to_string().starts_with("no speaker found")),
        Err(other) => panic!("expected NoSpeaker, got {other}"),
        Ok(s) => panic!("expected NoSpeaker, opened {}", s.describe()),
    }
}

#[test]
fn devices_can_move_to_their_threads() {
    fn send<T: Send>() {}
    send::<kaiwa_devices::MicSource>();
    send::<kaiwa_devices::SpeakerSink>();
    send::<kaiwa_devices::CameraSource>();
}
