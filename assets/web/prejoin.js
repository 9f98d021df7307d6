// The home page (create or join a room) and the pre-join page (name, preview, devices, room status and the
// network check).
import { $, el, showView, showError } from '/ui.js';
import { checkNetwork } from '/netcheck.js';
import { app, local, NAME_KEY } from '/state.js';
import { openMedia, applyLocalMedia } from '/media.js';
import { copyLink, normalizeCode } from '/links.js';
import { joinCall } from '/call.js';
import { has, localize, msg } from '/i18n.js';

export function showHome() {
  app.view = 'home';
  showView('home');
  $('create-room').onclick = async () => {
    const btn = $('create-room');
    btn.disabled = true;
    showError('home-error', '');
    try {
      const res = await fetch('/api/rooms', { method: 'POST' });
      if (!res.ok) {
        showError('home-error', msg('home-create-failed-status', { status: String(res.status) }));
        btn.disabled = false;
        return;
      }
      const { url } = await res.json();
      location.assign(url);
    } catch (e) {
      showError('home-error', msg('home-create-failed', { reason: e.message }));
      btn.disabled = false;
    }
  };
  $('join-form').onsubmit = (e) => {
    e.preventDefault();
    const code = normalizeCode($('join-code').value);
    if (!code) {
      showError('home-error', msg('home-enter-code'));
      return;
    }
    location.assign(`/r/${code}`);
  };
}

// ---- pre-join ----------------------------------------------------------------------------------

let statusTimer = 0;

async function refreshRoomStatus() {
  const status = $('room-status');
  const join = $('join-button');
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(app.room)}`);
    const body = await res.json();
    if (!res.ok) {
      // The error code's sentence in the page's language; the server's own words for a code we do not know.
      const code = `error-${body.error}`;
      localize(status, has(code) ? msg(code) : body.message || msg('room-invalid'));
      status.className = 'pill bad';
      join.disabled = true;
      return;
    }
    app.room = body.room;
    $('prejoin-code').textContent = body.room;
    const full = body.participants >= body.capacity;
    const counts = { participants: body.participants, capacity: body.capacity };
    localize(
      status,
      full ? msg('room-full', counts) : body.participants === 0 ? msg('room-empty', counts) : msg('room-count', counts),
    );
    status.className = `pill ${full ? 'bad' : 'good'}`;
    join.disabled = full;
  } catch {
    localize(status, msg('room-unreachable'));
    status.className = 'pill bad';
  }
}

/** Runs the network check and shows it; the result is kept for tests as `window.kaiwaNetCheck`. */
async function runNetCheck() {
  const verdict = $('net-verdict');
  const list = $('net-findings');
  localize(verdict, msg('net-checking'));
  verdict.className = 'pill';
  list.replaceChildren();
  $('net-again').hidden = true;
  const result = await checkNetwork();
  window.kaiwaNetCheck = result;
  const [first, ...rest] = result.findings;
  localize(verdict, msg(first.id, first.args));
  verdict.className = `pill ${first.ok ? 'good' : 'bad'}`;
  list.replaceChildren(
    ...rest.map((f) => {
      const li = el('li', f.ok ? 'good' : 'bad');
      localize(li, msg(f.id, f.args));
      return li;
    }),
  );
  $('net-again').hidden = false;
}

export function showPrejoin() {
  app.view = 'prejoin';
  showView('prejoin');
  $('topbar-room').textContent = '';
  $('prejoin-code').textContent = app.room;
  $('name').value = app.name;
  refreshRoomStatus();
  runNetCheck();
  $('net-again').onclick = runNetCheck;
  clearInterval(statusTimer);
  statusTimer = setInterval(refreshRoomStatus, 3000);
  $('copy-link').onclick = () => copyLink($('copy-link'));
  openMedia().then(() => {
    $('preview').srcObject = local.stream;
    applyLocalMedia();
  });
  $('camera-select').onchange = async (e) => {
    local.cameraId = e.target.value;
    localStorage.setItem('kaiwa.camera', local.cameraId);
    await openMedia();
    $('preview').srcObject = local.stream;
    applyLocalMedia();
  };
  $('mic-select').onchange = async (e) => {
    local.micId = e.target.value;
    localStorage.setItem('kaiwa.mic', local.micId);
    await openMedia();
    $('preview').srcObject = local.stream;
    applyLocalMedia();
  };
  $('pre-mic').onclick = () => {
    local.mic = !local.mic;
    applyLocalMedia();
  };
  $('pre-cam').onclick = () => {
    local.camera = !local.camera;
    applyLocalMedia();
  };
  const join = () => {
    const name = $('name').value.trim();
    if (!name) {
      $('name').focus();
      localize($('name'), msg('prejoin-name-first'));
      return;
    }
    localStorage.setItem(NAME_KEY, name);
    clearInterval(statusTimer);
    joinCall(name);
  };
  $('join-button').onclick = join;
  $('name').onkeydown = (e) => {
    if (e.key === 'Enter') join();
  };
}
