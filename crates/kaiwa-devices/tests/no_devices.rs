//! On a machine without cameras (and, here, without sound cards or a sound server), enumeration is empty
//! and opening fails with clear errors, never panics.

use kaiwa_devices::{CameraSource, SourceError, list_cameras};

#[test]
fn no_camera_is_a_clean_error() {
    assert!(list_cameras().is_empty(), "this machine has no camera, yet found {:?}", list_cameras());
    match CameraSource::open(None) {
        Err(e @ SourceError::NoCamera) => {
            assert_eq!(e.to_string(), "no camera found (connect one and try again)");
        }
        Err(other) => panic!("expected NoCamera, got {other}"),
        Ok(cam) => panic!("expected NoCamera, opened {}", kaiwa_devices::VideoSource::describe(&cam)),
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
    if std::env::var_os("PULSE_SERVER").is_some() {
        return;
    }
    assert_eq!(kaiwa_devices::list_microphones(), vec![]);
    assert_eq!(kaiwa_devices::list_speakers(), vec![]);
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
