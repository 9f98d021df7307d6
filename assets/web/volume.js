// Per-person volume, 0–200 %, kept by name for this tab's session (sessionStorage). A media element's own
// volume stops at 100 %, so a participant whose volume was changed plays through WebAudio instead: their
// audio track → a gain → the speakers, the element muted (it keeps playing: Chromium delivers a remote
// track to WebAudio only while an element plays it). Analysers before and after the gain give the level that
// arrives and the level that actually goes out, for the test hook.

const KEY = 'kaiwa.volumes';
export const MAX_VOLUME = 2;
let context = null;

function saved() {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/** The volume set for `name` in this session (1 = 100 %). */
export function savedVolume(name) {
  const v = Number(saved()[name]);
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), MAX_VOLUME) : 1;
}

function save(name, value) {
  const all = saved();
  all[name] = value;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Storage full or off: the volume still applies to this call.
  }
}

/** One remote participant's playback volume. */
export class PeerVolume {
  constructor(video, name) {
    this.video = video;
    this.name = name;
    this.value = savedVolume(name);
    this.graph = null;
    this.peak = 0;
    this.peakIn = 0;
    this.peakAt = 0;
  }

  /** Sets and remembers the volume; `stream` is what the tile plays. */
  set(value, stream) {
    this.value = Math.min(Math.max(Number(value) || 0, 0), MAX_VOLUME);
    // The level from here on is at the new volume.
    this.peak = 0;
    this.peakIn = 0;
    this.peakAt = performance.now();
    save(this.name, this.value);
    this.follow(stream);
  }

  /** Keeps the WebAudio path on the stream's current audio track (a renegotiation may bring a new one). */
  follow(stream) {
    if (this.value === 1 && !this.graph) return; // the element plays it, as for everyone else
    const track = stream?.getAudioTracks()[0];
    if (!track) return;
    if (!this.graph) {
      context ??= new AudioContext();
      const input = context.createAnalyser();
      const gain = context.createGain();
      const analyser = context.createAnalyser();
      // 43 ms windows read every 15 ms overlap, so a short sound is always seen whole in one of them.
      input.fftSize = analyser.fftSize = 2048;
      input.connect(gain);
      gain.connect(analyser);
      analyser.connect(context.destination);
      const samples = new Float32Array(analyser.fftSize);
      this.graph = { input, gain, analyser, source: null, trackId: null, samples };
      this.timer = setInterval(() => this.sample(), 15);
    }
    if (this.graph.trackId !== track.id) {
      this.graph.source?.disconnect();
      this.graph.source = context.createMediaStreamSource(new MediaStream([track]));
      this.graph.source.connect(this.graph.input);
      this.graph.trackId = track.id;
    }
    this.graph.gain.gain.value = this.value;
    this.video.muted = true;
    // Changing the volume is a click: the context may start now if autoplay held it back.
    context.resume().catch(() => {});
  }

  sample() {
    const g = this.graph;
    const peakOf = (analyser) => {
      analyser.getFloatTimeDomainData(g.samples);
      let peak = 0;
      for (const s of g.samples) peak = Math.max(peak, Math.abs(s));
      return peak;
    };
    const [peak, peakIn] = [peakOf(g.analyser), peakOf(g.input)];
    const now = performance.now();
    // The loudest since the volume changed, over at most the last four seconds, so a test need not catch a
    // beep at its peak; with what arrived in the same window, since the sender's level moves (its gain
    // control turns a loud microphone down for seconds).
    if (peak >= this.peak || now - this.peakAt > 4000) {
      this.peak = peak;
      this.peakIn = peakIn;
      this.peakAt = now;
    }
  }

  /** The peak level going to the speakers since the volume last changed (at most the last four seconds; 0..1), or null while the element plays. */
  outputLevel() {
    return this.graph ? this.peak : null;
  }

  /** The level that arrived in the window of {@link outputLevel}'s peak, or null while the element plays. */
  inputLevel() {
    return this.graph ? this.peakIn : null;
  }

  close() {
    clearInterval(this.timer);
    this.graph?.source?.disconnect();
    this.graph?.analyser.disconnect();
    this.graph = null;
  }
}
