// Bench mode of the browser client, loaded by state.js only with `?bench=latency` or `?bench=file` (see
// docs/BENCHMARKS.md). It measures the same figures as `kaiwa call`, the same way:
//
// - latency mode sends live stamped sources: a canvas drawing the native test pattern's stamp (frame counter,
//   capture time in µs, CRC-16 in big luma blocks along the top; a port of
//   crates/kaiwa-media/src/video/test_pattern.rs) over moving content, and WebAudio clicks (10 ms of 1 kHz at
//   half scale) on every 500 ms boundary of the wall clock. It receives with `requestVideoFrameCallback`
//   (draws the frame, reads the stamp back: now − capture) and an AudioWorklet per remote stream that
//   detects click onsets (latency modulo 500 ms), like the native CLI's sinks.
// - file mode sends the camera and microphone Chromium fakes from the files given on its command line
//   (`--use-file-for-fake-video-capture/--use-file-for-fake-audio-capture`), at the requested size, and
//   only notes the first frame: for CPU and memory figures with the same content as the native side.
//
// Both modes cap the video at the bench's bitrate, keep the resolution (`maintain-resolution`) and sample
// the sent and received size and frame rate from getStats, so "same size and rate" is checked.
//
// `&adapt=1` (the network runs, `scripts/bench.sh --networks`) leaves the resolution and frame rate to
// WebRTC's own adaptation, as for a camera (no `maintain-resolution`, no `detail` content hint), and
// samples getStats every second into a per-peer `series` (frames, freezes, size, bytes, concealment,
// the sender's target bitrate), so freezes and recovery can be followed over time. `&psnr=1` (file mode,
// where the file is the native test pattern with stamps) measures picture quality as `kaiwa call
// --psnr-reference` does: every sixth received frame is drawn at the sent size, its stamp read and its
// luma below the stamp strip compared with the test pattern's frame of that counter (PSNR, dB).

import { stampGeometry, drawStamp, readStamp, lumaPsnr } from '/stamp.js';

const CLICK_PERIOD_MS = 500;
const CLICK_MS = 10;
/** As the native CLI: |sample| ≥ 4000/32768 after 100 ms of quiet is an onset. */
const CLICK_LEVEL = 4000 / 32768;

/** Wall clock in ms (µs resolution), the browser's counterpart of `wall_clock_us`. */
export function wallMs() {
  return performance.timeOrigin + performance.now();
}

// ---- sending --------------------------------------------------------------------------------------

/** A canvas track at `width × height`, `fps`: a scrolling gradient, a bouncing box and the stamp. */
function stampedCanvasTrack(width, height, fps) {
  const geo = stampGeometry(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { alpha: false });
  // One period (512 px) of a triangle-wave grey ramp, wide enough to scroll across the picture.
  const ramp = document.createElement('canvas');
  ramp.width = width + 512;
  ramp.height = 1;
  const rctx = ramp.getContext('2d');
  for (let x = 0; x < ramp.width; x++) {
    const p = x % 512;
    const tri = p < 256 ? p : 511 - p;
    const g = Math.round(40 + (tri * 160) / 255);
    rctx.fillStyle = `rgb(${g},${g},${g})`;
    rctx.fillRect(x, 0, 1, 1);
  }
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0];
  if (!bench.adapt) track.contentHint = 'detail';
  const box = Math.max(8, Math.min(64, width / 4, (height - geo.strip) / 2));
  const travel = Math.max(1, width - box);
  const start = performance.now();
  let counter = 0;
  const frame = () => {
    const captureUs = BigInt(Math.round(wallMs() * 1000));
    const shift = (counter * 4) % 512;
    ctx.drawImage(ramp, -shift, 0, ramp.width, height);
    const p = (counter * 6) % (2 * travel);
    ctx.fillStyle = '#fff';
    ctx.fillRect(p < travel ? p : 2 * travel - p, geo.strip + (height - geo.strip - box) / 2, box, box);
    drawStamp(ctx, geo, counter, captureUs);
    // The spec puts requestFrame on the track (Chromium); Firefox has it on the stream.
    if (typeof track.requestFrame === 'function') track.requestFrame();
    else stream.requestFrame();
    counter++;
    setTimeout(frame, Math.max(0, start + (counter * 1000) / fps - performance.now()));
  };
  frame();
  return track;
}

/** Offset between the audio context's clock and the wall clock (ms), as the median of recent readings. */
class ContextClock {
  constructor(ctx) {
    this.ctx = ctx;
    this.readings = [];
    setInterval(() => {
      this.readings.push(wallMs() - ctx.currentTime * 1000);
      if (this.readings.length > 100) this.readings.shift();
    }, 10);
  }
  get ready() {
    return this.readings.length >= 20 && this.ctx.state === 'running';
  }
  offsetMs() {
    const s = [...this.readings].sort((a, b) => a - b);
    return s[s.length >> 1];
  }
}

/** A track with a click on every 500 ms boundary of the wall clock, scheduled on the audio clock.
 *
 * A silent ConstantSourceNode plays into the track all the time. Without it Chromium delivers audio from a
 * MediaStreamAudioDestinationNode only while a click is playing: WebRTC then sends ~55 % of the 20 ms
 * packets, in bursts, the receiver's jitter buffer grows to ~500 ms and conceals the gaps, and click
 * latencies spread over the whole 500 ms period (measured in an in-page loopback: 290 packets in 10 s,
 * latencies 3–493 ms; with the silent source 500 packets, latencies 94–126 ms). */
function clickTrack(ctx, clock) {
  const dest = ctx.createMediaStreamDestination();
  const silence = new ConstantSourceNode(ctx, { offset: 0 });
  silence.connect(dest);
  silence.start();
  const n = Math.round((ctx.sampleRate * CLICK_MS) / 1000);
  const buffer = ctx.createBuffer(1, n, ctx.sampleRate);
  const data = buffer.getChannelData(0);
  for (let i = 0; i < n; i++) data[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / ctx.sampleRate);
  let last = 0;
  setInterval(() => {
    if (!clock.ready) return;
    const now = wallMs();
    const offset = clock.offsetMs();
    for (let b = Math.max(last + CLICK_PERIOD_MS, Math.ceil(now / CLICK_PERIOD_MS) * CLICK_PERIOD_MS); b < now + 300; b += CLICK_PERIOD_MS) {
      const at = (b - offset) / 1000;
      if (at > ctx.currentTime) {
        const src = new AudioBufferSourceNode(ctx, { buffer });
        src.connect(dest);
        src.start(at);
        bench.clicks.push([b, at, ctx.currentTime]);
      }
      last = b;
    }
  }, 100);
  return dest.stream.getAudioTracks()[0];
}

const DETECTOR = `
class KaiwaClickDetector extends AudioWorkletProcessor {
  constructor() {
    super();
    this.quiet = 0;
    this.need = Math.round(sampleRate / 10);
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        if (Math.abs(ch[i]) >= ${CLICK_LEVEL}) {
          if (this.quiet >= this.need) this.port.postMessage(currentFrame + i);
          this.quiet = 0;
        } else {
          this.quiet++;
        }
      }
    }
    return true;
  }
}
registerProcessor('kaiwa-click-detector', KaiwaClickDetector);
`;

// ---- state ----------------------------------------------------------------------------------------

const bench = {
  mode: null,
  size: [640, 480],
  fps: 30,
  maxBitrate: 2_500_000,
  adapt: false,
  psnr: false,
  ctx: null,
  clock: null,
  detectorReady: null,
  receivers: new Map(), // peer id -> receiver record
  peers: new Map(), // peer id -> Peer
  clicks: [], // [wall ms, context s, context now] of every click scheduled
};

function receiver(peer) {
  let r = bench.receivers.get(peer.id);
  if (!r) {
    r = {
      id: peer.id,
      name: peer.name,
      firstFrameMs: null,
      frames: 0,
      unreadable: 0,
      videoLatencyMs: [],
      audioLatencyMs: [],
      received: [], // [{width, height, fps}]
      audioIn: null, // the last getStats reading of the inbound audio: {packets, concealedSamples, totalSamples}
      sent: [],
      sender: null, // the video sender's parameters once tuned
      series: [], // with adapt=1: one getStats digest a second, see sampleStats
      psnrDb: [], // with psnr=1: luma PSNR of sampled frames against what was sent
      psnrUnreadable: 0,
    };
    bench.receivers.set(peer.id, r);
  }
  r.name = peer.name;
  return r;
}

/** Sets up bench mode from the page's query (`bench`, `size=WxH`, `fps`, `maxkbps`). */
export function init(params) {
  bench.mode = params.get('bench');
  const m = (params.get('size') || '').match(/^(\d+)x(\d+)$/);
  if (m) bench.size = [Number(m[1]), Number(m[2])];
  bench.fps = Number(params.get('fps')) || 30;
  bench.maxBitrate = (Number(params.get('maxkbps')) || 2500) * 1000;
  bench.adapt = params.get('adapt') === '1';
  bench.psnr = params.get('psnr') === '1' && bench.mode === 'file';
  if (bench.mode === 'latency') {
    // The device's own rate: a forced rate (e.g. 48 kHz on a 44.1 kHz sink) stretched the clicks sent
    // through a MediaStreamAudioDestinationNode in time.
    bench.ctx = new AudioContext({ latencyHint: 'interactive' });
    bench.clock = new ContextClock(bench.ctx);
    const url = URL.createObjectURL(new Blob([DETECTOR], { type: 'text/javascript' }));
    bench.detectorReady = bench.ctx.audioWorklet.addModule(url);
    bench.ctx.resume().catch(() => {});
  }
  setInterval(sampleStats, bench.adapt ? 1000 : 2000);
}

/** The local stream to send instead of the user's camera and microphone. */
export async function localMedia() {
  const [width, height] = bench.size;
  if (bench.mode === 'latency') {
    return new MediaStream([clickTrack(bench.ctx, bench.clock), stampedCanvasTrack(width, height, bench.fps)]);
  }
  const video = { width: { exact: width }, height: { exact: height }, frameRate: { ideal: bench.fps } };
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
  if (!bench.adapt) for (const t of stream.getVideoTracks()) t.contentHint = 'detail';
  return stream;
}

/** Measures what arrives from `peer` (its tile's `<video>` plays the stream, sound included). */
export function watchPeer(peer, video) {
  bench.peers.set(peer.id, peer);
  const r = receiver(peer);
  if (video.dataset.bench) return;
  video.dataset.bench = '1';
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = (_now, meta) => {
    const wall = wallMs();
    r.frames++;
    if (r.firstFrameMs === null) r.firstFrameMs = performance.now();
    if (bench.psnr) {
      if (r.frames % 6 === 0) {
        framePsnr(video).then(
          (db) => (db === null ? r.psnrUnreadable++ : r.psnrDb.push(db)),
          () => r.psnrUnreadable++,
        );
      }
      video.requestVideoFrameCallback(onFrame);
      return;
    }
    if (bench.mode !== 'latency') return; // file mode: the first frame is all we need
    const geo = stampGeometry(meta.width, meta.height);
    if (geo) {
      if (canvas.width !== meta.width || canvas.height !== geo.strip) {
        canvas.width = meta.width;
        canvas.height = geo.strip;
      }
      ctx.drawImage(video, 0, 0, meta.width, geo.strip, 0, 0, meta.width, geo.strip);
      const stamp = readStamp(ctx.getImageData(0, 0, meta.width, geo.strip).data, meta.width, geo);
      if (stamp) r.videoLatencyMs.push(wall - Number(stamp.captureUs) / 1000);
      else r.unreadable++;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  if (bench.mode === 'latency') listenForClicks(peer, r);
}

// ---- picture quality (file mode with psnr=1) -----------------------------------------------------

/** PSNR of the video's current frame: its decoded planes through WebCodecs (no colour conversion, so the
 * luma is what the decoder produced, as on the native side). */
async function framePsnr(video) {
  const frame = new VideoFrame(video);
  try {
    const { width: sw, height: sh } = frame.visibleRect;
    const buf = new Uint8Array(frame.allocationSize());
    const layout = await frame.copyTo(buf);
    if (!['I420', 'I420A', 'NV12'].includes(frame.format)) return null;
    const { offset, stride } = layout[0];
    const y = new Uint8Array(sw * sh);
    for (let row = 0; row < sh; row++) y.set(buf.subarray(offset + row * stride, offset + row * stride + sw), row * sw);
    return lumaPsnr(y, sw, sh, bench.size[0], bench.size[1]);
  } finally {
    frame.close();
  }
}

async function listenForClicks(peer, r) {
  await bench.detectorReady;
  let track = null;
  while (!track && !peer.closed) {
    track = peer.stream.getAudioTracks()[0] || null;
    if (!track) await new Promise((res) => setTimeout(res, 100));
  }
  if (!track) return;
  const ctx = bench.ctx;
  const src = ctx.createMediaStreamSource(new MediaStream([track]));
  const node = new AudioWorkletNode(ctx, 'kaiwa-click-detector');
  node.port.onmessage = ({ data: frame }) => {
    if (!bench.clock.ready) return;
    const heard = (frame / ctx.sampleRate) * 1000 + bench.clock.offsetMs();
    r.audioLatencyMs.push(((heard % CLICK_PERIOD_MS) + CLICK_PERIOD_MS) % CLICK_PERIOD_MS);
  };
  const mute = new GainNode(ctx, { gain: 0 });
  src.connect(node).connect(mute).connect(ctx.destination);
}

/** Caps the sent video and keeps its resolution (once the sender has encodings). */
async function tuneSender(sender) {
  if (!sender || sender.kaiwaBenchTuned) return;
  const p = sender.getParameters();
  if (!p.encodings || !p.encodings.length) return;
  p.encodings[0].maxBitrate = bench.maxBitrate;
  if (!bench.adapt) p.degradationPreference = 'maintain-resolution';
  try {
    await sender.setParameters(p);
    sender.kaiwaBenchTuned = true;
  } catch (e) {
    console.warn('bench: setParameters', e);
    sender.kaiwaBenchTuned = true;
  }
}

async function sampleStats() {
  for (const [id, peer] of bench.peers) {
    if (peer.closed) continue;
    const sender = peer.tx?.video?.sender;
    await tuneSender(sender);
    const mids = peer.link ? new Set(peer.link.midsOf(peer.id)) : null; // an SfuPeer: its mids on the SFU connection
    const report = await (peer.pc ?? peer.link?.sub)?.getStats().catch(() => null);
    if (!report) continue;
    const r = bench.receivers.get(id);
    if (sender?.kaiwaBenchTuned) {
      const p = sender.getParameters();
      r.sender = { degradationPreference: p.degradationPreference ?? null, maxBitrate: p.encodings?.[0]?.maxBitrate ?? null };
    }
    const point = { t: wallMs() };
    report.forEach((s) => {
      if (mids && s.type === 'inbound-rtp' && !mids.has(s.mid)) return;
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        Object.assign(point, {
          framesDecoded: s.framesDecoded ?? 0,
          freezeCount: s.freezeCount ?? 0,
          totalFreezesDuration: s.totalFreezesDuration ?? 0,
          width: s.frameWidth ?? 0,
          height: s.frameHeight ?? 0,
          fps: s.framesPerSecond ?? 0,
          videoBytes: s.bytesReceived ?? 0,
        });
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        Object.assign(point, { concealedSamples: s.concealedSamples ?? 0, totalSamples: s.totalSamplesReceived ?? 0 });
      }
      if (s.type === 'outbound-rtp' && s.kind === 'video') point.targetBitrate = s.targetBitrate ?? null;
      if (s.type === 'transport') Object.assign(point, { bytesReceived: s.bytesReceived ?? 0, bytesSent: s.bytesSent ?? 0 });
      if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) point.availableOutgoingBitrate = s.availableOutgoingBitrate;
      if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.totalSamplesReceived) {
        r.audioIn = { packets: s.packetsReceived, concealedSamples: s.concealedSamples, totalSamples: s.totalSamplesReceived };
      }
      if (s.kind !== 'video' || !s.frameWidth) return;
      const fig = { width: s.frameWidth, height: s.frameHeight, fps: s.framesPerSecond ?? 0 };
      if (s.type === 'inbound-rtp') r.received.push(fig);
      else if (s.type === 'outbound-rtp') r.sent.push(fig);
    });
    if (bench.adapt) r.series.push(point);
  }
}

/** Everything measured so far (JSON-serialisable), for `window.kaiwa.bench()`. */
export function results() {
  return {
    mode: bench.mode,
    size: bench.size,
    fps: bench.fps,
    audioContext: bench.ctx
      ? {
          state: bench.ctx.state,
          sampleRate: bench.ctx.sampleRate,
          baseLatency: bench.ctx.baseLatency,
          outputLatency: bench.ctx.outputLatency,
          clockSpreadMs: bench.clock.readings.length
            ? Math.max(...bench.clock.readings) - Math.min(...bench.clock.readings)
            : null,
        }
      : null,
    clicks: bench.clicks.slice(-40),
    peers: [...bench.receivers.values()].map((r) => ({ ...r })),
  };
}
