//! Real audio through a private PulseAudio daemon (null sinks `spk` and `mic`; see `kaiwa_devices::testing`).
//! Each test body runs in a child process of this binary with `PULSE_SERVER` pointing at its own daemon.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use kaiwa_devices::testing::run_with_pulse;
use kaiwa_devices::{
    AudioSource, MicOptions, MicSource, Pacer, SpeakerOptions, SpeakerSink, list_microphones, list_speakers,
    play_test_sound,
};
use kaiwa_media::audio::analysis::{dominant_frequency, rms};
use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE, ToneGenerator};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Records a PulseAudio source (48 kHz mono s16le) into a file until stopped.
struct Recorder {
    child: Child,
    path: std::path::PathBuf,
}

impl Recorder {
    fn start(source: &str, path: &Path) -> Recorder {
        let child = std::process::Command::new("parec")
            .args([
                "-d",
                source,
                "--raw",
                "--rate=48000",
                "--channels=1",
                "--format=s16le",
                "--latency-msec=20",
            ])
            .stdin(Stdio::null())
            .stdout(File::create(path).expect("recording file"))
            .spawn()
            .expect("start parec");
        // Let parec connect before anything plays.
        std::thread::sleep(Duration::from_millis(300));
        Recorder { child, path: path.to_path_buf() }
    }

    fn stop(mut self) -> Vec<i16> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let bytes = std::fs::read(&self.path).expect("read recording");
        bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
    }
}

/// The audible part of a recording: the 20 ms blocks louder than `min_rms` (fraction of full scale).
fn audible(samples: &[i16], min_rms: f64) -> Vec<i16> {
    samples.chunks(960).filter(|c| c.len() == 960 && rms(c) > min_rms).flatten().copied().collect()
}

fn assert_tone(what: &str, samples: &[i16], hz: f64, min_secs: f64) {
    let loud = audible(samples, 0.03);
    let secs = loud.len() as f64 / f64::from(SAMPLE_RATE);
    assert!(
        secs >= min_secs,
        "{what}: only {secs:.2} s of sound (of {:.2} s recorded, overall rms {:.3}); expected >= {min_secs} s",
        samples.len() as f64 / f64::from(SAMPLE_RATE),
        rms(samples)
    );
    let f = dominant_frequency(&loud, SAMPLE_RATE).expect("a dominant frequency");
    assert!((f - hz).abs() <= hz * 0.01, "{what}: dominant frequency {f:.1} Hz, expected {hz} Hz ±1%");
    eprintln!("{what}: {secs:.2} s of sound at {f:.2} Hz");
}

#[test]
fn speaker_plays_a_440_hz_tone() {
    run_with_pulse("speaker_plays_a_440_hz_tone", TIMEOUT, || {
        let speakers = list_speakers();
        assert!(speakers.first().is_some_and(|d| d.is_default), "default speaker listed first: {speakers:?}");
        assert!(speakers.iter().any(|d| d.id == "alsa:pulse"), "pulse listed: {speakers:?}");

        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start("spk.monitor", &dir.path().join("spk.raw"));
        let mut sink = SpeakerSink::open(None).expect("open the default speaker");
        eprintln!("{}", sink.describe());
        let mut tone = ToneGenerator::new(440.0, SAMPLE_RATE, 0.3);
        let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..75 {
            pacer.wait();
            tone.fill(&mut frame);
            sink.play(&frame).unwrap();
        }
        assert!(sink.drain(Duration::from_secs(2)), "speaker drained");
        std::thread::sleep(Duration::from_millis(300));
        let stats = sink.stats();
        drop(sink);
        let recorded = rec.stop();
        eprintln!("speaker stats: {stats:?}");
        assert!(stats.callbacks > 0);
        assert_eq!(stats.overrun_samples, 0, "nothing dropped when fed in real time");
        assert_tone("speaker", &recorded, 440.0, 1.0);
    });
}

#[test]
fn speaker_resamples_and_upmixes_for_a_44_1_khz_stereo_device() {
    run_with_pulse("speaker_resamples_and_upmixes_for_a_44_1_khz_stereo_device", TIMEOUT, || {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start("spk.monitor", &dir.path().join("spk.raw"));
        let opts = SpeakerOptions {
            device: Some("alsa:pulse".into()),
            sample_rate: Some(44_100),
            ..Default::default()
        };
        let mut sink = SpeakerSink::open_with(opts).expect("open the pulse speaker at 44.1 kHz");
        assert_eq!(sink.device_format(), Some((44_100, 2)), "{}", sink.describe());
        let mut tone = ToneGenerator::new(440.0, SAMPLE_RATE, 0.3);
        let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..75 {
            pacer.wait();
            tone.fill(&mut frame);
            sink.play(&frame).unwrap();
        }
        assert!(sink.drain(Duration::from_secs(2)));
        std::thread::sleep(Duration::from_millis(300));
        drop(sink);
        assert_tone("speaker at 44.1 kHz", &rec.stop(), 440.0, 1.0);
    });
}

#[test]
fn speaker_test_sound_is_heard() {
    run_with_pulse("speaker_test_sound_is_heard", TIMEOUT, || {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start("spk.monitor", &dir.path().join("spk.raw"));
        let handle = play_test_sound(None).expect("spawn the test-sound thread");
        handle.join().expect("test-sound thread").expect("test sound played");
        assert_tone("test sound", &rec.stop(), 440.0, 0.8);
    });
}

/// Plays a 1 kHz tone into the `mic` sink (48 kHz mono s16le, `seconds` long) with pacat.
fn play_into_mic_sink(dir: &Path, seconds: u32) -> Child {
    let path = dir.join("tone.raw");
    let samples = ToneGenerator::new(1000.0, SAMPLE_RATE, 0.3).take((SAMPLE_RATE * seconds) as usize);
    let mut f = File::create(&path).unwrap();
    for s in samples {
        f.write_all(&s.to_le_bytes()).unwrap();
    }
    drop(f);
    std::process::Command::new("pacat")
        .args(["-d", "mic", "--raw", "--rate=48000", "--channels=1", "--format=s16le"])
        .stdin(File::open(&path).unwrap())
        .spawn()
        .expect("start pacat")
}

fn capture(mic: &mut MicSource, seconds: f64) -> Vec<i16> {
    let frames = (seconds * 50.0) as usize;
    let mut out = Vec::with_capacity(frames * FRAME_SAMPLES);
    let mut frame = [0i16; FRAME_SAMPLES];
    let start = Instant::now();
    for _ in 0..frames {
        assert!(mic.next_frame(&mut frame).expect("microphone frame"));
        out.extend_from_slice(&frame);
    }
    let took = start.elapsed().as_secs_f64();
    // Paced by the device clock: 2.5 s of audio takes about 2.5 s (less the initial backlog).
    assert!(took > seconds * 0.7 && took < seconds * 1.5, "{seconds} s of audio took {took:.2} s");
    out
}

#[test]
fn microphone_captures_a_1_khz_tone() {
    run_with_pulse("microphone_captures_a_1_khz_tone", TIMEOUT, || {
        let mics = list_microphones();
        assert!(mics.first().is_some_and(|d| d.is_default), "default microphone listed first: {mics:?}");
        // The default source is mic.monitor (set by the harness); ask for 44.1 kHz so the resampler and the
        // stereo downmix are exercised.
        let opts = MicOptions { sample_rate: Some(44_100), ..MicOptions::default() };
        let mut mic = MicSource::open_with(opts).expect("open the default microphone");
        assert_eq!(mic.device_format(), Some((44_100, 2)), "{}", mic.describe());
        let dir = tempfile::tempdir().unwrap();
        let mut pacat = play_into_mic_sink(dir.path(), 4);
        let captured = capture(&mut mic, 3.0);
        let _ = pacat.kill();
        let _ = pacat.wait();
        eprintln!("microphone stats: {:?}", mic.stats());
        assert_tone("microphone", &captured, 1000.0, 1.5);
    });
}

#[test]
fn microphone_at_48_khz_needs_no_resampling() {
    run_with_pulse("microphone_at_48_khz_needs_no_resampling", TIMEOUT, || {
        let mut mic = MicSource::open(Some("alsa:pulse")).expect("open the pulse microphone");
        assert_eq!(mic.device_format().map(|f| f.0), Some(SAMPLE_RATE), "{}", mic.describe());
        let dir = tempfile::tempdir().unwrap();
        let mut pacat = play_into_mic_sink(dir.path(), 3);
        let captured = capture(&mut mic, 2.5);
        let _ = pacat.kill();
        let _ = pacat.wait();
        assert_tone("microphone at 48 kHz", &captured, 1000.0, 1.0);
    });
}

#[test]
fn microphone_follows_the_default_when_unplugged() {
    run_with_pulse("microphone_follows_the_default_when_unplugged", TIMEOUT, || {
        let mut mic = MicSource::open(None).expect("open the default microphone");
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..5 {
            assert!(mic.next_frame(&mut frame).unwrap());
        }
        // "Unplug" the microphone: remove the `mic` sink, and with it the default source mic.monitor.
        let modules = pactl(&["list", "short", "modules"]);
        let index = modules
            .lines()
            .find(|l| l.contains("module-null-sink") && l.contains("sink_name=mic"))
            .and_then(|l| l.split_whitespace().next())
            .expect("the mic sink's module")
            .to_string();
        pactl(&["unload-module", &index]);
        // The sound server moves our stream to the new default source; capture simply goes on.
        let start = Instant::now();
        let mut frames = 0;
        while start.elapsed() < Duration::from_secs(2) {
            mic.next_frame(&mut frame).expect("capture goes on after the unplug");
            frames += 1;
        }
        assert!(frames >= 80, "only {frames} frames in 2 s after the unplug");
        assert!(pactl(&["list", "short", "source-outputs"]).lines().count() >= 1);
        eprintln!("after unplug: {frames} frames, stats {:?}", mic.stats());
    });
}

#[test]
fn microphone_reports_a_dead_sound_server_in_plain_words() {
    run_with_pulse("microphone_reports_a_dead_sound_server_in_plain_words", TIMEOUT, || {
        let opts = MicOptions { timeout: Duration::from_millis(500), ..MicOptions::default() };
        let mut mic = MicSource::open_with(opts).expect("open the default microphone");
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..5 {
            assert!(mic.next_frame(&mut frame).unwrap());
        }
        pactl(&["exit"]);
        let start = Instant::now();
        let err = loop {
            match mic.next_frame(&mut frame) {
                Ok(_) if start.elapsed() < Duration::from_secs(10) => continue,
                Ok(_) => panic!("still capturing 10 s after the sound server exited"),
                Err(e) => break e,
            }
        };
        let msg = err.to_string();
        eprintln!("error: {msg}; stats {:?}", mic.stats());
        assert!(msg.contains("microphone"), "unclear error: {msg}");
        // It keeps failing cleanly (reopen attempts find no server), without panicking or hanging.
        for _ in 0..3 {
            let e = mic.next_frame(&mut frame).expect_err("no server, no audio");
            assert!(e.to_string().contains("microphone"), "unclear error: {e}");
        }
    });
}

#[test]
fn speaker_reports_a_dead_sound_server_in_plain_words() {
    run_with_pulse("speaker_reports_a_dead_sound_server_in_plain_words", TIMEOUT, || {
        let mut sink = SpeakerSink::open(None).expect("open the default speaker");
        let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
        let frame = [0i16; FRAME_SAMPLES];
        for _ in 0..10 {
            pacer.wait();
            sink.play(&frame).unwrap();
        }
        pactl(&["exit"]);
        let start = Instant::now();
        let err = loop {
            pacer.wait();
            match sink.play(&frame) {
                Ok(()) if start.elapsed() < Duration::from_secs(10) => continue,
                Ok(()) => panic!("still playing 10 s after the sound server exited"),
                Err(e) => break e,
            }
        };
        let msg = err.to_string();
        eprintln!("error after {:?}: {msg}; stats {:?}", start.elapsed(), sink.stats());
        assert!(msg.contains("speaker"), "unclear error: {msg}");
        assert!(start.elapsed() < Duration::from_secs(3), "took {:?} to notice", start.elapsed());
    });
}

fn pactl(args: &[&str]) -> String {
    let out = std::process::Command::new("pactl").args(args).output().expect("run pactl");
    assert!(out.status.success(), "pactl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
