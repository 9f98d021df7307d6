// Big rooms through the SFU (docs/PROTOCOL.md, "Big rooms"): the server brokers Janus for us. One
// connection sends our audio and camera (`sfu_offer` → `sfu_answer`), one receives everyone else's (the
// server's `sfu_offer`s, each with the participant behind every m-section → our `sfu_answer`). SDPs carry
// all their candidates: we wait for gathering before sending. Each participant is an SfuPeer, which the
// call shows like a mesh Peer; chat lines and media states go through the server as `signal`s.

import { setVideoPreferences } from '/sdp.js';

/** Longest wait for ICE candidates before an SDP leaves with what it has. */
const GATHER_MS = 3000;
/** What our camera is sent as through the SFU: a big room's tiles are small, and everyone receives
 * everyone, so at most 240 lines (320×240 from a 640×480 camera) and 300 kbit/s. */
const SFU_LINES = 240;
const SFU_MAX_BITRATE = 300_000;

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, GATHER_MS);
  });
}

export class SfuLink {
  /**
   * @param {object} o
   * @param {RTCIceServer[]} o.iceServers
   * @param {{sendTrack(kind: string): MediaStreamTrack|null}} o.local
   * @param {(msg: object) => boolean} o.send a message to the server
   * @param {(peerId: string, track: MediaStreamTrack) => void} o.onTrack
   */
  constructor({ iceServers, local, send, onTrack }) {
    this.iceServers = iceServers;
    this.local = local;
    this.send = send;
    this.onTrack = onTrack;
    this.pub = null;
    this.sub = null;
    this.tx = {};
    /** mid → participant id of the receiving connection's sections. */
    this.mids = new Map();
    this.queue = Promise.resolve();
    this.closed = false;
  }

  #serial(step) {
    this.queue = this.queue.then(step).catch((e) => console.warn('SFU negotiation failed', e));
    return this.queue;
  }

  /** The server asks for our media: offer it. */
  publish() {
    return this.#serial(async () => {
      this.pub?.close();
      const pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.pub = pc;
      for (const kind of ['audio', 'video']) {
        const track = this.local.sendTrack(kind);
        const init = { direction: 'sendonly' };
        if (kind === 'video') {
          const lines = track?.getSettings().height || 480;
          init.sendEncodings = [{ scaleResolutionDownBy: Math.max(1, lines / SFU_LINES), maxBitrate: SFU_MAX_BITRATE }];
        }
        const tx = pc.addTransceiver(kind, init);
        await tx.sender.replaceTrack(track);
        if (kind === 'video') setVideoPreferences(tx);
        this.tx[kind] = tx;
      }
      await pc.setLocalDescription();
      await gathered(pc);
      this.send({ type: 'sfu_offer', sdp: pc.localDescription.sdp });
    });
  }

  onAnswer(sdp) {
    return this.#serial(() => this.pub?.setRemoteDescription({ type: 'answer', sdp }));
  }

  /** The server offers the others' media (again whenever it changes). */
  onOffer(sdp, streams) {
    return this.#serial(async () => {
      for (const s of streams || []) this.mids.set(String(s.mid), String(s.peer));
      if (!this.sub) {
        const pc = new RTCPeerConnection({ iceServers: this.iceServers });
        this.sub = pc;
        pc.ontrack = ({ track, transceiver }) => {
          const peer = this.mids.get(transceiver.mid);
          if (peer) this.onTrack(peer, track);
        };
      }
      await this.sub.setRemoteDescription({ type: 'offer', sdp });
      await this.sub.setLocalDescription();
      await gathered(this.sub);
      this.send({ type: 'sfu_answer', sdp: this.sub.localDescription.sdp });
    });
  }

  /** Sends `track` (or nothing) as our `kind` (mute, camera off). */
  setTrack(kind, track) {
    this.tx[kind]?.sender.replaceTrack(track).catch(() => {});
  }

  /** The mids the receiving connection has for participant `peerId`. */
  midsOf(peerId) {
    return [...this.mids].filter(([, p]) => p === peerId).map(([mid]) => mid);
  }

  close() {
    this.closed = true;
    this.pub?.close();
    this.sub?.close();
  }
}

/** A participant of an SFU room, with what call.js uses of a mesh Peer. Until the SFU's video from them
 * moves, their old mesh connection (`mesh`, after a move) keeps playing; then it is closed. */
export class SfuPeer {
  constructor({ id, name, link, signal, onChange, onChat, mesh = null }) {
    this.id = id;
    this.name = name;
    this.link = link;
    this.signal = signal;
    this.onChange = onChange;
    this.onChat = onChat;
    this.mesh = mesh;
    this.own = new MediaStream();
    this.screenStream = null;
    this.remoteMedia = mesh ? { ...mesh.remoteMedia } : { mic: true, camera: true, screen: false };
    this.videoFormats = { shared: null, peerCodecs: [] };
    this.verificationCode = null;
    this.closed = false;
    this.flowing = false;
    this.lastStats = null;
    /** Frames the mesh connection had decoded when the SFU's took over, so the count only grows. */
    this.meshFrames = 0;
  }

  /** What the tile plays: the mesh connection's media until the SFU's flows. */
  get stream() {
    return this.mesh && !this.flowing ? this.mesh.stream : this.own;
  }

  addTrack(track) {
    for (const old of this.own.getTracks()) if (old.kind === track.kind) this.own.removeTrack(old);
    this.own.addTrack(track);
    track.onmute = track.onunmute = () => this.onChange();
    this.onChange();
  }

  get label() {
    if (this.closed) return 'closed';
    const state = this.link.sub?.connectionState ?? 'new';
    if (state === 'connected') return 'connected via SFU';
    if (state === 'failed') return 'failed';
    return this.mesh ? this.mesh.label : 'connecting';
  }

  /** Chat lines and media states, through the server. */
  send(obj) {
    return this.signal(obj);
  }

  sendMediaState() {
    const s = this.link.local.state();
    this.send({ type: 'media', mic: s.mic, camera: s.camera });
  }

  setTrack(kind, track) {
    this.mesh?.setTrack(kind, track);
  }

  // A shared screen does not go through the SFU yet: only a mesh connection still open carries it.
  addScreen() {
    this.mesh?.addScreen();
  }

  removeScreen() {
    this.mesh?.removeScreen();
  }

  /** A `signal` from this participant: a chat line or a media state. */
  receive(data) {
    if (data?.type === 'chat' && typeof data.text === 'string') this.onChat(this, data);
    else if (data?.type === 'media') {
      this.remoteMedia = { mic: data.mic !== false, camera: data.camera !== false, screen: false };
      this.onChange();
    }
  }

  /** Frames decoded from this participant (the mesh connection's, then the SFU's on top); once the SFU's
   * move, the mesh connection goes. */
  async collect() {
    let sfuFrames = 0;
    let size = {};
    const mids = new Set(this.link.midsOf(this.id));
    const stats = this.link.sub ? await this.link.sub.getStats() : new Map();
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && mids.has(s.mid)) {
        sfuFrames += s.framesDecoded ?? 0;
        if (s.frameWidth) size = { frameWidth: s.frameWidth, frameHeight: s.frameHeight };
      }
    }
    if (!this.flowing && this.mesh) {
      const mesh = await this.mesh.collect().catch(() => null);
      this.meshFrames = mesh?.video?.framesDecoded ?? this.meshFrames;
    }
    if (sfuFrames > 0 && !this.flowing) {
      this.flowing = true;
      this.mesh?.close();
      this.mesh = null;
      this.onChange();
    }
    const framesDecoded = this.meshFrames + sfuFrames;
    this.lastStats = { video: { framesDecoded, sfuFrames, ...size }, route: this.flowing ? 'sfu' : 'mesh' };
    return this.lastStats;
  }

  close() {
    this.closed = true;
    this.mesh?.close();
    for (const t of this.own.getTracks()) t.stop();
  }
}
