//! Participants who misbehave on purpose ([`kaiwa_engine::testing::Hostile`]) against honest engines: the
//! honest participants' call goes on, asserted with media counts before and after.

mod common;

use std::time::Duration;

use common::{decoded, party, resident_bytes, start_server, threads, wait_connected, wait_for};
use kaiwa_engine::testing::{Action, Hostile, hostile_cases, media_cases};
use kaiwa_engine::{EngineEvent, PeerState};

/// One test at a time: the suite counts this process's threads and memory.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Regression (issue 14): Mallory told Ann over her own data channel that she was Bo; Ann filed Mallory's
/// connection under Bo's id and closed Bo's, and the video between Ann and Bo stopped for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_claiming_another_ones_id_takes_nothing_over() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "takeover", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let mut bo = party(&server, "takeover", "Bo", 550.0);
    wait_connected(&mut ann.engine, 1).await;
    wait_connected(&mut bo.engine, 1).await;
    let mut mallory = Hostile::join(&server.ws_url(), "takeover", "Mallory").await.unwrap();
    let (ann_id, bo_id) = (mallory.id_of("Ann").unwrap(), mallory.id_of("Bo").unwrap());
    mallory.connect(&ann_id).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = (decoded(&ann, "Bo"), decoded(&bo, "Ann"));
    mallory.send_text(&ann_id, &format!(r#"{{"type":"id","id":"{bo_id}"}}"#)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = (decoded(&ann, "Bo"), decoded(&bo, "Ann"));
    // 30 fps for 4 s: well over 60 new pictures each way if nothing broke.
    assert!(after.0 > before.0 + 60, "Ann's video from Bo stalled: {before:?} -> {after:?}");
    assert!(after.1 > before.1 + 60, "Bo's video from Ann stalled: {before:?} -> {after:?}");
    let names: Vec<String> =
        ann.engine.stats().await.into_iter().map(|s| format!("{}={}", s.name, s.id)).collect();
    assert!(names.contains(&format!("Bo={bo_id}")), "Ann's peers: {names:?}");
    mallory.leave().await;
    ann.engine.leave().await;
    bo.engine.leave().await;
}

/// What Ann got from Bo and Bo from Ann so far.
fn between(ann: &common::Party, bo: &common::Party) -> (usize, usize) {
    (decoded(ann, "Bo"), decoded(bo, "Ann"))
}

/// Mallory, connected to Ann, tries one hostile case after another while Ann and Bo are in a call: on the
/// data channel, through signaling, and in RTP and RTCP on her own media tracks. After each: no panic, Ann
/// still answers, the video between Ann and Bo kept coming (30 fps: at least 30 new pictures each way in
/// 2 s), and this process (Ann and Bo run in it) grew by less than 200 MB and 5 threads (a decode thread
/// for each of the track flood's tracks would be 8 more). Chat from Mallory reaches Ann only at the
/// limit's pace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_participant_breaks_nothing_between_the_others() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "hostile", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let mut bo = party(&server, "hostile", "Bo", 550.0);
    wait_connected(&mut ann.engine, 1).await;
    wait_connected(&mut bo.engine, 1).await;
    let mut mallory = Hostile::join(&server.ws_url(), "hostile", "Mallory").await.unwrap();
    let (ann_id, bo_id) = (mallory.id_of("Ann").unwrap(), mallory.id_of("Bo").unwrap());
    mallory.connect(&ann_id).await.unwrap();
    let offer = mallory.throwaway_offer().await.unwrap();
    let mut chats_from_mallory = 0usize;
    let started = std::time::Instant::now();

    let media: Vec<&str> = media_cases().iter().map(|(name, _)| *name).collect();
    // The media cases first, while Mallory's own connection is as it was made (the renegotiation storm
    // replaces it with a description of another connection's).
    let cases = media_cases().into_iter().chain(hostile_cases(&ann_id, &bo_id, &offer));
    for (case, actions) in cases {
        let from_mallory = |stats: &[kaiwa_engine::stats::PeerStats]| {
            stats.iter().find(|s| s.name == "Mallory").map_or((0, 0, 0, 0), |s| {
                (s.bytes_received, s.video_in.packets, s.audio_in.packets, s.video_in.decode_errors)
            })
        };
        let mallory_before = from_mallory(&ann.engine.stats().await);
        let before = between(&ann, &bo);
        let memory_before = resident_bytes();
        let threads_before = threads();
        for action in actions {
            let must_get_through = matches!(action, Action::AddVideoTracks(_));
            let went = mallory.act(&ann_id, action).await;
            assert!(went || !must_get_through, "{case}: the added tracks were not negotiated");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Ann's owner reads her events, as the app does.
        while let Some(event) = ann.engine.try_next_event() {
            if let EngineEvent::Chat { message, .. } = event
                && message.from == "M"
            {
                chats_from_mallory += 1;
            }
        }
        let stats = tokio::time::timeout(Duration::from_secs(5), ann.engine.stats()).await.expect(case);
        let bo_seen =
            stats.iter().find(|s| s.name == "Bo").unwrap_or_else(|| panic!("{case}: Ann lost Bo: {stats:?}"));
        assert_eq!(bo_seen.id, bo_id, "{case}: Bo's connection filed elsewhere");
        assert_eq!(bo_seen.state, PeerState::Connected, "{case}");
        let after = between(&ann, &bo);
        assert!(
            after.0 >= before.0 + 30 && after.1 >= before.1 + 30,
            "{case}: video between Ann and Bo stalled: {before:?} -> {after:?}"
        );
        let mallory_after = from_mallory(&stats);
        if media.contains(&case) {
            // The case reached Ann: Mallory's packets came in.
            assert!(
                mallory_after.0 > mallory_before.0 + 10_000,
                "{case}: none of Mallory's packets arrived: {mallory_before:?} -> {mallory_after:?}"
            );
        }
        eprintln!(
            "{case}: from Mallory (bytes, video, audio, decode errors) {mallory_before:?} -> {mallory_after:?}"
        );
        let grown = resident_bytes().saturating_sub(memory_before);
        assert!(grown < 200 << 20, "{case}: memory grew by {} MB", grown >> 20);
        let threads_after = threads();
        assert!(threads_after < threads_before + 5, "{case}: threads {threads_before} -> {threads_after}");
        eprintln!("{case}: passed, memory +{} MB, threads {threads_before} -> {threads_after}", grown >> 20);
    }
    // The flood came through at the limit: a burst of 20 and 5 a second after.
    let allowed = 20 + (started.elapsed().as_secs_f64() * 5.0) as usize + 1;
    assert!(
        chats_from_mallory <= allowed,
        "{chats_from_mallory} chat lines from Mallory passed (limit {allowed})"
    );
    assert!(chats_from_mallory >= 20, "only {chats_from_mallory} chat lines passed");
    mallory.leave().await;
    ann.engine.leave().await;
    bo.engine.leave().await;
}
