// Kaiwa browser client: routing, pre-join, the call (mesh of Peers), chat and the test hook.
import { Signaling } from '/signaling.js';
import { Peer } from '/peer.js';
import { $, el, showView, banner, showError, Tile, layoutGrid, formatTime } from '/ui.js';
import { checkNetwork } from '/netcheck.js';

const NAME_KEY = 'kaiwa.name';
const params = new URLSearchParams(location.search);
// Bench mode (`?bench=latency|file`, see docs/BENCHMARKS.md): measured sources and sinks; never loaded otherwise.
const bench = params.get('bench') ? await import('/bench.js') : null;
bench?.init(params);

const app = {
  view: 'home',
  room: null, // canonical code as the user typed it / the server returned it
  name: '',
  myId: null,
  maxPeers: null,
  sig: null,
  peers: new Map(),
  tiles: new Map(),
  chat: [],
  errors: [],
  videoProgress: new Map(), // peer id -> {frames, stalledSince}
};

// ---- local media -------------------------------------------------------------------------------

const local = {
  stream: null,
  audio: null,
  video: null,
  mic: true,
  camera: true,
  cameraId: localStorage.getItem('kaiwa.camera') || '',
  micId: localStorage.getItem('kaiwa.mic') || '',
  sendTrack(kind) {
    if (kind === 'audio') return this.mic ? this.audio : null;
    return this.camera ? this.video : null;
  },
  state() {
    return { mic: this.mic && !!this.audio, camera: this.camera && !!this.video };
  },
};

function mediaErrorText(e, what) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Your browser blocked the ${what}. Allow access in the site settings (the icon left of the address), then reload.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${what} found. Plug one in, or join without it.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${what} is in use by another app or could not start. Close that app and reload.`;
    default:
      return `Could not open the ${what}${e && e.message ? `: ${e.message}` : ''}.`;
  }
}

function insecureHint() {
  return (
    'This page is not secure (plain http on a network address), so the browser will not share your camera ' +
    'or microphone. Open it over https: start the server with --tls-self-signed (scripts/run.sh does), or ' +
    'use http://localhost on the machine running the server. You can still join to watch and listen.'
  );
}

async function openMedia() {
  for (const t of local.stream?.getTracks() ?? []) t.stop();
  local.stream = null;
  local.audio = local.video = null;
  if (bench) {
    local.stream = await bench.localMedia();
    local.audio = local.stream.getAudioTracks()[0] || null;
    local.video = local.stream.getVideoTracks()[0] || null;
    return;
  }
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    showError('media-error', insecureHint());
    for (const id of ['camera-select', 'mic-select']) {
      $(id).replaceChildren(el('option', '', 'Not available on this page'));
      $(id).disabled = true;
    }
    return;
  }
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
  if (local.cameraId) video.deviceId = { ideal: local.cameraId };
  const audio = local.micId ? { deviceId: { ideal: local.micId } } : true;
  const problems = [];
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (both) {
    // Try each alone so a missing camera does not cost the microphone and vice versa.
    const tracks = [];
    try {
      tracks.push(...(await navigator.mediaDevices.getUserMedia({ video })).getTracks());
    } catch (e) {
      problems.push(mediaErrorText(e, 'camera'));
    }
    try {
      tracks.push(...(await navigator.mediaDevices.getUserMedia({ audio })).getTracks());
    } catch (e) {
      problems.push(mediaErrorText(e, 'microphone'));
    }
    if (tracks.length) stream = new MediaStream(tracks);
    else if (both?.name === 'NotAllowedError') problems.splice(0, 2, mediaErrorText(both, 'camera and microphone'));
  }
  local.stream = stream || new MediaStream();
  local.audio = local.stream.getAudioTracks()[0] || null;
  local.video = local.stream.getVideoTracks()[0] || null;
  if (local.video) local.video.enabled = local.camera;
  if (local.audio) local.audio.enabled = local.mic;
  showError('media-error', problems.join(' '));
  for (const m of problems) app.errors.push(m);
  await fillDevicePickers();
}

async function fillDevicePickers() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  const fill = (select, kind, current, fallback) => {
    select.replaceChildren();
    const list = devices.filter((d) => d.kind === kind);
    list.forEach((d, i) => {
      const o = el('option', '', d.label || `${fallback} ${i + 1}`);
      o.value = d.deviceId;
      select.append(o);
    });
    if (!list.length) select.append(el('option', '', `No ${fallback.toLowerCase()} found`));
    if (current) select.value = current;
    select.disabled = !list.length;
  };
  fill($('camera-select'), 'videoinput', local.video?.getSettings().deviceId, 'Camera');
  fill($('mic-select'), 'audioinput', local.audio?.getSettings().deviceId, 'Microphone');
}

function applyLocalMedia() {
  if (local.video) local.video.enabled = local.camera;
  if (local.audio) local.audio.enabled = local.mic;
  for (const p of app.peers.values()) {
    p.setTrack('audio', local.sendTrack('audio'));
    p.setTrack('video', local.sendTrack('video'));
    p.sendMediaState();
  }
  const s = local.state();
  for (const [id, on, have, onText, offText, none] of [
    ['toggle-mic', local.mic, !!local.audio, 'Mute', 'Unmute', 'No mic'],
    ['toggle-cam', local.camera, !!local.video, 'Stop video', 'Start video', 'No camera'],
    ['pre-mic', local.mic, !!local.audio, 'Mic on', 'Mic off', 'No mic'],
    ['pre-cam', local.camera, !!local.video, 'Camera on', 'Camera off', 'No camera'],
  ]) {
    const b = $(id);
    b.textContent = !have ? none : on ? onText : offText;
    b.disabled = !have;
    b.setAttribute('aria-pressed', String(on && have));
    b.classList.toggle('off', !on || !have);
  }
  $('preview-off').hidden = s.camera;
  app.tiles.get('self')?.update({ cameraOn: s.camera, micOn: s.mic });
}

// ---- routing -----------------------------------------------------------------------------------

function normalizeCode(input) {
  let s = String(input).trim();
  const m = s.match(/\/r\/([^/?#]+)/);
  if (m) s = decodeURIComponent(m[1]);
  s = s.toLowerCase().replace(/\s+/g, '');
  return /^[a-z0-9-]{3,64}$/.test(s) && /[a-z0-9].*[a-z0-9].*[a-z0-9]/.test(s) ? s : null;
}

function inviteLink() {
  return `${location.origin}/r/${app.room}`;
}

async function copyLink(button) {
  const link = inviteLink();
  const old = button.textContent;
  try {
    await navigator.clipboard.writeText(link);
    button.textContent = 'Link copied';
  } catch {
    // Clipboard API unavailable (insecure page, no permission): fall back to a selected text field.
    const t = el('textarea');
    t.value = link;
    document.body.append(t);
    t.select();
    const ok = document.execCommand && document.execCommand('copy');
    t.remove();
    button.textContent = ok ? 'Link copied' : link;
  }
  setTimeout(() => (button.textContent = old), 2000);
}

function start() {
  const m = location.pathname.match(/^\/r\/([^/]+)\/?$/);
  if (!m) return showHome();
  const code = normalizeCode(decodeURIComponent(m[1]));
  if (!code) {
    showHome();
    showError('home-error', 'That room code is not valid: use 3–64 letters, digits or dashes.');
    return;
  }
  app.room = code;
  app.name = (params.get('name') || localStorage.getItem(NAME_KEY) || '').trim().slice(0, 64);
  if (params.get('autojoin') === '1') {
    openMedia().then(() => joinCall(app.name || 'Guest'));
  } else {
    showPrejoin();
  }
}

// ---- home --------------------------------------------------------------------------------------

function showHome() {
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

function showPrejoin() {
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

// ---- the call ----------------------------------------------------------------------------------

function joinCall(name) {
  app.name = name.slice(0, 64);
  app.view = 'call';
  showView('call');
  banner('');
  $('topbar-room').textContent = app.room;
  // On a phone the video gets the screen; chat opens with its button.
  $('view-call').classList.toggle('chat-hidden', matchMedia('(max-width: 820px)').matches);
  $('call-copy').textContent = `${app.room} · Copy link`;
  $('call-copy').onclick = () => copyLink($('call-copy'));
  const grid = $('grid');
  grid.replaceChildren();
  app.tiles.clear();
  const self = new Tile(`${app.name} (you)`, { self: true });
  app.tiles.set('self', self);
  grid.append(self.root);
  self.setStream(local.stream || new MediaStream());
  applyLocalMedia();
  relayout();
  wireCallControls();
  app.sig?.stop();
  app.sig = new Signaling({ room: app.room, name: app.name, onMessage, onStatus: onSignalingStatus });
  app.sig.start();
}

function onSignalingStatus(s) {
  if (s === 'reconnecting') banner('Lost the connection to the server. Reconnecting…');
  else if (s === 'joined') banner('');
}

function closeAllPeers() {
  for (const p of app.peers.values()) removePeer(p.id);
}

function onMessage(msg) {
  switch (msg.type) {
    case 'joined': {
      // A rejoin after a reconnect brings new ids: the old connections are stale.
      closeAllPeers();
      app.myId = msg.id;
      app.room = msg.room;
      app.maxPeers = msg.max_peers;
      app.iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
      $('topbar-room').textContent = app.room;
      $('call-copy').textContent = `${app.room} · Copy link`;
      // The newcomer offers to everyone already here.
      for (const p of msg.peers || []) addPeer(p.id, p.name, true);
      updateCount();
      break;
    }
    case 'peer_joined':
      addPeer(msg.peer.id, msg.peer.name, false);
      updateCount();
      break;
    case 'peer_left':
      removePeer(msg.id);
      updateCount();
      break;
    case 'signal': {
      let peer = app.peers.get(msg.from);
      if (!peer) peer = addPeer(msg.from, 'Guest', false);
      peer.handleSignal(msg.data);
      break;
    }
    case 'error':
      onServerError(msg);
      break;
    default:
      break;
  }
}

function onServerError(msg) {
  app.errors.push(msg.code);
  switch (msg.code) {
    case 'room_full':
      leave({
        title: 'This room is full',
        text: `It already has ${app.maxPeers || 'the most'} people, the most a room can have. Try again when someone leaves.`,
        retry: 'Try again',
      });
      break;
    case 'bad_room_code':
      leave({ title: 'That room code is not valid', text: 'Room codes are 3–64 letters, digits or dashes.' });
      break;
    case 'version_mismatch':
      leave({ title: 'Update needed', text: 'This page is older than the server. Reload it.', retry: 'Reload' });
      break;
    case 'rate_limited':
    case 'unknown_peer':
      console.warn('server:', msg.code, msg.message);
      break;
    default:
      console.warn('server error', msg.code, msg.message);
      if (msg.code === 'timeout' || msg.code === 'slow_consumer' || msg.code === 'server_full') {
        banner(`The server closed the connection (${msg.message || msg.code}). Reconnecting…`);
      }
  }
}

function addPeer(id, name, initiator) {
  app.peers.get(id)?.close();
  const peer = new Peer({
    id,
    name,
    myId: app.myId,
    iceServers: app.iceServers || [],
    relayOnly: params.get('relay') === '1',
    initiator,
    local,
    signal: (data) => app.sig?.signal(id, data),
    onChange: () => renderPeer(peer),
    onChat,
  });
  app.peers.set(id, peer);
  let tile = app.tiles.get(id);
  if (!tile) {
    tile = new Tile(name);
    app.tiles.set(id, tile);
    $('grid').append(tile.root);
  }
  tile.setName(name);
  tile.setStream(peer.stream).catch(() => needSoundClick());
  bench?.watchPeer(peer, tile.video);
  renderPeer(peer);
  relayout();
  return peer;
}

function removePeer(id) {
  const peer = app.peers.get(id);
  if (peer) {
    peer.close();
    app.peers.delete(id);
  }
  const tile = app.tiles.get(id);
  if (tile) {
    tile.root.remove();
    app.tiles.delete(id);
  }
  app.videoProgress.delete(id);
  relayout();
}

function needSoundClick() {
  banner('Your browser held back the sound of this call.', {
    label: 'Turn sound on',
    run: () => {
      for (const [id, t] of app.tiles) if (id !== 'self') t.video.play().catch(() => {});
      banner('');
    },
  });
}

function renderPeer(peer) {
  const tile = app.tiles.get(peer.id);
  if (!tile || peer.closed) return;
  if (tile.video.srcObject !== peer.stream || tile.video.paused) tile.setStream(peer.stream).catch(() => {});
  const label = peer.label;
  const progress = app.videoProgress.get(peer.id);
  const hasVideo = peer.stream.getVideoTracks().some((t) => t.readyState === 'live' && !t.muted);
  const cameraOn = peer.remoteMedia.camera && hasVideo && !!progress?.flowing;
  tile.update({
    cameraOn,
    micOn: peer.remoteMedia.mic,
    conn: label,
    connClass: label.startsWith('connected') ? 'good' : label === 'failed' ? 'bad' : 'warn',
    note: peer.videoFormats.shared === false ? "Video can't be shown: no common video format" : '',
    code: peer.verificationCode,
  });
  tile.root.dataset.state = label;
}

function relayout() {
  layoutGrid($('grid'));
}

function updateCount() {
  const n = app.peers.size + 1;
  $('call-count').textContent = `${n} in call`;
}

// Stats once a second: connection route labels and whether each peer's video is actually moving.
setInterval(async () => {
  for (const peer of app.peers.values()) {
    try {
      const s = await peer.collect();
      const frames = s.video?.framesDecoded ?? 0;
      const prev = app.videoProgress.get(peer.id) || { frames: 0, flowing: false, still: 0 };
      const moved = frames > prev.frames;
      const still = moved ? 0 : prev.still + 1;
      app.videoProgress.set(peer.id, { frames, flowing: moved || (prev.flowing && still < 2), still });
      renderPeer(peer);
    } catch {
      // closed meanwhile
    }
  }
}, 1000);

new ResizeObserver(() => relayout()).observe($('grid'));

// ---- chat --------------------------------------------------------------------------------------

function onChat(peer, msg) {
  const entry = {
    from: peer.name,
    peerId: peer.id,
    text: msg.text.slice(0, 10000),
    ts: Number.isFinite(msg.ts) ? msg.ts : Date.now(),
    self: false,
  };
  app.chat.push(entry);
  renderChat(entry);
  if ($('view-call').classList.contains('chat-hidden')) $('toggle-chat').classList.add('unread');
}

function renderChat(entry) {
  const li = el('li', entry.self ? 'me' : '');
  const meta = el('div', 'meta');
  meta.append(el('span', 'who', entry.self ? 'You' : entry.from), el('span', 'when', formatTime(entry.ts)));
  li.append(meta, el('div', 'text', entry.text));
  const log = $('chat-log');
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

function sendChat(text) {
  const msg = { type: 'chat', from: app.name, text, ts: Date.now() };
  for (const p of app.peers.values()) p.send(msg);
  const entry = { from: app.name, peerId: app.myId, text, ts: msg.ts, self: true };
  app.chat.push(entry);
  renderChat(entry);
}

// ---- controls ----------------------------------------------------------------------------------

function wireCallControls() {
  $('toggle-mic').onclick = () => {
    local.mic = !local.mic;
    applyLocalMedia();
  };
  $('toggle-cam').onclick = () => {
    local.camera = !local.camera;
    applyLocalMedia();
  };
  $('toggle-chat').onclick = () => {
    $('view-call').classList.toggle('chat-hidden');
    $('toggle-chat').classList.remove('unread');
    relayout();
  };
  $('leave').onclick = () => leave({ title: 'You left the call', text: `Room ${app.room}`, retry: 'Rejoin' });
  $('chat-form').onsubmit = (e) => {
    e.preventDefault();
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text) return;
    sendChat(text);
    input.value = '';
  };
}

function leave({ title, text, retry }) {
  app.sig?.stop();
  app.sig = null;
  closeAllPeers();
  // Turn the camera light off while not in a call.
  for (const t of local.stream?.getTracks() ?? []) t.stop();
  local.stream = null;
  local.audio = local.video = null;
  app.myId = null;
  app.view = 'message';
  banner('');
  showView('message');
  $('message-title').textContent = title;
  $('message-text').textContent = text || '';
  const btn = $('message-retry');
  btn.hidden = !retry;
  btn.textContent = retry || '';
  btn.onclick = () => (retry === 'Reload' ? location.reload() : openMedia().then(() => joinCall(app.name)));
}

window.addEventListener('pagehide', () => app.sig?.stop());

// ---- test hook ---------------------------------------------------------------------------------

window.kaiwa = {
  /** Everything the UI shows, as plain data. */
  state() {
    return {
      view: app.view,
      room: app.room,
      myId: app.myId,
      name: app.name,
      signaling: app.sig?.status ?? 'stopped',
      mic: local.state().mic,
      camera: local.state().camera,
      peers: [...app.peers.values()].map((p) => ({
        id: p.id,
        name: p.name,
        polite: p.polite,
        connectionState: p.pc.connectionState,
        iceConnectionState: p.pc.iceConnectionState,
        label: p.label,
        chatOpen: p.channel?.readyState === 'open',
        chatDropped: p.chatDropped,
        remoteMic: p.remoteMedia.mic,
        remoteCamera: p.remoteMedia.camera,
        videoFlowing: !!app.videoProgress.get(p.id)?.flowing,
        negotiation: { ...p.counts, signalingState: p.pc.signalingState },
        remoteTracks: p.stream.getTracks().map((t) => ({ kind: t.kind, muted: t.muted, readyState: t.readyState })),
      })),
      chat: app.chat.map((c) => ({ ...c })),
      errors: [...app.errors],
    };
  },
  /** Restarts ICE towards every peer (renegotiates; for tests and for a stuck call). */
  restartIce() {
    for (const p of app.peers.values()) p.restartIce();
    return app.peers.size;
  },
  /** Fresh getStats per peer (a promise). */
  async stats() {
    const peers = [];
    for (const p of app.peers.values()) {
      try {
        peers.push({ id: p.id, name: p.name, label: p.label, ...(await p.collect()) });
      } catch {
        // closed meanwhile
      }
    }
    return { myId: app.myId, peers };
  },
  /** Bench mode's measurements (null outside bench mode). */
  bench() {
    return bench ? bench.results() : null;
  },
};

start();
