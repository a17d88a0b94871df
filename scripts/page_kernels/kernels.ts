// Pixel kernels of the page (ferkit/game/static/imageops.mjs) in WebAssembly, where float32 arithmetic is
// native (JavaScript rounds each step with Math.fround). Same operations in the same order as imageops.mjs
// and OpenCV: the results are identical (checked by tests/game/test_page_kernels.py).
// Build: scripts/build_page_kernels.sh (AssemblyScript).

// OpenCV's saturate_cast<uchar>(float): round half to even (f32.nearest), then clamp
@inline function saturate(v: f32): u8 {
  const r = nearest<f32>(v);
  return <u8>(r < 0 ? 0 : r > 255 ? 255 : <i32>r);
}

// OpenCV's INTER_AREA table of a window of `src` pixels shrunk to `dst`, its entries at `at` (image index)
// and `weight`, those outside 0..n-1 dropped (a zero pixel adds exactly nothing); `start` per destination.
// Returns the number of entries. imageops.mjs makeAreaTable + windowTable, in the same f64 steps.
function areaTable(src: i32, dst: i32, offset: i32, n: i32, start: usize, at: usize, weight: usize): i32 {
  const scale = <f64>src / <f64>dst;
  let k = 0;
  for (let d = 0; d < dst; d++) {
    store<i32>(start + (<usize>d << 2), k);
    const f1 = <f64>d * scale, f2 = f1 + scale;
    const cell = min(scale, <f64>src - f1);
    let s1 = <i32>Math.ceil(f1), s2 = <i32>Math.floor(f2);
    s2 = min(s2, src - 1);
    s1 = min(s1, s2);
    if (<f64>s1 - f1 > 1e-3) k = entry(k, offset + s1 - 1, n, (<f64>s1 - f1) / cell, at, weight);
    for (let s = s1; s < s2; s++) k = entry(k, offset + s, n, 1 / cell, at, weight);
    if (f2 - <f64>s2 > 1e-3) k = entry(k, offset + s2, n, min(min(f2 - <f64>s2, 1), cell) / cell, at, weight);
  }
  store<i32>(start + (<usize>dst << 2), k);
  return k;
}

@inline function entry(k: i32, index: i32, n: i32, w: f64, at: usize, weight: usize): i32 {
  if (index < 0 || index >= n) return k;
  store<i32>(at + (<usize>k << 2), index);
  store<f32>(weight + (<usize>k << 2), <f32>w);
  return k + 1;
}

/** cv2.resize(window, (width, height), INTER_AREA) for the w×h window at (x0, y0) of a 3-channel image,
 * zero outside it, when shrinking by a fractional factor. `scratch`: room for the tables and a row sum. */
export function areaWindow3(
  src: usize, srcWidth: i32, srcHeight: i32, x0: i32, y0: i32, w: i32, h: i32,
  width: i32, height: i32, scratch: usize, out: usize,
): void {
  // tables: starts (width+1, height+1), then entries (at most 2 + ceil(scale) per destination)
  const xStart = scratch, yStart = xStart + (<usize>(width + 1) << 2);
  const xAt = yStart + (<usize>(height + 1) << 2);
  areaTable(w, width, x0, srcWidth, xStart, xAt, xAt + (<usize>(w + 2 * width) << 2));
  const xWeight = xAt + (<usize>(w + 2 * width) << 2);
  const yAt = xWeight + (<usize>(w + 2 * width) << 2);
  const yWeight = yAt + (<usize>(h + 2 * height) << 2);
  areaTable(h, height, y0, srcHeight, yStart, yAt, yWeight);
  const acc = yWeight + (<usize>(h + 2 * height) << 2);
  const rowLength = width * 3;
  for (let dy = 0; dy < height; dy++) {
    memory.fill(acc, 0, <usize>rowLength << 2);
    const e1 = load<i32>(yStart + (<usize>(dy + 1) << 2));
    for (let e = load<i32>(yStart + (<usize>dy << 2)); e < e1; e++) {
      const base = src + <usize>(load<i32>(yAt + (<usize>e << 2)) * srcWidth * 3);
      const wy = load<f32>(yWeight + (<usize>e << 2));
      let j = load<i32>(xStart);
      for (let dx = 0; dx < width; dx++) {
        const j1 = load<i32>(xStart + (<usize>(dx + 1) << 2));
        let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0;
        for (; j < j1; j++) {
          const p = base + <usize>(load<i32>(xAt + (<usize>j << 2)) * 3);
          const wx = load<f32>(xWeight + (<usize>j << 2));
          s0 += <f32>load<u8>(p) * wx;
          s1 += <f32>load<u8>(p, 1) * wx;
          s2 += <f32>load<u8>(p, 2) * wx;
        }
        const a = acc + <usize>(dx * 12);
        store<f32>(a, load<f32>(a) + s0 * wy);
        store<f32>(a, load<f32>(a, 4) + s1 * wy, 4);
        store<f32>(a, load<f32>(a, 8) + s2 * wy, 8);
      }
    }
    const o = out + <usize>(dy * rowLength);
    for (let i = 0; i < rowLength; i++) store<u8>(o + i, saturate(load<f32>(acc + (<usize>i << 2))));
  }
}

// ---- CLAHE on LAB lightness (imageops.mjs equalizedRgb) ----------------------------------------------
// The tables come from imageops.mjs (one definition of each), laid out as these exported offsets say:
// gamma i32[256], cbrt i32[3072], xyzFixed i32[9] (RGB → LAB); labToYf i32[512], abToXz i32[36864],
// xyzToRgb i32[9], invGamma i32[4096] (LAB → RGB, OpenCV's integer path).
export const GAMMA: usize = 0, CBRT: usize = GAMMA + 256 * 4, XYZ_FIXED: usize = CBRT + 3072 * 4;
export const LAB_TO_YF: usize = XYZ_FIXED + 16 * 4, AB_TO_XZ: usize = LAB_TO_YF + 512 * 4;
export const XYZ_TO_RGB: usize = AB_TO_XZ + 36864 * 4, INV_GAMMA: usize = XYZ_TO_RGB + 16 * 4;
export const TABLES_BYTES: usize = INV_GAMMA + 4096 * 4;
const MIN_AB = -8145;

@inline function clamp255(v: i32): u8 {
  return <u8>(v < 0 ? 0 : v > 255 ? 255 : v);
}

function labPlanes(t: usize, src: usize, n: i32, L: usize, A: usize, B: usize): void {
  const x0 = load<i32>(t + XYZ_FIXED), x1 = load<i32>(t + XYZ_FIXED, 4), x2 = load<i32>(t + XYZ_FIXED, 8);
  const y0 = load<i32>(t + XYZ_FIXED, 12), y1 = load<i32>(t + XYZ_FIXED, 16), y2 = load<i32>(t + XYZ_FIXED, 20);
  const z0 = load<i32>(t + XYZ_FIXED, 24), z1 = load<i32>(t + XYZ_FIXED, 28), z2 = load<i32>(t + XYZ_FIXED, 32);
  for (let i = 0; i < n; i++) {
    const p = src + <usize>(3 * i);
    const r = load<i32>(t + GAMMA + (<usize>load<u8>(p) << 2));
    const g = load<i32>(t + GAMMA + (<usize>load<u8>(p, 1) << 2));
    const b = load<i32>(t + GAMMA + (<usize>load<u8>(p, 2) << 2));
    const fx = load<i32>(t + CBRT + (<usize>((r * x0 + g * x1 + b * x2 + 2048) >> 12) << 2));
    const fy = load<i32>(t + CBRT + (<usize>((r * y0 + g * y1 + b * y2 + 2048) >> 12) << 2));
    const fz = load<i32>(t + CBRT + (<usize>((r * z0 + g * z1 + b * z2 + 2048) >> 12) << 2));
    store<u8>(L + i, clamp255((296 * fy - 1336934 + 16384) >> 15));
    store<u8>(A + i, clamp255((500 * (fx - fy) + 128 * 32768 + 16384) >> 15));
    store<u8>(B + i, clamp255((200 * (fy - fz) + 128 * 32768 + 16384) >> 15));
  }
}

@inline function reflect101(i: i32, n: i32): i32 {
  return i < n ? i : 2 * n - 2 - i;
}

// cv2.createCLAHE(clipLimit, (tiles, tiles)).apply(plane), as imageops.mjs clahe
function clahe(plane: usize, width: i32, height: i32, clipLimit: f64, tiles: i32, scratch: usize, out: usize): void {
  let src = plane, w = width, h = height;
  let free = scratch;
  if (width % tiles || height % tiles) {
    w = width + (tiles - (width % tiles)) % tiles;
    h = height + (tiles - (height % tiles)) % tiles;
    src = free;
    free += <usize>(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        store<u8>(src + <usize>(y * w + x), load<u8>(plane + <usize>(reflect101(y, height) * width + reflect101(x, width))));
      }
    }
  }
  const tw = w / tiles, th = h / tiles, area = tw * th;
  const limit = max(1, <i32>Math.trunc((clipLimit * <f64>area) / 256));
  const luts = free;
  free += <usize>(tiles * tiles * 256);
  const hist = free;
  free += 256 * 4;
  const scale = <f32>(255 / <f64>area);
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      memory.fill(hist, 0, 256 * 4);
      for (let y = ty * th; y < (ty + 1) * th; y++) {
        for (let x = tx * tw; x < (tx + 1) * tw; x++) {
          const at = hist + (<usize>load<u8>(src + <usize>(y * w + x)) << 2);
          store<i32>(at, load<i32>(at) + 1);
        }
      }
      let clipped = 0;
      for (let i = 0; i < 256; i++) {
        const at = hist + (<usize>i << 2), v = load<i32>(at);
        if (v > limit) {
          clipped += v - limit;
          store<i32>(at, limit);
        }
      }
      const batch = clipped / 256;
      let residual = clipped - batch * 256;
      for (let i = 0; i < 256; i++) store<i32>(hist + (<usize>i << 2), load<i32>(hist + (<usize>i << 2)) + batch);
      if (residual) {
        const step = max(256 / residual, 1);
        for (let i = 0; i < 256 && residual > 0; i += step, residual--) {
          store<i32>(hist + (<usize>i << 2), load<i32>(hist + (<usize>i << 2)) + 1);
        }
      }
      let sum = 0;
      const lut = luts + <usize>((ty * tiles + tx) * 256);
      for (let i = 0; i < 256; i++) {
        sum += load<i32>(hist + (<usize>i << 2));
        store<u8>(lut + i, saturate(<f32>(<f64>sum * <f64>scale)));
      }
    }
  }
  const invTw = <f32>(1 / <f64>tw), invTh = <f32>(1 / <f64>th);
  // per column: the two tiles' LUT offsets and weights
  const col1 = free, col2 = col1 + (<usize>width << 2), xas = col2 + (<usize>width << 2), xa1s = xas + (<usize>width << 2);
  for (let x = 0; x < width; x++) {
    const txf: f32 = <f32>x * invTw - 0.5;
    const tx = <i32>Mathf.floor(txf);
    const xa: f32 = txf - <f32>tx;
    store<f32>(xas + (<usize>x << 2), xa);
    store<f32>(xa1s + (<usize>x << 2), 1 - xa);
    store<i32>(col1 + (<usize>x << 2), max(tx, 0) * 256);
    store<i32>(col2 + (<usize>x << 2), min(tx + 1, tiles - 1) * 256);
  }
  for (let y = 0; y < height; y++) {
    const tyf: f32 = <f32>y * invTh - 0.5;
    const ty = <i32>Mathf.floor(tyf);
    const ya: f32 = tyf - <f32>ty, ya1: f32 = 1 - ya;
    const row1 = luts + <usize>(max(ty, 0) * tiles * 256), row2 = luts + <usize>(min(ty + 1, tiles - 1) * tiles * 256);
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = <usize>load<u8>(plane + <usize>i);
      const xa = load<f32>(xas + (<usize>x << 2)), xa1 = load<f32>(xa1s + (<usize>x << 2));
      const c1 = <usize>load<i32>(col1 + (<usize>x << 2)) + v, c2 = <usize>load<i32>(col2 + (<usize>x << 2)) + v;
      const top: f32 = <f32>load<u8>(row1 + c1) * xa1 + <f32>load<u8>(row1 + c2) * xa;
      const bottom: f32 = <f32>load<u8>(row2 + c1) * xa1 + <f32>load<u8>(row2 + c2) * xa;
      store<u8>(out + <usize>i, saturate(top * ya1 + bottom * ya));
    }
  }
}

// imageops.mjs rgbFromLab: OpenCV's integer LAB → RGB (exported for the exhaustive test)
export function rgbPixels(t: usize, L: usize, A: usize, B: usize, n: i32, out: usize): void {
  const c = t + XYZ_TO_RGB;
  for (let i = 0; i < n; i++) {
    const l = <usize>load<u8>(L + i) << 3;
    const y = load<i32>(t + LAB_TO_YF + l), ify = load<i32>(t + LAB_TO_YF + l, 4);
    const adiv = ((5 * <i32>load<u8>(A + i) * 53687 + 128) >> 13) - 4194;
    const bdiv = ((<i32>load<u8>(B + i) * 41943 + 16) >> 9) - 10484;
    const x = load<i32>(t + AB_TO_XZ + (<usize>(ify + adiv - MIN_AB) << 2));
    const z = load<i32>(t + AB_TO_XZ + (<usize>(ify - bdiv - MIN_AB) << 2));
    const o = out + <usize>(3 * i);
    for (let k = 0; k < 3; k++) {
      const row = c + <usize>(12 * k);
      const v = (load<i32>(row) * x + load<i32>(row, 4) * y + load<i32>(row, 8) * z + 8192) >> 14;
      store<u8>(o + k, <u8>load<i32>(t + INV_GAMMA + (<usize>(v < 0 ? 0 : v > 4095 ? 4095 : v) << 2)));
    }
  }
}

/** imageops.mjs equalizedRgb: LAB lightness equalised with CLAHE, colours kept, back to RGB. `tables`: as
 * laid out above; `scratch`: 4 n + (padded plane) + tiles² × 256 + 1024 + 16 × width bytes. */
export function equalize3(
  tables: usize, src: usize, width: i32, height: i32, clipLimit: f64, tiles: i32, scratch: usize, out: usize,
): void {
  const n = width * height;
  const L = scratch, A = L + <usize>n, B = A + <usize>n, equalized = B + <usize>n;
  labPlanes(tables, src, n, L, A, B);
  clahe(L, width, height, clipLimit, tiles, equalized + <usize>n, equalized);
  rgbPixels(tables, equalized, A, B, n, out);
}
