// One RTCPeerConnection to one other participant: perfect negotiation, trickle ICE, the `chat` data
// channel, H.264-first codec preferences and stats for the UI and the test hook.

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
function ourVideoCodecs() {
  const caps = window.RTCRtpReceiver?.getCapabilities?.('video');
  const names = [];
  for (const c of caps?.codecs ?? []) {
    const name = c.mimeType.replace(/^video\//i, '');
    if (!REPAIR_FORMATS.includes(name.toLowerCase()) && !names.includes(name)) names.push(name);
  }
  return names;
}

/** A peer's announced codec list, cut down to plausible names (it comes from another participant). */
function announcedCodecs(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((n) => typeof n === 'string' && /^[A-Za-z0-9._-]{1,32}$/.test(n)).slice(0, 16);
}

/** A certificate fingerprint in SDP form (`sha-256 AB:CD:…`), or null. */
function canonicalFingerprint(algorithm, value) {
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

function setVideoPreferences(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities('video');
  if (!caps) return;
  try {
    transceiver.setCodecPreferences(preferH264(caps.codecs));
  } catch (e) {
    console.warn('setCodecPreferences failed', e);
  }
}

/** How many chat lines one peer may send at once, and how many a second after; the rest are dropped (the
 * native engine's `ChatLimit`, same numbers), so a flood neither buries the chat nor grows it forever. */
const CHAT_BURST = 20;
const CHAT_PER_SECOND = 5;

export class Peer {
  /**
   * @param {object} o
   * @param {string} o.id their id
   * @param {string} o.name their name (display as text only)
   * @param {string} o.myId
   * @param {RTCIceServer[]} o.iceServers
   * @param {boolean} [o.relayOnly] only TURN relay candidates (`?relay=1`: check a TURN setup)
   * @param {boolean} o.initiator true when we are the newcomer: we add the transceivers, the data channel and offer
   * @param {{sendTrack(kind: string): MediaStreamTrack|null, state(): object}} o.local
   * @param {(data: object) => void} o.signal
   * @param {() => void} o.onChange
   * @param {(peer: Peer, msg: object) => void} o.onChat
   */
  constructor({ id, name, myId, iceServers, relayOnly = false, initiator, local, signal, onChange, onChat }) {
    this.id = id;
    this.name = name;
    // Byte-wise order; ids are ASCII so UTF-16 order is the same.
    this.polite = myId < id;
    this.local = local;
    this.signal = signal;
    this.onChange = onChange;
    this.onChat = onChat;
    this.stream = new MediaStream();
    this.remoteMedia = { mic: true, camera: true };
    this.channel = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.pendingCandidates = [];
    this.queue = Promise.resolve();
    this.tx = {};
    this.everConnected = false;
    this.route = null;
    this.closed = false;
    this.lastStats = null;
    /** This connection's verification code once known (`collect`), shown on the tile. */
    this.verificationCode = null;
    /** Whether a video format is shared with this peer, from the last completed exchange. */
    this.videoFormats = { shared: null, peerCodecs: [] };
    this.counts = { offersSent: 0, offersReceived: 0, offersIgnored: 0, collisions: 0, iceRestarts: 0 };
    this.chatTokens = CHAT_BURST;
    this.chatAt = performance.now();
    this.chatDropped = 0;

    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: relayOnly ? 'relay' : 'all' });
    this.pc = pc;
    pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      track.onmute = track.onunmute = () => this.onChange();
      this.onChange();
    };
    pc.onicecandidate = ({ candidate }) => this.signal({ candidate: candidate ? candidate.toJSON() : null });
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        if (pc.localDescription.type === 'offer') this.counts.offersSent++;
        this.signal({ sdp: pc.localDescription.toJSON() });
      } catch (e) {
        console.warn(`offer to ${this.id} failed`, e);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') {
        this.everConnected = true;
        this.refreshRoute();
      }
      this.onChange();
    };
    pc.oniceconnectionstatechange = () => {
      // ICE restart on failure; perfect negotiation sorts out both sides restarting at once.
      if (pc.iceConnectionState === 'failed' && !this.closed) this.restartIce();
      this.onChange();
    };
    pc.ondatachannel = ({ channel }) => {
      if (channel.label === 'chat') this.#adopt(channel);
    };

    if (initiator) {
      for (const kind of ['audio', 'video']) {
        const tx = pc.addTransceiver(kind, { direction: 'sendrecv' });
        tx.sender.replaceTrack(local.sendTrack(kind)).catch(() => {});
        if (kind === 'video') setVideoPreferences(tx);
        this.tx[kind] = tx;
      }
      this.#adopt(pc.createDataChannel('chat'));
    }
  }

  /** The answerer's side: send on the transceivers the remote offer created (first of each kind). */
  #attachLocal() {
    for (const tx of this.pc.getTransceivers()) {
      const kind = tx.receiver.track.kind;
      if (this.tx[kind] || tx.currentDirection === 'stopped' || tx.direction === 'stopped') continue;
      this.tx[kind] = tx;
      if (tx.direction === 'recvonly' || tx.direction === 'inactive') tx.direction = 'sendrecv';
      tx.sender.replaceTrack(this.local.sendTrack(kind)).catch(() => {});
      if (kind === 'video') setVideoPreferences(tx);
    }
  }

  #adopt(channel) {
    this.channel = channel;
    channel.onopen = () => {
      this.sendMediaState();
      this.onChange();
    };
    channel.onclose = () => this.onChange();
    channel.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'chat' && typeof msg.text === 'string') {
        const now = performance.now();
        this.chatTokens = Math.min(CHAT_BURST, this.chatTokens + ((now - this.chatAt) / 1000) * CHAT_PER_SECOND);
        this.chatAt = now;
        if (this.chatTokens < 1) {
          this.chatDropped++;
          return;
        }
        this.chatTokens -= 1;
        this.onChat(this, msg);
      } else if (msg.type === 'media') {
        this.remoteMedia = { mic: msg.mic !== false, camera: msg.camera !== false };
        const codecs = announcedCodecs(msg.videoCodecs);
        if (codecs.length) this.videoFormats = { ...this.videoFormats, peerCodecs: codecs };
        this.onChange();
      }
    };
  }

  /** Sends a JSON message on the `chat` channel; false when it is not open. */
  send(obj) {
    if (this.channel && this.channel.readyState === 'open') {
      this.channel.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  sendMediaState() {
    const s = this.local.state();
    this.send({ type: 'media', mic: s.mic, camera: s.camera, videoCodecs: ourVideoCodecs() });
  }

  restartIce() {
    this.counts.iceRestarts++;
    this.pc.restartIce();
  }

  /** Sends `track` (or nothing, with null) on the transceiver of `kind`; no renegotiation needed. */
  setTrack(kind, track) {
    const tx = this.tx[kind];
    if (tx) tx.sender.replaceTrack(track).catch((e) => console.warn('replaceTrack', e));
  }

  /** A signal from this peer, handled strictly in arrival order. */
  handleSignal(data) {
    this.queue = this.queue.then(() => this.#handle(data)).catch((e) => console.warn(`signal from ${this.id}`, e));
    return this.queue;
  }

  async #handle(data) {
    if (this.closed || !data || typeof data !== 'object') return;
    const pc = this.pc;
    if (data.sdp) {
      const desc = data.sdp;
      const collision = desc.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
      if (desc.type === 'offer') this.counts.offersReceived++;
      if (collision) this.counts.collisions++;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) {
        this.counts.offersIgnored++;
        return;
      }
      await pc.setRemoteDescription(desc); // the polite peer's pending offer is rolled back implicitly
      if (desc.type === 'offer') {
        this.#attachLocal();
        await pc.setLocalDescription();
        this.signal({ sdp: pc.localDescription.toJSON() });
      }
      if (pc.signalingState === 'stable') {
        this.videoFormats = videoFormats(this.videoFormats, pc.localDescription?.sdp, pc.remoteDescription?.sdp);
        this.onChange();
      }
      for (const c of this.pendingCandidates.splice(0)) await this.#addCandidate(c);
    } else if ('candidate' in data) {
      if (!pc.remoteDescription) {
        this.pendingCandidates.push(data.candidate);
        return;
      }
      await this.#addCandidate(data.candidate);
    }
  }

  async #addCandidate(candidate) {
    try {
      // null is end-of-candidates.
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch (e) {
      if (!this.ignoreOffer && candidate) console.warn('addIceCandidate failed', e);
    }
  }

  /** connecting, connected via direct/relay (with ` (TCP)`/` (TLS)` when not over UDP), reconnecting, failed, closed. */
  get label() {
    if (this.closed) return 'closed';
    switch (this.pc.connectionState) {
      case 'connected':
        return this.route ? `connected via ${this.route}` : 'connected';
      case 'disconnected':
        return 'reconnecting';
      case 'failed':
        return 'failed';
      case 'closed':
        return 'closed';
      default:
        return this.everConnected ? 'reconnecting' : 'connecting';
    }
  }

  async refreshRoute() {
    try {
      await this.collect();
      this.onChange();
    } catch {
      // closed meanwhile
    }
  }

  /** getStats boiled down to what the UI and the tests need (JSON-serialisable). */
  async collect() {
    const report = await this.pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    const codec = (s) => byId.get(s.codecId)?.mimeType ?? null;
    const out = {
      video: null,
      audio: null,
      outVideo: null,
      outAudio: null,
      route: null,
      candidatePair: null,
      videoFormats: this.videoFormats,
      verificationCode: null,
    };
    let pairId = null;
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        if (!out.video || (s.framesDecoded ?? 0) > out.video.framesDecoded) {
          out.video = {
            framesDecoded: s.framesDecoded ?? 0,
            frameWidth: s.frameWidth ?? 0,
            frameHeight: s.frameHeight ?? 0,
            framesPerSecond: s.framesPerSecond ?? 0,
            packetsReceived: s.packetsReceived ?? 0,
            codec: codec(s),
          };
        }
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audio = { packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0, codec: codec(s) };
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.outVideo = {
          framesEncoded: s.framesEncoded ?? 0,
          framesSent: s.framesSent ?? 0,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
          codec: codec(s),
          encoder: s.encoderImplementation ?? null,
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outAudio = { packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0, codec: codec(s) };
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
        const cert = (id) => {
          const c = byId.get(id);
          return c ? canonicalFingerprint(c.fingerprintAlgorithm, c.fingerprint) : null;
        };
        out.verificationCode = await verificationCode(cert(s.localCertificateId), cert(s.remoteCertificateId));
      }
    }
    if (!pairId) {
      for (const s of byId.values()) {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pairId = s.id;
      }
    }
    const pair = pairId && byId.get(pairId);
    if (pair) {
      const l = byId.get(pair.localCandidateId);
      const r = byId.get(pair.remoteCandidateId);
      if (l && r) {
        out.route = l.candidateType === 'relay' || r.candidateType === 'relay' ? 'relay' : 'direct';
        out.candidatePair = {
          local: l.candidateType,
          remote: r.candidateType,
          protocol: l.protocol ?? null,
          // How our own relay is reached: udp, tcp or tls (only for a local relay candidate).
          relayProtocol: l.candidateType === 'relay' ? (l.relayProtocol ?? null) : null,
        };
        const via = out.candidatePair.relayProtocol;
        if (via && via !== 'udp') out.route = `relay (${via.toUpperCase()})`;
        else if (out.route === 'direct' && l.protocol === 'tcp') out.route = 'direct (TCP)';
      }
    }
    if (out.route) this.route = out.route;
    if (out.verificationCode) this.verificationCode = out.verificationCode;
    this.lastStats = out;
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.channel?.close();
    } catch {
      // already closed
    }
    this.pc.close();
    for (const t of this.stream.getTracks()) t.stop();
  }
}
