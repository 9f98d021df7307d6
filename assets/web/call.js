// The call: signaling, one Peer per participant (a mesh), their tiles, the stats loop that tells moving
// video from a frozen one, the controls, and leaving. The server's errors are shown by their code, in the
// page's language (`error-<code>` in i18n/*.ftl).
import { Signaling } from '/signaling.js';
import { Peer } from '/peer.js';
import { SfuLink, SfuPeer } from '/sfu.js';
import { $, showView, banner, Tile, layoutGrid } from '/ui.js';
import { app, bench, local, params } from '/state.js';
import { openMedia, applyLocalMedia } from '/media.js';
import { copyLink } from '/links.js';
import { onChat, sendChat } from '/chat.js';
import { PeerVolume } from '/volume.js';
import { renderScreen, screenTileId, spotlightTile, stopShare, wireShareButton } from '/screen.js';
import { has, localize, msg, t } from '/i18n.js';

export function joinCall(name) {
  app.name = name.slice(0, 64);
  app.view = 'call';
  showView('call');
  banner('');
  $('topbar-room').textContent = app.room;
  // On a phone the video gets the screen; chat opens with its button.
  $('view-call').classList.toggle('chat-hidden', matchMedia('(max-width: 820px)').matches);
  localize($('call-copy'), msg('call-copy', { room: app.room }));
  $('call-copy').onclick = () => copyLink($('call-copy'));
  const grid = $('grid');
  grid.replaceChildren();
  app.tiles.clear();
  const self = new Tile(app.name, { self: true });
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
  if (s === 'reconnecting') banner(msg('call-reconnecting'));
  else if (s === 'joined') banner('');
}

function closeAllPeers() {
  for (const p of app.peers.values()) removePeer(p.id);
  app.sfu?.close();
  app.sfu = null;
}

/** The room goes through the SFU: our connections to it, and everyone (already here) as an SfuPeer that
 * keeps its mesh connection until the SFU's media from them moves. */
function startSfu() {
  if (app.sfu) return;
  app.sfu = new SfuLink({
    iceServers: app.iceServers || [],
    local,
    send: (msg) => app.sig?.send(msg),
    onTrack: (id, track, screen) => app.peers.get(id)?.addTrack?.(track, screen),
    onStreams: () => {
      for (const p of app.peers.values()) p.streamsChanged?.();
    },
  });
  for (const p of [...app.peers.values()]) {
    if (!(p instanceof SfuPeer)) addSfuPeer(p.id, p.name, p);
  }
}

function addSfuPeer(id, name, mesh = null) {
  const peer = new SfuPeer({
    id,
    name,
    link: app.sfu,
    mesh,
    signal: (data) => app.sig?.signal(id, data),
    onChange: () => renderPeer(peer),
    onChat,
  });
  app.peers.set(id, peer);
  showPeer(peer);
  peer.sendMediaState();
  return peer;
}

function onMessage(m) {
  switch (m.type) {
    case 'joined': {
      // A rejoin after a reconnect brings new ids: the old connections are stale.
      closeAllPeers();
      app.myId = m.id;
      app.room = m.room;
      app.maxPeers = m.max_peers;
      app.iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
      $('topbar-room').textContent = app.room;
      localize($('call-copy'), msg('call-copy', { room: app.room }));
      if (m.sfu) {
        // Through the SFU from the start: no connection to anyone, our media when the server asks.
        startSfu();
        for (const p of m.peers || []) addSfuPeer(p.id, p.name);
      } else {
        // The newcomer offers to everyone already here.
        for (const p of m.peers || []) addPeer(p.id, p.name, true);
      }
      updateCount();
      break;
    }
    case 'peer_joined':
      if (app.sfu) addSfuPeer(m.peer.id, m.peer.name);
      else addPeer(m.peer.id, m.peer.name, false);
      updateCount();
      break;
    case 'sfu_publish':
      startSfu();
      app.sfu.publish();
      break;
    case 'sfu_answer':
      app.sfu?.onAnswer(m.sdp);
      break;
    case 'sfu_offer':
      app.sfu?.onOffer(m.sdp, m.streams);
      break;
    case 'peer_left':
      removePeer(m.id);
      updateCount();
      break;
    case 'signal': {
      let peer = app.peers.get(m.from);
      if (peer instanceof SfuPeer) {
        // Chat and media states come this way in an SFU room; a retiring mesh connection's own signals too.
        if (m.data?.sdp || m.data?.candidate !== undefined) peer.mesh?.handleSignal(m.data);
        else peer.receive(m.data);
        break;
      }
      if (!peer) peer = addPeer(m.from, t('guest'), false);
      peer.handleSignal(m.data);
      break;
    }
    case 'error':
      onServerError(m);
      break;
    default:
      break;
  }
}

/** A server error code's sentence in the page's language, or the server's own words for a code this page
 * does not know (a newer server's). */
function errorText({ code, message }) {
  return has(`error-${code}`) ? msg(`error-${code}`) : message || String(code);
}

function onServerError(err) {
  app.errors.push(err.code);
  switch (err.code) {
    case 'room_full':
      leave({ title: msg('room-full-title'), text: errorText(err), retry: msg('retry') });
      break;
    case 'bad_room_code':
      leave({ title: msg('bad-code-title'), text: errorText(err) });
      break;
    case 'version_mismatch':
      leave({ title: msg('update-title'), text: errorText(err), retry: msg('reload'), reload: true });
      break;
    case 'timeout':
    case 'slow_consumer':
    case 'unavailable':
    case 'server_full':
      // The server closes the connection; the client reconnects.
      console.warn('server error', err.code, err.message);
      banner([errorText(err), msg('reconnecting')]);
      break;
    default:
      console.warn('server error', err.code, err.message);
      // A code this page does not know: say what the server said.
      if (!has(`error-${err.code}`)) banner(errorText(err), { label: msg('banner-dismiss'), run: () => banner('') });
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
  showPeer(peer);
  return peer;
}

/** The tile of `peer` (a mesh Peer or an SfuPeer), made or reused, and wired to it. */
function showPeer(peer) {
  const { id, name } = peer;
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
  banner(msg('call-sound-held'), {
    label: msg('call-sound-on'),
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
    conn: connText(label),
    connClass: label.startsWith('connected') ? 'good' : label === 'failed' ? 'bad' : 'warn',
    note: peer.videoFormats.shared === false ? msg('call-no-common-video') : '',
    code: peer.verificationCode,
  });
  tile.root.dataset.state = label;
}

/** A connection's label (`Peer.label`: connecting, connected via direct, connected via relay (TCP), …) as
 * the tile shows it, in the page's language. */
function connText(label) {
  const via = /^connected via (direct|relay)(?: \((\w+)\))?$/.exec(label);
  if (via) {
    const [, route, transport] = via;
    if (route === 'direct') return transport ? msg('conn-direct-over', { transport }) : msg('conn-direct');
    return transport ? msg('conn-relay-over', { transport }) : msg('conn-relay');
  }
  const plain = {
    connecting: msg('conn-connecting'),
    connected: msg('conn-connected'),
    reconnecting: msg('conn-reconnecting'),
    failed: msg('conn-failed'),
    closed: msg('conn-closed'),
  };
  return plain[label] ?? label;
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
  localize($('toggle-full'), document.fullscreenElement ? msg('call-exit-full') : msg('call-full'));
});

/** The spotlight (a pinned tile, or else a shared screen) marked, then the tiles sized. */
function relayout() {
  const big = spotlightTile();
  for (const [tileId, t] of app.tiles) t.root.classList.toggle('pinned', tileId === big);
  layoutGrid($('grid'));
}

function updateCount() {
  const n = app.peers.size + 1;
  localize($('call-count'), msg('call-count', { count: n }));
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
  $('leave').onclick = () =>
    leave({ title: msg('left-title'), text: msg('left-text', { room: app.room }), retry: msg('rejoin') });
  $('chat-form').onsubmit = (e) => {
    e.preventDefault();
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text) return;
    sendChat(text);
    input.value = '';
  };
}

/** Ends the call and shows why (`title`, `text`: messages); `retry` labels the button that joins again (or
 * reloads the page, with `reload`). */
export function leave({ title, text, retry, reload = false }) {
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
  localize($('message-title'), title);
  localize($('message-text'), text || '');
  const btn = $('message-retry');
  btn.hidden = !retry;
  localize(btn, retry || '');
  btn.onclick = () => (reload ? location.reload() : openMedia().then(() => joinCall(app.name)));
}

window.addEventListener('pagehide', () => app.sig?.stop());
