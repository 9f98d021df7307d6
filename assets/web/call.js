// The call: signaling, one Peer per participant (a mesh), their tiles, the stats loop that tells moving
// video from a frozen one, the controls, and leaving.
import { Signaling } from '/signaling.js';
import { Peer } from '/peer.js';
import { $, showView, banner, Tile, layoutGrid } from '/ui.js';
import { app, bench, local, params } from '/state.js';
import { openMedia, applyLocalMedia } from '/media.js';
import { copyLink } from '/links.js';
import { onChat, sendChat } from '/chat.js';
import { PeerVolume } from '/volume.js';
import { renderScreen, screenTileId, spotlightTile, stopShare, wireShareButton } from '/screen.js';

export function joinCall(name) {
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
  app.pinned = null;
  self.root.ondblclick = () => togglePin('self');
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
  tile.root.ondblclick = (e) => {
    if (e.target !== tile.volume) togglePin(id);
  };
  app.volumes.get(id)?.close();
  const volume = new PeerVolume(tile.video, name);
  app.volumes.set(id, volume);
  tile.showVolume(volume.value);
  tile.volume.oninput = () => {
    volume.set(Number(tile.volume.value) / 100, peer.stream);
    tile.showVolume(volume.value);
  };
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
  app.tiles.get(screenTileId(id))?.root.remove();
  app.tiles.delete(screenTileId(id));
  if (app.pinned === screenTileId(id)) app.pinned = null;
  app.videoProgress.delete(id);
  app.volumes.get(id)?.close();
  app.volumes.delete(id);
  if (app.pinned === id) app.pinned = null;
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
  if (renderScreen(peer, togglePin)) relayout();
  if (tile.video.srcObject !== peer.stream || tile.video.paused) tile.setStream(peer.stream).catch(() => {});
  app.volumes.get(peer.id)?.follow(peer.stream);
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

/** Pins the tile of `id` (a peer id, `screen:<peer id>` or 'self') big, or unpins it if it is. */
function togglePin(id) {
  app.pinned = app.pinned === id ? null : id;
  relayout();
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else document.documentElement.requestFullscreen?.().catch(() => {});
}

document.addEventListener('fullscreenchange', () => {
  $('toggle-full').textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
});

/** The spotlight (a pinned tile, or else a shared screen) marked, then the tiles sized. */
function relayout() {
  const big = spotlightTile();
  for (const [tileId, t] of app.tiles) t.root.classList.toggle('pinned', tileId === big);
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
  $('toggle-full').onclick = toggleFullscreen;
  wireShareButton();
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

export function leave({ title, text, retry }) {
  stopShare();
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
