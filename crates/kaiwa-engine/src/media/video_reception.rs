//! What happens to one remote video track's packets, with time passed in: reassembly (our depacketizers),
//! decoding, waiting for repairs of missing packets (as long as repairs have taken, `RepairWait`),
//! keyframe requests on loss, decoder errors and missing keyframes (at most every [`PLI_INTERVAL`]),
//! playout until due, freeze and recovery counting. No thread, channel or clock: the decode thread
//! (`video_recv.rs`) feeds it packets and the time, and shows what it returns.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_media::video::{
    DepacketizerConfig, DepacketizerEvent, I420Frame, VideoCodec, VideoDecoder, VideoDepacketizer,
    VideoPlayout,
};
use tracing::debug;

use super::repair_wait::RepairWait;

/// Keyframe requests are sent at most this often.
pub const PLI_INTERVAL: Duration = Duration::from_millis(250);
/// How often the decode thread wakes without packets to check the repair wait.
pub const REPAIR_TICK: Duration = Duration::from_millis(20);

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

/// What [`VideoReception::poll`] has for the thread: pictures to show now, in order, and whether to send a
/// keyframe request.
#[derive(Default)]
pub struct Polled {
    pub shown: Vec<DecodedVideo>,
    pub request_keyframe: bool,
}

pub struct VideoReception {
    stats: Arc<VideoRecvStats>,
    depacketizer_config: DepacketizerConfig,
    /// Made for the codec of the first packet, and again if the codec changes (renegotiation).
    depacketizer: VideoDepacketizer,
    decoder: Option<VideoDecoder>,
    /// Since when packets have been waiting for a missing one, and how long they may.
    gap_since: Option<Instant>,
    repair: RepairWait,
    last_request: Option<Instant>,
    /// A keyframe request decided on, not yet handed to the thread.
    request_pending: bool,
    freezes: FreezeCounter,
    playout: VideoPlayout<DecodedVideo>,
    /// Since when the picture has been broken (loss or decode error), until a frame decodes again.
    broken_since: Option<Instant>,
}

impl VideoReception {
    /// Asks for a keyframe at once: the first frame we can decode is one, and waiting for the sender's
    /// next would cost seconds.
    pub fn new(stats: Arc<VideoRecvStats>, now: Instant) -> Self {
        // A missing packet is given up on after a time that follows the repairs seen (`RepairWait`), not
        // after a count of later frames, which is a time that depends on the frame rate; the packet window
        // is wide enough for 250 ms of 2.5 Mbit/s video.
        let depacketizer_config = DepacketizerConfig {
            reorder_frames: usize::MAX,
            reorder_window: 512,
            ..DepacketizerConfig::default()
        };
        let mut reception = VideoReception {
            stats,
            depacketizer_config,
            depacketizer: VideoDepacketizer::new(VideoCodec::H264, depacketizer_config),
            decoder: None,
            gap_since: None,
            repair: RepairWait::default(),
            last_request: None,
            request_pending: false,
            freezes: FreezeCounter::new(),
            playout: VideoPlayout::default(),
            broken_since: None,
        };
        reception.request_keyframe(now);
        reception
    }

    /// How long the thread may wait for the next packet before it must poll again.
    pub fn wait(&self, now: Instant) -> Duration {
        self.playout.next_due().map_or(REPAIR_TICK, |due| due.saturating_duration_since(now)).min(REPAIR_TICK)
    }

    /// One packet, arrived at `now` (unused yet: reassembly goes by sequence numbers).
    pub fn packet(&mut self, p: RtpIn) {
        self.stats.packets.fetch_add(1, Relaxed);
        if self.decoder.as_ref().is_none_or(|d| d.codec() != p.codec) {
            match VideoDecoder::new(p.codec) {
                Ok(d) => {
                    debug!(codec = %p.codec, "receiving video");
                    self.stats.codec.store(1 + p.codec.index() as u8, Relaxed);
                    self.decoder = Some(d);
                    self.depacketizer = VideoDepacketizer::new(p.codec, self.depacketizer_config);
                    self.gap_since = None;
                }
                Err(e) => return debug!(codec = %p.codec, error = %e, "cannot start the decoder"),
            }
        }
        if let Err(e) = self.depacketizer.push(p.sequence_number, p.timestamp, p.marker, &p.payload) {
            debug!(codec = %p.codec, error = %e, "malformed RTP payload");
        }
    }

    /// Everything due at `now`: repairs given up on, frames decoded, pictures to show, keyframe requests.
    pub fn poll(&mut self, now: Instant) -> Polled {
        self.give_up_on_repairs(now);
        self.decode(now);
        let mut polled = Polled::default();
        while let Some(mut shown) = self.playout.pop(now) {
            shown.shown_at = now;
            if let Some(gap) = self.freezes.shown(now) {
                self.stats.freezes.fetch_add(1, Relaxed);
                self.stats.freeze_ms.fetch_add(gap.as_millis() as u64, Relaxed);
            }
            polled.shown.push(shown);
        }
        self.stats.playout_delay_ms.store(self.playout.delay().as_millis() as u64, Relaxed);
        if self.depacketizer.waiting_for_keyframe()
            || self.decoder.as_ref().is_some_and(|d| d.needs_keyframe())
        {
            self.request_keyframe(now);
        }
        self.stats.frames_dropped.store(self.depacketizer.stats().dropped_frames, Relaxed);
        polled.request_keyframe = std::mem::take(&mut self.request_pending);
        polled
    }

    /// A shown picture's buffers back, for the next one to be decoded into.
    pub fn recycle(&mut self, frame: I420Frame) {
        if let Some(decoder) = self.decoder.as_mut() {
            decoder.recycle(frame);
        }
    }

    fn give_up_on_repairs(&mut self, now: Instant) {
        if self.depacketizer.is_waiting_for_missing() {
            let since = *self.gap_since.get_or_insert(now);
            let waited = now.saturating_duration_since(since);
            if waited >= self.repair.wait() {
                debug!(?waited, "missing video packet given up on");
                self.depacketizer.skip_missing();
                self.repair.gave_up();
                self.gap_since = None;
            }
        } else if let Some(since) = self.gap_since.take() {
            self.repair.repaired(now.saturating_duration_since(since));
        }
    }

    fn decode(&mut self, now: Instant) {
        let Some(decoder) = self.decoder.as_mut() else { return };
        let mut broken = false;
        while let Some(event) = self.depacketizer.poll_event() {
            match event {
                DepacketizerEvent::Loss { .. } => {
                    decoder.mark_loss();
                    self.broken_since.get_or_insert(now);
                    broken = true;
                }
                DepacketizerEvent::Frame(au) => match decoder.decode(&au.data) {
                    Ok(Some(frame)) => {
                        if let Some(since) = self.broken_since.take() {
                            self.stats.recoveries.fetch_add(1, Relaxed);
                            let interruption = now.saturating_duration_since(since).as_millis() as u64;
                            self.stats.max_recovery_ms.fetch_max(interruption, Relaxed);
                        }
                        self.stats.frames_decoded.fetch_add(1, Relaxed);
                        self.stats.width.store(u64::from(frame.width()), Relaxed);
                        self.stats.height.store(u64::from(frame.height()), Relaxed);
                        let decoded = DecodedVideo { frame, rtp_timestamp: au.timestamp, shown_at: now };
                        self.playout.push(decoded, au.timestamp, now);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.broken_since.get_or_insert(now);
                        self.stats.decode_errors.fetch_add(1, Relaxed);
                        debug!(error = %e, "decode failed");
                        broken = true;
                    }
                },
            }
        }
        if broken {
            self.request_keyframe(now);
        }
    }

    fn request_keyframe(&mut self, now: Instant) {
        if self.last_request.is_none_or(|t| now.saturating_duration_since(t) >= PLI_INTERVAL) {
            self.last_request = Some(now);
            self.stats.keyframe_requests.fetch_add(1, Relaxed);
            self.request_pending = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiwa_media::video::{EncoderConfig, TestPattern, VideoEncoder, VideoPacketizer};

    /// A 30 fps H.264 sender of the test pattern: each frame's packets, numbered on.
    struct Sender {
        pattern: TestPattern,
        encoder: VideoEncoder,
        packetizer: VideoPacketizer,
        frame: u32,
        sequence: u16,
    }

    impl Sender {
        fn new() -> Self {
            let config = EncoderConfig::call(160, 120);
            Sender {
                pattern: TestPattern::new(160, 120).unwrap(),
                encoder: VideoEncoder::new(VideoCodec::H264, config).unwrap(),
                packetizer: VideoPacketizer::new(VideoCodec::H264, 1200),
                frame: 0,
                sequence: 0,
            }
        }

        fn next(&mut self, keyframe: bool) -> Vec<RtpIn> {
            let picture = self.pattern.frame(self.frame, 0);
            let coded = self.encoder.encode(&picture, keyframe).unwrap().expect("a coded frame");
            let timestamp = self.frame * 3000;
            self.frame += 1;
            self.packetizer
                .packetize(&coded.data)
                .into_iter()
                .map(|p| {
                    self.sequence = self.sequence.wrapping_add(1);
                    RtpIn {
                        codec: VideoCodec::H264,
                        sequence_number: self.sequence,
                        timestamp,
                        marker: p.marker,
                        payload: Bytes::from(p.payload),
                    }
                })
                .collect()
        }
    }

    const FRAME: Duration = Duration::from_millis(33);

    #[test]
    fn a_keyframe_is_asked_for_at_once_then_frames_show_without_delay() {
        let t0 = Instant::now();
        let stats = Arc::new(VideoRecvStats::default());
        let mut r = VideoReception::new(stats.clone(), t0);
        assert!(r.poll(t0).request_keyframe);
        let mut sender = Sender::new();
        let mut shown = 0;
        for i in 0..10u32 {
            let now = t0 + FRAME * i;
            for p in sender.next(i == 0) {
                r.packet(p);
            }
            let polled = r.poll(now);
            assert!(!polled.request_keyframe, "frame {i}");
            shown += polled.shown.len();
        }
        assert_eq!(shown, 10);
        assert_eq!(stats.freezes.load(Relaxed), 0);
        assert_eq!((stats.width.load(Relaxed), stats.height.load(Relaxed)), (160, 120));
    }

    #[test]
    fn a_lost_packet_is_waited_for_then_given_up_on_and_a_keyframe_recovers_the_picture() {
        let t0 = Instant::now();
        let stats = Arc::new(VideoRecvStats::default());
        let mut r = VideoReception::new(stats.clone(), t0);
        r.poll(t0);
        let mut sender = Sender::new();
        for p in sender.next(true) {
            r.packet(p);
        }
        assert_eq!(r.poll(t0).shown.len(), 1);
        // The next frame is lost (one packet at this size); the one after shows the gap, and waits.
        let _lost = sender.next(false);
        let at = t0 + FRAME * 2;
        for p in sender.next(false) {
            r.packet(p);
        }
        let polled = r.poll(at);
        assert!(polled.shown.is_empty() && !polled.request_keyframe, "a repair may still come");
        // Not repaired within the wait: given up, and a keyframe asked for (once per PLI_INTERVAL).
        let later = at + RepairWait::default().wait() + REPAIR_TICK;
        assert!(r.poll(later).request_keyframe);
        assert!(!r.poll(later + Duration::from_millis(10)).request_keyframe, "rate-limited");
        // The keyframe comes 400 ms after the loss was noticed: the picture is back, the interruption
        // counted with its length, and the gap in what was shown is a freeze.
        let back = later + Duration::from_millis(400);
        for p in sender.next(true) {
            r.packet(p);
        }
        let polled = r.poll(back);
        assert_eq!(polled.shown.len(), 1);
        assert_eq!(stats.recoveries.load(Relaxed), 1);
        let interruption = stats.max_recovery_ms.load(Relaxed);
        assert!(interruption >= 400, "{interruption} ms");
        assert_eq!(stats.freezes.load(Relaxed), 1);
    }

    #[test]
    fn freezes_follow_webrtcs_definition() {
        let t0 = Instant::now();
        let mut f = FreezeCounter::new();
        for i in 0..30u32 {
            assert_eq!(f.shown(t0 + FRAME * i), None);
        }
        // 33 ms apart on average: a 150 ms gap is not a freeze, a 250 ms one is (over average + 150 ms).
        let t = t0 + FRAME * 29;
        assert_eq!(f.shown(t + Duration::from_millis(150)), None);
        let t = t + Duration::from_millis(150);
        for i in 1..=30u32 {
            f.shown(t + FRAME * i);
        }
        let t = t + FRAME * 30;
        assert_eq!(f.shown(t + Duration::from_millis(250)), Some(Duration::from_millis(250)));
    }
}
