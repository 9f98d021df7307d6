//! File sources read back what the recorders wrote; bad files give clear errors.

use kaiwa_devices::{
    AudioSource, ToneSource, VideoSource, WavFileSource, WavRecorder, Y4mFileSource, Y4mRecorder,
};
use kaiwa_media::audio::{FRAME_SAMPLES, analysis};
use kaiwa_media::video::TestPattern;

#[test]
fn y4m_recorder_and_source_round_trip_and_loop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.y4m");
    let pattern = TestPattern::new(160, 96).unwrap();
    let mut rec = Y4mRecorder::new(path.clone(), 60);
    for i in 0..3 {
        rec.write(&pattern.frame(i, 1000 + u64::from(i))).unwrap();
    }
    rec.finish().unwrap();
    let mut src = Y4mFileSource::open(&path).unwrap();
    assert_eq!((src.size(), src.fps()), ((160, 96), 60));
    // Three frames, then it loops back to the first.
    let counters: Vec<u32> = (0..5)
        .map(|_| pattern.read_stamp(&src.next_frame().unwrap().unwrap().frame).unwrap().counter)
        .collect();
    assert_eq!(counters, vec![0, 1, 2, 0, 1]);
}

#[test]
fn wav_recorder_and_source_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let mut tone = ToneSource::new(440.0);
    let mut rec = WavRecorder::new(path.clone());
    let mut frame = [0i16; FRAME_SAMPLES];
    for _ in 0..10 {
        tone.next_frame(&mut frame).unwrap();
        rec.write(&frame);
    }
    rec.finish().unwrap();
    let mut src = WavFileSource::open(&path).unwrap();
    let mut all = Vec::new();
    for _ in 0..10 {
        src.next_frame(&mut frame).unwrap();
        all.extend_from_slice(&frame);
    }
    let hz = analysis::dominant_frequency(&all, 48_000).unwrap();
    assert!((hz - 440.0).abs() < 4.4, "{hz}");
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.y4m");
    let err = Y4mFileSource::open(&missing).err().unwrap().to_string();
    assert!(err.contains("missing.y4m"), "{err}");
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"definitely not a wav file").unwrap();
    let err = WavFileSource::open(&junk).err().unwrap().to_string();
    assert!(err.contains("junk.wav"), "{err}");
}
