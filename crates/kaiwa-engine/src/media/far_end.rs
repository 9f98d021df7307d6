//! The echo canceller's far-end reference: every mixed 20 ms frame the playout thread hands to the speaker
//! is copied to the audio-send thread, which feeds it to the [`AudioProcessor`] before it processes the
//! next microphone frame.
//!
//! A bounded channel of fixed-size frames (no allocation per frame). The playout side never waits: when
//! the send thread is not draining it (no microphone, a stalled source) frames are dropped and counted.
//!
//! [`AudioProcessor`]: kaiwa_media::audio::AudioProcessor

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use kaiwa_media::audio::FRAME_SAMPLES;

/// Frames (20 ms each) that may wait for the send thread: a second, so a send thread starved of CPU for a
/// while catches up on the reference instead of leaving holes in it (a dropped far-end frame is echo the
/// canceller cannot predict).
const QUEUE: usize = 50;

pub type FarEndFrame = [i16; FRAME_SAMPLES];

/// The playout thread's end.
pub struct FarEndSender {
    tx: SyncSender<FarEndFrame>,
    dropped: Arc<AtomicU64>,
}

impl FarEndSender {
    /// Hands on one mixed speaker frame without waiting; a full queue drops it (counted).
    pub fn send(&self, frame: &FarEndFrame) {
        match self.tx.try_send(*frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Relaxed);
            }
            // Nobody sends audio: nothing to cancel.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A far-end channel and the counter of frames it dropped.
pub fn far_end_channel() -> (FarEndSender, Receiver<FarEndFrame>, Arc<AtomicU64>) {
    let (tx, rx) = sync_channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    (FarEndSender { tx, dropped: dropped.clone() }, rx, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (tx, rx, dropped) = far_end_channel();
        let frame = [1i16; FRAME_SAMPLES];
        for _ in 0..QUEUE + 5 {
            tx.send(&frame);
        }
        assert_eq!(dropped.load(Relaxed), 5);
        assert_eq!(rx.try_iter().count(), QUEUE);
        drop(rx);
        tx.send(&frame);
        assert_eq!(dropped.load(Relaxed), 5, "a closed channel is not a drop");
    }
}
