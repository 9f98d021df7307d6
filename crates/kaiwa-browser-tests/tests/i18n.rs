//! The browser client's languages (`assets/web/i18n/*.ftl`, Project Fluent through the vendored
//! `@fluent/bundle`): the three files define the same messages, every message the page uses is defined,
//! and in real headless Chromium the page speaks the browser's language (Japanese, Korean: chat times and
//! the server's errors too) until the language picker says otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, SERIAL, TestServer, screenshot_dir};
use kaiwa_protocol::ErrorCode;
use serde_json::json;

/// Bound for page-local UI changes.
const UI_WAIT: Duration = Duration::from_secs(20);
/// Bound for two pages to connect (ICE, DTLS, the chat channel) on a loaded machine.
const MEDIA_WAIT: Duration = Duration::from_secs(60);
const LANGS: [&str; 3] = ["en", "ja", "ko"];

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/web")
}

fn read(rel: &str) -> Result<String> {
    let path = web_dir().join(rel);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A message as the line scan sees it: its attributes and the variables (`$name`) it uses.
#[derive(Debug, Default)]
struct Message {
    attributes: BTreeSet<String>,
    variables: BTreeSet<String>,
}

/// The messages of `i18n/{lang}.ftl` by id: a line scan of `id =` lines at the start of a line, their
/// indented lines (`.attribute =`, selector variants, continued text) and the `$variables` in them.
/// Comments and blank lines are skipped; anything else at the start of a line is an error. Enough for
/// these files, which the browser test below has the page's own Fluent library parse.
fn messages(lang: &str) -> Result<BTreeMap<String, Message>> {
    let src = read(&format!("i18n/{lang}.ftl"))?;
    let mut out: BTreeMap<String, Message> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (n, line) in src.lines().enumerate() {
        let at = || format!("{lang}.ftl:{}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            current = None;
            continue;
        }
        let body = if line.starts_with(' ') {
            let id =
                current.as_ref().with_context(|| format!("{}: indented line outside a message", at()))?;
            let trimmed = line.trim_start();
            if let Some(attr) = trimmed.strip_prefix('.') {
                let name = attr.split('=').next().unwrap_or_default().trim();
                ensure!(is_id(name), "{}: bad attribute", at());
                ensure!(
                    out.get_mut(id).unwrap().attributes.insert(name.to_owned()),
                    "{}: attribute twice",
                    at()
                );
            }
            trimmed
        } else {
            let Some((id, value)) = line.split_once('=') else { bail!("{}: not `id = …`", at()) };
            let id = id.trim_end();
            ensure!(is_id(id), "{}: not a message id", at());
            ensure!(!out.contains_key(id), "{}: {id} defined twice", at());
            out.insert(id.to_owned(), Message::default());
            current = Some(id.to_owned());
            value
        };
        let message = out.get_mut(current.as_ref().unwrap()).unwrap();
        for part in body.split('$').skip(1) {
            let var: String =
                part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            ensure!(is_id(&var), "{}: bad variable", at());
            message.variables.insert(var);
        }
    }
    Ok(out)
}

#[test]
fn the_three_languages_define_the_same_messages() -> Result<()> {
    let en = messages("en")?;
    ensure!(en.len() > 80, "en.ftl has only {} messages: is the scan broken?", en.len());
    for lang in &LANGS[1..] {
        let other = messages(lang)?;
        let (a, b): (BTreeSet<_>, BTreeSet<_>) = (en.keys().collect(), other.keys().collect());
        let missing: Vec<_> = a.difference(&b).collect();
        let extra: Vec<_> = b.difference(&a).collect();
        ensure!(
            missing.is_empty() && extra.is_empty(),
            "{lang}.ftl: missing {missing:?}, not in en.ftl {extra:?}"
        );
        for (id, m) in &other {
            let e = &en[id];
            ensure!(
                m.attributes == e.attributes,
                "{lang}.ftl: {id} has attributes {:?}, en {:?}",
                m.attributes,
                e.attributes
            );
            ensure!(
                m.variables.is_subset(&e.variables),
                "{lang}.ftl: {id} uses {:?}, but the page passes only {:?}",
                m.variables,
                e.variables
            );
        }
    }
    // Every error code the server may send has its sentence.
    for code in ErrorCode::ALL {
        ensure!(en.contains_key(&format!("error-{code}")), "en.ftl has no error-{code}");
    }
    Ok(())
}

/// The string literals after each `prefix` in `src` (`t('…'`, `msg('…'`, `id: '…'`), not inside a
/// longer name (`format('…'` is not `t('…'`).
fn literals_after<'a>(src: &'a str, prefix: &str, quote: char) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (i, _) in src.match_indices(prefix) {
        let before = src[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &src[i + prefix.len()..];
        if let Some(end) = rest.find(quote) {
            out.push(&rest[..end]);
        }
    }
    out
}

#[test]
fn every_message_the_page_uses_is_defined() -> Result<()> {
    let en = messages("en")?;
    let mut used = BTreeSet::new();
    for id in literals_after(&read("index.html")?, "data-l10n-id=\"", '"') {
        used.insert(("index.html".to_owned(), id.to_owned()));
    }
    for entry in std::fs::read_dir(web_dir())? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&path)?;
        for prefix in ["t('", "msg('", "id: '"] {
            for id in literals_after(&src, prefix, '\'') {
                used.insert((name.clone(), id.to_owned()));
            }
        }
    }
    ensure!(used.len() > 80, "only {} uses of messages found: is the scan broken?", used.len());
    let undefined: Vec<_> = used.iter().filter(|(_, id)| !en.contains_key(id)).collect();
    ensure!(undefined.is_empty(), "used but not in en.ftl: {undefined:?}");

    // And the other way round: no message is left over (`error-<code>` are looked up by the code, and a
    // message may be used by another one, `{ id }` or `{ id.attribute }`).
    let en_src = read("i18n/en.ftl")?;
    let ids: BTreeSet<&str> = used.iter().map(|(_, id)| id.as_str()).collect();
    let unused: Vec<_> = en
        .keys()
        .filter(|id| {
            !id.starts_with("error-")
                && !ids.contains(id.as_str())
                && !en_src.contains(&format!("{{ {id} }}"))
                && !en_src.contains(&format!("{{ {id}."))
        })
        .collect();
    ensure!(unused.is_empty(), "en.ftl messages the page never uses: {unused:?}");

    // The vendored library: plain ES modules importing only each other, by relative path (the page serves
    // them as they are, and a browser cannot resolve a bare `@fluent/…` specifier).
    ensure!(
        read("i18n.js")?.contains("from '/vendor/fluent-bundle/index.js'"),
        "i18n.js does not import the library"
    );
    let vendor = web_dir().join("vendor/fluent-bundle");
    for file in ["LICENSE", "README.md", "index.js"] {
        ensure!(vendor.join(file).is_file(), "vendor/fluent-bundle/{file} is missing");
    }
    for entry in std::fs::read_dir(&vendor)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let src = std::fs::read_to_string(&path)?;
        for spec in
            literals_after(&src, "from \"", '"').into_iter().chain(literals_after(&src, "import(\"", '"'))
        {
            let target =
                spec.strip_prefix("./").with_context(|| format!("{}: imports {spec:?}", path.display()))?;
            ensure!(vendor.join(target).is_file(), "{}: imports {spec}, which is not there", path.display());
        }
    }
    Ok(())
}

async fn text(page: &Page, selector: &str) -> Result<String> {
    let v = page.eval(&format!("document.querySelector({}).textContent", json!(selector))).await?;
    Ok(v.as_str().with_context(|| format!("{selector}: {v}"))?.to_owned())
}

/// Picks `value` in the language picker as a user does (the `change` event).
async fn pick_language(page: &Page, value: &str) -> Result<()> {
    page.eval(&format!(
        "(() => {{ const s = document.getElementById('lang-select'); s.value = {v}; \
         s.dispatchEvent(new Event('change')); return true; }})()",
        v = json!(value)
    ))
    .await?;
    Ok(())
}

/// Chromium whose `navigator.languages` starts with `lang` (`--accept-lang`: on Linux `--lang` only sets
/// the UI's own language, so both are given).
async fn browser_in(lang: &str) -> Result<Browser> {
    Browser::launch(LaunchOptions {
        extra_args: vec![format!("--accept-lang={lang}"), format!("--lang={lang}")],
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn japanese_browser_gets_japanese_and_the_picker_switches_to_english() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let browser = browser_in("ja").await?;
    let page = browser.new_page("ja", &server.url("/")).await?;
    page.wait_for("document.body.dataset.view === 'home'", UI_WAIT).await?;
    assert_eq!(page.eval("navigator.languages[0]").await?, "ja");
    assert_eq!(page.eval("document.documentElement.lang").await?, "ja");
    assert_eq!(text(&page, "#create-room").await?, "ルームを作成");
    assert_eq!(
        page.eval("document.getElementById('join-code').placeholder").await?,
        "ルームコードまたはリンク"
    );
    // Served as they should be: the translations as UTF-8 text, the library as JavaScript.
    let types = page
        .eval(
            "Promise.all(['/i18n/ja.ftl', '/vendor/fluent-bundle/index.js'].map(u => fetch(u).then(r => \
             r.headers.get('content-type'))))",
        )
        .await?;
    assert_eq!(types, json!(["text/plain; charset=utf-8", "text/javascript"]));

    // The pre-join page of a room: the join button, the room status with its number, the network check.
    page.goto(&server.url("/r/design-review")).await?;
    page.wait_for(
        "document.body.dataset.view === 'prejoin' && \
         document.getElementById('room-status').textContent === '0 / 6 人 · あなたが最初の参加者です'",
        UI_WAIT,
    )
    .await?;
    assert_eq!(text(&page, "#join-button").await?, "今すぐ参加");
    // Shown as the server gives it.
    assert_eq!(text(&page, "#prejoin-code").await?, "design-review");
    page.wait_for(
        "window.kaiwaNetCheck && [...document.querySelectorAll('#net-findings li')].some(li => \
         li.textContent.startsWith('サーバー: 応答あり'))",
        UI_WAIT,
    )
    .await?;
    page.wait_for("document.getElementById('pre-mic').textContent === 'マイクオン'", UI_WAIT).await?;
    assert_eq!(page.eval("document.getElementById('pre-mic').title").await?, "マイク");
    page.screenshot(&screenshot_dir().join("browser-prejoin-ja.png")).await?;

    // English at once, everything on the page: static text, the room status with its numbers, the network
    // check's findings, the buttons' state; the choice is kept.
    pick_language(&page, "en").await?;
    page.wait_for(
        "document.documentElement.lang === 'en' && \
         document.getElementById('join-button').textContent === 'Join now' && \
         document.getElementById('room-status').textContent === \"0 of 6 here · you'll be the first\" && \
         document.getElementById('pre-mic').textContent === 'Mic on' && \
         [...document.querySelectorAll('#net-findings li')].some(li => \
         li.textContent.startsWith('Server: answers'))",
        UI_WAIT,
    )
    .await?;
    assert_eq!(page.eval("localStorage.getItem('kaiwa.lang')").await?, "en");
    page.goto(&server.url("/")).await?;
    page.wait_for(
        "document.body.dataset.view === 'home' && document.getElementById('create-room').textContent === \
         'Create a room' && document.getElementById('lang-select').value === 'en'",
        UI_WAIT,
    )
    .await?;
    // Automatic: the browser's Japanese again.
    pick_language(&page, "auto").await?;
    page.wait_for(
        "document.documentElement.lang === 'ja' && \
         document.getElementById('create-room').textContent === 'ルームを作成'",
        UI_WAIT,
    )
    .await?;
    assert_eq!(page.eval("localStorage.getItem('kaiwa.lang')").await?, "auto");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn korean_browser_gets_korean_calls_chat_times_and_server_errors() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server =
        TestServer::start_config(kaiwa_signaling::Config { max_room_size: 2, ..Default::default() }).await?;
    let browser = browser_in("ko-KR,ko").await?;
    let mut pages = Vec::new();
    for name in ["민준", "Bo"] {
        let page = browser.new_page(name, &server.url(&format!("/r/i18n-ko?name={name}&autojoin=1"))).await?;
        page.wait_for("window.kaiwa && kaiwa.state().myId", UI_WAIT).await.context("joining the room")?;
        pages.push(page);
    }
    let (ann, bo) = (&pages[0], &pages[1]);
    ann.wait_for(
        "kaiwa.state().peers.length === 1 && kaiwa.state().peers[0].chatOpen && \
         kaiwa.state().peers[0].label.startsWith('connected via')",
        MEDIA_WAIT,
    )
    .await?;
    assert_eq!(ann.eval("document.documentElement.lang").await?, "ko");
    assert_eq!(text(ann, "#leave").await?, "나가기");
    assert_eq!(text(ann, "#toggle-mic").await?, "음소거");
    assert_eq!(text(ann, "#call-copy").await?, "i18n-ko · 링크 복사");
    assert_eq!(text(ann, "#call-count").await?, "통화 중 2명");
    assert_eq!(text(ann, "#grid .tile.self .tile-name").await?, "민준(나)");
    // The connection's label on Bo's tile (the test hook keeps the untranslated one).
    ann.wait_for(
        "document.querySelector('#grid .tile:not(.self) .conn').textContent === '직접 연결됨'",
        UI_WAIT,
    )
    .await?;

    // An empty chat says what it is for (CSS shows the translated `data-empty`).
    let empty = ann.eval("getComputedStyle(document.getElementById('chat-log'), '::before').content").await?;
    ensure!(empty.as_str().is_some_and(|s| s.contains("메시지는 통화 중인 모두에게")), "empty chat: {empty}");

    // Chat lines carry their time, formatted for Korean (오전/오후 and the minutes).
    bo.type_and_enter("#chat-input", "안녕하세요").await?;
    ann.wait_for("kaiwa.state().chat.length === 1", UI_WAIT).await?;
    ann.type_and_enter("#chat-input", "반가워요").await?;
    let lines = ann
        .wait_for(
            "(() => { const c = kaiwa.state().chat; \
             const li = [...document.querySelectorAll('#chat-log li')]; \
             if (c.length < 2 || li.length < 2) return null; \
             const f = new Intl.DateTimeFormat('ko', { hour: 'numeric', minute: '2-digit' }); \
             return li.map((l, i) => ({ who: l.querySelector('.who').textContent, \
             when: l.querySelector('time.when').textContent, want: f.format(new Date(c[i].ts)) })); })()",
            UI_WAIT,
        )
        .await?;
    eprintln!("chat lines: {lines}");
    let lines = lines.as_array().context("lines")?;
    let whos: Vec<_> = lines.iter().map(|l| l["who"].as_str().unwrap_or_default()).collect();
    assert_eq!(whos, ["Bo", "나"]);
    for line in lines {
        ensure!(line["when"] == line["want"], "chat time {line}");
        let when = line["when"].as_str().unwrap_or_default();
        ensure!(when.contains("오전") || when.contains("오후"), "not a Korean time: {when}");
    }
    ann.screenshot(&screenshot_dir().join("browser-call-ko.png")).await?;

    // A third person: the room is full, said in Korean before joining and, joining anyway, the server's
    // `room_full` in Korean instead of its English message.
    let cy = browser.new_page("Cy", &server.url("/r/i18n-ko")).await?;
    cy.wait_for(
        "document.getElementById('room-status').textContent === '방이 가득 찼습니다(2/2명)'",
        UI_WAIT,
    )
    .await?;
    cy.goto(&server.url("/r/i18n-ko?name=Cy&autojoin=1")).await?;
    cy.wait_for(
        "document.body.dataset.view === 'message' && \
         document.getElementById('message-title').textContent === '이 방은 가득 찼습니다'",
        UI_WAIT,
    )
    .await?;
    assert_eq!(
        text(&cy, "#message-text").await?,
        "방에 들어갈 수 있는 최대 인원이 이미 찼습니다. 누군가 나가면 다시 시도하세요."
    );
    assert_eq!(text(&cy, "#message-retry").await?, "다시 시도");
    assert_eq!(cy.eval("kaiwa.state().errors.includes('room_full')").await?, json!(true));
    Ok(())
}
