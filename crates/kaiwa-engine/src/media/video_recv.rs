//! Decode thread for one remote video track: RTP payloads in (handed over by the track's pump task at
//! once), reassembled with our depacketizers (RFC 6184 for H.264, RFC 7741 for VP8; validating every
//! length, unlike rtc-rtp's), decoded with openh264 or libvpx, held by a [`VideoPlayout`] until due (no delay on a clean link; enough to absorb NACK
//! repairs on a lossy one), frames out to a sink. Loss, a decoder error or a missing keyframe asks for a
//! PLI.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_media::video::{
    DepacketizerConfig, DepacketizerEvent, I420Frame, VideoCodec, VideoDecoder, VideoDepacketizer,
    VideoPlayout,
};
use tokio::sync::mpsc;

use super::repair_wait::RepairWait;
use tracing::debug;

/// Packets waiting for the decode thread; beyond this the pump drops (and counts) them.
pub const RTP_QUEUE: usize = 1024;
/// Keyframe requests are sent at most this often.
const PLI_INTERVAL: Duration = Duration::from_millis(250);
/// How often the decode thread wakes without packets to check that wait.
const REPAIR_TICK: Duration = Duration::from_millis(20);

/// One received RTP packet of a video track.
#[derive(Debug)]
pub struct RtpIn {
    /// The codec of its payload type.
    pub codec: VideoCodec,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// A decoded picture, as it is shown.
pub struct DecodedVideo {
    pub frame: I420Frame,
    pub rtp_timestamp: u32,
    pub shown_at: Instant,
}

/// WebRTC's freeze definition, on the times frames are shown: a gap over max(3 × average gap, average +
/// 150 ms).
#[derive(Debug)]
struct FreezeCounter {
    last: Option<Instant>,
    average: Duration,
}

impl FreezeCounter {
    fn new() -> Self {
        FreezeCounter { last: None, average: Duration::from_millis(33) }
    }

    /// A frame shown at `now`; the gap before it if that gap was a freeze.
    fn shown(&mut self, now: Instant) -> Option<Duration> {
        let prev = self.last.replace(now)?;
        let gap = now.saturating_duration_since(prev);
        let freeze = gap > (self.average * 3).max(self.average + Duration::from_millis(150));
        self.average = self.average.mul_f64(0.9) + gap.mul_f64(0.1);
        freeze.then_some(gap)
    }
}

/// Counters for stats.
#[derive(Debug, Default)]
pub struct VideoRecvStats {
    pub packets: AtomicU64,
    pub packets_dropped: AtomicU64,
    pub frames_decoded: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub decode_errors: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub freezes: AtomicU64,
    /// Total length of those freezes (the gaps counted as freezes), ms: WebRTC's `totalFreezesDuration`.
    pub freeze_ms: AtomicU64,
    /// Times the picture stopped for loss or a decode error and came back with a keyframe.
    pub recoveries: AtomicU64,
    /// Longest such interruption, from the loss being noticed to the next decoded frame.
    pub max_recovery_ms: AtomicU64,
    pub width: AtomicU64,
    pub height: AtomicU64,
    /// How long decoded frames are held before they are shown (0 on a clean link).
    pub playout_delay_ms: AtomicU64,
    /// The codec being decoded: 0 none yet, else 1 + [`VideoCodec::index`].
    pub codec: std::sync::atomic::AtomicU8,
}

impl VideoRecvStats {
    /// The codec being decoded.
    pub fn codec(&self) -> Option<VideoCodec> {
        usize::from(self.codec.load(Relaxed)).checked_sub(1).and_then(VideoCodec::from_index)
    }
}

pub type VideoSink = Box<dyn FnMut(&DecodedVideo) + Send>;

pub struct VideoReceiver {
    pub packets: SyncSender<RtpIn>,
    pub stats: Arc<VideoRecvStats>,
}

impl VideoReceiver {
    /// Starts a `kaiwa-video-recv` thread; it ends when `packets` (all its clones) are dropped.
    pub fn start(label: &str, sink: VideoSink, keyframe_requests: mpsc::Sender<()>) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(RTP_QUEUE);
        let stats = Arc::new(VideoRecvStats::default());
        let st = stats.clone();
        std::thread::Builder::new()
            .name(format!("kaiwa-video-recv-{label}"))
            .spawn(move || decode_loop(rx, sink, keyframe_requests, st))?;
        Ok(VideoReceiver { packets: tx, stats })
    }
}

fn decode_loop(rx: Receiver<RtpIn>, mut sink: VideoSink, pli: mpsc::Sender<()>, stats: Arc<VideoRecvStats>) {
    // A missing packet is given up on after a time that follows the repairs seen (`RepairWait`, below),
    // not after a count of later frames, which is a time that depends on the frame rate; the packet
    // window is wide enough for 250 ms of 2.5 Mbit/s video.
    let depacketizer_config = DepacketizerConfig {
        reorder_frames: usize::MAX,
        reorder_window: 512,
        ..DepacketizerConfig::default()
    };
    // Since when packets have been waiting for a missing one, and how long they may.
    let mut gap_since: Option<Instant> = None;
    let mut repair = RepairWait::default();
    // Made for the codec of the first packet, and again if the codec changes (renegotiation).
    let mut depacketizer = VideoDepacketizer::new(VideoCodec::H264, depacketizer_config);
    let mut decoder: Option<VideoDecoder> = None;
    let mut last_pli: Option<Instant> = None;
    let mut freezes = FreezeCounter::new();
    let mut playout: VideoPlayout<DecodedVideo> = VideoPlayout::default();
    // Since when the picture has been broken (loss or decode error), until a frame decodes again.
    let mut broken_since: Option<Instant> = None;
    let mut request_keyframe = |stats: &VideoRecvStats| {
        let now = Instant::now();
        if last_pli.is_none_or(|t| now - t >= PLI_INTERVAL) {
            last_pli = Some(now);
            stats.keyframe_requests.fetch_add(1, Relaxed);
            let _ = pli.try_send(());
        }
    };
    // The first frame we can decode is an IDR; ask for one straight away rather than wait for the next.
    request_keyframe(&stats);
    loop {
        let wait =
            playout.next_due().map_or(REPAIR_TICK, |due| due.saturating_duration_since(Instant::now()));
        match rx.recv_timeout(wait.min(REPAIR_TICK)) {
            Ok(p) => {
                stats.packets.fetch_add(1, Relaxed);
                if decoder.as_ref().is_none_or(|d| d.codec() != p.codec) {
                    match VideoDecoder::new(p.codec) {
                        Ok(d) => {
                            debug!(codec = %p.codec, "receiving video");
                            stats.codec.store(1 + p.codec.index() as u8, Relaxed);
                            decoder = Some(d);
                            depacketizer = VideoDepacketizer::new(p.codec, depacketizer_config);
                            gap_since = None;
                        }
                        Err(e) => {
                            debug!(codec = %p.codec, error = %e, "cannot start the decoder");
                            continue;
                        }
                    }
                }
                if let Err(e) = depacketizer.push(p.sequence_number, p.timestamp, p.marker, &p.payload) {
                    debug!(codec = %p.codec, error = %e, "malformed RTP payload");
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if depacketizer.is_waiting_for_missing() {
            let since = *gap_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= repair.wait() {
                debug!(waited = ?since.elapsed(), "missing video packet given up on");
                depacketizer.skip_missing();
                repair.gave_up();
                gap_since = None;
            }
        } else if let Some(since) = gap_since.take() {
            repair.repaired(since.elapsed());
        }
        let Some(decoder) = decoder.as_mut() else { continue };
        while let Some(event) = depacketizer.poll_event() {
            match event {
                DepacketizerEvent::Loss { .. } => {
                    decoder.mark_loss();
                    broken_since.get_or_insert_with(Instant::now);
                    request_keyframe(&stats);
                }
                DepacketizerEvent::Frame(au) => match decoder.decode(&au.data) {
                    Ok(Some(frame)) => {
                        let now = Instant::now();
                        if let Some(since) = broken_since.take() {
                            stats.recoveries.fetch_add(1, Relaxed);
                            stats.max_recovery_ms.fetch_max((now - since).as_millis() as u64, Relaxed);
                        }
                        stats.frames_decoded.fetch_add(1, Relaxed);
                        stats.width.store(u64::from(frame.width()), Relaxed);
                        stats.height.store(u64::from(frame.height()), Relaxed);
                        let decoded = DecodedVideo { frame, rtp_timestamp: au.timestamp, shown_at: now };
                        playout.push(decoded, au.timestamp, now);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        broken_since.get_or_insert_with(Instant::now);
                        stats.decode_errors.fetch_add(1, Relaxed);
                        debug!(error = %e, "decode failed");
                        request_keyframe(&stats);
                    }
                },
            }
        }
        let now = Instant::now();
        while let Some(mut shown) = playout.pop(now) {
            shown.shown_at = now;
            if let Some(gap) = freezes.shown(now) {
                stats.freezes.fetch_add(1, Relaxed);
                stats.freeze_ms.fetch_add(gap.as_millis() as u64, Relaxed);
            }
            sink(&shown);
            // Sinks copy what they keep: a later picture is decoded into this one's buffers.
            decoder.recycle(shown.frame);
        }
        stats.playout_delay_ms.store(playout.delay().as_millis() as u64, Relaxed);
        if depacketizer.waiting_for_keyframe() || decoder.needs_keyframe() {
            request_keyframe(&stats);
        }
        stats.frames_dropped.store(depacketizer.stats().dropped_frames, Relaxed);
    }
}
