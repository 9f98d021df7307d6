//! Signal analysis for tests and diagnostics: dominant frequency, level, burst onsets and silent gaps.

/// Root-mean-square level as a fraction of full scale (0.0..=1.0).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| (f64::from(s) / 32768.0).powi(2)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// RMS level in dBFS (−∞ for silence).
pub fn rms_dbfs(samples: &[i16]) -> f64 {
    20.0 * rms(samples).log10()
}

/// Windowed power at `freq` (Goertzel recurrence over `x · window`).
fn power_at(x: &[f64], freq: f64, sample_rate: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / sample_rate;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

fn hann(samples: &[i16]) -> Vec<f64> {
    let n = samples.len();
    let denom = (n.max(2) - 1) as f64;
    samples
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / denom).cos();
            f64::from(s) * w
        })
        .collect()
}

/// Estimates the frequency of the strongest spectral peak between 20 Hz and min(8 kHz, Nyquist), in Hz.
///
/// A coarse Hann-windowed scan over (at most) 4096 samples from the middle of the signal finds the peak's
/// bin; a fine scan over (at most) 2 s of signal around it, with parabolic interpolation of the log power,
/// refines it. For a 1 s tone the error is a small fraction of a hertz. `None` for signals shorter than
/// 256 samples or silent ones.
pub fn dominant_frequency(samples: &[i16], sample_rate: u32) -> Option<f64> {
    if samples.len() < 256 || sample_rate == 0 {
        return None;
    }
    let sr = f64::from(sample_rate);
    let upper = (sr / 2.0 - 1.0).min(8000.0);
    let coarse_len = samples.len().min(4096);
    let start = (samples.len() - coarse_len) / 2;
    let coarse = hann(&samples[start..start + coarse_len]);
    let bin = sr / coarse_len as f64;
    let mut best = (0.0f64, 0.0f64);
    let mut f = 20.0;
    while f <= upper {
        let p = power_at(&coarse, f, sr);
        if p > best.1 {
            best = (f, p);
        }
        f += bin / 2.0;
    }
    if best.1 <= 0.0 {
        return None;
    }
    let fine_len = samples.len().min(sample_rate as usize * 2);
    let start = (samples.len() - fine_len) / 2;
    let fine = hann(&samples[start..start + fine_len]);
    let step = (sr / fine_len as f64 / 4.0).max(0.05);
    let (lo, hi) = ((best.0 - bin).max(1.0), best.0 + bin);
    let mut grid = Vec::new();
    let mut f = lo;
    while f <= hi {
        grid.push((f, power_at(&fine, f, sr).max(f64::MIN_POSITIVE).ln()));
        f += step;
    }
    let (i, _) = grid.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1))?;
    if i == 0 || i + 1 >= grid.len() {
        return Some(grid[i].0);
    }
    let (a, b, c) = (grid[i - 1].1, grid[i].1, grid[i + 1].1);
    let denom = a - 2.0 * b + c;
    let offset = if denom.abs() > f64::EPSILON { 0.5 * (a - c) / denom } else { 0.0 };
    Some(grid[i].0 + offset.clamp(-0.5, 0.5) * step)
}

/// Finds burst onsets: sample indices where |x| first reaches `threshold` (fraction of full scale) after
/// at least `min_gap_ms` below it. Used to measure latency with [`crate::audio::ToneGenerator::with_bursts`].
pub fn detect_onsets(samples: &[i16], sample_rate: u32, threshold: f64, min_gap_ms: u32) -> Vec<usize> {
    let level = (threshold.clamp(0.0, 1.0) * 32768.0) as i32;
    let min_gap = (u64::from(sample_rate) * u64::from(min_gap_ms) / 1000) as usize;
    let mut onsets = Vec::new();
    let mut quiet_run = min_gap; // the start counts as after silence
    for (i, &s) in samples.iter().enumerate() {
        if i32::from(s).abs() >= level.max(1) {
            if quiet_run >= min_gap {
                onsets.push(i);
            }
            quiet_run = 0;
        } else {
            quiet_run = quiet_run.saturating_add(1);
        }
    }
    onsets
}

/// Longest run of 5 ms windows whose RMS is below `threshold` (fraction of full scale), in ms.
pub fn longest_gap_ms(samples: &[i16], sample_rate: u32, threshold: f64) -> u32 {
    let win = (sample_rate as usize / 200).max(1);
    let (mut run, mut longest) = (0u32, 0u32);
    for chunk in samples.chunks(win) {
        if rms(chunk) < threshold {
            run += 5;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::ToneGenerator;

    #[test]
    fn frequency_of_clean_tones() {
        for f in [440.0, 1000.0, 997.3, 3000.0] {
            let tone = ToneGenerator::new(f, 48_000, 0.5).take(48_000);
            let est = dominant_frequency(&tone, 48_000).unwrap();
            assert!((est - f).abs() / f < 0.001, "{f}: {est}");
        }
        assert_eq!(dominant_frequency(&[0; 1000], 48_000), None);
        assert_eq!(dominant_frequency(&[1; 10], 48_000), None);
    }

    #[test]
    fn level_onsets_and_gaps() {
        let tone = ToneGenerator::new(1000.0, 48_000, 0.5).take(4800);
        assert!((rms(&tone) - 0.5 / 2f64.sqrt()).abs() < 0.01);
        assert!((rms_dbfs(&tone) + 9.03).abs() < 0.1);
        let bursts = ToneGenerator::new(1000.0, 48_000, 0.8).with_bursts(250, 20).take(48_000);
        let onsets = detect_onsets(&bursts, 48_000, 0.1, 50);
        assert_eq!(onsets.len(), 4);
        for (k, o) in onsets.iter().enumerate() {
            assert!(o.abs_diff(k * 12_000) < 48, "{onsets:?}");
        }
        assert_eq!(longest_gap_ms(&bursts, 48_000, 0.01), 230);
    }
}
