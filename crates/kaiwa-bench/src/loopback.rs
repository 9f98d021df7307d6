//! One loopback call of the side-by-side benchmark: the clients started in a room of the in-process
//! server, a warm-up, then CPU and memory of each client's process tree over the measured window, and what
//! each received.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kaiwa_bench::{procstat, stats};
use kaiwa_browser_tests::TestServer;

use crate::client::{Client, Mode, Setup};
use crate::*;

pub struct Bench {
    pub args: Args,
    pub kaiwa: PathBuf,
    pub server: TestServer,
    pub work: tempdir::Dir,
    pub cache: PathBuf,
    pub calls: usize,
    pub browser_env: Vec<(String, String)>,
}

pub mod tempdir {
    /// A scratch directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Bench {
    /// Runs one call and measures it.
    pub async fn call(
        &mut self,
        scenario: Scenario,
        size: (u32, u32),
        mode: Mode,
    ) -> anyhow::Result<CallFigures> {
        self.calls += 1;
        let room = format!("bench-{}-{}", self.calls, scenario.name);
        let video_file = content::video(&self.cache, size, self.args.fps)?;
        let audio_file = content::audio(&self.cache)?;
        let setup = Setup {
            kaiwa: &self.kaiwa,
            server: &self.server,
            room: &room,
            mode,
            size,
            fps: self.args.fps,
            max_kbps: self.args.max_kbps,
            video_file: &video_file,
            audio_file: &audio_file,
            work: &self.work.0,
            browser_env: &self.browser_env,
        };
        let mut clients = Vec::new();
        for (i, &kind) in scenario.kinds.iter().enumerate() {
            let mut c = Client::start(kind, &format!("{}{}", kind.letter(), i + 1), &setup).await?;
            c.wait_joined().await?;
            clients.push(c);
        }
        tokio::time::sleep(Duration::from_secs(self.args.warmup)).await;
        let roots: Vec<u32> = clients.iter().map(Client::pid).collect();
        let cpu0: Vec<f64> = roots.iter().map(|&p| procstat::cpu_seconds(p)).collect();
        let t0 = Instant::now();
        let window = Duration::from_secs(self.args.seconds);
        let mut peak = vec![procstat::Memory::default(); roots.len()];
        while t0.elapsed() < window {
            tokio::time::sleep((window - t0.elapsed()).min(Duration::from_secs(2))).await;
            for (m, &p) in peak.iter_mut().zip(&roots) {
                let now = procstat::memory(p);
                m.rss_kib = m.rss_kib.max(now.rss_kib);
                m.pss_kib = m.pss_kib.max(now.pss_kib);
            }
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let cpu: Vec<f64> = roots
            .iter()
            .zip(&cpu0)
            .map(|(&p, c0)| (procstat::cpu_seconds(p) - c0) / elapsed * 100.0)
            .collect();
        let mut out = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let mut remotes = c.finish().await?;
            if mode == Mode::File {
                // The files' stamps and bursts say nothing about latency.
                for r in &mut remotes {
                    r.video_ms.clear();
                    r.audio_ms.clear();
                }
            }
            out.push(ClientFigures {
                kind: scenario.kinds[i],
                cpu_pct: cpu[i],
                rss_mib: peak[i].rss_kib as f64 / 1024.0,
                pss_mib: peak[i].pss_kib as f64 / 1024.0,
                remotes,
            });
        }
        Ok(CallFigures { clients: out })
    }
}

pub fn one_line(scenario: Scenario, size: (u32, u32), mode: Mode, f: &CallFigures) -> String {
    let joiner = f.clients.last();
    let first = joiner
        .and_then(|c| c.remotes.iter().filter_map(|r| r.first_frame_ms).reduce(f64::min))
        .map_or("-".into(), |v| format!("{v:.0} ms"));
    let all = |audio: bool| -> Vec<f64> {
        f.clients
            .iter()
            .flat_map(|c| &c.remotes)
            .flat_map(|r| if audio { r.audio_ms.clone() } else { r.video_ms.clone() })
            .collect()
    };
    let p = |v: &[f64], q: f64| stats::percentile(v, q).map_or("-".into(), |x| format!("{x:.1}"));
    let (video, audio) = (all(false), all(true));
    let cpu: Vec<String> = f.clients.iter().map(|c| format!("{:.1}", c.cpu_pct)).collect();
    let pss: Vec<String> = f.clients.iter().map(|c| format!("{:.0}", c.pss_mib)).collect();
    let recv: Vec<String> = f
        .clients
        .iter()
        .flat_map(|c| &c.remotes)
        .map(|r| format!("{}x{}@{:.0}", r.size.0, r.size.1, r.fps))
        .collect();
    let concealed: Vec<String> = f
        .clients
        .iter()
        .flat_map(|c| &c.remotes)
        .map(|r| r.audio_concealed_pct.map_or("-".into(), |v| format!("{v:.1}")))
        .collect();
    format!(
        "{:<15} {}x{} {:<7} first frame {first}, video p50/p95 {}/{} ms (n={}), audio p50 {} ms (n={}), CPU % [{}], PSS MiB [{}], received [{}], audio concealed % [{}]",
        scenario.name,
        size.0,
        size.1,
        mode.label(),
        p(&video, 0.5),
        p(&video, 0.95),
        video.len(),
        p(&audio, 0.5),
        audio.len(),
        cpu.join(" "),
        pss.join(" "),
        recv.join(" "),
        concealed.join(" ")
    )
}
