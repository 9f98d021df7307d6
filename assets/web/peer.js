// One RTCPeerConnection to one other participant: perfect negotiation, trickle ICE, the `chat` data
// channel, H.264-first codec preferences and stats for the UI and the test hook.

import { announcedCodecs, ourVideoCodecs, setVideoPreferences, videoFormats } from '/sdp.js';
import { collectStats } from '/peerstats.js';
import { VideoTracks, announcedStreamId } from '/tracks.js';

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
    /** Their audio and camera (the tile's stream). */
    this.stream = new MediaStream();
    /** The screen they share, while they share one (its tile's stream), else null. */
    this.screenStream = null;
    this.videoTracks = new VideoTracks();
    /** Our screen's sender on this connection, while we share. */
    this.screenSender = null;
    this.remoteMedia = { mic: true, camera: true, screen: false };
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
    pc.ontrack = ({ track, streams }) => {
      track.onmute = track.onunmute = () => this.onChange();
      if (track.kind === 'video') {
        this.videoTracks.arrivedTrack(streams[0]?.id ?? '', track);
        this.#playVideo();
      } else {
        for (const old of this.stream.getAudioTracks()) this.stream.removeTrack(old);
        this.stream.addTrack(track);
      }
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
        const screen = announcedStreamId(msg.screen);
        this.remoteMedia = { mic: msg.mic !== false, camera: msg.camera !== false, screen: !!screen };
        const codecs = announcedCodecs(msg.videoCodecs);
        if (codecs.length) this.videoFormats = { ...this.videoFormats, peerCodecs: codecs };
        this.videoTracks.announced(screen);
        this.#playVideo();
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

  /** Puts the chosen camera track in `stream` (the others out) and the chosen screen in `screenStream`. */
  #playVideo() {
    const camera = this.videoTracks.camera();
    for (const t of this.stream.getVideoTracks()) if (t !== camera) this.stream.removeTrack(t);
    if (camera && !this.stream.getVideoTracks().includes(camera)) this.stream.addTrack(camera);
    const screen = this.videoTracks.screenTrack();
    if (this.screenStream?.getVideoTracks()[0] !== screen) this.screenStream = screen ? new MediaStream([screen]) : null;
  }

  sendMediaState() {
    const s = this.local.state();
    const msg = { type: 'media', mic: s.mic, camera: s.camera, videoCodecs: ourVideoCodecs() };
    if (this.screenSender && this.local.screen) msg.screen = this.local.screen.stream.id;
    this.send(msg);
  }

  /** Starts sending our shared screen as a second video track: announced first, then the offer. Before the
   * first exchange is done it waits for it (`#handle` calls again), so the screen never takes the camera's
   * section of a first offer. */
  addScreen() {
    const screen = this.local.screen;
    if (!screen || this.screenSender || this.closed || !this.pc.remoteDescription) return;
    this.screenSender = this.pc.addTrack(screen.track, screen.stream);
    const tx = this.pc.getTransceivers().find((t) => t.sender === this.screenSender);
    if (tx) setVideoPreferences(tx);
    this.sendMediaState();
  }

  /** Stops sending our screen: announced first, then the track leaves (which renegotiates). */
  removeScreen() {
    const sender = this.screenSender;
    if (!sender) return;
    this.screenSender = null;
    this.sendMediaState();
    if (!this.closed) this.pc.removeTrack(sender);
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
        if (this.local.screen && !this.screenSender) this.addScreen();
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

  /** getStats boiled down to what the UI and the tests need (`peerstats.js`). */
  async collect() {
    const out = await collectStats(this);
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
