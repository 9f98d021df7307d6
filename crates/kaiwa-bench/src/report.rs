//! `RESULTS.md` (figures, native/Chromium ratios against the targets, interop figures, what was actually
//! sent) and latency CDF plots (SVG, `plotters`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::cdf_plot::cdf_plot;
use crate::client::{Kind, Mode};
use crate::stats::{mean, median, median_of, percentile};
use crate::{Args, CC, CF, CallFigures, ClientFigures, Key, MESH_C, MESH_N, NC, NF, NN, Results, Scenario};

fn calls(r: &Results, s: Scenario, size: (u32, u32), mode: Mode) -> &[CallFigures] {
    let key: Key = (s.name, size, mode);
    r.calls.get(&key).map_or(&[], Vec::as_slice)
}

/// Every sample of `from → to` in one call (video or audio).
fn samples_of(call: &CallFigures, from: Kind, to: Kind, audio: bool) -> Vec<f64> {
    call.clients
        .iter()
        .filter(|c| c.kind == to)
        .flat_map(|c| &c.remotes)
        .filter(|r| r.from == from)
        .flat_map(|r| if audio { r.audio_ms.clone() } else { r.video_ms.clone() })
        .collect()
}

/// Median over calls of each call's `p` quantile of `from → to` latency.
fn latency(calls: &[CallFigures], from: Kind, to: Kind, audio: bool, p: f64) -> Option<f64> {
    median_of(calls.iter().map(|c| percentile(&samples_of(c, from, to, audio), p)))
}

fn pooled(calls: &[CallFigures], from: Kind, to: Kind, audio: bool) -> Vec<f64> {
    calls.iter().flat_map(|c| samples_of(c, from, to, audio)).collect()
}

/// Median over calls of the joiner's first decoded frame (the earliest over its peers).
fn first_frame(calls: &[CallFigures]) -> Option<f64> {
    median_of(
        calls
            .iter()
            .map(|c| c.clients.last()?.remotes.iter().filter_map(|r| r.first_frame_ms).reduce(f64::min)),
    )
}

/// Median over calls of the mean over the clients of `kind`.
fn per_client(calls: &[CallFigures], kind: Kind, f: fn(&ClientFigures) -> f64) -> Option<f64> {
    median_of(
        calls.iter().map(|c| mean(&c.clients.iter().filter(|x| x.kind == kind).map(f).collect::<Vec<_>>())),
    )
}

/// What receivers got: the sizes seen and the median frame rate.
fn received(calls: &[CallFigures]) -> String {
    let remotes: Vec<_> = calls.iter().flat_map(|c| &c.clients).flat_map(|c| &c.remotes).collect();
    if remotes.is_empty() {
        return "–".into();
    }
    let mut sizes: Vec<String> = remotes.iter().map(|r| format!("{}×{}", r.size.0, r.size.1)).collect();
    sizes.sort();
    sizes.dedup();
    let fps = median_of(remotes.iter().map(|r| Some(r.fps))).unwrap_or(0.0);
    let lowest = remotes.iter().map(|r| r.fps).fold(f64::INFINITY, f64::min);
    format!("{} at {fps:.1} fps (lowest {lowest:.1})", sizes.join(", "))
}

/// How much of the received audio was concealment: the median and the highest share over receivers.
fn concealed(calls: &[CallFigures]) -> String {
    let shares: Vec<f64> = calls
        .iter()
        .flat_map(|c| &c.clients)
        .flat_map(|c| &c.remotes)
        .filter_map(|r| r.audio_concealed_pct)
        .collect();
    match (median(&shares), percentile(&shares, 1.0)) {
        (Some(m), Some(highest)) => format!("{m:.1} % (highest {highest:.1} %)"),
        _ => "–".into(),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| if x < 20.0 { format!("{x:.1} ms") } else { format!("{x:.0} ms") })
}

fn size_label((w, h): (u32, u32)) -> String {
    format!("{w}×{h}")
}

struct Row {
    figure: String,
    native: Option<f64>,
    chromium: Option<f64>,
    unit: fn(Option<f64>) -> String,
    target: Option<f64>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.1} %"))
}

fn mib(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.0} MiB"))
}

fn row_md(r: &Row) -> String {
    let ratio = match (r.native, r.chromium) {
        (Some(n), Some(c)) if c > 0.0 => Some(n / c),
        _ => None,
    };
    let verdict = match (ratio, r.target) {
        (Some(q), Some(t)) => {
            if q <= t {
                "✓"
            } else {
                "✗"
            }
        }
        (None, Some(_)) => "not measured",
        _ => "",
    };
    format!(
        "| {} | {} | {} | {} | {} | {verdict} |",
        r.figure,
        (r.unit)(r.native),
        (r.unit)(r.chromium),
        ratio.map_or("–".into(), |q| format!("{q:.2}×")),
        r.target.map_or("–".into(), |t| format!("≤ {t}×")),
    )
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() { "scripts/bench.sh".into() } else { format!("scripts/bench.sh {}", args.join(" ")) }
}

fn now_utc() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or("?".into(), |s| s.trim().to_string())
}

pub fn write(
    args: &Args,
    sizes: &[(u32, u32)],
    mesh: Option<(u32, u32)>,
    r: &Results,
    took: Duration,
    out: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let (n, c) = (Kind::Native, Kind::Chromium);
    let mut md = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(md, "# Native vs Chromium: call benchmark results\n")?;
    writeln!(
        md,
        "Generated by `{}` on {} ({cores} cores; {:.0} min). Do not edit: rerun the command. How it measures: \
         [BENCHMARKS.md](../BENCHMARKS.md#native-vs-chromium).\n",
        command_line(),
        now_utc(),
        took.as_secs_f64() / 60.0
    )?;
    writeln!(
        md,
        "{} run(s) of {} s (after {} s warm-up) per scenario, contenders alternating run by run; every figure \
         is the median over runs. Senders: {} fps, video ≤ {} kbit/s. Ratio = native / Chromium; targets \
         from issue 6.\n",
        args.runs, args.seconds, args.warmup, args.fps, args.max_kbps
    )?;
    writeln!(md, "## Native ↔ native vs Chromium ↔ Chromium\n")?;
    writeln!(md, "| figure | native | Chromium | ratio | target | |\n|---|---|---|---|---|---|")?;
    let mut rows = Vec::new();
    for &size in sizes {
        let s = size_label(size);
        let (nl, cl) = (calls(r, NN, size, Mode::Latency), calls(r, CC, size, Mode::Latency));
        let (nf, cf) = (calls(r, NN, size, Mode::File), calls(r, CC, size, Mode::File));
        rows.push(Row {
            figure: format!("{s}: join → first decoded frame"),
            native: first_frame(nl),
            chromium: first_frame(cl),
            unit: ms,
            target: Some(0.8),
        });
        for (q, target) in [(0.5, Some(0.6)), (0.95, None)] {
            rows.push(Row {
                figure: format!("{s}: glass-to-glass video p{:.0}", q * 100.0),
                native: latency(nl, n, n, false, q),
                chromium: latency(cl, c, c, false, q),
                unit: ms,
                target,
            });
        }
        rows.push(Row {
            figure: format!("{s}: mouth-to-ear audio p50"),
            native: latency(nl, n, n, true, 0.5),
            chromium: latency(cl, c, c, true, 0.5),
            unit: ms,
            target: Some(0.6),
        });
        push_resources(&mut rows, &s, nf, cf);
    }
    if let Some(size) = mesh {
        let s = format!("4-party mesh {}", size_label(size));
        let (nl, cl) = (calls(r, MESH_N, size, Mode::Latency), calls(r, MESH_C, size, Mode::Latency));
        let (nf, cf) = (calls(r, MESH_N, size, Mode::File), calls(r, MESH_C, size, Mode::File));
        rows.push(Row {
            figure: format!("{s}: join → first decoded frame (4th to join)"),
            native: first_frame(nl),
            chromium: first_frame(cl),
            unit: ms,
            target: None,
        });
        rows.push(Row {
            figure: format!("{s}: glass-to-glass video p50"),
            native: latency(nl, n, n, false, 0.5),
            chromium: latency(cl, c, c, false, 0.5),
            unit: ms,
            target: None,
        });
        rows.push(Row {
            figure: format!("{s}: mouth-to-ear audio p50"),
            native: latency(nl, n, n, true, 0.5),
            chromium: latency(cl, c, c, true, 0.5),
            unit: ms,
            target: None,
        });
        push_resources(&mut rows, &s, nf, cf);
    }
    for row in &rows {
        writeln!(md, "{}", row_md(row))?;
    }
    writeln!(
        md,
        "\nCPU is the share of one core of each client's whole process tree (for Chromium: the browser process \
         and all its children; one Chromium per client) over the measured window, sending and receiving the \
         same Y4M/WAV content; PSS (proportional set size, `/proc/PID/smaps_rollup`, shared pages split \
         among the processes that map them) and the RSS sum are each client's peak. The memory target is \
         judged on PSS, the fairer figure for Chromium's many processes; the RSS row is shown for reference.\n"
    )?;

    writeln!(md, "## Native ↔ Chromium\n")?;
    writeln!(
        md,
        "| size | video native → Chromium p50 / p95 | video Chromium → native p50 / p95 | audio native → Chromium p50 | audio Chromium → native p50 | native joins Chromium: first frame |\n|---|---|---|---|---|---|"
    )?;
    for &size in sizes {
        let x = calls(r, NC, size, Mode::Latency);
        writeln!(
            md,
            "| {} | {} / {} | {} / {} | {} | {} | {} |",
            size_label(size),
            ms(latency(x, n, c, false, 0.5)),
            ms(latency(x, n, c, false, 0.95)),
            ms(latency(x, c, n, false, 0.5)),
            ms(latency(x, c, n, false, 0.95)),
            ms(latency(x, n, c, true, 0.5)),
            ms(latency(x, c, n, true, 0.5)),
            ms(first_frame(x)),
        )?;
    }

    if sizes.iter().any(|&size| !calls(r, NF, size, Mode::Latency).is_empty()) {
        let f = Kind::Firefox;
        writeln!(md, "\n## Native ↔ Firefox (VP8), beside Chromium ↔ Firefox\n")?;
        writeln!(
            md,
            "Firefox without OpenH264 (as installed), so every call with it is VP8. The same Firefox call with \
             the native client, then with Chromium in its place; ratio = native / Chromium.\n"
        )?;
        writeln!(md, "| size | figure | native | Chromium | ratio |\n|---|---|---|---|---|")?;
        for &size in sizes {
            let (x, y) = (calls(r, NF, size, Mode::Latency), calls(r, CF, size, Mode::Latency));
            let rows: [(&str, Option<f64>, Option<f64>); 6] = [
                ("video → Firefox p50", latency(x, n, f, false, 0.5), latency(y, c, f, false, 0.5)),
                ("video → Firefox p95", latency(x, n, f, false, 0.95), latency(y, c, f, false, 0.95)),
                ("video Firefox → p50", latency(x, f, n, false, 0.5), latency(y, f, c, false, 0.5)),
                ("video Firefox → p95", latency(x, f, n, false, 0.95), latency(y, f, c, false, 0.95)),
                ("audio → Firefox p50", latency(x, n, f, true, 0.5), latency(y, c, f, true, 0.5)),
                ("audio Firefox → p50", latency(x, f, n, true, 0.5), latency(y, f, c, true, 0.5)),
            ];
            for (figure, native, chromium) in rows {
                let ratio =
                    native.zip(chromium).filter(|(_, c)| *c > 0.0).map(|(n, c)| format!("{:.2}×", n / c));
                writeln!(
                    md,
                    "| {} | {figure} | {} | {} | {} |",
                    size_label(size),
                    ms(native),
                    ms(chromium),
                    ratio.unwrap_or_else(|| "–".into())
                )?;
            }
        }
    }

    writeln!(md, "\n## What was received\n")?;
    writeln!(
        md,
        "Checked, not assumed: the size each receiver decoded and its frame rate (native: frames decoded over \
         the call; Chromium: `getStats` `framesPerSecond`), and how much of the audio it played was \
         concealment for want of a packet (native: concealed of played 20 ms frames; Chromium: `getStats` \
         `concealedSamples` of `totalSamplesReceived`; a few % at the start of a call is normal, a sender \
         delivering in bursts shows as tens of %), over all runs.\n"
    )?;
    writeln!(
        md,
        "| scenario | size | mode | calls | received | audio concealed |\n|---|---|---|---|---|---|"
    )?;
    for ((name, size, mode), list) in &r.calls {
        writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} |",
            size_label(*size),
            mode.label(),
            list.len(),
            received(list),
            concealed(list)
        )?;
    }
    if !r.failures.is_empty() {
        writeln!(md, "\n## Failed calls\n")?;
        for f in &r.failures {
            writeln!(md, "- {}", f.replace('\n', " "))?;
        }
    }

    writeln!(md, "\n## Latency distributions\n")?;
    for &size in sizes {
        let (nl, cl, x) = (
            calls(r, NN, size, Mode::Latency),
            calls(r, CC, size, Mode::Latency),
            calls(r, NC, size, Mode::Latency),
        );
        let tag = format!("{}x{}", size.0, size.1);
        for (audio, what) in [(false, "video"), (true, "audio")] {
            let series = vec![
                ("native ↔ native".to_string(), pooled(nl, n, n, audio)),
                ("Chromium ↔ Chromium".to_string(), pooled(cl, c, c, audio)),
                ("native → Chromium".to_string(), pooled(x, n, c, audio)),
                ("Chromium → native".to_string(), pooled(x, c, n, audio)),
            ];
            let file = format!("{what}-latency-{tag}.svg");
            let title = if audio { "mouth-to-ear audio latency" } else { "glass-to-glass video latency" };
            cdf_plot(&out.join(&file), &format!("{title}, {}", size_label(size)), &series)?;
            writeln!(md, "![{title} {tag}]({file})")?;
        }
    }
    if let Some(size) = mesh {
        let (nl, cl) = (calls(r, MESH_N, size, Mode::Latency), calls(r, MESH_C, size, Mode::Latency));
        let tag = format!("mesh4-{}x{}", size.0, size.1);
        for (audio, what) in [(false, "video"), (true, "audio")] {
            let series = vec![
                ("4 native".to_string(), pooled(nl, n, n, audio)),
                ("4 Chromium".to_string(), pooled(cl, c, c, audio)),
            ];
            let file = format!("{what}-latency-{tag}.svg");
            let title = if audio { "mouth-to-ear audio latency" } else { "glass-to-glass video latency" };
            cdf_plot(&out.join(&file), &format!("{title}, 4-party mesh {}", size_label(size)), &series)?;
            writeln!(md, "![{title} {tag}]({file})")?;
        }
    }
    std::fs::write(out.join("RESULTS.md"), md)?;
    Ok(())
}

fn push_resources(rows: &mut Vec<Row>, s: &str, nf: &[CallFigures], cf: &[CallFigures]) {
    let (n, c) = (Kind::Native, Kind::Chromium);
    rows.push(Row {
        figure: format!("{s}: CPU per client (% of one core)"),
        native: per_client(nf, n, |x| x.cpu_pct),
        chromium: per_client(cf, c, |x| x.cpu_pct),
        unit: pct,
        target: Some(0.8),
    });
    rows.push(Row {
        figure: format!("{s}: memory per client (PSS)"),
        native: per_client(nf, n, |x| x.pss_mib),
        chromium: per_client(cf, c, |x| x.pss_mib),
        unit: mib,
        target: Some(0.3),
    });
    rows.push(Row {
        figure: format!("{s}: memory per client (RSS sum)"),
        native: per_client(nf, n, |x| x.rss_mib),
        chromium: per_client(cf, c, |x| x.rss_mib),
        unit: mib,
        target: None,
    });
}
