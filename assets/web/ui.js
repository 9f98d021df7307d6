// DOM helpers. Everything a peer provides (names, chat) goes in with textContent, never as HTML.

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

export function banner(text, action) {
  const b = $('banner');
  if (!text) {
    b.hidden = true;
    return;
  }
  $('banner-text').textContent = text;
  const btn = $('banner-action');
  btn.hidden = !action;
  if (action) {
    btn.textContent = action.label;
    btn.onclick = action.run;
  }
  b.hidden = false;
}

export function showError(id, text) {
  const e = $(id);
  e.textContent = text || '';
  e.hidden = !text;
}

export function initials(name) {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  const first = (w) => [...w][0] || '';
  const letters = parts.length > 1 ? first(parts[0]) + first(parts[parts.length - 1]) : first(parts[0] || '?');
  return letters.toUpperCase();
}

/** A participant tile: video, avatar shown when there is no picture, name, mic state, connection label. */
export class Tile {
  constructor(name, { self = false } = {}) {
    this.root = el('div', `tile${self ? ' self' : ''}`);
    this.video = el('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    if (self) this.video.muted = true;
    this.avatar = el('div', 'avatar');
    this.avatarText = el('span', 'avatar-initials');
    this.avatar.append(this.avatarText);
    const label = el('div', 'tile-label');
    this.micOff = el('span', 'mic-off', 'muted');
    this.micOff.title = 'Microphone off';
    this.nameEl = el('span', 'tile-name');
    label.append(this.micOff, this.nameEl);
    this.conn = el('span', 'conn');
    this.conn.hidden = true;
    this.note = el('div', 'tile-note');
    this.note.hidden = true;
    this.code = el('span', 'tile-code');
    this.code.hidden = true;
    this.code.title = 'Verification code: read it to them. If theirs differs, someone is in between.';
    this.root.append(this.video, this.avatar, label, this.conn, this.note, this.code);
    this.setName(name);
  }

  setName(name) {
    this.nameEl.textContent = name;
    this.avatarText.textContent = initials(name);
  }

  setStream(stream) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    const p = this.video.play();
    return p && p.catch ? p : Promise.resolve();
  }

  /** `note`: a sentence across the tile (why there is no picture), or empty. */
  update({ cameraOn, micOn, conn, connClass, note = '', code = null }) {
    this.code.textContent = code ? `🔒 ${code}` : '';
    this.code.hidden = !code;
    this.root.classList.toggle('no-video', !cameraOn);
    this.note.textContent = note;
    this.note.hidden = !note;
    this.micOff.hidden = micOn;
    if (conn !== undefined) {
      this.conn.textContent = conn;
      this.conn.className = `conn ${connClass || ''}`;
      this.conn.hidden = !conn;
    }
  }
}

/** Sizes the tiles (4:3) so that all of them fit the grid area as large as possible. */
export function layoutGrid(grid) {
  const n = grid.children.length;
  const gap = 12;
  const W = grid.clientWidth;
  const H = grid.clientHeight;
  if (!n || !W || !H) return;
  let best = { w: 0, cols: 1 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((W - gap * (cols - 1)) / cols, ((H - gap * (rows - 1)) / rows) * (4 / 3));
    if (w > best.w) best = { w, cols };
  }
  grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
  grid.dataset.count = String(n);
}

export function formatTime(ts) {
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
}
