//! Quantiles of measured samples (latencies, frame times, rates): nearest rank, one sort for several.

/// The `qs` quantiles (each 0..=1, by nearest rank) of `values` in any order, or `None` without values.
/// NaN sorts above every number.
pub fn quantiles<const N: usize>(values: &[f64], qs: [f64; N]) -> Option<[f64; N]> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let last = v.len() - 1;
    Some(qs.map(|q| v.get((last as f64 * q.clamp(0.0, 1.0)).round() as usize).copied().unwrap_or(f64::NAN)))
}

/// One quantile: see [`quantiles`].
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    quantiles(values, [q]).map(|[v]| v)
}

pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_of_a_known_series() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantiles(&v, [0.0, 0.5, 0.95, 1.0]), Some([1.0, 51.0, 95.0, 100.0]));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0]), Some(2.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0, f64::NAN], 0.0), Some(1.0));
        assert_eq!(percentile(&[1.0], 7.0), Some(1.0));
    }
}
