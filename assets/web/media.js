// Local media: opening the camera and microphone (each alone when both fail), the device pickers, and
// applying mute / camera off to every connection and button.
import { $, el, showError } from '/ui.js';
import { app, bench, local } from '/state.js';
import { localize, msg, t } from '/i18n.js';

/** Why `device` ('camera', 'microphone' or 'both') could not be opened, as a message. */
function mediaError(e, device) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return msg('media-blocked', { device });
    case 'NotFoundError':
    case 'OverconstrainedError':
      return msg('media-not-found', { device });
    case 'NotReadableError':
    case 'AbortError':
      return msg('media-in-use', { device });
    default:
      if (e && e.message) return msg('media-failed', { device, reason: e.message });
      return msg('media-failed-plain', { device });
  }
}

export async function openMedia() {
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
    showError('media-error', msg('media-insecure'));
    for (const id of ['camera-select', 'mic-select']) {
      const option = el('option');
      localize(option, msg('media-unavailable'));
      $(id).replaceChildren(option);
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
      problems.push(mediaError(e, 'camera'));
    }
    try {
      tracks.push(...(await navigator.mediaDevices.getUserMedia({ audio })).getTracks());
    } catch (e) {
      problems.push(mediaError(e, 'microphone'));
    }
    if (tracks.length) stream = new MediaStream(tracks);
    else if (both?.name === 'NotAllowedError') problems.splice(0, 2, mediaError(both, 'both'));
  }
  local.stream = stream || new MediaStream();
  local.audio = local.stream.getAudioTracks()[0] || null;
  local.video = local.stream.getVideoTracks()[0] || null;
  if (local.video) local.video.enabled = local.camera;
  if (local.audio) local.audio.enabled = local.mic;
  showError('media-error', problems);
  for (const m of problems) app.errors.push(t(m.id, m.args));
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
  const fill = (select, kind, current, unnamed, none) => {
    select.replaceChildren();
    const list = devices.filter((d) => d.kind === kind);
    list.forEach((d, i) => {
      const o = el('option');
      localize(o, d.label || unnamed(i + 1));
      o.value = d.deviceId;
      select.append(o);
    });
    if (!list.length) {
      const o = el('option');
      localize(o, none);
      select.append(o);
    }
    if (current) select.value = current;
    select.disabled = !list.length;
  };
  const camera = (n) => msg('media-camera-n', { n });
  const mic = (n) => msg('media-mic-n', { n });
  fill($('camera-select'), 'videoinput', local.video?.getSettings().deviceId, camera, msg('media-no-cameras'));
  fill($('mic-select'), 'audioinput', local.audio?.getSettings().deviceId, mic, msg('media-no-mics'));
}

export function applyLocalMedia() {
  if (local.video) local.video.enabled = local.camera;
  if (local.audio) local.audio.enabled = local.mic;
  app.sfu?.setTrack('audio', local.sendTrack('audio'));
  app.sfu?.setTrack('video', local.sendTrack('video'));
  for (const p of app.peers.values()) {
    p.setTrack('audio', local.sendTrack('audio'));
    p.setTrack('video', local.sendTrack('video'));
    p.sendMediaState();
  }
  const s = local.state();
  for (const [id, on, have, onText, offText, none] of [
    ['toggle-mic', local.mic, !!local.audio, msg('call-mute'), msg('call-unmute'), msg('call-no-mic')],
    ['toggle-cam', local.camera, !!local.video, msg('call-stop-video'), msg('call-start-video'), msg('call-no-camera')],
    ['pre-mic', local.mic, !!local.audio, msg('prejoin-mic-on'), msg('prejoin-mic-off'), msg('prejoin-no-mic')],
    ['pre-cam', local.camera, !!local.video, msg('prejoin-cam-on'), msg('prejoin-cam-off'), msg('prejoin-no-camera')],
  ]) {
    const b = $(id);
    localize(b, !have ? none : on ? onText : offText);
    b.disabled = !have;
    b.setAttribute('aria-pressed', String(on && have));
    b.classList.toggle('off', !on || !have);
  }
  $('preview-off').hidden = s.camera;
  app.tiles.get('self')?.update({ cameraOn: s.camera, micOn: s.mic });
}
