// DOM helpers. Everything a peer provides (names, chat) goes in with textContent, never as HTML; the page's
// own text goes in as messages (`msg(id, args)`, i18n.js), so a change of language re-translates it.
import { localize, msg } from '/i18n.js';

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function showView(name) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${name}`;
  document.body.dataset.view = name;
}

/** Shows `content` (a message, a plain string or an array of them; see `localize`) in the banner, or hides
 * it when empty; `action`: a button, `{label: message, run}`. */
export function banner(content, action) {
  const b = $('banner');
  if (!content || (Array.isArray(content) && !content.length)) {
    b.hidden = true;
    return;
  }
  localize($('banner-text'), content);
  const btn = $('banner-action');
  btn.hidden = !action;
  if (action) {
    localize(btn, action.label);
    btn.onclick = action.run;
  }
  b.hidden = false;
}

/** Shows `content` (as `banner`) in the error line `id`, or hides it when empty. */
export function showError(id, content) {
  const e = $(id);
  const empty = !content || (Array.isArray(content) && !content.length);
  localize(e, empty ? '' : content);
  e.hidden = empty;
}

export function initials(name) {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  const first = (w) => [...w][0] || '';
  const letters = parts.length > 1 ? first(parts[0]) + first(parts[parts.length - 1]) : first(parts[0] || '?');
  return letters.toUpperCase();
}

/** A participant tile: video, avatar shown when there is no picture, name (ours as "NAME (you)", a shared
 * screen's as "NAME's screen"), mic state, connection label, and for others a volume slider. */
export class Tile {
  constructor(name, { self = false, screen = false } = {}) {
    this.self = self;
    this.screen = screen;
    this.percent = 100;
    this.root = el('div', `tile${self ? ' self' : ''}${screen ? ' screen' : ''}`);
    this.video = el('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    // A shared screen carries no sound (its peer's voice plays on their camera tile).
    if (self || screen) this.video.muted = true;
    this.avatar = el('div', 'avatar');
    this.avatarText = el('span', 'avatar-initials');
    this.avatar.append(this.avatarText);
    const label = el('div', 'tile-label');
    this.micOff = el('span', 'mic-off');
    localize(this.micOff, msg('tile-muted'));
    this.nameEl = el('span', 'tile-name');
    label.append(this.micOff, this.nameEl);
    this.conn = el('span', 'conn');
    this.conn.hidden = true;
    this.note = el('div', 'tile-note');
    this.note.hidden = true;
    this.code = el('span', 'tile-code');
    this.code.hidden = true;
    this.root.append(this.video, this.avatar, label, this.conn, this.note, this.code);
    if (!self && !screen) {
      // How loud they play here, 0–200 %; shown on hover (always on touch screens).
      this.volume = el('input', 'tile-volume');
      this.volume.type = 'range';
      this.volume.min = '0';
      this.volume.max = '200';
      this.volume.step = '5';
      this.volume.value = '100';
      this.root.append(this.volume);
    }
    this.setName(name);
  }

  setName(name) {
    this.name = name;
    const shown = this.self ? msg('tile-you', { name }) : this.screen ? msg('tile-screen', { name }) : name;
    localize(this.nameEl, shown);
    this.avatarText.textContent = initials(name);
    if (this.volume) localize(this.volume, msg('tile-volume', { name, percent: this.percent }));
  }

  /** Shows `value` (1 = 100 %) on the volume slider and in the name badge when it is not 100 %. */
  showVolume(value) {
    if (!this.volume) return;
    const percent = Math.round(value * 100);
    this.percent = percent;
    this.volume.value = String(percent);
    localize(this.volume, msg('tile-volume', { name: this.name, percent }));
    this.root.dataset.volume = String(percent);
  }

  setStream(stream) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    const p = this.video.play();
    return p && p.catch ? p : Promise.resolve();
  }

  /** `note`: a sentence across the tile (why there is no picture, a message), or empty; `conn`: the
   * connection's label (a message). */
  update({ cameraOn, micOn, conn, connClass, note = '', code = null }) {
    localize(this.code, code ? msg('tile-code', { code }) : '');
    this.code.hidden = !code;
    this.root.classList.toggle('no-video', !cameraOn);
    localize(this.note, note);
    this.note.hidden = !note;
    this.micOff.hidden = micOn;
    if (conn !== undefined) {
      localize(this.conn, conn);
      this.conn.className = `conn ${connClass || ''}`;
      this.conn.hidden = !conn;
    }
  }
}

/** Sizes the tiles (4:3) for one of three arrangements (`grid.dataset.layout`): a pinned tile (or a shared
 * screen) big above a strip of the others (`spotlight`); with one other person, them filling the stage and our self-view a
 * small picture-in-picture (`pip`); otherwise all of them as large as fits (`grid`). */
export function layoutGrid(grid) {
  const tiles = [...grid.children];
  const n = tiles.length;
  const gap = 12;
  const W = grid.clientWidth;
  const H = grid.clientHeight;
  if (!n || !W || !H) return;
  const pinned = tiles.some((t) => t.classList.contains('pinned'));
  const layout = pinned && n > 1 ? 'spotlight' : n === 2 ? 'pip' : 'grid';
  grid.dataset.layout = layout;
  grid.dataset.count = String(n);
  if (layout === 'pip') {
    // The other person centred as large as fits; us in their bottom-right corner.
    const big = Math.floor(Math.min(W, H * (4 / 3)));
    grid.style.setProperty('--big-w', `${big}px`);
    grid.style.setProperty('--small-w', `${Math.floor(Math.max(120, big * 0.22))}px`);
    grid.style.setProperty('--pip-right', `${Math.floor((W - big) / 2) + gap}px`);
    grid.style.setProperty('--pip-bottom', `${Math.floor((H - (big * 3) / 4) / 2) + gap}px`);
    return;
  }
  if (layout === 'spotlight') {
    const strip = H * 0.2;
    grid.style.setProperty('--big-w', `${Math.floor(Math.min(W, (H - strip - gap) * (4 / 3)))}px`);
    const small = Math.min(strip * (4 / 3), (W - gap * (n - 2)) / (n - 1));
    grid.style.setProperty('--small-w', `${Math.floor(small)}px`);
    return;
  }
  let best = { w: 0, cols: 1 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((W - gap * (cols - 1)) / cols, ((H - gap * (rows - 1)) / rows) * (4 / 3));
    if (w > best.w) best = { w, cols };
  }
  grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
}
