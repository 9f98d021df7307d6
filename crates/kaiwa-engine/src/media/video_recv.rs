//! Decode thread for one remote video track: RTP payloads in (handed over by the track's pump task at
//! once), through a [`VideoReception`] (reassembly with our depacketizers, RFC 6184 for H.264 and RFC 7741
//! for VP8, validating every length; openh264 or libvpx; playout until due, no delay on a clean link and
//! enough to absorb NACK repairs on a lossy one), frames out to a sink, keyframe requests (PLI) to the pump.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Instant;

use tokio::sync::mpsc;

use super::video_reception::VideoReception;
pub use super::video_reception::{DecodedVideo, RtpIn, VideoRecvStats};

/// Packets waiting for the decode thread; beyond this the pump drops (and counts) them.
pub const RTP_QUEUE: usize = 1024;

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
    let mut reception = VideoReception::new(stats, Instant::now());
    loop {
        match rx.recv_timeout(reception.wait(Instant::now())) {
            Ok(p) => reception.packet(p),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let polled = reception.poll(Instant::now());
        if polled.request_keyframe {
            let _ = pli.try_send(());
        }
        for shown in polled.shown {
            sink(&shown);
            // Sinks copy what they keep: a later picture is decoded into this one's buffers.
            reception.recycle(shown.frame);
        }
    }
}
