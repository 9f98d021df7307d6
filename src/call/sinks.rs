//! What `kaiwa call` does with what arrives: latency from the test pattern's stamps and from clicks,
//! PSNR against the frames sent, recordings.

use super::*;

/// Sinks for the CLI: measure what arrives (latency from test-pattern stamps and wall-clock clicks), and
/// record when asked.
pub(super) struct CliSinks {
    pub(super) record: Option<PathBuf>,
    pub(super) psnr_reference: Option<Arc<PsnrReference>>,
    pub(super) fps: u32,
    pub(super) started: Instant,
    pub(super) click_period_us: u64,
    pub(super) videos: Mutex<Vec<Arc<Mutex<Option<Y4mRecorder>>>>>,
    pub(super) audios: Mutex<Vec<Arc<Mutex<Option<WavRecorder>>>>>,
    pub(super) measures: Mutex<HashMap<String, Arc<Mutex<Measure>>>>,
    pub(super) speaker: Mutex<Option<kaiwa_devices::SpeakerSink>>,
}

/// What the CLI measures of one remote peer's media.
#[derive(Default)]
pub(super) struct Measure {
    pub(super) first_frame: Option<Duration>,
    /// Capture → decoded, from the test pattern's stamp (same machine, wall clock).
    pub(super) video_latency_us: Vec<u64>,
    /// Click → heard, from clicks on wall-clock period boundaries.
    pub(super) audio_latency_us: Vec<u64>,
    /// Capture → decoded of a shared screen whose top rows carry the test pattern's stamp.
    pub(super) screen_latency_us: Vec<u64>,
    pub(super) quiet_samples: usize,
    /// With `--psnr-reference`: luma PSNR of sampled frames (dB), and sampled frames whose stamp could not
    /// be read.
    pub(super) psnr_db: Vec<f64>,
    pub(super) psnr_unreadable: u64,
}

/// `--psnr-reference`: the frames that were sent, and the stamp reader at their size.
pub(super) struct PsnrReference {
    pub(super) frames: Vec<kaiwa_media::video::I420Frame>,
    pub(super) pattern: TestPattern,
}

impl PsnrReference {
    pub(super) fn load(path: &Path) -> anyhow::Result<PsnrReference> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut reader = kaiwa_media::video::Y4mReader::new(std::io::BufReader::new(file))?;
        let header = reader.header();
        let mut frames = Vec::new();
        while let Some(f) = reader.read_frame()? {
            frames.push(f);
        }
        if frames.is_empty() {
            bail!("{} has no frames", path.display());
        }
        Ok(PsnrReference { frames, pattern: TestPattern::new(header.width, header.height)? })
    }

    /// Luma PSNR of `frame` (scaled to the reference size) against the sent frame with its stamp, below the
    /// stamp strip.
    pub(super) fn psnr(&self, frame: &kaiwa_media::video::I420Frame) -> Option<f64> {
        let full =
            kaiwa_media::video::quality::scaled_luma(frame, self.pattern.width(), self.pattern.height());
        let stamp = self.pattern.read_stamp(&full)?;
        let sent = &self.frames[stamp.counter as usize % self.frames.len()];
        // Below the stamp strip: its background is below the legal luma range, which a browser's RGB
        // conversion clamps, so only the picture itself is compared (as the bench page does).
        let strip = self.pattern.strip_height();
        kaiwa_media::video::quality::psnr_below(&full, sent, strip).map(|db| db.min(99.0))
    }
}

impl CliSinks {
    pub(super) fn measure(&self, peer: &PeerInfo) -> Arc<Mutex<Measure>> {
        let mut all = self.measures.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(peer.id.clone()).or_default().clone()
    }

    pub(super) fn report(&self, stats: PeerStats, samples: bool) -> PeerReport {
        let measure = self.measures.lock().ok().and_then(|m| m.get(&stats.id).cloned());
        let m = measure.as_ref().and_then(|m| m.lock().ok());
        let all = |v: &[u64]| v.iter().map(|&us| us as f64 / 1000.0).collect::<Vec<f64>>();
        PeerReport {
            video_latency_samples_ms: m.as_ref().filter(|_| samples).map(|m| all(&m.video_latency_us)),
            audio_latency_samples_ms: m.as_ref().filter(|_| samples).map(|m| all(&m.audio_latency_us)),
            first_frame_ms: m.as_ref().and_then(|m| m.first_frame).map(|d| d.as_millis() as u64),
            video_latency: m.as_ref().and_then(|m| percentiles(&m.video_latency_us)),
            screen_latency: m.as_ref().and_then(|m| percentiles(&m.screen_latency_us)),
            // One onset is just the start of a steady tone; clicks give one per period.
            audio_latency: m
                .as_ref()
                .filter(|m| m.audio_latency_us.len() >= 5)
                .and_then(|m| percentiles(&m.audio_latency_us)),
            psnr_db: m.as_ref().filter(|m| !m.psnr_db.is_empty()).map(|m| m.psnr_db.clone()),
            psnr_unreadable: m
                .as_ref()
                .filter(|m| !m.psnr_db.is_empty() || m.psnr_unreadable > 0)
                .map(|m| m.psnr_unreadable),
            stats,
        }
    }
}

/// Click detection threshold (|sample|) and the silence that must precede a click.
pub(super) const CLICK_LEVEL: i16 = 4000;
pub(super) const CLICK_QUIET_SAMPLES: usize = 48 * 100;

/// `NAME-ID` for a peer's recordings: both come from the network, so only letters and digits are kept
/// (anything else becomes `_`) and they are cut by characters, never inside one.
pub(super) fn file_stem(peer: &PeerInfo) -> String {
    let plain = |text: &str, most: usize| -> String {
        text.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).take(most).collect()
    };
    format!("{}-{}", plain(&peer.name, 32), plain(&peer.id, 8))
}

impl CliSinks {
    /// With `--record`: a recorder for `file`, kept to be finished at the end.
    fn video_recorder(&self, file: String) -> Option<Arc<Mutex<Option<Y4mRecorder>>>> {
        let rec = Arc::new(Mutex::new(Some(Y4mRecorder::new(self.record.as_ref()?.join(file), self.fps))));
        self.videos.lock().ok()?.push(rec.clone());
        Some(rec)
    }
}

/// Writes each frame until the recording fails once.
fn record_frame(rec: &Mutex<Option<Y4mRecorder>>, frame: &kaiwa_media::video::I420Frame) {
    if let Ok(mut guard) = rec.lock()
        && let Some(r) = guard.as_mut()
        && let Err(e) = r.write(frame)
    {
        tracing::warn!(error = %e, "recording stopped");
        *guard = None;
    }
}

impl MediaSinks for CliSinks {
    fn video(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let rec = self.video_recorder(format!("{}.y4m", file_stem(peer)));
        let measure = self.measure(peer);
        let started = self.started;
        let mut stamps = StampReader::default();
        let reference = self.psnr_reference.clone();
        let mut decoded = 0u64;
        Some(Box::new(move |v: &DecodedVideo| {
            decoded += 1;
            // Outside the lock: the comparison takes about a millisecond.
            let quality = reference.as_ref().filter(|_| decoded.is_multiple_of(6)).map(|r| r.psnr(&v.frame));
            if let Ok(mut m) = measure.lock() {
                match quality {
                    Some(Some(db)) => m.psnr_db.push(db),
                    Some(None) => m.psnr_unreadable += 1,
                    None => {}
                }
                m.first_frame.get_or_insert_with(|| started.elapsed());
                if let Some(stamp) = stamps.read(&v.frame) {
                    m.video_latency_us.push(kaiwa_devices::wall_clock_us().saturating_sub(stamp.capture_us));
                }
            }
            if let Some(rec) = &rec {
                record_frame(rec, &v.frame);
            }
        }))
    }

    /// A shared screen is recorded beside the camera (`NAME-ID-screen.y4m`); its figures are in the stats,
    /// and when its top rows carry the test pattern's stamp, its latency is measured.
    fn screen(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let rec = self.video_recorder(format!("{}-screen.y4m", file_stem(peer)));
        let measure = self.measure(peer);
        let mut stamps = StampReader::default();
        Some(Box::new(move |v: &DecodedVideo| {
            if let Some(stamp) = stamps.read(&v.frame)
                && let Ok(mut m) = measure.lock()
            {
                m.screen_latency_us.push(kaiwa_devices::wall_clock_us().saturating_sub(stamp.capture_us));
            }
            if let Some(rec) = &rec {
                record_frame(rec, &v.frame);
            }
        }))
    }

    fn speaker(&self) -> Option<AudioSink> {
        let mut sink = self.speaker.lock().ok()?.take()?;
        Some(Box::new(move |pcm: &[i16]| {
            if let Err(e) = sink.play(pcm) {
                tracing::debug!(error = %e, "speaker");
            }
        }))
    }

    fn audio(&self, peer: &PeerInfo) -> Option<AudioSink> {
        let rec = self.record.as_ref().map(|dir| {
            Arc::new(Mutex::new(Some(WavRecorder::new(dir.join(format!("{}.wav", file_stem(peer)))))))
        });
        if let Some(rec) = &rec {
            self.audios.lock().ok()?.push(rec.clone());
        }
        let measure = self.measure(peer);
        let period = self.click_period_us;
        Some(Box::new(move |pcm: &[i16]| {
            // This frame starts playing now; sample i is heard i/48 ms later.
            let now = kaiwa_devices::wall_clock_us();
            if let Ok(mut m) = measure.lock() {
                for (i, &s) in pcm.iter().enumerate() {
                    if s.saturating_abs() >= CLICK_LEVEL {
                        if m.quiet_samples >= CLICK_QUIET_SAMPLES {
                            let heard = now + i as u64 * 1000 / 48;
                            m.audio_latency_us.push(heard % period);
                        }
                        m.quiet_samples = 0;
                    } else {
                        m.quiet_samples = m.quiet_samples.saturating_add(1);
                    }
                }
            }
            if let Some(rec) = &rec
                && let Ok(mut guard) = rec.lock()
                && let Some(r) = guard.as_mut()
            {
                r.write(pcm);
            }
        }))
    }
}

impl CliSinks {
    pub(super) fn finish(&self) -> anyhow::Result<()> {
        for v in self.videos.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default() {
            if let Some(r) = v.lock().ok().and_then(|mut g| g.take()) {
                r.finish()?;
            }
        }
        for a in self.audios.lock().map(|mut a| std::mem::take(&mut *a)).unwrap_or_default() {
            if let Some(r) = a.lock().ok().and_then(|mut g| g.take()) {
                r.finish()?;
            }
        }
        Ok(())
    }
}
