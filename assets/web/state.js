// What the page knows, shared by every module: the call (`app`), the local media (`local`) and the page's
// parameters. Imports nothing of ours, so no module imports in a circle.

export const NAME_KEY = 'kaiwa.name';
export const params = new URLSearchParams(location.search);
// Bench mode (`?bench=latency|file`, see docs/BENCHMARKS.md): measured sources and sinks; never loaded otherwise.
export const bench = params.get('bench') && params.get('bench') !== 'screen' ? await import('/bench.js') : null;
bench?.init(params);
// The screen-sharing benchmark's picture (`?bench=screen`): the page covers itself with it.
if (params.get('bench') === 'screen') (await import('/benchscreen.js')).showScreenPage();

export const app = {
  view: 'home',
  room: null, // canonical code as the user typed it / the server returned it
  name: '',
  myId: null,
  maxPeers: null,
  sig: null,
  /** The SFU connections (sfu.js) while the room goes through the SFU, else null. */
  sfu: null,
  peers: new Map(),
  tiles: new Map(),
  chat: [],
  errors: [],
  videoProgress: new Map(), // peer id -> {frames, stalledSince}
  volumes: new Map(), // peer id -> PeerVolume
  pinned: null, // the tile pinned big: a peer id, `screen:<peer id>`, 'self', or null
};

export const local = {
  stream: null,
  audio: null,
  video: null,
  mic: true,
  camera: true,
  cameraId: localStorage.getItem('kaiwa.camera') || '',
  micId: localStorage.getItem('kaiwa.mic') || '',
  /** The screen we share ({stream, track} from getDisplayMedia), or null. */
  screen: null,
  sendTrack(kind) {
    if (kind === 'audio') return this.mic ? this.audio : null;
    return this.camera ? this.video : null;
  },
  state() {
    return { mic: this.mic && !!this.audio, camera: this.camera && !!this.video };
  },
};
