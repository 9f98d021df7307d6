//! The app's words in English, Japanese and Korean: Project Fluent files (`assets/i18n/{en,ja,ko}.ftl`,
//! compiled in), looked up by message id with [`t!`]. The language is the setting's, else the system
//! locale's (sys-locale: `LANG`/`LC_*` on Linux), else English; a message a translation lacks falls back
//! to English (a test keeps the three files' ids equal, and every id the code uses present).
//!
//! The language is process-wide (set from the settings at start and when they change); a thread may
//! override it for itself ([`set_thread_language`]), which is how UI tests in different languages run side
//! by side.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Ja,
    Ko,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Ja, Language::Ko];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ja => "ja",
            Language::Ko => "ko",
        }
    }

    /// Its name in itself, for the language menu.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Ja => "日本語",
            Language::Ko => "한국어",
        }
    }

    /// The language of a locale name (`ja_JP.UTF-8`, `ko-KR`, `en`), if it is one of ours.
    pub fn of_locale(locale: &str) -> Option<Language> {
        let primary = locale.split(['_', '-', '.', '@']).next()?.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The system's language, if it is one of ours; English otherwise.
    pub fn of_system() -> Language {
        sys_locale::get_locales().find_map(|l| Language::of_locale(&l)).unwrap_or(Language::En)
    }

    fn source(self) -> &'static str {
        match self {
            Language::En => include_str!("../../assets/i18n/en.ftl"),
            Language::Ja => include_str!("../../assets/i18n/ja.ftl"),
            Language::Ko => include_str!("../../assets/i18n/ko.ftl"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the settings say: a language, or the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanguageChoice {
    #[default]
    System,
    #[serde(untagged)]
    Fixed(Language),
}

impl LanguageChoice {
    pub fn language(self) -> Language {
        match self {
            LanguageChoice::System => Language::of_system(),
            LanguageChoice::Fixed(l) => l,
        }
    }
}

static PROCESS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static THREAD: Cell<Option<Language>> = const { Cell::new(None) };
}

/// The language every thread speaks from now on (unless it chose its own).
pub fn set_language(language: Language) {
    PROCESS.store(language as u8, Relaxed);
}

/// The language this thread speaks (`None`: the process's again).
#[cfg(test)]
pub fn set_thread_language(language: Option<Language>) {
    THREAD.with(|t| t.set(language));
}

/// The language in use on this thread.
pub fn language() -> Language {
    THREAD
        .with(Cell::get)
        .unwrap_or_else(|| Language::ALL[usize::from(PROCESS.load(Relaxed)) % Language::ALL.len()])
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 3] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 3]> = OnceLock::new();
    BUNDLES.get_or_init(|| Language::ALL.map(bundle))
}

fn bundle(language: Language) -> FluentBundle<FluentResource> {
    let tag: unic_langid::LanguageIdentifier = language.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // No Unicode isolation marks around placeables: egui draws text as it is, and would show them.
    bundle.set_use_isolating(false);
    // The files are ours and checked by a test; a broken entry is skipped, the rest still load.
    let resource =
        FluentResource::try_new(language.source().to_owned()).unwrap_or_else(|(partial, errors)| {
            tracing::error!(language = language.tag(), ?errors, "errors in the translations");
            partial
        });
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(language = language.tag(), ?errors, "duplicate messages in the translations");
    }
    bundle
}

/// Message `id` in this thread's language (English where that lacks it; the id itself where both do).
pub fn tr(id: &str, args: Option<&FluentArgs<'_>>) -> String {
    let all = bundles();
    for language in [language(), Language::En] {
        let bundle = &all[language.index()];
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args, &mut errors);
            if !errors.is_empty() {
                tracing::warn!(id, language = language.tag(), ?errors, "formatting a message");
            }
            return text.into_owned();
        }
    }
    tracing::warn!(id, "no such message");
    id.to_owned()
}

/// `t!("id")`, or `t!("id", name = value, …)` with Fluent variables: the message in this thread's language.
macro_rules! t {
    ($id:literal) => {
        $crate::app::i18n::tr($id, None)
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = fluent_bundle::FluentArgs::new();
        $(args.set(stringify!($name), $value);)+
        $crate::app::i18n::tr($id, Some(&args))
    }};
}
pub(crate) use t;

/// What the server's refusal means, as a plain sentence in this thread's language (docs/PROTOCOL.md has
/// the codes).
pub fn server_error(code: kaiwa_protocol::ErrorCode) -> String {
    use kaiwa_protocol::ErrorCode as E;
    match code {
        E::BadMessage => t!("error-bad-message"),
        E::BadRoomCode => t!("error-bad-room-code"),
        E::RoomFull => t!("error-room-full"),
        E::NotJoined => t!("error-not-joined"),
        E::AlreadyJoined => t!("error-already-joined"),
        E::UnknownPeer => t!("error-unknown-peer"),
        E::TooLarge => t!("error-too-large"),
        E::RateLimited => t!("error-rate-limited"),
        E::VersionMismatch => t!("error-version-mismatch"),
        E::ServerFull => t!("error-server-full"),
        E::Timeout => t!("error-timeout"),
        E::SlowConsumer => t!("error-slow-consumer"),
        E::Unavailable => t!("error-unavailable"),
        E::Unknown => t!("error-unknown"),
    }
}

/// A wall-clock time (milliseconds since the Unix epoch) as this thread's language writes a time of day,
/// in the system's time zone: "3:05 PM", "15:05", "오후 3:05".
pub fn time_of_day(unix_ms: u64) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond(unix_ms.min(i64::MAX as u64) as i64) else {
        return String::new();
    };
    let local = at.to_zoned(jiff::tz::TimeZone::system());
    clock(local.hour().into(), local.minute().into())
}

/// `hour:minute` (0–23, 0–59) as this thread's language writes a time of day.
fn clock(hour: i64, minute: i64) -> String {
    let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let ampm = if hour < 12 { "am" } else { "pm" };
    t!("time-of-day", hour = hour, hour12 = hour12, minute = format!("{minute:02}"), ampm = ampm)
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
