// Bench mode `?bench=screen` only (the screen-sharing benchmark, crates/kaiwa-bench/src/screen.rs): the
// page covers itself with the benchmark's screen, the same picture the native side shares from an X
// display: a page of text-like strokes scrolling by a line every 250 ms (a port of
// `kaiwa_devices::testing::text_page`)
// below a strip with the test pattern's stamp (paint time), repainted every 100 ms. Sharing this tab then
// shares that picture.

import { drawStamp, stampGeometry } from '/stamp.js';

const W = 1920;
const H = 1080;

/** `text_page(width, height, first)`: white, with lines of 5×7 pseudo-random glyphs from line `first` on. */
function drawTextPage(ctx, top, width, height, first) {
  const img = ctx.createImageData(width, height);
  img.data.fill(255);
  for (let row = 12, k = 0; row < height - 30; row += 18, k++) {
    let state = (Math.imul(first + k, 2654435761) + 12345) >>> 0;
    for (let col = 12; col < width - 20; col += 9) {
      for (let gy = 0; gy < 7; gy++) {
        for (let gx = 0; gx < 5; gx++) {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          if (state >>> 29 < 3) {
            const i = ((row + gy * 2) * width + col + gx) * 4;
            img.data[i] = img.data[i + 1] = img.data[i + 2] = 0;
          }
        }
      }
    }
  }
  ctx.putImageData(img, 0, top);
}

export function showScreenPage() {
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  canvas.style.cssText = 'position:fixed;left:0;top:0;width:100vw;height:100vh;z-index:1000;pointer-events:none';
  document.body.append(canvas);
  const ctx = canvas.getContext('2d');
  const geo = stampGeometry(W, H);
  let counter = 0;
  let seed = 1;
  let nextPage = 0;
  setInterval(() => {
    const now = performance.now();
    if (now >= nextPage) {
      drawTextPage(ctx, geo.strip, W, H - geo.strip, seed++);
      nextPage = now + 250;
    }
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, W, geo.strip);
    drawStamp(ctx, geo, counter++, BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)));
  }, 100);
}
