//! Percentiles and medians over samples (NaN-free by construction: callers filter non-finite values):
//! kaiwa-media's, plus what only the benchmarks need.

pub use kaiwa_media::stats::{median, percentile, quantiles};

/// Median of the `Some` values.
pub fn median_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    median(&values.into_iter().flatten().collect::<Vec<_>>())
}

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(percentile(&(1..=100).map(f64::from).collect::<Vec<_>>(), 0.95), Some(95.0));
        assert_eq!(median_of([None, Some(4.0), Some(2.0), None, Some(9.0)]), Some(4.0));
        assert_eq!(mean(&[1.0, 2.0]), Some(1.5));
    }
}
