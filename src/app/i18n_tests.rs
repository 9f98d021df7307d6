use std::collections::BTreeSet;

use super::*;

/// The message ids (and `id.attribute`s) of a Fluent file; panics on any syntax error.
fn ids(language: Language) -> BTreeSet<String> {
    let resource = FluentResource::try_new(language.source().to_owned())
        .unwrap_or_else(|(_, e)| panic!("{}.ftl does not parse: {e:?}", language.tag()));
    let mut ids = BTreeSet::new();
    for entry in resource.entries() {
        if let fluent_syntax::ast::Entry::Message(m) = entry {
            ids.insert(m.id.name.to_string());
            for a in &m.attributes {
                ids.insert(format!("{}.{}", m.id.name, a.id.name));
            }
        }
    }
    ids
}

#[test]
fn the_three_languages_have_the_same_messages() {
    let english = ids(Language::En);
    assert!(english.len() > 100, "only {} messages", english.len());
    for language in [Language::Ja, Language::Ko] {
        let other = ids(language);
        let missing: Vec<_> = english.difference(&other).collect();
        let extra: Vec<_> = other.difference(&english).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: missing {missing:?}, extra {extra:?}",
            language.tag()
        );
    }
}

/// The message ids the app's sources name with `t!` (this module's own examples aside).
fn used_ids() -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices("t!(\"") {
                    // `t!(`, not the end of `format!(` or `assert!(`.
                    let before = text.get(..at).and_then(|b| b.chars().next_back());
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = text.get(at + 4..).unwrap_or_default();
                    if let Some(id) = rest.split('"').next() {
                        used.insert(id.to_owned());
                    }
                }
            }
        }
    }
    used
}

#[test]
fn every_message_the_code_uses_exists() {
    let english = ids(Language::En);
    let used = used_ids();
    assert!(used.len() > 100, "only {} ids found in the sources", used.len());
    let missing: Vec<_> = used.iter().filter(|id| !english.contains(*id)).collect();
    assert!(missing.is_empty(), "used but not in en.ftl: {missing:?}");
}

#[test]
fn a_thread_speaks_its_own_language() {
    set_thread_language(Some(Language::Ja));
    let ja = t!("continue");
    set_thread_language(Some(Language::Ko));
    let ko = t!("continue");
    set_thread_language(Some(Language::En));
    let en = t!("continue");
    set_thread_language(None);
    assert_eq!(en, "Continue");
    assert!(ja != en && ko != en && ja != ko, "{en} / {ja} / {ko}");
}

#[test]
fn times_of_day_follow_the_language() {
    let at = |language, hour: i64, minute: i64| {
        set_thread_language(Some(language));
        let text = clock(hour, minute);
        set_thread_language(None);
        text
    };
    assert_eq!(at(Language::En, 15, 5), "3:05 PM");
    assert_eq!(at(Language::Ja, 15, 5), "15:05");
    assert_eq!(at(Language::Ko, 15, 5), "오후 3:05");
    assert_eq!(at(Language::Ko, 9, 30), "오전 9:30");
}

#[test]
fn locales_name_their_language() {
    assert_eq!(Language::of_locale("ja_JP.UTF-8"), Some(Language::Ja));
    assert_eq!(Language::of_locale("ko-KR"), Some(Language::Ko));
    assert_eq!(Language::of_locale("en_GB"), Some(Language::En));
    assert_eq!(Language::of_locale("fr_FR.UTF-8"), None);
    assert_eq!(Language::of_locale("C"), None);
}

#[test]
fn the_setting_is_stored_as_a_word() {
    let json = |c: LanguageChoice| serde_json::to_string(&c).unwrap();
    assert_eq!(json(LanguageChoice::System), "\"system\"");
    assert_eq!(json(LanguageChoice::Fixed(Language::Ja)), "\"ja\"");
    let back: LanguageChoice = serde_json::from_str("\"ko\"").unwrap();
    assert_eq!(back, LanguageChoice::Fixed(Language::Ko));
}
