//! The call screen's state from events and actions, without a window, an engine or a network.

use std::time::{Duration, Instant};

use kaiwa_engine::chat::ChatMessage;
use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::{AudioLevel, AudioVolume, EngineEvent, PeerState, ShareEnded};
use kaiwa_protocol::PeerInfo;

use super::*;
use crate::app::session::{Command, Update};

fn call() -> CallState {
    CallState::new("design-review".into(), None, Default::default())
}

fn joined(call: &mut CallState, id: &str, name: &str) {
    call.on_event(EngineEvent::PeerJoined(PeerInfo { id: id.into(), name: name.into(), fingerprint: None }));
}

fn stats(id: &str, bytes_received: u64, frames_decoded: u64) -> PeerStats {
    let mut s = PeerStats {
        id: id.into(),
        name: String::new(),
        state: PeerState::Connected,
        setup_ms: None,
        local_candidate: None,
        remote_candidate: None,
        relay_transport: None,
        pair_protocol: None,
        rtt_ms: None,
        bytes_sent: 0,
        bytes_received,
        codecs: Vec::new(),
        verification_code: None,
        video_formats: Default::default(),
        video_in: Default::default(),
        screen_in: None,
        audio_in: Default::default(),
        out: Default::default(),
        negotiation: Default::default(),
        via_sfu: false,
    };
    s.video_in.frames_decoded = frames_decoded;
    s
}

fn chat(from: &str, text: &str) -> EngineEvent {
    EngineEvent::Chat {
        from: from.into(),
        message: ChatMessage { from: "sent name".into(), text: text.into(), ts: 0 },
    }
}

#[test]
fn joining_counts_everyone_and_the_room_capacity() {
    let mut c = call();
    assert!(!c.joined);
    c.on_event(EngineEvent::Joined {
        id: "me".into(),
        room: "design-review".into(),
        max_peers: 6,
        rejoined: false,
    });
    joined(&mut c, "b", "Bo");
    joined(&mut c, "b", "Bo");
    assert!(c.joined);
    assert_eq!((c.here(), c.capacity), (2, 6), "one tile per participant, however often announced");
    assert_eq!(c.peers[0].state, PeerState::Connecting);
    assert_eq!(c.peers[0].overlay(false), Some(Overlay::Connecting));
}

#[test]
fn a_renamed_peer_keeps_its_tile_its_sink_and_its_name_in_chat() {
    let mut c = call();
    joined(&mut c, "old", "Bo");
    c.on_event(EngineEvent::PeerRenamed { old: "old".into(), new: "new".into() });
    assert_eq!(c.peers.len(), 1);
    assert_eq!(c.peers[0].info.id, "new");
    assert_eq!(c.peers[0].sink_id, "old", "video keeps arriving under the first id");
    c.on_event(EngineEvent::PeerState { id: "new".into(), state: PeerState::Connected });
    assert_eq!(c.peers[0].state, PeerState::Connected);
    c.on_event(chat("new", "still me"));
    assert_eq!(c.chat[0].from, "Bo", "the name they joined with, not the one in the message");
    c.on_event(EngineEvent::PeerLeft(PeerInfo { id: "new".into(), name: "Bo".into(), fingerprint: None }));
    assert!(c.peers.is_empty());
}

#[test]
fn chat_while_the_panel_is_closed_counts_as_unread_until_it_opens() {
    let mut c = call();
    joined(&mut c, "b", "Bo");
    c.on_event(chat("b", "seen"));
    assert_eq!(c.unread, 0, "the panel starts open");
    assert_eq!(c.act(Action::ToggleChat), None);
    c.on_event(chat("b", "one"));
    c.on_event(chat("b", "two"));
    assert_eq!(c.unread, 2);
    c.act(Action::ToggleChat);
    assert_eq!(c.unread, 0);
    assert_eq!(c.chat.len(), 3, "nothing lost while closed");
}

#[test]
fn actions_change_the_state_and_say_what_to_tell_the_call() {
    let mut c = call();
    assert_eq!(c.act(Action::ToggleMute), Some(Command::Mute(true)));
    assert!(c.muted);
    assert_eq!(c.act(Action::ToggleMute), Some(Command::Mute(false)));
    assert_eq!(c.act(Action::ToggleCamera), Some(Command::Camera(false)));
    assert!(!c.camera_on);
    assert_eq!(c.act(Action::SetAudioProcessing(false)), Some(Command::AudioProcessing(false)));
    assert_eq!(c.act(Action::SendChat("こんにちは".into())), Some(Command::Chat("こんにちは".into())));
    assert_eq!(c.chat.last().map(|l| (l.mine, l.text.as_str())), Some((true, "こんにちは")));
    assert_eq!(c.act(Action::Leave), None, "leaving is the app's");
}

#[test]
fn bitrate_and_frame_rate_are_the_change_between_two_stats_ticks() {
    let mut c = call();
    joined(&mut c, "b", "Bo");
    c.on_stats(vec![stats("b", 100_000, 30), stats("someone-gone", 1, 1)]);
    assert_eq!((c.peers[0].kbps, c.peers[0].fps), (0.0, 0.0), "no rate from one sample");
    c.on_stats(vec![stats("b", 225_000, 59)]);
    assert_eq!((c.peers[0].kbps, c.peers[0].fps), (1000.0, 29.0));
    // A restarted counter (a new video track) reads as nothing, not as a huge number.
    c.on_stats(vec![stats("b", 350_000, 3)]);
    assert_eq!(c.peers[0].fps, 0.0);
}

#[test]
fn the_overlay_says_why_there_is_no_picture() {
    let mut c = call();
    joined(&mut c, "b", "Bo");
    c.on_event(EngineEvent::PeerState { id: "b".into(), state: PeerState::Connected });
    let p = &c.peers[0];
    assert_eq!(p.overlay(false), Some(Overlay::WaitingForVideo));
    assert_eq!(p.overlay(true), None);
    c.on_event(EngineEvent::PeerMedia { id: "b".into(), mic: true, camera: false, screen: false });
    assert_eq!(c.peers[0].overlay(false), None, "camera off is a badge, not a wait");
    c.on_event(EngineEvent::PeerState { id: "b".into(), state: PeerState::Reconnecting });
    assert_eq!(c.peers[0].overlay(true), Some(Overlay::Reconnecting));
}

#[test]
fn speaking_holds_between_words_and_a_muted_peer_is_not_speaking() {
    let t0 = Instant::now();
    let mut c = call();
    joined(&mut c, "b", "Bo");
    let level = AudioLevel::default();
    c.on_event(EngineEvent::PeerAudioLevel {
        id: "b".into(),
        level: level.clone(),
        volume: AudioVolume::default(),
    });
    level.set_from(&[8000; 960]);
    c.update_speaking(0.5, t0);
    assert!(c.peers[0].is_speaking() && c.self_speaking.is_on());
    level.set_from(&[0; 960]);
    c.update_speaking(0.0, t0 + Duration::from_millis(399));
    assert!(c.peers[0].is_speaking(), "held between words");
    c.update_speaking(0.0, t0 + Duration::from_millis(400));
    assert!(!c.peers[0].is_speaking());
    level.set_from(&[8000; 960]);
    c.on_event(EngineEvent::PeerMedia { id: "b".into(), mic: false, camera: true, screen: false });
    c.update_speaking(0.0, t0 + Duration::from_secs(1));
    assert!(!c.peers[0].is_speaking(), "muted: their last level does not count");
    c.act(Action::ToggleMute);
    c.update_speaking(0.9, t0 + Duration::from_secs(2));
    assert!(!c.self_speaking.is_on(), "we are muted");
}

#[test]
fn updates_from_the_session_land_in_the_state() {
    let mut c = call();
    c.apply(Update::Notices(vec!["No camera: sending a test pattern".into()]));
    c.apply(Update::Engine(EngineEvent::SignalingLost {
        reason: "closed".into(),
        retry_in: Duration::from_secs(2),
    }));
    assert_eq!(c.notices.len(), 1);
    assert_eq!(c.signaling_lost.as_deref(), Some("Reconnecting to the server… (closed; next try in 2s)"));
    c.apply(Update::Engine(EngineEvent::Joined {
        id: "me".into(),
        room: "r".into(),
        max_peers: 6,
        rejoined: true,
    }));
    assert_eq!(c.signaling_lost, None, "back");
    c.apply(Update::Engine(EngineEvent::Failed("refused".into())));
    c.apply(Update::Ended);
    assert_eq!(c.failed.as_deref(), Some("refused"));
    assert!(c.ended);
}

#[test]
fn a_volume_is_kept_by_name_and_applied_when_their_audio_starts() {
    let mut c = call();
    joined(&mut c, "b", "Bo");
    // Set before Bo's audio has started: kept, applied when it does.
    assert_eq!(c.act(Action::SetVolume { id: "b".into(), volume: 0.5 }), None);
    assert_eq!(c.volume_of(&c.peers[0]), 0.5);
    let volume = AudioVolume::default();
    c.on_event(EngineEvent::PeerAudioLevel {
        id: "b".into(),
        level: AudioLevel::default(),
        volume: volume.clone(),
    });
    assert_eq!(volume.get(), 0.5);
    c.act(Action::SetVolume { id: "b".into(), volume: 9.0 });
    assert_eq!(volume.get(), 2.0, "at most 200 %");
    // Bo leaves and comes back under a new id (or in the next call, which starts from these volumes).
    c.on_event(EngineEvent::PeerLeft(PeerInfo { id: "b".into(), name: "Bo".into(), fingerprint: None }));
    joined(&mut c, "b2", "Bo");
    let again = AudioVolume::default();
    c.on_event(EngineEvent::PeerAudioLevel {
        id: "b2".into(),
        level: AudioLevel::default(),
        volume: again.clone(),
    });
    assert_eq!(again.get(), 2.0);
    let next = CallState::new("next".into(), None, c.volumes.clone());
    assert_eq!(next.volumes.get("Bo"), Some(&2.0));
    // Someone else is untouched.
    joined(&mut c, "z", "Zoë");
    assert_eq!(c.volume_of(&c.peers[1]), 1.0);
}

#[test]
fn a_pinned_tile_follows_renames_and_falls_back_when_they_leave() {
    use super::super::layout::Pinned;
    let mut c = call();
    joined(&mut c, "a", "Ann");
    joined(&mut c, "b", "Bo");
    assert_eq!(c.pinned_tile(), None);
    c.act(Action::TogglePin(Pin::Peer("b".into())));
    assert_eq!(c.pinned_tile(), Some(Pinned::Peer(1)));
    c.on_event(EngineEvent::PeerRenamed { old: "b".into(), new: "b2".into() });
    assert_eq!(c.pinned_tile(), Some(Pinned::Peer(1)), "still Bo after his rejoin");
    c.on_event(EngineEvent::PeerLeft(PeerInfo { id: "b2".into(), name: "Bo".into(), fingerprint: None }));
    assert_eq!(c.pinned_tile(), None, "Bo left: back to the grid");
    c.act(Action::TogglePin(Pin::Own));
    assert_eq!(c.pinned_tile(), Some(Pinned::Own));
    c.act(Action::TogglePin(Pin::Own));
    assert_eq!(c.pinned_tile(), None, "a second double-click unpins");
}

#[test]
fn why_a_share_ended_is_said_in_the_apps_language() {
    crate::app::i18n::set_thread_language(Some(crate::app::i18n::Language::Ja));
    let mut c = call();
    c.on_event(EngineEvent::ScreenShareEnded(ShareEnded::SourceEnded("the window is gone".into())));
    let said = c.share_error.clone().unwrap_or_default();
    crate::app::i18n::set_thread_language(Some(crate::app::i18n::Language::En));
    assert_eq!(said, "共有が停止しました: the window is gone");
    let mut c = call();
    c.on_event(EngineEvent::ScreenShareEnded(ShareEnded::SourceEnded("the window is gone".into())));
    assert_eq!(c.share_error.as_deref(), Some("Sharing stopped: the window is gone"));
}
