//! Which of a peer's incoming tracks are played: the newest of each kind. A participant sends one
//! microphone and one camera. Camera off and on again arrives as a new track, and webrtc-rs does not end
//! the old one; a hostile or broken peer may offer dozens. Without this, each camera toggle of a peer left
//! a decode thread running here for the rest of the call, and a peer offering 8 video tracks started 8.
//! So when a track of a kind arrives, the one played before stops (its decode thread ends) and the new one
//! plays. A track no one reads holds nothing up: webrtc-rs drops its events when its queue is full.

use std::future::Future;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The incoming track of one kind being played: its pump task, and how to stop it.
#[derive(Debug)]
pub struct Playing {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Playing {
    /// Spawns `pump`, which must return soon after the token it is given is cancelled (as
    /// `tracks::pump_video` and `tracks::pump_audio` do); cancelling `parent` stops it too.
    pub fn start<F>(parent: &CancellationToken, pump: impl FnOnce(CancellationToken) -> F) -> Playing
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = parent.child_token();
        let task = tokio::spawn(pump(stop.clone()));
        Playing { stop, task }
    }

    /// Stops the pump and waits until it has cleaned up (an audio pump removes its stream from playout,
    /// which must happen before the next track of the peer adds its own).
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

    use super::*;

    #[tokio::test]
    async fn stopping_waits_for_the_pump_and_the_parent_stops_it_too() {
        let parent = CancellationToken::new();
        let cleaned = Arc::new(AtomicBool::new(false));
        let flag = cleaned.clone();
        let playing = Playing::start(&parent, |stop| async move {
            stop.cancelled().await;
            flag.store(true, SeqCst);
        });
        playing.stop().await;
        assert!(cleaned.load(SeqCst));

        let second = Playing::start(&parent, |stop| async move { stop.cancelled().await });
        parent.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), second.task).await.unwrap().unwrap();
    }
}
