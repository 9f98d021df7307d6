use kaiwa_devices::{Pacer, SpeakerSink};
use kaiwa_media::audio::ToneGenerator;
use std::time::{Duration, Instant};
fn main() {
    let d = kaiwa_devices::testing::PulseDaemon::start().unwrap();
    unsafe { std::env::set_var("PULSE_SERVER", d.server()) };
    let rec = d.dir().join("rec.raw");
    let mut parec = std::process::Command::new("parec")
        .args([
            "-d",
            "spk.monitor",
            "--raw",
            "--rate=48000",
            "--channels=1",
            "--format=s16le",
            "--latency-msec=20",
        ])
        .stdout(std::fs::File::create(&rec).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut sink = SpeakerSink::open(None).unwrap();
    eprintln!("{}", sink.describe());
    let mut tone = ToneGenerator::new(440.0, 48000, 0.3);
    let mut pacer = Pacer::new(Instant::now(), Duration::from_millis(20));
    let mut frame = [0i16; 960];
    for i in 0..100 {
        pacer.wait();
        tone.fill(&mut frame);
        if i % 20 == 0 {
            eprintln!("max {} queued {:?} {:?}", frame.iter().max().unwrap(), sink.queued(), sink.stats());
        }
        sink.play(&frame).unwrap();
    }
    sink.drain(Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(300));
    parec.kill().unwrap();
    parec.wait().unwrap();
    let b = std::fs::read(&rec).unwrap();
    let s: Vec<i16> = b.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
    eprintln!("recorded {} max {:?}", s.len(), s.iter().max());
}
