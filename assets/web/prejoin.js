// The home page (create or join a room) and the pre-join page (name, preview, devices, room status and the
// network check).
import { $, el, showView, showError } from '/ui.js';
import { checkNetwork } from '/netcheck.js';
import { app, local, NAME_KEY } from '/state.js';
import { openMedia, applyLocalMedia } from '/media.js';
import { copyLink, normalizeCode } from '/links.js';
import { joinCall } from '/call.js';

export function showHome() {
  app.view = 'home';
  showView('home');
  $('create-room').onclick = async () => {
    const btn = $('create-room');
    btn.disabled = true;
    showError('home-error', '');
    try {
      const res = await fetch('/api/rooms', { method: 'POST' });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      const { url } = await res.json();
      location.assign(url);
    } catch (e) {
      showError('home-error', `Could not create a room: ${e.message}. Is the server running?`);
      btn.disabled = false;
    }
  };
  $('join-form').onsubmit = (e) => {
    e.preventDefault();
    const code = normalizeCode($('join-code').value);
    if (!code) {
      showError('home-error', 'Enter a room code (like abc-defg-hij) or paste an invite link.');
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
      status.textContent = body.message || 'That room code is not valid.';
      status.className = 'pill bad';
      join.disabled = true;
      return;
    }
    app.room = body.room;
    $('prejoin-code').textContent = body.room;
    const full = body.participants >= body.capacity;
    status.textContent = full
      ? `Room full (${body.participants} of ${body.capacity})`
      : body.participants === 0
        ? `0 of ${body.capacity} here · you'll be the first`
        : `${body.participants} of ${body.capacity} here`;
    status.className = `pill ${full ? 'bad' : 'good'}`;
    join.disabled = full;
  } catch {
    status.textContent = 'Cannot reach the server';
    status.className = 'pill bad';
  }
}

/** Runs the network check and shows it; the result is kept for tests as `window.kaiwaNetCheck`. */
async function runNetCheck() {
  const verdict = $('net-verdict');
  const list = $('net-findings');
  verdict.textContent = 'Checking your network…';
  verdict.className = 'pill';
  list.replaceChildren();
  $('net-again').hidden = true;
  const result = await checkNetwork();
  window.kaiwaNetCheck = result;
  const [first, ...rest] = result.findings;
  verdict.textContent = first.text;
  verdict.className = `pill ${first.ok ? 'good' : 'bad'}`;
  list.replaceChildren(...rest.map((f) => el('li', f.ok ? 'good' : 'bad', f.text)));
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
      $('name').placeholder = 'Enter your name first';
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
