// What the browser client reads from and puts into session descriptions: H.264-first codec order, the
// video sections and the formats both sides share (the native engine's `video_formats.rs` rule), and the
// verification code both people compare (the native `identity.rs`, the same vector checked in tests).

/** Orders video codecs: H.264 constrained baseline 42e01f packetization-mode=1 first (what the native
 * client sends and decodes), then other H.264, then the rest, with rtx/red/fec last. */
export function preferH264(codecs) {
  const score = (c) => {
    const mime = c.mimeType.toLowerCase();
    const fmtp = (c.sdpFmtpLine || '').toLowerCase();
    if (mime === 'video/h264') {
      const pm1 = fmtp.includes('packetization-mode=1');
      if (pm1 && fmtp.includes('profile-level-id=42e01f')) return 0;
      if (pm1 && fmtp.includes('profile-level-id=42')) return 1;
      return pm1 ? 2 : 3;
    }
    if (['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03'].includes(mime)) return 5;
    return 4;
  };
  return codecs
    .map((c, i) => [score(c), i, c])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((x) => x[2]);
}

const REPAIR_FORMATS = ['rtx', 'red', 'ulpfec', 'flexfec-03', 'flexfec'];

/** The `m=video` sections of a session description in order: their port (0: rejected) and their codecs'
 * encoding names in the m-line's order (repair formats left out). */
export function videoSections(sdp) {
  const sections = [];
  let current = null;
  for (const line of String(sdp || '').split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [media, port, , ...formats] = line.slice(2).split(' ');
      current = media === 'video' ? { port: Number(port), formats, names: new Map() } : null;
      if (current) sections.push(current);
    } else if (current && line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
      if (m) current.names.set(m[1], m[2]);
    }
  }
  return sections.map(({ port, formats, names }) => {
    const codecs = [];
    for (const f of formats) {
      const name = names.get(f);
      if (name && !REPAIR_FORMATS.includes(name.toLowerCase()) && !codecs.includes(name)) codecs.push(name);
    }
    return { port, codecs };
  });
}

/** Whether two peers share a video format after an exchange (`shared`: true, false, or as before when
 * either side has no video section; null before any)
 * and the video codecs the peer listed (kept from `previous` when its description names none). The same
 * rule as the native engine's `peer/video_formats.rs`. */
export function videoFormats(previous, localSdp, remoteSdp) {
  const local = videoSections(localSdp);
  const remote = videoSections(remoteSdp);
  let peerCodecs = [];
  for (const c of remote.flatMap((s) => s.codecs)) if (!peerCodecs.includes(c)) peerCodecs.push(c);
  if (!peerCodecs.length) peerCodecs = previous.peerCodecs;
  const accepted = (s) => s.port !== 0 && s.codecs.length > 0;
  const n = Math.min(local.length, remote.length);
  // Without video on one side, an exchange says nothing new (webrtc-rs leaves a rejected section out of
  // its next offer).
  let shared = n ? false : previous.shared;
  for (let i = 0; i < n; i++) {
    const common = local[i].codecs.some((c) => remote[i].codecs.some((o) => o.toLowerCase() === c.toLowerCase()));
    shared = shared || (accepted(local[i]) && accepted(remote[i]) && common);
  }
  return { shared, peerCodecs };
}

/** The video codecs this browser decodes, as encoding names (`H264`, `VP8`, …), repair formats left out. */
export function ourVideoCodecs() {
  const caps = window.RTCRtpReceiver?.getCapabilities?.('video');
  const names = [];
  for (const c of caps?.codecs ?? []) {
    const name = c.mimeType.replace(/^video\//i, '');
    if (!REPAIR_FORMATS.includes(name.toLowerCase()) && !names.includes(name)) names.push(name);
  }
  return names;
}

/** A peer's announced codec list, cut down to plausible names (it comes from another participant). */
export function announcedCodecs(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((n) => typeof n === 'string' && /^[A-Za-z0-9._-]{1,32}$/.test(n)).slice(0, 16);
}

/** A certificate fingerprint in SDP form (`sha-256 AB:CD:…`), or null. */
export function canonicalFingerprint(algorithm, value) {
  if (String(algorithm).toLowerCase() !== 'sha-256' || !/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(value)) return null;
  return `sha-256 ${value.toUpperCase()}`;
}

/** The verification code of a connection between the certificates with fingerprints `a` and `b` (SDP form),
 * `123 456`: the same derivation as the native engine's `peer/identity.rs` (docs/PROTOCOL.md). Null
 * without WebCrypto (an insecure page). */
export async function verificationCode(a, b) {
  if (!globalThis.crypto?.subtle || !a || !b) return null;
  const [lower, higher] = [a, b].sort();
  const text = new TextEncoder().encode(`kaiwa-verify-1\n${lower}\n${higher}`);
  const n = new DataView(await crypto.subtle.digest('SHA-256', text)).getUint32(0) % 1000000;
  return `${String(Math.floor(n / 1000)).padStart(3, '0')} ${String(n % 1000).padStart(3, '0')}`;
}

/** Puts H.264 first among the video codecs `transceiver` may negotiate (where the browser lets us). */
export function setVideoPreferences(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities('video');
  if (!caps) return;
  try {
    transceiver.setCodecPreferences(preferH264(caps.codecs));
  } catch (e) {
    console.warn('setCodecPreferences failed', e);
  }
}
