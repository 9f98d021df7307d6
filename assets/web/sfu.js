// Big rooms through the SFU (docs/PROTOCOL.md, "Big rooms"): the server brokers Janus for us. One
// connection sends our audio, camera and any screen we share (`sfu_offer` → `sfu_answer`, again when
// sharing starts or ends), one receives everyone else's (the server's `sfu_offer`s, each with the
// participant behind every m-section and which are shared screens → our `sfu_answer`). SDPs carry all
// their candidates: we wait for gathering before sending. Each participant is an SfuPeer, which the call
// shows like a mesh Peer; chat lines and media states go through the server as `signal`s.

import { setVideoPreferences } from '/sdp.js';

/** Longest wait for ICE candidates before an SDP leaves with what it has. */
const GATHER_MS = 3000;
/** Longest wait for the SFU's answer to our offer before the next exchange may start. */
const ANSWER_MS = 10000;
/** What our camera is sent as through the SFU: a big room's tiles are small, and everyone receives
 * everyone, so at most 240 lines (320×240 from a 640×480 camera) and 300 kbit/s. */
const SFU_LINES = 240;
const SFU_MAX_BITRATE = 300_000;
/** A shared screen through the SFU: at its own size, and up to 1.2 Mbit/s for its text to stay sharp. */
const SFU_SCREEN_MAX_BITRATE = 1_200_000;
/** What a media state through the server says of the screen we share (the mesh's says its stream id). */
const SFU_SCREEN = 'sfu';

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
   * @param {{sendTrack(kind: string): MediaStreamTrack|null, screen: {stream: MediaStream, track: MediaStreamTrack}|null}} o.local
   * @param {(msg: object) => boolean} o.send a message to the server
   * @param {(peerId: string, track: MediaStreamTrack, screen: boolean) => void} o.onTrack
   * @param {() => void} o.onStreams the streams offered changed (someone's shared screen may have ended)
   */
  constructor({ iceServers, local, send, onTrack, onStreams }) {
    this.iceServers = iceServers;
    this.local = local;
    this.send = send;
    this.onTrack = onTrack;
    this.onStreams = onStreams;
    this.pub = null;
    this.sub = null;
    this.tx = {};
    /** Our shared screen's transceiver on the sending connection, while we share. */
    this.screenTx = null;
    /** mid → {peer, screen} of the receiving connection's sections. */
    this.mids = new Map();
    // One exchange at a time on each connection.
    this.pubQueue = Promise.resolve();
    this.subQueue = Promise.resolve();
    this.answered = null;
    this.closed = false;
  }

  #serial(queue, step) {
    this[queue] = this[queue].then(step).catch((e) => console.warn('SFU negotiation failed', e));
    return this[queue];
  }

  /** The server asks for our media: offer it. */
  publish() {
    return this.#serial('pubQueue', async () => {
      this.pub?.close();
      const pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.pub = pc;
      this.screenTx = null;
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
      this.#addScreen();
      await this.#offer(pc);
    });
  }

  /** Our shared screen (`local.screen`) starts or stops going through the SFU. */
  shareScreen() {
    return this.#serial('pubQueue', async () => {
      const pc = this.pub;
      if (!pc || pc.signalingState === 'closed') return; // publish() will bring it
      const screen = this.local.screen;
      if (this.screenTx?.sender.track === (screen?.track ?? null)) return;
      if (this.screenTx) {
        pc.removeTrack(this.screenTx.sender);
        this.screenTx = null;
      }
      this.#addScreen();
      await this.#offer(pc);
    });
  }

  #addScreen() {
    const screen = this.local.screen;
    if (!screen) return;
    this.screenTx = this.pub.addTransceiver(screen.track, {
      direction: 'sendonly',
      streams: [screen.stream],
      sendEncodings: [{ maxBitrate: SFU_SCREEN_MAX_BITRATE }],
    });
    setVideoPreferences(this.screenTx);
  }

  /** Offers what the sending connection has now, and takes the SFU's answer (or gives up waiting). */
  async #offer(pc) {
    await pc.setLocalDescription();
    await gathered(pc);
    if (this.pub !== pc) return;
    const answer = new Promise((resolve) => {
      this.answered = resolve;
      setTimeout(() => resolve(null), ANSWER_MS);
    });
    const msg = { type: 'sfu_offer', sdp: pc.localDescription.sdp };
    if (this.screenTx?.mid) msg.screen = this.screenTx.mid;
    this.send(msg);
    const sdp = await answer;
    this.answered = null;
    if (sdp && this.pub === pc) await pc.setRemoteDescription({ type: 'answer', sdp });
  }

  onAnswer(sdp) {
    this.answered?.(sdp);
  }

  /** The server offers the others' media (again whenever it changes). */
  onOffer(sdp, streams) {
    return this.#serial('subQueue', async () => {
      this.mids.clear();
      for (const s of streams || []) this.mids.set(String(s.mid), { peer: String(s.peer), screen: !!s.screen });
      if (!this.sub) {
        const pc = new RTCPeerConnection({ iceServers: this.iceServers });
        this.sub = pc;
        pc.ontrack = ({ track, transceiver }) => {
          const stream = this.mids.get(transceiver.mid);
          if (stream) this.onTrack(stream.peer, track, stream.screen);
        };
      }
      await this.sub.setRemoteDescription({ type: 'offer', sdp });
      await this.sub.setLocalDescription();
      await gathered(this.sub);
      this.send({ type: 'sfu_answer', sdp: this.sub.localDescription.sdp });
      this.onStreams?.();
    });
  }

  /** Sends `track` (or nothing) as our `kind` (mute, camera off). */
  setTrack(kind, track) {
    this.tx[kind]?.sender.replaceTrack(track).catch(() => {});
  }

  /** The mids the receiving connection has for participant `peerId`'s camera and microphone. */
  midsOf(peerId) {
    return [...this.mids].filter(([, s]) => s.peer === peerId && !s.screen).map(([mid]) => mid);
  }

  /** The mid of the screen participant `peerId` shares, if the receiving connection has one. */
  screenMidOf(peerId) {
    return [...this.mids].find(([, s]) => s.peer === peerId && s.screen)?.[0] ?? null;
  }

  close() {
    this.closed = true;
    this.answered?.(null);
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

  /** A track of theirs through the SFU: their microphone or camera, or the screen they share. */
  addTrack(track, screen = false) {
    if (screen) {
      this.screenStream = new MediaStream([track]);
    } else {
      for (const old of this.own.getTracks()) if (old.kind === track.kind) this.own.removeTrack(old);
      this.own.addTrack(track);
    }
    track.onmute = track.onunmute = () => this.onChange();
    this.onChange();
  }

  /** The SFU's streams changed: a screen of theirs no longer offered has ended. */
  streamsChanged() {
    if (this.screenStream && !this.link.screenMidOf(this.id)) {
      this.screenStream = null;
      this.onChange();
    }
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
    const state = { type: 'media', mic: s.mic, camera: s.camera };
    // Through the SFU the screen is told apart by its stream's description; this only says we share.
    if (this.link.local.screen) state.screen = SFU_SCREEN;
    this.send(state);
  }

  setTrack(kind, track) {
    this.mesh?.setTrack(kind, track);
  }

  // Our shared screen goes to everyone at once through the SFU (`SfuLink.shareScreen`); a mesh connection
  // still open carries it too until it closes.
  addScreen() {
    this.mesh?.addScreen();
    this.sendMediaState();
  }

  removeScreen() {
    this.mesh?.removeScreen();
    this.sendMediaState();
  }

  /** A `signal` from this participant: a chat line or a media state. */
  receive(data) {
    if (data?.type === 'chat' && typeof data.text === 'string') this.onChat(this, data);
    else if (data?.type === 'media') {
      this.remoteMedia = { mic: data.mic !== false, camera: data.camera !== false, screen: !!data.screen };
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
