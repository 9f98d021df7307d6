//! `--networks`: the calls through the network lab, one line printed per call, then `NETWORKS.md`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::*;

/// `--networks`: every profile × pair × run through the lab, then `NETWORKS.md`.
pub(crate) async fn run_networks(args: &Args, kaiwa: PathBuf) -> anyhow::Result<()> {
    use kaiwa_testkit::lab::Profile;
    // Mesh profiles get a 4-party call of each contender (`networks::pairs_for`).
    let mut profiles = Vec::new();
    for name in &args.profiles {
        match Profile::by_name(name) {
            Some(p) => profiles.push(p),
            None => bail!("unknown profile {name}; known: {}", Profile::NAMES.join(", ")),
        }
    }
    let pairs: Vec<networks::Pair> =
        networks::PAIRS.into_iter().filter(|p| args.pairs.iter().any(|x| x == p.name)).collect();
    let contents: Vec<networks::Content> = [networks::Content::File, networks::Content::Live]
        .into_iter()
        .filter(|c| args.net_content.iter().any(|x| x == c.label()))
        .collect();
    let plan_for = |profile: &Profile| {
        let mut plan: Vec<(networks::Pair, networks::Content)> = Vec::new();
        for &content in &contents {
            for pair in networks::pairs_for(profile, &pairs) {
                plan.push((pair, content));
            }
        }
        plan
    };
    let calls: usize = profiles.iter().map(|p| plan_for(p).len()).sum::<usize>() * args.runs;
    let total_s: u64 = profiles
        .iter()
        .map(|p| (networks::call_length(p, args.net_seconds).as_secs() + 15) * plan_for(p).len() as u64)
        .sum::<u64>()
        * args.runs as u64;
    println!(
        "{calls} calls through the lab ({} profiles, {} contents, {} runs), about {} min",
        profiles.len(),
        contents.len(),
        args.runs,
        total_s / 60 + 1
    );
    let pulse = chromium_pulse(!args.no_pulse && pairs.iter().any(|p| p.name != "nn"));
    let work = std::env::temp_dir().join(format!("kaiwa-netbench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let _work = tempdir::Dir(work.clone());
    let cache = args.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from).join(".cache/kaiwa/bench")
    });
    let mut bench = networks::NetBench {
        video_file: content::video(&cache, networks::SIZE, networks::FPS)?,
        audio_file: content::audio(&cache)?,
        kaiwa,
        work,
        browser_env: pulse.as_ref().map(|p| p.env()).unwrap_or_default(),
        seconds: args.net_seconds,
        calls: 0,
    };
    let mut results = netreport::NetResults::default();
    let started = Instant::now();
    let all = async {
        for profile in &profiles {
            for run in 0..args.runs {
                // The same seed for every pair of a run: the same loss and jitter decisions.
                let seed = 11_000 + run as u64;
                let plan = plan_for(profile);
                let order: Vec<_> =
                    if run % 2 == 0 { plan.clone() } else { plan.iter().rev().copied().collect() };
                for (pair, content) in order {
                    let what = format!(
                        "{} run {}/{} {} {}",
                        profile.name,
                        run + 1,
                        args.runs,
                        pair.name,
                        content.label()
                    );
                    let limit = networks::call_length(profile, args.net_seconds) + Duration::from_secs(120);
                    if let Some(call) =
                        bounded(&what, limit, bench.call(profile, pair, content, seed), &mut results.failures)
                            .await
                    {
                        println!("{what}: {}", net_line(&call));
                        results.calls.push(call);
                    }
                }
            }
        }
    };
    until_done_or_stopped(all).await?;
    let total = started.elapsed();
    let names: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
    netreport::write(&results, &names, args.runs, args.net_seconds, total, &args.out_dir)?;
    println!("wrote {} ({:.1} min)", args.out_dir.join("NETWORKS.md").display(), total.as_secs_f64() / 60.0);
    Ok(())
}

fn net_line(call: &networks::NetCall) -> String {
    let parts: Vec<String> = call
        .receivers
        .iter()
        .map(|r| {
            let f = networks::figures(call, r);
            format!(
                "{} {}←{}: first frame {}, {} freezes {:.1} s, {:.1} fps, {}x{} ({:.0} % full), {:.0} kbit/s, video p50 {}, audio p50 {}, concealed {}{}",
                r.host,
                r.kind.letter(),
                r.from.letter(),
                f.first_frame_s.map_or("-".into(), |t| format!("{t:.1} s")),
                f.freezes,
                f.freeze_s,
                f.fps.unwrap_or(0.0),
                f.size.0,
                f.size.1,
                f.full_pct.unwrap_or(0.0),
                f.kbps.unwrap_or(0.0),
                f.video_p50.map_or("-".into(), |v| format!("{v:.0} ms")),
                f.audio_p50.map_or("-".into(), |v| format!("{v:.0} ms")),
                f.concealed_pct.map_or("-".into(), |v| format!("{v:.1} %")),
                if call.restored_at.is_some() {
                    format!(", back to full size {}", f.recovery_s.map_or("never".into(), |s| format!("after {s:.0} s")))
                } else {
                    String::new()
                }
            )
        })
        .collect();
    parts.join(" | ")
}
