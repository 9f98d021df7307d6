// Local media: opening the camera and microphone (each alone when both fail), the device pickers, and
// applying mute / camera off to every connection and button.
import { $, el, showError } from '/ui.js';
import { app, bench, local } from '/state.js';

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

export function applyLocalMedia() {
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
