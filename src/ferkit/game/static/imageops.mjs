// Pixel operations of ferkit.vision, in the page: the same arithmetic as the OpenCV calls the Python side
// makes (cv2.cvtColor, cv2.resize INTER_AREA / INTER_LINEAR, CLAHE), so that the page's detector and crops
// match the server's. tests/game/test_browser_parity.py measures how close they come.
// Images are {width, height, channels, data: Uint8Array} with channels interleaved (RGB, or 1 for gray).

const f32 = Math.fround;

// ---- WebAssembly kernels (kernels.wasm, built from scripts/page_kernels/kernels.ts) -------------------
// The same arithmetic where float32 is native: 2-3× faster (benchmarks/page_kernels_speed.mjs). Without
// them (not loaded, or turned off to compare) the JavaScript below does the work, with identical results.
let kernels = null;

/** Load kernels.wasm from `url` (the page calls this once); later calls use it. */
export async function loadKernels(url) {
  const bytes = await (await fetch(url)).arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => { throw new Error("kernel abort"); } } });
  const k = instance.exports;
  kernels = { exports: k, memory: k.memory, image: null, tables: 8, imageAt: 8 + ((k.TABLES_BYTES.value + 7) & ~7) };
  if (kernels.imageAt > k.memory.buffer.byteLength) k.memory.grow(Math.ceil(kernels.imageAt / 65536));
  // the colour tables, made here (JavaScript's pow and cbrt), written where the kernels read them
  const put = (offset, array) => {
    const at = kernels.tables + k[offset].value;
    new Uint8Array(k.memory.buffer, at, array.byteLength).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  };
  put("GAMMA", GAMMA_TABLE);
  put("CBRT", CBRT_TABLE);
  put("XYZ_FIXED", Int32Array.from(XYZ_FIXED.flat()));
  put("LAB_TO_YF", LAB_TO_YF);
  put("AB_TO_XZ", AB_TO_XZ);
  put("XYZ_TO_RGB", XYZ_TO_RGB_FIXED);
  put("INV_GAMMA", INV_GAMMA);
}

let kernelsOn = true;

/** Use the loaded kernels or not (tests compare both ways); returns whether they will be used. */
export function useKernels(on) {
  kernelsOn = on;
  return kernelsOn && kernels !== null;
}

// Linear memory: the source image first (kept while the same image is cropped again and again), then
// the tables and the output of one call.
function kernelMemory(src, extraBytes) {
  const k = kernels;
  const imageBytes = src.data.length;
  if (k.image !== src.data) k.image = null; // a new image: copied in below
  const need = k.imageAt + imageBytes + extraBytes + 16;
  if (need > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
  if (k.image === null) {
    new Uint8Array(k.memory.buffer, k.imageAt, imageBytes).set(src.data);
    k.image = src.data;
  }
  return { image: k.imageAt, free: k.imageAt + ((imageBytes + 7) & ~7) };
}

function resizeAreaDownKernel(src, x0, y0, w, h, width, height) {
  const scratchBytes = 4 * (width + height + 2 + 2 * (w + 2 * width) + 2 * (h + 2 * height) + 3 * width);
  const { image: at, free } = kernelMemory(src, scratchBytes + width * height * 3 + 8);
  const out = free + ((scratchBytes + 7) & ~7);
  kernels.exports.areaWindow3(at, src.width, src.height, x0, y0, w, h, width, height, free, out);
  return image(width, height, 3, new Uint8Array(kernels.memory.buffer, out, width * height * 3).slice());
}

export function image(width, height, channels, data = new Uint8Array(width * height * channels)) {
  return { width, height, channels, data };
}

// Like OpenCV's saturate_cast<uchar>(float): round half to even, then clamp.
export function saturate(v) {
  let r = Math.round(v);
  if (r - v === 0.5 && (r & 1) !== 0) r -= 1; // Math.round sends .5 up; rint sends it to the even neighbour
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** RGBA (a canvas's ImageData) to RGB. */
export function rgbFromRgba(rgba, width, height) {
  const out = image(width, height, 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    out.data[j] = rgba[i];
    out.data[j + 1] = rgba[i + 1];
    out.data[j + 2] = rgba[i + 2];
  }
  return out;
}

/** cv2.COLOR_RGB2GRAY on uint8: OpenCV's fixed-point 0.299/0.587/0.114 with 15 fractional bits (exact). */
export function grayFromRgb(rgb) {
  const n = rgb.width * rgb.height;
  const out = image(rgb.width, rgb.height, 1);
  for (let i = 0; i < n; i++) {
    const r = rgb.data[3 * i], g = rgb.data[3 * i + 1], b = rgb.data[3 * i + 2];
    out.data[i] = (r * 9798 + g * 19235 + b * 3735 + 16384) >> 15;
  }
  return out;
}

// ---- resize --------------------------------------------------------------------------------------
// OpenCV's area tables: each destination pixel is the weighted mean of the source area it covers.
// Flat typed arrays: for destination d, entries start[d] .. start[d + 1] of (index, weight).
const areaTables = new Map(); // the same few sizes come back every frame (pyramid levels, crops)

function areaTable(src, dst) {
  const key = src * 65536 + dst;
  if (!areaTables.has(key)) {
    if (areaTables.size > 4096) areaTables.clear();
    areaTables.set(key, makeAreaTable(src, dst));
  }
  return areaTables.get(key);
}

function makeAreaTable(src, dst) {
  const scale = src / dst;
  const start = new Int32Array(dst + 1), index = [], weight = [];
  for (let d = 0; d < dst; d++) {
    start[d] = index.length;
    const f1 = d * scale, f2 = f1 + scale;
    const cell = Math.min(scale, src - f1);
    let s1 = Math.ceil(f1), s2 = Math.floor(f2);
    s2 = Math.min(s2, src - 1);
    s1 = Math.min(s1, s2);
    if (s1 - f1 > 1e-3) { index.push(s1 - 1); weight.push((s1 - f1) / cell); }
    for (let s = s1; s < s2; s++) { index.push(s); weight.push(1 / cell); }
    if (f2 - s2 > 1e-3) { index.push(s2); weight.push(Math.min(Math.min(f2 - s2, 1), cell) / cell); }
  }
  start[dst] = index.length;
  return { start, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

// The area table of a w-wide window starting at x0 of an n-wide image, in image coordinates, without the
// entries that fall outside the image: a zero pixel adds exactly nothing, in float32 too.
function windowTable(w, size, x0, n) {
  const table = areaTable(w, size);
  if (x0 === 0 && w <= n) return table;
  const start = new Int32Array(size + 1), index = [], weight = [];
  for (let d = 0; d < size; d++) {
    start[d] = index.length;
    for (let e = table.start[d]; e < table.start[d + 1]; e++) {
      const at = x0 + table.index[e];
      if (at >= 0 && at < n) {
        index.push(at);
        weight.push(table.weight[e]);
      }
    }
  }
  start[size] = index.length;
  return { start, index: Int32Array.from(index), weight: Float32Array.from(weight), shifted: true };
}

// Area shrink of the w×h window at (x0, y0) of src, pixels outside src being 0 (a zero-padded crop, as
// the detector cuts boxes that run off the image), to width×height.
function resizeAreaDown(src, x0, y0, w, h, width, height) {
  if (kernels && kernelsOn && src.channels === 3) return resizeAreaDownKernel(src, x0, y0, w, h, width, height);
  // float32 arithmetic step by step (f32), as OpenCV sums: uint8 results then agree exactly
  const c = src.channels, rowLength = width * c, data = src.data, W = src.width;
  const out = image(width, height, c);
  const xs = windowTable(w, width, x0, W), ys = windowTable(h, height, y0, src.height);
  const xStart = xs.start, xIndex = xs.index, xWeight = xs.weight;
  const dx0 = xs.shifted ? 0 : x0, dy0 = ys.shifted ? 0 : y0; // unshifted tables are window-relative
  const acc = new Float32Array(rowLength);
  for (let dy = 0; dy < height; dy++) {
    acc.fill(0);
    for (let e = ys.start[dy]; e < ys.start[dy + 1]; e++) {
      const base = (dy0 + ys.index[e]) * W * c, wy = ys.weight[e];
      if (c === 3) {
        for (let dx = 0, o = 0; dx < width; dx++, o += 3) {
          let s0 = 0, s1 = 0, s2 = 0;
          for (let j = xStart[dx], end = xStart[dx + 1]; j < end; j++) {
            const at = base + (dx0 + xIndex[j]) * 3, wx = xWeight[j];
            s0 = f32(s0 + f32(data[at] * wx));
            s1 = f32(s1 + f32(data[at + 1] * wx));
            s2 = f32(s2 + f32(data[at + 2] * wx));
          }
          acc[o] = f32(acc[o] + f32(s0 * wy));
          acc[o + 1] = f32(acc[o + 1] + f32(s1 * wy));
          acc[o + 2] = f32(acc[o + 2] + f32(s2 * wy));
        }
      } else {
        for (let dx = 0; dx < width; dx++) {
          for (let k = 0; k < c; k++) {
            let sum = 0;
            for (let j = xStart[dx]; j < xStart[dx + 1]; j++) {
              sum = f32(sum + f32(data[base + (dx0 + xIndex[j]) * c + k] * xWeight[j]));
            }
            acc[dx * c + k] = f32(acc[dx * c + k] + f32(sum * wy));
          }
        }
      }
    }
    for (let i = 0, o = dy * rowLength; i < rowLength; i++) out.data[o + i] = saturate(acc[i]);
  }
  return out;
}

function resizeAreaFast(src, x0, y0, width, height, fx, fy) {
  // whole-number shrink factors: OpenCV averages fx×fy blocks in integers, rounding halves up
  const c = src.channels, W = src.width, H = src.height, data = src.data;
  const out = image(width, height, c);
  const area = fx * fy, half = area >> 1;
  for (let dy = 0; dy < height; dy++) {
    for (let dx = 0; dx < width; dx++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let y = y0 + dy * fy; y < y0 + dy * fy + fy; y++) {
          if (y < 0 || y >= H) continue;
          for (let x = x0 + dx * fx; x < x0 + dx * fx + fx; x++) if (x >= 0 && x < W) sum += data[(y * W + x) * c + k];
        }
        out.data[(dy * width + dx) * c + k] = Math.floor((sum + half) / area);
      }
    }
  }
  return out;
}

// Bilinear coefficients as OpenCV computes them: centre-aligned for INTER_LINEAR; for INTER_AREA when
// enlarging, the "area mode" variant (a pixel stays flat until the next source pixel's cell begins).
// keepFraction: OpenCV's rows (not its columns) keep the fraction at the edges and only clamp the two
// source rows, so the first and last output rows are weighted sums of one row (matters for the rounding).
function linearTable(src, dst, areaMode, keepFraction = false) {
  const scale = src / dst;
  const inv = dst / src;
  const index = new Int32Array(dst * 2), weight = new Int32Array(dst * 2);
  for (let d = 0; d < dst; d++) {
    let s, f;
    if (!areaMode) {
      f = Math.fround((d + 0.5) * scale - 0.5);
      s = Math.floor(f);
      f -= s;
    } else {
      s = Math.floor(d * scale);
      f = Math.fround(d + 1 - (s + 1) * inv);
      f = f <= 0 ? 0 : f - Math.floor(f);
    }
    let s0 = s, s1 = s + 1;
    if (keepFraction) {
      s0 = Math.min(Math.max(s, 0), src - 1);
      s1 = Math.min(Math.max(s + 1, 0), src - 1);
    } else {
      if (s < 0) { f = 0; s0 = s1 = 0; }
      if (s + 1 >= src) { if (s >= src - 1) { f = 0; s0 = s1 = src - 1; } else s1 = src - 1; }
    }
    index[2 * d] = s0;
    index[2 * d + 1] = s1;
    // fixed point, 11 bits (INTER_RESIZE_COEF_BITS)
    const a1 = saturate16(Math.fround(f) * 2048), a0 = saturate16(Math.fround(1 - f) * 2048);
    weight[2 * d] = a0;
    weight[2 * d + 1] = a1;
  }
  return { index, weight };
}

function saturate16(v) {
  return Math.max(-32768, Math.min(32767, saturate16Round(v)));
}

function saturate16Round(v) {
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

function resizeLinear(src, width, height, areaMode) {
  const c = src.channels;
  const out = image(width, height, c);
  const xt = linearTable(src.width, width, areaMode), yt = linearTable(src.height, height, areaMode, !areaMode);
  const rows = [new Int32Array(width * c), new Int32Array(width * c)];
  for (let dy = 0; dy < height; dy++) {
    for (let r = 0; r < 2; r++) {
      const base = yt.index[2 * dy + r] * src.width * c;
      for (let dx = 0; dx < width; dx++) {
        const x0 = xt.index[2 * dx] * c, x1 = xt.index[2 * dx + 1] * c;
        const w0 = xt.weight[2 * dx], w1 = xt.weight[2 * dx + 1];
        for (let k = 0; k < c; k++) rows[r][dx * c + k] = src.data[base + x0 + k] * w0 + src.data[base + x1 + k] * w1;
      }
    }
    const b0 = yt.weight[2 * dy], b1 = yt.weight[2 * dy + 1];
    for (let i = 0; i < width * c; i++) {
      // OpenCV's vectorised vertical pass: products of the 4-bit-shifted rows, then (… + 2) >> 2
      const v = (((b0 * (rows[0][i] >> 4)) >> 16) + ((b1 * (rows[1][i] >> 4)) >> 16) + 2) >> 2;
      out.data[dy * width * c + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** cv2.resize(src, (width, height), interpolation=cv2.INTER_AREA). */
export function resizeArea(src, width, height) {
  return resizeAreaWindow(src, 0, 0, src.width, src.height, width, height);
}

/**
 * cv2.resize(patch, (width, height), INTER_AREA) where patch is the w×h window of src at (x0, y0), zero
 * where it runs off src: without building the patch when shrinking.
 */
export function resizeAreaWindow(src, x0, y0, w, h, width, height) {
  const fx = w / width, fy = h / height;
  if (fx >= 1 && fy >= 1) {
    if (Number.isInteger(fx) && Number.isInteger(fy)) return resizeAreaFast(src, x0, y0, width, height, fx, fy);
    return resizeAreaDown(src, x0, y0, w, h, width, height);
  }
  const inside = x0 >= 0 && y0 >= 0 && x0 + w <= src.width && y0 + h <= src.height;
  const patch = inside && w === src.width && h === src.height ? src : paddedWindow(src, x0, y0, w, h);
  return resizeLinear(patch, width, height, true);
}

function paddedWindow(src, x0, y0, w, h) {
  const c = src.channels;
  const patch = image(w, h, c);
  const sx1 = Math.max(x0, 0), sy1 = Math.max(y0, 0), sx2 = Math.min(x0 + w, src.width), sy2 = Math.min(y0 + h, src.height);
  for (let y = sy1; y < sy2 && sx1 < sx2; y++) {  // a window wholly outside src stays zero
    const from = (y * src.width + sx1) * c;
    patch.data.set(src.data.subarray(from, from + (sx2 - sx1) * c), ((y - y0) * w + (sx1 - x0)) * c);
  }
  return patch;
}

/** cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR). */
export function resizeLinearExact(src, width, height) {
  return resizeLinear(src, width, height, false);
}

// ---- colour: CLAHE on LAB lightness ----------------------------------------------------------------
// sRGB → LAB on uint8 in OpenCV's fixed point, bit-exact (all 16.7 M colours, tests/game/test_page_kernels.py):
// a gamma table with 3 fractional bits, XYZ rows scaled by 2^12, a cube-root table scaled by 2^15.
const GAMMA_TABLE = Int32Array.from({ length: 256 }, (_, i) => {
  const x = i / 255;
  return Math.round(2040 * (x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
});
const CBRT_TABLE = Int32Array.from({ length: 3072 }, (_, i) => {
  const x = i / 2040;
  return Math.round(32768 * (x < 0.008856 ? x * 7.787 + 16 / 116 : Math.cbrt(x)));
});
// OpenCV builds its table with its own float32 cube root, which lands one lower or higher than the exact
// one on two entries; with these, a and b agree on every colour too (without: 962 and 713 colours off by 1).
CBRT_TABLE[49] = 9454;
CBRT_TABLE[628] = 22126;
const WHITE = [0.950456, 1.0, 1.088754]; // D65, as OpenCV's sRGB↔LAB uses
const RGB_TO_XYZ = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
];
const XYZ_FIXED = RGB_TO_XYZ.map((row, i) => row.map((v) => Math.round((4096 * v) / WHITE[i])));
const clamp255 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** cv2.COLOR_RGB2LAB on uint8 (L scaled to 0-255, a and b offset by 128), as three planes. */
export function labFromRgb(rgb) {
  const n = rgb.width * rgb.height;
  const L = new Uint8Array(n), A = new Uint8Array(n), B = new Uint8Array(n);
  const [cx, cy, cz] = XYZ_FIXED;
  for (let i = 0; i < n; i++) {
    const r = GAMMA_TABLE[rgb.data[3 * i]], g = GAMMA_TABLE[rgb.data[3 * i + 1]], b = GAMMA_TABLE[rgb.data[3 * i + 2]];
    const fx = CBRT_TABLE[(r * cx[0] + g * cx[1] + b * cx[2] + 2048) >> 12];
    const fy = CBRT_TABLE[(r * cy[0] + g * cy[1] + b * cy[2] + 2048) >> 12];
    const fz = CBRT_TABLE[(r * cz[0] + g * cz[1] + b * cz[2] + 2048) >> 12];
    L[i] = clamp255((296 * fy - 1336934 + 16384) >> 15);
    A[i] = clamp255((500 * (fx - fy) + 128 * 32768 + 16384) >> 15);
    B[i] = clamp255((200 * (fy - fz) + 128 * 32768 + 16384) >> 15);
  }
  return { L, A, B };
}

// LAB → RGB on uint8 exactly as OpenCV 4 does it (its integer path; checked on all 16.7 M L,a,b values by
// tests/game/test_page_kernels.py): L gives y and f(y) from a table, in 2^14 fixed point; a and b move f(y)
// to f(x) and f(z) (OpenCV's multiply-shift divisions by 500 and 200); a table inverts f; a fixed-point
// XYZ → linear RGB matrix; a 4096-entry sRGB encoding table. The tables are built the way OpenCV builds
// them (float32 steps, integer divisions that truncate).
const LAB_BASE = 1 << 14;
const MIN_AB = -8145; // the smallest f(x) or f(z) index a, b and L can make
const roundEven = (v) => {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
};
const LAB_TO_YF = Int32Array.from({ length: 512 }, (_, k) => {
  const i = k >> 1;
  let y, ify;
  if (i <= 20) {
    // the linear part below L = 8 (8 × 255 / 100 = 20.4)
    y = roundEven(f32(f32(i * LAB_BASE * 20 * 9) / f32(17 * 29 * 29 * 29)));
    ify = roundEven(f32(f32(LAB_BASE) * f32(f32(f32(16) / f32(116)) + f32(f32(i * 5) / f32(3 * 17 * 29)))));
  } else {
    const fy = f32(f32(f32(i * 100 * LAB_BASE) / f32(255 * 116)) + f32(f32(16 * LAB_BASE) / f32(116)));
    ify = roundEven(fy);
    y = roundEven(f32(f32(f32(fy * fy) * fy) / f32(LAB_BASE * LAB_BASE)));
  }
  return k & 1 ? ify : y;
});
const AB_TO_XZ = Int32Array.from({ length: (LAB_BASE * 9) / 4 }, (_, k) => {
  const i = k + MIN_AB;
  if (i <= 3390) return Math.trunc((i * 108) / 841) - Math.trunc(Math.trunc((Math.trunc((LAB_BASE * 16) / 116) * 108)) / 841);
  return Math.trunc((Math.trunc((i * i) / LAB_BASE) * i) / LAB_BASE);
});
const XYZ_TO_RGB_FIXED = Int32Array.from(
  [
    [3.240479, -1.53715, -0.498535],
    [-0.969256, 1.875991, 0.041556],
    [0.055648, -0.204043, 1.057311],
  ].flatMap((row) => row.map((v, i) => roundEven(f32(f32(f32(4096) * f32(v)) * f32(WHITE[i]))))),
);
const INV_GAMMA = Int32Array.from({ length: 4096 }, (_, i) => {
  const x = f32(f32(1 / 4096) * i);
  const g = f32(x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055);
  return roundEven(f32(255 * g));
});

/** cv2.COLOR_LAB2RGB on uint8 planes, bit-exact. */
export function rgbFromLab(L, A, B, width, height) {
  if (kernels && kernelsOn) {
    const n = width * height, k = kernels;
    k.image = null; // the planes go where the cached image was
    const need = k.imageAt + 6 * n + 16;
    if (need > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
    const at = k.imageAt;
    [L, A, B].forEach((plane, j) => new Uint8Array(k.memory.buffer, at + j * n, n).set(plane));
    k.exports.rgbPixels(k.tables, at, at + n, at + 2 * n, n, at + 3 * n);
    return image(width, height, 3, new Uint8Array(k.memory.buffer, at + 3 * n, 3 * n).slice());
  }
  const out = image(width, height, 3);
  const c = XYZ_TO_RGB_FIXED;
  for (let i = 0; i < width * height; i++) {
    const y = LAB_TO_YF[2 * L[i]], ify = LAB_TO_YF[2 * L[i] + 1];
    const adiv = ((5 * A[i] * 53687 + 128) >> 13) - 4194; // ≈ (a − 128) × 2^14 / 500, as OpenCV rounds it
    const bdiv = ((B[i] * 41943 + 16) >> 9) - 10484; // ≈ (b − 128) × 2^14 / 200
    const x = AB_TO_XZ[ify + adiv - MIN_AB], z = AB_TO_XZ[ify - bdiv - MIN_AB];
    for (let k = 0; k < 3; k++) {
      const v = (c[3 * k] * x + c[3 * k + 1] * y + c[3 * k + 2] * z + 8192) >> 14;
      out.data[3 * i + k] = INV_GAMMA[v < 0 ? 0 : v > 4095 ? 4095 : v];
    }
  }
  return out;
}

/** cv2.createCLAHE(clipLimit, (tiles, tiles)).apply(plane) for a uint8 plane. */
export function clahe(plane, width, height, clipLimit, tiles) {
  // OpenCV pads (reflect-101) to a multiple of the tile grid when the size is not one
  let src = plane, w = width, h = height;
  if (width % tiles || height % tiles) {
    w = width + (tiles - (width % tiles)) % tiles;
    h = height + (tiles - (height % tiles)) % tiles;
    src = new Uint8Array(w * h);
    const reflect = (i, n) => (i < n ? i : 2 * n - 2 - i);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = plane[reflect(y, height) * width + reflect(x, width)];
  }
  const tw = w / tiles, th = h / tiles, area = tw * th;
  const limit = Math.max(1, Math.trunc((clipLimit * area) / 256));
  const luts = new Uint8Array(tiles * tiles * 256);
  const scale = Math.fround(255 / area);
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      const hist = new Int32Array(256);
      for (let y = ty * th; y < (ty + 1) * th; y++) for (let x = tx * tw; x < (tx + 1) * tw; x++) hist[src[y * w + x]]++;
      let clipped = 0;
      for (let i = 0; i < 256; i++) if (hist[i] > limit) { clipped += hist[i] - limit; hist[i] = limit; }
      const batch = Math.trunc(clipped / 256);
      let residual = clipped - batch * 256;
      for (let i = 0; i < 256; i++) hist[i] += batch;
      if (residual) {
        const step = Math.max(Math.trunc(256 / residual), 1);
        for (let i = 0; i < 256 && residual > 0; i += step, residual--) hist[i]++;
      }
      let sum = 0;
      const lut = luts.subarray((ty * tiles + tx) * 256, (ty * tiles + tx + 1) * 256);
      for (let i = 0; i < 256; i++) {
        sum += hist[i];
        lut[i] = saturate(Math.fround(sum * scale));
      }
    }
  }
  const out = new Uint8Array(width * height);
  const invTw = f32(1 / tw), invTh = f32(1 / th);
  // per column: the two tiles' LUT offsets and weights (the same for every row)
  const col1 = new Int32Array(width), col2 = new Int32Array(width), xas = new Float32Array(width), xa1s = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f32(f32(x * invTw) - 0.5);
    const tx = Math.floor(txf);
    xas[x] = f32(txf - tx);
    xa1s[x] = f32(1 - xas[x]);
    col1[x] = Math.max(tx, 0) * 256;
    col2[x] = Math.min(tx + 1, tiles - 1) * 256;
  }
  for (let y = 0; y < height; y++) {
    const tyf = f32(f32(y * invTh) - 0.5);
    const ty = Math.floor(tyf);
    const ya = f32(tyf - ty), ya1 = f32(1 - ya);
    const row1 = Math.max(ty, 0) * tiles * 256, row2 = Math.min(ty + 1, tiles - 1) * tiles * 256;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const v = plane[i];
      const xa = xas[x], xa1 = xa1s[x], c1 = col1[x] + v, c2 = col2[x] + v;
      const top = f32(f32(luts[row1 + c1] * xa1) + f32(luts[row1 + c2] * xa));
      const bottom = f32(f32(luts[row2 + c1] * xa1) + f32(luts[row2 + c2] * xa));
      out[i] = saturate(f32(f32(top * ya1) + f32(bottom * ya)));
    }
  }
  return out;
}

/** The detector's input: lightness equalised with CLAHE in LAB, colours kept (MtcnnFaceDetector._equalized_rgb). */
export function equalizedRgb(rgb, clipLimit, tiles) {
  if (kernels && kernelsOn) {
    const { width, height } = rgb, n = width * height;
    const padded = (width + tiles) * (height + tiles);
    const scratchBytes = 4 * n + padded + tiles * tiles * 256 + 1024 + 16 * width + 64;
    const { image: at, free } = kernelMemory(rgb, scratchBytes + 3 * n);
    const out = free + ((scratchBytes + 7) & ~7);
    kernels.exports.equalize3(kernels.tables, at, width, height, clipLimit, tiles, free, out);
    return image(width, height, 3, new Uint8Array(kernels.memory.buffer, out, 3 * n).slice());
  }
  const { L, A, B } = labFromRgb(rgb);
  return rgbFromLab(clahe(L, rgb.width, rgb.height, clipLimit, tiles), A, B, rgb.width, rgb.height);
}
