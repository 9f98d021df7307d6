//! Latency CDF plots for RESULTS.md (SVG, `plotters`).

use std::path::Path;

use plotters::prelude::*;

use crate::stats::percentile;

/// Line colours: blue and orange for the two contenders, green and purple for the mixed directions.
const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// Empirical CDFs, one line per series (at most 400 points each), x clipped at 1.5× the largest p95.
pub fn cdf_plot(path: &Path, title: &str, series: &[(String, Vec<f64>)]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let xmax = series.iter().filter_map(|(_, v)| percentile(v, 0.95)).fold(10.0, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..xmax, 0.0..1.0)?;
    chart.configure_mesh().x_desc("latency (ms)").y_desc("share of samples ≤ x").draw()?;
    for (i, (name, values)) in series.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let step = n.div_ceil(400).max(1);
        let points: Vec<(f64, f64)> = (0..n)
            .step_by(step)
            .chain(std::iter::once(n - 1))
            .map(|k| (v[k].min(xmax), (k + 1) as f64 / n as f64))
            .collect();
        let color = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(format!("{name} (n = {n})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
