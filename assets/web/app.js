// Kaiwa browser client: routing (`/`, `/r/CODE`, `?name=&autojoin=1`) and the `window.kaiwa` test hook.
// The page's state is in state.js, local media in media.js, home and pre-join in prejoin.js, the call in
// call.js (chat in chat.js, one Peer per participant in peer.js), the page's language and text in i18n.js.
import { $, showError } from '/ui.js';
import { app, bench, local, params, NAME_KEY } from '/state.js';
import { normalizeCode } from '/links.js';
import { openMedia } from '/media.js';
import { showHome, showPrejoin } from '/prejoin.js';
import { joinCall } from '/call.js';
import { spotlightTile } from '/screen.js';
import { msg, t, translateAll, wireLanguagePicker } from '/i18n.js';

function start() {
  translateAll();
  wireLanguagePicker($('lang-select'));
  const m = location.pathname.match(/^\/r\/([^/]+)\/?$/);
  if (!m) return showHome();
  const code = normalizeCode(decodeURIComponent(m[1]));
  if (!code) {
    showHome();
    showError('home-error', msg('home-bad-code'));
    return;
  }
  app.room = code;
  app.name = (params.get('name') || localStorage.getItem(NAME_KEY) || '').trim().slice(0, 64);
  if (params.get('autojoin') === '1') {
    openMedia().then(() => joinCall(app.name || t('guest')));
  } else {
    showPrejoin();
  }
}

// ---- test hook ---------------------------------------------------------------------------------

window.kaiwa = {
  /** Everything the UI shows, as plain data. */
  state() {
    return {
      view: app.view,
      lang: document.documentElement.lang,
      room: app.room,
      myId: app.myId,
      name: app.name,
      signaling: app.sig?.status ?? 'stopped',
      mic: local.state().mic,
      camera: local.state().camera,
      sharing: !!local.screen,
      // Through the SFU: the state of its receiving connection; `sfuFlowing` per peer once its media comes that way.
      sfu: app.sfu ? { receiving: app.sfu.sub?.connectionState ?? 'new', sending: app.sfu.pub?.connectionState ?? 'new' } : null,
      peers: [...app.peers.values()].map((p) => ({
        id: p.id,
        name: p.name,
        polite: p.polite,
        connectionState: p.pc?.connectionState ?? null,
        iceConnectionState: p.pc?.iceConnectionState ?? null,
        sfuFlowing: p.flowing ?? null,
        meshOpen: p.pc ? !p.closed : !!p.mesh,
        label: p.label,
        chatOpen: p.channel?.readyState === 'open',
        chatDropped: p.chatDropped,
        remoteMic: p.remoteMedia.mic,
        remoteCamera: p.remoteMedia.camera,
        remoteScreen: p.remoteMedia.screen,
        screenShown: !!p.screenStream,
        videoFlowing: !!app.videoProgress.get(p.id)?.flowing,
        volume: app.volumes.get(p.id)?.value ?? 1,
        outputLevel: app.volumes.get(p.id)?.outputLevel() ?? null,
        inputLevel: app.volumes.get(p.id)?.inputLevel() ?? null,
        negotiation: p.pc ? { ...p.counts, signalingState: p.pc.signalingState } : null,
        remoteTracks: p.stream.getTracks().map((t) => ({ kind: t.kind, muted: t.muted, readyState: t.readyState })),
      })),
      layout: document.getElementById('grid').dataset.layout ?? null,
      pinned: app.pinned,
      spotlight: spotlightTile(),
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
  /** Bytes sent so far on all our connections (mesh and SFU): what this page uploads. */
  async bytesSent() {
    const pcs = [...app.peers.values()].map((p) => p.pc).filter(Boolean);
    if (app.sfu?.pub) pcs.push(app.sfu.pub);
    let sent = 0;
    for (const pc of pcs) {
      const report = await pc.getStats().catch(() => new Map());
      for (const s of report.values()) if (s.type === 'transport') sent += s.bytesSent ?? 0;
    }
    return sent;
  },
  /** Bench mode's measurements (null outside bench mode). */
  bench() {
    return bench ? bench.results() : null;
  },
};

start();
