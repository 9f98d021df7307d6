//! Every script shows, and input methods work: a call where we are さくら and the others 민준 and Zoë, with
//! a Japanese and a Korean line in the chat. The fonts egui ends up with cover every one of them (egui's
//! own for Latin, the system's Noto CJK through the system font provider for the rest: a character no
//! font has is what draws as a tofu box; kittest's harness also panics on any character it would draw as
//! one, so every frame of this call is checked too), and a Japanese line typed through an input method
//! (composition shown in the field, then committed) reaches the others as committed.

use super::*;

const ROOM: &str = "scripts-room";
const JAPANESE: &str = "日本語で話しましょう";
const KOREAN: &str = "안녕하세요, 반갑습니다";

fn ime(h: &mut Harness<'_, KaiwaApp>, event: egui::ImeEvent) {
    h.event(egui::Event::Ime(event));
    h.step();
}

fn chat_field(h: &Harness<'_, KaiwaApp>) -> String {
    h.state().call.as_ref().map(|c| c.view.chat_input.clone()).unwrap_or_default()
}

#[test]
fn japanese_and_korean_names_and_chat_draw_and_an_input_method_types_japanese() {
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let ws = server.ws_url();
    let minjun = Peer { name: "민준", reply: KOREAN, ..Peer::default() };
    let (minjun, _stop_minjun) = spawn_peer(&rt, &ws, ROOM, minjun);
    assert_eq!(minjun.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"));
    let (zoe, _stop_zoe) =
        spawn_peer(&rt, &ws, ROOM, Peer { name: "Zoë", reply: "Salut !", ..Peer::default() });
    assert_eq!(zoe.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"));
    let mut app = app_for(&rt, &ws, ROOM);
    app.settings.name = "さくら".into();
    let mut h = harness(app);
    h.step();
    enter_call(&mut h, ["Continue", "Join now"]);
    wait_for(&minjun, &mut h, "joined:さくら");
    wait_until(&mut h, "both tiles", Duration::from_secs(20), |h| {
        h.query_by_label("민준's picture").is_some() && h.query_by_label("Zoë's picture").is_some()
    });

    // Japanese through an input method: the composition shows in the field as it is typed, then the
    // committed text replaces it.
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    let preedit = |text: &str| egui::ImeEvent::Preedit { text: text.into(), active_range_chars: None };
    ime(&mut h, preedit("にほんご"));
    assert!(
        chat_field(&h).contains("にほんご"),
        "the composition is not shown in place: {:?}",
        chat_field(&h)
    );
    ime(&mut h, preedit(""));
    ime(&mut h, egui::ImeEvent::Commit(JAPANESE.into()));
    assert_eq!(chat_field(&h), JAPANESE, "the committed text");
    h.get_by_label("Send").click();
    settle(&mut h);
    wait_for(&minjun, &mut h, &format!("chat:{JAPANESE}"));
    wait_until(&mut h, "민준's Korean answer", Duration::from_secs(20), |h| {
        h.state().call.as_ref().is_some_and(|c| c.state.chat.iter().any(|l| l.text == KOREAN))
    });

    // What a tofu box is: a character none of the fonts has. Every name and line here has all of them.
    let shown = ["さくら", "민준", "Zoë", JAPANESE, KOREAN, "민준's picture", "Zoë's picture"];
    for text in shown {
        let missing: String = text
            .chars()
            .filter(|&c| !h.ctx.fonts_mut(|f| f.has_glyph(&egui::FontId::proportional(14.0), c)))
            .collect();
        assert!(missing.is_empty(), "no font draws {missing:?} of {text:?}");
    }
    let chat: Vec<String> = h
        .state()
        .call
        .as_ref()
        .map(|c| c.state.chat.iter().map(|l| l.text.clone()).collect())
        .unwrap_or_default();
    assert!(chat.contains(&JAPANESE.to_string()) && chat.contains(&KOREAN.to_string()), "{chat:?}");
}
