// The page's language and its translations: Project Fluent files `/i18n/{en,ja,ko}.ftl`, formatted by
// @fluent/bundle (vendored in vendor/fluent-bundle/). The language is the one stored under `kaiwa.lang`
// (the picker on the page), else the first of the browser's languages that the page speaks, else English;
// a message missing from a translation comes from English. Text on the page is tagged with the message it
// shows (`data-l10n-id`, arguments as JSON in `data-l10n-args`), in index.html and by `localize` below, so
// a change of language translates it all again in place. Imports nothing of ours.
import { FluentBundle, FluentResource } from '/vendor/fluent-bundle/index.js';

export const LANGS = ['en', 'ja', 'ko'];
export const LANG_KEY = 'kaiwa.lang';
/** Attributes a message may set on its element (`.placeholder = …` in the .ftl files; `data-empty` is what
 * an empty list shows, through CSS). */
const ATTRIBUTES = new Set(['placeholder', 'title', 'aria-label', 'data-empty']);

/** The language in use ('en', 'ja' or 'ko'). */
export let lang = 'en';
/** The chosen language's bundle first, then English's. */
let bundles = [];
const loaded = new Map();
let timeFormat = null;

/** 'auto', or the language picked on the page. */
export function storedLanguage() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : 'auto';
  } catch {
    return 'auto';
  }
}

/** The stored choice, else the first of `languages` the page speaks (by primary subtag), else English. */
export function pickLanguage(stored = storedLanguage(), languages = navigator.languages ?? [navigator.language]) {
  if (LANGS.includes(stored)) return stored;
  for (const tag of languages) {
    const primary = String(tag).toLowerCase().split(/[-_]/)[0];
    if (LANGS.includes(primary)) return primary;
  }
  return 'en';
}

async function bundle(code) {
  if (!loaded.has(code)) {
    const b = new FluentBundle(code, { useIsolating: false });
    try {
      const res = await fetch(`/i18n/${code}.ftl`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      for (const e of b.addResource(new FluentResource(await res.text()))) console.warn(`${code}.ftl:`, e);
    } catch (e) {
      console.warn(`translations for ${code} not loaded:`, e);
    }
    loaded.set(code, b);
  }
  return loaded.get(code);
}

/** Loads `code`'s translations and makes it the page's language (`<html lang>`); does not re-translate. */
export async function setLanguage(code) {
  lang = LANGS.includes(code) ? code : 'en';
  const [chosen, en] = await Promise.all([bundle(lang), bundle('en')]);
  bundles = lang === 'en' ? [en] : [chosen, en];
  timeFormat = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
  document.documentElement.lang = lang;
}

/** Whether any loaded language has message `id`. */
export function has(id) {
  return bundles.some((b) => b.hasMessage(id));
}

/** Message `id` formatted with `args`: `{value, attributes}`, or null when no language has it. */
function format(id, args) {
  for (const b of bundles) {
    const m = b.getMessage(id);
    if (!m) continue;
    const errors = [];
    const value = m.value ? b.formatPattern(m.value, args, errors) : null;
    const attributes = {};
    for (const [name, pattern] of Object.entries(m.attributes)) {
      attributes[name] = b.formatPattern(pattern, args, errors);
    }
    if (errors.length) console.warn(`message ${id}:`, ...errors);
    return { value, attributes };
  }
  console.warn(`no message ${id}`);
  return null;
}

/** The text of message `id` (its id when no language has it). */
export function t(id, args) {
  return format(id, args)?.value ?? id;
}

/** A message to show later (`localize`, `banner`, `showError`): `{id, args}`. */
export const msg = (id, args) => ({ id, args });

/** A clock time (ms since the epoch) in the page's language, e.g. 3:07 PM, 15:07, 오후 3:07. */
export function formatTime(ts) {
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) && timeFormat ? timeFormat.format(d) : '';
}

function translate(el) {
  let args;
  try {
    args = el.dataset.l10nArgs ? JSON.parse(el.dataset.l10nArgs) : undefined;
  } catch {
    args = undefined;
  }
  const m = format(el.dataset.l10nId, args);
  if (!m) return;
  if (m.value !== null) el.textContent = m.value;
  for (const [name, v] of Object.entries(m.attributes)) if (ATTRIBUTES.has(name)) el.setAttribute(name, v);
}

/**
 * Shows `content` in `el`: a message (`{id, args}`, translated now and again on a change of language), a
 * plain string (as it is: a name, a server's own words), or an array of these (side by side, one span each).
 */
export function localize(el, content) {
  if (Array.isArray(content)) {
    delete el.dataset.l10nId;
    delete el.dataset.l10nArgs;
    const parts = [];
    for (const c of content.filter(Boolean)) {
      if (parts.length) parts.push(' ');
      const span = document.createElement('span');
      localize(span, c);
      parts.push(span);
    }
    el.replaceChildren(...parts);
  } else if (content && typeof content === 'object') {
    el.dataset.l10nId = content.id;
    if (content.args) el.dataset.l10nArgs = JSON.stringify(content.args);
    else delete el.dataset.l10nArgs;
    translate(el);
  } else {
    delete el.dataset.l10nId;
    delete el.dataset.l10nArgs;
    el.textContent = content ?? '';
  }
}

/** Translates every tagged element under `root` and re-formats its times (`<time data-ts>`). */
export function translateAll(root = document) {
  for (const el of root.querySelectorAll('[data-l10n-id]')) translate(el);
  for (const el of root.querySelectorAll('time[data-ts]')) el.textContent = formatTime(Number(el.dataset.ts));
}

/** The language picker: shows the stored choice; a change is stored and applied to the whole page at once. */
export function wireLanguagePicker(select) {
  select.value = storedLanguage();
  select.onchange = async () => {
    try {
      localStorage.setItem(LANG_KEY, select.value);
    } catch {
      // Storage off: the choice holds for this page only.
    }
    await setLanguage(pickLanguage(select.value));
    translateAll();
  };
}

await setLanguage(pickLanguage());
