//! The UI in Japanese and Korean: start, pre-join and call screens say their words in the language of the
//! thread the UI runs on (the app's language is process-wide; a test sets its own thread's, so tests in
//! different languages run side by side).

use super::*;
use crate::app::i18n::{Language, set_thread_language};

/// Each screen's main button, in `language`: start, pre-join, call.
fn walk_through(language: Language, [next, join, leave]: [&str; 3]) {
    set_thread_language(Some(language));
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let mut h = harness(app_for(&rt, &server.ws_url(), &format!("lang-{}", language.tag())));
    h.step();
    assert!(h.query_by_label("Continue").is_none(), "English on the start screen");
    enter_call(&mut h, [next, join]);
    wait_until(&mut h, "the leave button", Duration::from_secs(20), |h| h.query_by_label(leave).is_some());
    set_thread_language(None);
}

#[test]
fn the_screens_speak_japanese() {
    walk_through(Language::Ja, ["次へ", "今すぐ参加", "退出 (Ctrl+L)"]);
}

#[test]
fn the_screens_speak_korean() {
    walk_through(Language::Ko, ["계속", "지금 참여", "나가기 (Ctrl+L)"]);
}
