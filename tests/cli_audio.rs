//! Real audio devices for `kaiwa call`: a private PulseAudio with null sinks stands in for the sound card.
//! A tone sent by the remote peer reaches the speaker sink's monitor, and a tone played into the
//! microphone source reaches the remote peer.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kaiwa_devices::testing::PulseDaemon;
use kaiwa_media::audio::WavAudio;
use kaiwa_media::audio::analysis::{dominant_frequency, rms};

fn audible(samples: &[i16]) -> Vec<i16> {
    samples.chunks(960).filter(|c| c.len() == 960 && rms(c) > 0.02).flatten().copied().collect()
}

fn kaiwa_call(pulse: &PulseDaemon, addr: std::net::SocketAddr, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kaiwa"))
        .args([
            "call",
            "--server",
            &format!("ws://{addr}/ws"),
            "--room",
            "sound",
            "--bind",
            "127.0.0.1:0",
            "--quiet",
        ])
        .args(["--video", "none"])
        .args(extra)
        .envs(pulse.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tones_travel_from_microphone_to_remote_and_from_remote_to_speaker() {
    let pulse = PulseDaemon::start().expect("a private PulseAudio (installed by scripts/setup.sh test)");
    let server = kaiwa_testkit::SignalingServer::start(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();

    // What the speaker plays, recorded from the null sink's monitor.
    let speaker_rec = dir.path().join("speaker.raw");
    let mut parec = pulse
        .command("parec")
        .args(["-d", "spk.monitor", "--raw", "--rate=48000", "--channels=1", "--format=s16le"])
        .stdout(File::create(&speaker_rec).unwrap())
        .spawn()
        .unwrap();
    // A 1 kHz tone "spoken" into the microphone: played into the `mic` sink, whose monitor is the default source.
    let tone = dir.path().join("mic.wav");
    let samples = kaiwa_media::audio::ToneGenerator::new(1000.0, 48_000, 0.4).take(48_000 * 20);
    WavAudio { sample_rate: 48_000, channels: 1, samples }.write(File::create(&tone).unwrap()).unwrap();
    let mut paplay = pulse.command("paplay").args(["-d", "mic"]).arg(&tone).spawn().unwrap();

    let rec_dir = dir.path().join("rec");
    let ann =
        kaiwa_call(&pulse, server.addr, &["--name", "Ann", "--audio", "mic", "--speaker", "--duration", "9"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bo = kaiwa_call(
        &pulse,
        server.addr,
        &["--name", "Bo", "--audio", "tone:880", "--duration", "7", "--record", rec_dir.to_str().unwrap()],
    );
    let (ann, bo) = tokio::task::spawn_blocking(move || {
        (ann.wait_with_output().unwrap(), bo.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    let _ = paplay.kill();
    let _ = parec.kill();
    let _ = (paplay.wait(), parec.wait());
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    assert!(ann.status.success(), "Ann: {}", text(&ann));
    assert!(bo.status.success(), "Bo: {}", text(&bo));

    // Bo's 880 Hz tone came out of Ann's speaker.
    let bytes = std::fs::read(&speaker_rec).unwrap();
    let played: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let heard = audible(&played);
    assert!(heard.len() >= 48_000 * 3, "only {} audible samples on the speaker", heard.len());
    let hz = dominant_frequency(&heard, 48_000).unwrap();
    assert!((hz - 880.0).abs() < 8.8, "speaker played {hz:.1} Hz");

    // Ann's microphone tone reached Bo.
    let wav = std::fs::read_dir(&rec_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .unwrap();
    let got = WavAudio::read(File::open(wav).unwrap(), 48_000 * 60).unwrap();
    let heard = audible(&got.samples);
    assert!(heard.len() >= 48_000 * 3, "only {} audible samples from Ann's microphone", heard.len());
    let hz = dominant_frequency(&heard, 48_000).unwrap();
    assert!((hz - 1000.0).abs() < 10.0, "Bo heard Ann's microphone at {hz:.1} Hz");
}
