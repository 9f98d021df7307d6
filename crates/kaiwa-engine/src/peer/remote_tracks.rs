//! Which of a peer's incoming tracks are played. A participant sends one microphone, one camera and,
//! while sharing, one screen. Camera off and on again arrives as a new track, and webrtc-rs does not end
//! the old one; a hostile or broken peer may offer dozens. Without a choice, each camera toggle of a peer
//! left a decode thread running here for the rest of the call, and a peer offering 8 video tracks started 8.
//!
//! So audio plays the newest audio track, and video keeps the last few tracks that arrived
//! ([`VideoTracks`], pure): the screen is the one whose media stream the peer announced as its screen
//! (`{"type":"media","screen":…}` on the data channel), the camera the newest of the others that was never
//! announced as a screen. The announcement and the track travel different ways (the data channel, the
//! signaling server) and either may come first: the choice is made again on both, and a track that played
//! as the camera until its announcement came moves to the screen (the camera before it plays again).
//! A track no one reads holds nothing up: webrtc-rs drops its events when its queue is full.

use std::collections::VecDeque;
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

/// What an incoming video track is shown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoRole {
    Camera,
    Screen,
}

impl VideoRole {
    pub const ALL: [VideoRole; 2] = [VideoRole::Camera, VideoRole::Screen];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Incoming video tracks kept to choose from (newest last); older ones are forgotten.
const KEPT_TRACKS: usize = 4;
/// Stream ids once announced as screens that are remembered (so a screen that ended never plays as a camera).
const KEPT_SCREENS: usize = 8;

/// A peer's incoming video tracks and its screen announcements; which track plays in which role.
/// Each track gets a number in order of arrival, which [`VideoTracks::chosen`] answers with.
#[derive(Debug)]
pub struct VideoTracks<T> {
    arrived: VecDeque<(u64, String, T)>,
    next: u64,
    /// The stream the peer shares its screen on now.
    screen: Option<String>,
    /// Every stream it announced as a screen (bounded).
    screens: VecDeque<String>,
}

impl<T> Default for VideoTracks<T> {
    fn default() -> Self {
        VideoTracks { arrived: VecDeque::new(), next: 0, screen: None, screens: VecDeque::new() }
    }
}

impl<T> VideoTracks<T> {
    /// A track of the media stream `stream_id` arrived. When too many are kept, the oldest that plays in
    /// no role is forgotten (never the camera of a peer that shared many times over).
    pub fn arrived(&mut self, stream_id: String, track: T) {
        if self.arrived.len() == KEPT_TRACKS {
            let playing: Vec<u64> =
                VideoRole::ALL.iter().filter_map(|r| self.chosen(*r).map(|(n, _)| n)).collect();
            let idle = self.arrived.iter().position(|(n, _, _)| !playing.contains(n)).unwrap_or(0);
            self.arrived.remove(idle);
        }
        self.arrived.push_back((self.next, stream_id, track));
        self.next += 1;
    }

    /// The peer shares its screen on `screen` now (or shares nothing).
    pub fn announced(&mut self, screen: Option<String>) {
        if let Some(id) = &screen
            && !self.screens.contains(id)
        {
            if self.screens.len() == KEPT_SCREENS {
                self.screens.pop_front();
            }
            self.screens.push_back(id.clone());
        }
        self.screen = screen;
    }

    /// Whether the peer says it shares a screen.
    pub fn sharing(&self) -> bool {
        self.screen.is_some()
    }

    /// The track that should play as `role` now: its number and the track.
    pub fn chosen(&self, role: VideoRole) -> Option<(u64, &T)> {
        let mut newest_first = self.arrived.iter().rev();
        let found = match role {
            VideoRole::Screen => newest_first.find(|(_, stream, _)| self.screen.as_ref() == Some(stream)),
            VideoRole::Camera => newest_first.find(|(_, stream, _)| !self.screens.contains(stream)),
        };
        found.map(|(n, _, track)| (*n, track))
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

    fn chosen(tracks: &VideoTracks<&'static str>) -> (Option<&'static str>, Option<&'static str>) {
        let of = |role| tracks.chosen(role).map(|(_, t)| *t);
        (of(VideoRole::Camera), of(VideoRole::Screen))
    }

    #[test]
    fn the_newest_camera_plays_and_the_announced_screen_beside_it() {
        let mut t = VideoTracks::default();
        t.arrived("cam-1".into(), "camera 1");
        assert_eq!(chosen(&t), (Some("camera 1"), None));
        // Camera off and on: a new track, the old one never ends.
        t.arrived("cam-2".into(), "camera 2");
        assert_eq!(chosen(&t), (Some("camera 2"), None));
        // Announced first, as our senders do it.
        t.announced(Some("scr".into()));
        assert_eq!(chosen(&t), (Some("camera 2"), None));
        t.arrived("scr".into(), "screen");
        assert_eq!(chosen(&t), (Some("camera 2"), Some("screen")));
        // Sharing ends: the screen stops and never plays as a camera; the camera plays on.
        t.announced(None);
        assert_eq!(chosen(&t), (Some("camera 2"), None));
        assert!(!t.sharing());
    }

    #[test]
    fn a_screen_that_arrives_before_its_announcement_moves_when_it_comes() {
        let mut t = VideoTracks::default();
        t.arrived("cam".into(), "camera");
        t.arrived("scr".into(), "screen");
        // Until the peer says otherwise, the newest track is its camera.
        assert_eq!(chosen(&t), (Some("screen"), None));
        t.announced(Some("scr".into()));
        assert_eq!(chosen(&t), (Some("camera"), Some("screen")));
        // A second share is a new stream.
        t.announced(None);
        t.announced(Some("scr-2".into()));
        t.arrived("scr-2".into(), "screen 2");
        assert_eq!(chosen(&t), (Some("camera"), Some("screen 2")));
    }

    #[test]
    fn sharing_many_times_over_never_pushes_the_camera_out() {
        let mut t = VideoTracks::default();
        t.arrived("cam".into(), "camera");
        for i in 0..10 {
            t.announced(Some(format!("scr-{i}")));
            t.arrived(format!("scr-{i}"), "screen");
            assert_eq!(chosen(&t), (Some("camera"), Some("screen")), "share {i}");
            t.announced(None);
        }
        assert_eq!(chosen(&t), (Some("camera"), None));
    }

    #[test]
    fn a_peer_offering_many_tracks_is_held_to_the_last_few() {
        let mut t = VideoTracks::default();
        for i in 0..100u64 {
            t.arrived(format!("s{i}"), i);
            t.announced(Some(format!("x{i}")));
        }
        assert_eq!(t.arrived.len(), KEPT_TRACKS);
        assert_eq!(t.screens.len(), KEPT_SCREENS);
        assert_eq!(t.chosen(VideoRole::Camera).map(|(n, v)| (n, *v)), Some((99, 99)));
        assert_eq!(t.chosen(VideoRole::Screen), None);
    }
}
