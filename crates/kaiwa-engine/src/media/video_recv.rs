//! Decode thread for one remote video track: RTP payloads in (handed over by the track's pump task at
//! once), reassembled with our RFC 6184 depacketizer (validating every length, unlike rtc-rtp's), decoded
//! with openh264, frames out to a sink. Loss, a decoder error or a missing keyframe asks for a PLI.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_media::video::{DepacketizerConfig, DepacketizerEvent, H264Decoder, H264Depacketizer, I420Frame};
use tokio::sync::mpsc;
use tracing::debug;

/// Packets waiting for the decode thread; beyond this the pump drops (and counts) them.
pub const RTP_QUEUE: usize = 1024;
/// Keyframe requests are sent at most this often.
const PLI_INTERVAL: Duration = Duration::from_millis(250);

/// One received RTP packet of a video track.
#[derive(Debug)]
pub struct RtpIn {
    pub sequence_number: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// A decoded picture.
pub struct DecodedVideo {
    pub frame: I420Frame,
    pub rtp_timestamp: u32,
    pub decoded_at: Instant,
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
    let mut depacketizer = H264Depacketizer::new(DepacketizerConfig::default());
    let mut decoder = match H264Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            debug!(error = %e, "cannot start the H.264 decoder");
            return;
        }
    };
    let mut last_pli: Option<Instant> = None;
    let mut last_frame: Option<Instant> = None;
    // Since when the picture has been broken (loss or decode error), until a frame decodes again.
    let mut broken_since: Option<Instant> = None;
    let mut avg_interval = Duration::from_millis(33);
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
    while let Ok(p) = rx.recv() {
        stats.packets.fetch_add(1, Relaxed);
        if let Err(e) = depacketizer.push(p.sequence_number, p.timestamp, p.marker, &p.payload) {
            debug!(error = %e, "malformed H.264 RTP payload");
        }
        while let Some(event) = depacketizer.poll_event() {
            match event {
                DepacketizerEvent::Loss { .. } => {
                    decoder.mark_loss();
                    broken_since.get_or_insert_with(Instant::now);
                    request_keyframe(&stats);
                }
                DepacketizerEvent::Frame(au) => match decoder.decode(&au.annex_b) {
                    Ok(Some(frame)) => {
                        let now = Instant::now();
                        if let Some(since) = broken_since.take() {
                            stats.recoveries.fetch_add(1, Relaxed);
                            stats.max_recovery_ms.fetch_max((now - since).as_millis() as u64, Relaxed);
                        }
                        if let Some(prev) = last_frame {
                            let gap = now - prev;
                            // WebRTC's freeze definition: a gap over max(3 × average, average + 150 ms).
                            if gap > (avg_interval * 3).max(avg_interval + Duration::from_millis(150)) {
                                stats.freezes.fetch_add(1, Relaxed);
                                stats.freeze_ms.fetch_add(gap.as_millis() as u64, Relaxed);
                            }
                            avg_interval = avg_interval.mul_f64(0.9) + gap.mul_f64(0.1);
                        }
                        last_frame = Some(now);
                        stats.frames_decoded.fetch_add(1, Relaxed);
                        stats.width.store(u64::from(frame.width()), Relaxed);
                        stats.height.store(u64::from(frame.height()), Relaxed);
                        let decoded = DecodedVideo { frame, rtp_timestamp: au.timestamp, decoded_at: now };
                        sink(&decoded);
                        // Sinks copy what they keep: the next picture is decoded into this one's buffers.
                        decoder.recycle(decoded.frame);
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
        if depacketizer.waiting_for_keyframe() || decoder.needs_keyframe() {
            request_keyframe(&stats);
        }
        stats.frames_dropped.store(depacketizer.stats().dropped_frames, Relaxed);
    }
}
