//! The audio processor against a simulated room: the far end's speech-like signal is played (render) and
//! comes back into the microphone 40 ms later (or 400 ms, or 900 ms through long device queues: beyond what
//! AEC3 finds alone, so the delay estimator must do its part), quieter and with a
//! little reverberation; then the near end talks alone. Echo must be removed, the near end must pass. Deterministic: a seeded generator, no clocks.

use kaiwa_media::audio::{AudioProcessor, FRAME_SAMPLES, ProcessingConfig, speech_like};

const RATE: usize = 48_000;
/// The acoustic path after the first arrival: (ms, gain) taps — direct sound and two reflections.
const ECHO_PATH: [(usize, f64); 3] = [(0, 0.5), (3, 0.15), (12, 0.05)];

/// A faint noise floor, as every real microphone has (about -66 dBFS).
struct Floor(u64);

impl Floor {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * 0.0009
    }
}

fn speech(seconds: f64, seed: u64, peak: f64) -> Vec<f64> {
    speech_like((seconds * RATE as f64) as usize, RATE as u32, seed, peak)
        .into_iter()
        .map(|s| f64::from(s) / 32767.0)
        .collect()
}

fn echo_of(far: &[f64], delay_ms: usize) -> Vec<f64> {
    (0..far.len())
        .map(|i| {
            ECHO_PATH
                .iter()
                .filter_map(|&(ms, g)| i.checked_sub((delay_ms + ms) * RATE / 1000).map(|j| g * far[j]))
                .sum()
        })
        .collect()
}

fn to_i16(x: f64) -> i16 {
    (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

fn energy(x: &[i16]) -> f64 {
    x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>().max(1.0)
}

struct Outcome {
    /// Echo in the microphone vs what is left of it after processing, in dB, over the last 4 s of 10 s
    /// of far-end speech.
    erle_db: f64,
    /// Near-end speech out vs in, in dB, over 4 s after the far end fell silent (0 = untouched).
    near_gain_db: f64,
    /// The processor's own ERLE figure at the end of the echo phase.
    reported_erle_db: Option<f64>,
}

/// 10 s of far-end talk (echo only in the microphone), then 5 s of near-end talk alone.
fn run(config: ProcessingConfig, delay_ms: usize) -> Outcome {
    let echo_s = 10.0;
    let far = speech(echo_s, 0x5eed_0001, 0.5);
    let echo = echo_of(&far, delay_ms);
    let near = speech(5.0, 0x5eed_0002, 0.3);
    let mut floor = Floor(0x5eed_0003);

    let mut p = AudioProcessor::new(config);
    let total = far.len() + near.len();
    let frames = total / FRAME_SAMPLES;
    let (mut echo_in, mut echo_out, mut near_in, mut near_out) = (0.0, 0.0, 0.0, 0.0);
    let mut reported = None;
    let measure_echo_from = ((echo_s - 4.0) * RATE as f64) as usize;
    let near_measure_from = far.len() + RATE;
    for f in 0..frames {
        let start = f * FRAME_SAMPLES;
        let mut render = [0i16; FRAME_SAMPLES];
        let mut capture = [0i16; FRAME_SAMPLES];
        for i in 0..FRAME_SAMPLES {
            let t = start + i;
            let noise = floor.next();
            if t < far.len() {
                render[i] = to_i16(far[t]);
                capture[i] = to_i16(echo[t] + noise);
            } else {
                capture[i] = to_i16(near[t - far.len()] + noise);
            }
        }
        let before = capture;
        p.analyze_render(&render).unwrap();
        p.process_capture(&mut capture).unwrap();
        if (measure_echo_from..far.len()).contains(&start) {
            echo_in += energy(&before);
            echo_out += energy(&capture);
        }
        if start + FRAME_SAMPLES == far.len() {
            reported = p.stats().erle_db;
        }
        if start >= near_measure_from {
            near_in += energy(&before);
            near_out += energy(&capture);
        }
    }
    Outcome {
        erle_db: 10.0 * (echo_in / echo_out).log10(),
        near_gain_db: 10.0 * (near_out / near_in).log10(),
        reported_erle_db: reported,
    }
}

fn report(name: &str, o: &Outcome) {
    println!(
        "{name}: echo removed {:.1} dB (processor reports {:?} dB), near end {:+.1} dB",
        o.erle_db, o.reported_erle_db, o.near_gain_db
    );
}

#[test]
fn off_leaves_echo_and_near_end_alone() {
    let o = run(ProcessingConfig::OFF, 40);
    report("off", &o);
    assert!(o.erle_db.abs() < 0.01, "echo changed by {:.2} dB with processing off", o.erle_db);
    assert!(o.near_gain_db.abs() < 0.01);
}

#[test]
fn echo_canceller_removes_the_echo_and_keeps_the_near_end() {
    let config = ProcessingConfig { echo_cancellation: true, noise_suppression: false, gain_control: false };
    for delay_ms in [40, 400, 900] {
        let o = run(config, delay_ms);
        report(&format!("aec, {delay_ms} ms echo path"), &o);
        assert!(o.erle_db >= 30.0, "{delay_ms} ms: echo reduced by only {:.1} dB", o.erle_db);
        assert!(o.near_gain_db > -3.0, "{delay_ms} ms: near end lost {:.1} dB", -o.near_gain_db);
    }
}

#[test]
fn everything_on_removes_the_echo_and_keeps_the_near_end() {
    let o = run(ProcessingConfig::ON, 150);
    report("on, 150 ms echo path", &o);
    assert!(o.erle_db >= 30.0, "echo reduced by only {:.1} dB", o.erle_db);
    assert!(o.near_gain_db > -6.0, "near end lost {:.1} dB", -o.near_gain_db);
}
