// Screen sharing on the page: sharing ours (getDisplayMedia, `contentHint = "detail"`, as a second video
// track beside the camera on every connection, or once to the SFU in a big room) and showing the screens others share, each on a tile of
// its own (`screen:<peer id>`) that takes the spotlight unless the user pinned another.

import { $, Tile, banner } from '/ui.js';
import { app, local, params } from '/state.js';
import { localize, msg } from '/i18n.js';

/** Frame rate asked of the capture: text wants sharp frames more than many. */
const SHARE_FPS = 15;

export const screenTileId = (peerId) => `screen:${peerId}`;

/** Asks the browser for a screen, window or tab and shares it with everyone; false if nothing was chosen. */
export async function startShare() {
  if (local.screen) return true;
  if (!navigator.mediaDevices?.getDisplayMedia) {
    banner(msg('screen-unsupported'));
    return false;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      // Up to 1920×1080 (a tab's capture is otherwise as small as 800×450 in Chromium).
      video: { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: SHARE_FPS, max: SHARE_FPS } },
      audio: false,
      // `?share=tab`: offer this tab first (tests, with Chromium's --auto-accept-this-tab-capture).
      preferCurrentTab: params.get('share') === 'tab',
      selfBrowserSurface: params.get('share') === 'tab' ? 'include' : 'exclude',
    });
  } catch (e) {
    if (e?.name !== 'NotAllowedError') banner(msg('screen-failed', { reason: String(e?.message ?? e) }));
    return false;
  }
  const track = stream.getVideoTracks()[0];
  if (!track) return false;
  track.contentHint = 'detail';
  // The browser's own "Stop sharing" ends the track.
  track.onended = () => stopShare();
  local.screen = { stream, track };
  app.sfu?.shareScreen();
  for (const peer of app.peers.values()) peer.addScreen();
  showShareButton();
  return true;
}

export function stopShare() {
  const screen = local.screen;
  if (!screen) return;
  local.screen = null;
  app.sfu?.shareScreen();
  for (const peer of app.peers.values()) peer.removeScreen();
  screen.track.onended = null;
  screen.track.stop();
  showShareButton();
}

function showShareButton() {
  const btn = $('toggle-share');
  localize(btn, local.screen ? msg('call-stop-share') : msg('call-share'));
  btn.classList.toggle('danger', !!local.screen);
  btn.setAttribute('aria-pressed', String(!!local.screen));
}

export function wireShareButton() {
  showShareButton();
  $('toggle-share').onclick = () => (local.screen ? stopShare() : startShare());
}

/** Shows (or removes) the tile of the screen `peer` shares; true when the tiles changed. */
export function renderScreen(peer, onPin) {
  const id = screenTileId(peer.id);
  let tile = app.tiles.get(id);
  const stream = peer.closed ? null : peer.screenStream;
  if (!stream) {
    if (!tile) return false;
    tile.root.remove();
    app.tiles.delete(id);
    if (app.pinned === id) app.pinned = null;
    return true;
  }
  const added = !tile;
  if (!tile) {
    tile = new Tile(peer.name, { screen: true });
    tile.root.ondblclick = () => onPin(id);
    app.tiles.set(id, tile);
    $('grid').append(tile.root);
  }
  if (tile.video.srcObject !== stream) tile.setStream(stream).catch(() => {});
  tile.update({ cameraOn: true, micOn: true });
  return added;
}

/** The tile in the spotlight: the user's pin, or else the first shared screen. */
export function spotlightTile() {
  if (app.pinned && app.tiles.has(app.pinned)) return app.pinned;
  return [...app.tiles.keys()].find((id) => id.startsWith('screen:')) ?? null;
}
