// The native test pattern's stamp and picture, ported from crates/kaiwa-media/src/video/test_pattern.rs
// and quality.rs: the stamp's block geometry, bytes and CRC, drawing it on a canvas and reading it back from
// RGBA or luma, the pattern's luma for a frame counter, bilinear scaling and luma PSNR. Bench mode only.

export const STAMP_BITS = 32 + 64 + 16;
const WHITE = 235;
const BLACK = 16;

/** Block size, blocks per row and strip height for a picture, as `TestPattern::new` picks them. */
export function stampGeometry(width, height) {
  if (width < 64 || height < 64 || width % 2 || height % 2) return null;
  for (const block of [16, 8, 4]) {
    const perRow = Math.floor(width / block);
    const strip = Math.ceil(STAMP_BITS / perRow) * block;
    if (strip <= height / 2) return { block, perRow, strip };
  }
  return null;
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over `bytes[0..n)`. */
export function crc16(bytes, n) {
  let crc = 0xffff;
  for (let i = 0; i < n; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The 14 stamp bytes: counter (u32 BE), capture µs (u64 BE, a BigInt), CRC-16 (BE). */
export function stampBytes(counter, captureUs) {
  const b = new Uint8Array(14);
  const v = new DataView(b.buffer);
  v.setUint32(0, counter >>> 0);
  v.setBigUint64(4, BigInt.asUintN(64, captureUs));
  v.setUint16(12, crc16(b, 12));
  return b;
}

/** Draws the stamp blocks (white = luma 235, black = 16 after the encoder's BT.601 conversion). */
export function drawStamp(ctx, geo, counter, captureUs) {
  const bytes = stampBytes(counter, captureUs);
  const b = geo.block;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const one = (bytes[bit >> 3] >> (7 - (bit % 8))) & 1;
    ctx.fillStyle = one ? '#fff' : '#000';
    ctx.fillRect((bit % geo.perRow) * b, Math.floor(bit / geo.perRow) * b, b, b);
  }
}

/** Reads a stamp from RGBA pixels (`width` wide, at least the strip high): `{counter, captureUs}` or
 * null when a block is ambiguous or the CRC fails. Same block centres and thresholds as `read_stamp`. */
export function readStamp(rgba, width, geo) {
  return readStampBy((x, y) => {
    const i = (y * width + x) * 4;
    // BT.601 limited-range luma, what the encoder would see.
    return 16 + (65.481 * rgba[i] + 128.553 * rgba[i + 1] + 24.966 * rgba[i + 2]) / 255;
  }, geo);
}

/** `readStamp` on a luma plane `width` wide. */
export function readStampLuma(luma, width, geo) {
  return readStampBy((x, y) => luma[y * width + x], geo);
}

function readStampBy(lumaAt, geo) {
  const b = geo.block;
  const lo = b >> 2;
  const hi = b - (b >> 2);
  const bytes = new Uint8Array(14);
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const x0 = (bit % geo.perRow) * b;
    const y0 = Math.floor(bit / geo.perRow) * b;
    let sum = 0;
    for (let y = y0 + lo; y < y0 + hi; y++) {
      for (let x = x0 + lo; x < x0 + hi; x++) sum += lumaAt(x, y);
    }
    const mean = Math.floor(sum / ((hi - lo) * (hi - lo)));
    let one;
    if (mean <= 90) one = 0;
    else if (mean >= 160) one = 1;
    else return null;
    bytes[bit >> 3] |= one << (7 - (bit % 8));
  }
  const v = new DataView(bytes.buffer);
  if (crc16(bytes, 12) !== v.getUint16(12)) return null;
  return { counter: v.getUint32(0), captureUs: v.getBigUint64(4) };
}

function tri(v) {
  const p = v % 512;
  return p < 256 ? p : 511 - p;
}
const PERIOD = Uint8Array.from({ length: 512 }, (_, i) => 40 + Math.floor((tri(i) * 160) / 255));
const references = new Map(); // counter -> luma of the test pattern's frame (below the strip)

/** Luma of `TestPattern::frame(counter, _)` below the stamp strip (a port of `render_into`). */
export function patternLuma(w, h, geo, counter) {
  let y = references.get(counter);
  if (y) return y;
  y = new Uint8Array(w * h);
  const strip = geo.strip;
  const shift = Math.imul(counter, 4) >>> 0;
  const box = Math.max(8, Math.min(64, Math.floor(w / 4), Math.floor((h - strip) / 2)));
  const travel = Math.max(1, w - box);
  const p = (Math.imul(counter, 6) >>> 0) % (2 * travel);
  const bx = p < travel ? p : 2 * travel - p;
  const by = strip + Math.floor((h - strip - box) / 2);
  for (let row = strip; row < h; row++) {
    const start = ((row >> 1) + shift) % 512;
    for (let col = 0; col < w; col++) y[row * w + col] = PERIOD[(start + col) % 512];
    if (row >= by && row < by + box) y.fill(WHITE, row * w + bx, row * w + bx + box);
  }
  references.set(counter, y);
  return y;
}

/** `y` (`sw × sh`) scaled to `w × h`, bilinear with pixel centres aligned (as `quality::scaled_luma`). */
export function scaledLuma(y, sw, sh, w, h) {
  if (sw === w && sh === h) return y;
  const out = new Uint8Array(w * h);
  const fx = sw / w;
  const fy = sh / h;
  for (let row = 0; row < h; row++) {
    const sy = Math.min(Math.max((row + 0.5) * fy - 0.5, 0), sh - 1);
    const y0 = Math.floor(sy);
    const wy = sy - y0;
    const y1 = Math.min(y0 + 1, sh - 1);
    for (let col = 0; col < w; col++) {
      const sx = Math.min(Math.max((col + 0.5) * fx - 0.5, 0), sw - 1);
      const x0 = Math.floor(sx);
      const wx = sx - x0;
      const x1 = Math.min(x0 + 1, sw - 1);
      const top = y[y0 * sw + x0] * (1 - wx) + y[y0 * sw + x1] * wx;
      const bottom = y[y1 * sw + x0] * (1 - wx) + y[y1 * sw + x1] * wx;
      out[row * w + col] = Math.round(top * (1 - wy) + bottom * wy);
    }
  }
  return out;
}

/** Luma PSNR (dB) of a received luma plane against the sent frame (by its stamp), or null without a
 * readable stamp. */
export function lumaPsnr(y, sw, sh, w, h) {
  const geo = stampGeometry(w, h);
  if (!geo) return null;
  const full = scaledLuma(y, sw, sh, w, h);
  const stamp = readStampLuma(full, w, geo);
  if (!stamp) return null;
  const ref = patternLuma(w, h, geo, stamp.counter);
  let sse = 0;
  for (let i = geo.strip * w; i < w * h; i++) {
    const d = full[i] - ref[i];
    sse += d * d;
  }
  const mse = sse / ((h - geo.strip) * w);
  return mse === 0 ? 99 : Math.min(99, 10 * Math.log10((255 * 255) / mse));
}
