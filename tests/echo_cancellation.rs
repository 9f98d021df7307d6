//! Echo cancellation end to end, with real audio devices: a private PulseAudio stands in for the sound
//! card and `module-loopback` for the room, carrying what Ann's speaker plays back into her microphone
//! (about 9 dB quieter, some tens of ms later). Bo sends speech-like noise; Ann plays it and her microphone
//! picks it up again; Bo records what he gets from Ann. With `--audio-processing off` Bo hears himself;
//! with `on` the echo must be much quieter, yet Ann's own voice (played into her microphone as well, while
//! Bo talks) must still get through.

use std::fs::File;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kaiwa_devices::testing::PulseDaemon;
use kaiwa_media::audio::WavAudio;
use kaiwa_media::audio::analysis::rms;

/// Bo's call lasts this long; what Ann sends back is measured over its last `MEASURE_S` seconds, after the
/// echo canceller has had time to converge.
const BO_S: u32 = 12;
const MEASURE_S: usize = 6;

/// Runs one call and returns the RMS level (dBFS) of what Bo received from Ann over the measured window,
/// with Ann's summary. With `near_end`, Ann talks too (speech-like noise played into her microphone).
async fn level_at_bo(processing: &str, near_end: bool) -> (f64, String) {
    let pulse = PulseDaemon::start().expect("a private PulseAudio (installed by scripts/setup.sh test)");
    // The room: Ann's speaker (the `spk` sink) leaks into her microphone (the `mic` sink, whose monitor is
    // the default source) through a 30 ms loopback at 70 % volume (about -9 dB). `adjust_time=0`: by
    // default the loopback keeps retuning its resampler to hold its latency, which makes the echo path
    // wobble in time as no room does (measured: the echo canceller then gains only 0–20 dB, run to run).
    pulse
        .pactl(&[
            "load-module",
            "module-loopback",
            "source=spk.monitor",
            "sink=mic",
            "latency_msec=30",
            "adjust_time=0",
        ])
        .expect("module-loopback");
    pulse.pactl(&["set-sink-volume", "mic", "70%"]).expect("mic volume");
    let server = kaiwa_testkit::SignalingServer::start(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let voice = dir.path().join("bo.wav");
    let samples = kaiwa_media::audio::speech_like(48_000 * 20, 48_000, 0xb0, 0.5);
    WavAudio { sample_rate: 48_000, channels: 1, samples }.write(File::create(&voice).unwrap()).unwrap();
    let rec = dir.path().join("rec");
    let mut ann_voice = None;
    if near_end {
        let path = dir.path().join("ann.wav");
        let samples = kaiwa_media::audio::speech_like(48_000 * 30, 48_000, 0xa2, 0.5);
        WavAudio { sample_rate: 48_000, channels: 1, samples }.write(File::create(&path).unwrap()).unwrap();
        ann_voice = Some(pulse.command("paplay").args(["-d", "mic"]).arg(&path).spawn().unwrap());
    }

    let call = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kaiwa"))
            .args(["call", "--server", &format!("ws://{}/ws", server.addr), "--room", "echo"])
            .args(["--bind", "127.0.0.1:0", "--quiet", "--video", "none"])
            .args(extra)
            .envs(pulse.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let ann_s = (BO_S + 2).to_string();
    let ann = call(&[
        "--name",
        "Ann",
        "--audio",
        "mic",
        "--speaker",
        "--audio-processing",
        processing,
        "--duration",
        &ann_s,
    ]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bo = call(&[
        "--name",
        "Bo",
        "--audio",
        voice.to_str().unwrap(),
        "--record",
        rec.to_str().unwrap(),
        "--duration",
        &BO_S.to_string(),
    ]);
    // Both leave by themselves (--duration); the outer timeout bounds a hang.
    let wait = tokio::task::spawn_blocking(move || (ann.wait_with_output(), bo.wait_with_output()));
    let (ann, bo) = tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the calls ended within 60 s")
        .unwrap();
    let text =
        |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    if let Some(mut p) = ann_voice {
        let _ = p.kill();
        let _ = p.wait();
    }
    let (ann, bo) = (ann.unwrap(), bo.unwrap());
    assert!(ann.status.success(), "Ann: {}", text(&ann));
    assert!(bo.status.success(), "Bo: {}", text(&bo));

    let wav = std::fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .expect("Bo recorded Ann");
    let got = WavAudio::read(File::open(wav).unwrap(), 48_000 * 60).unwrap();
    let n = got.samples.len();
    assert!(n >= 48_000 * (MEASURE_S + 3), "Bo received only {} s from Ann", n / 48_000);
    // The window ends a second before the recording does (Bo's leaving). The median of its one-second
    // levels: a second disturbed by a busy machine (a late audio thread) does not decide the outcome.
    let window = &got.samples[n - 48_000 * (MEASURE_S + 1)..n - 48_000];
    let mut levels: Vec<f64> = window.chunks(48_000).map(|s| 20.0 * rms(s).max(1e-9).log10()).collect();
    levels.sort_by(f64::total_cmp);
    (levels[levels.len() / 2], text(&ann))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_canceller_removes_the_remote_voice_from_the_microphone() {
    let (off, _) = level_at_bo("off", false).await;
    let (on, ann) = level_at_bo("on", false).await;
    let (talking, _) = level_at_bo("on", true).await;
    println!("echo heard by Bo: processing off {off:.1} dBFS, on {on:.1} dBFS ({:.1} dB less)", off - on);
    println!("Ann talking over Bo, processing on: Bo hears {talking:.1} dBFS");
    println!("Ann: {ann}");
    // Without processing Bo clearly hears himself (his voice is about -16 dBFS RMS)…
    assert!(off > -35.0, "no echo to cancel ({off:.1} dBFS): is the loopback working?");
    // …with it, the echo is mostly gone.
    assert!(off - on >= 30.0, "echo only {:.1} dB quieter with processing on", off - on);
    // Not by muting Ann: her own voice, as loud as Bo's echo in her microphone, still reaches Bo.
    assert!(talking - on >= 25.0, "Ann's own voice came through at only {talking:.1} dBFS");
}
