// Playing with the model in the page: load onnxruntime-web and the Recognizer, score a round here the way
// ferkit.game.rules does, and package the round's best frames for the server to re-score (claims.py).
import { loadRecognizer, roundHalfEven } from "./faces.mjs";
import { image } from "./imageops.mjs";

/** Whether this browser can run the model at all (WebAssembly may be missing or switched off). */
export function canRunLocally() {
  return typeof WebAssembly === "object" && typeof WebAssembly.instantiate === "function";
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(script);
  });
}

/** onnxruntime-web from the server's own copy, then the Recognizer's sessions (threads: benchmarks). */
export async function loadLocalRecognizer(vision, threads = null) {
  if (!globalThis.ort) await loadScript(vision.runtime.script);
  const ort = globalThis.ort;
  ort.env.wasm.wasmPaths = vision.runtime.wasm_paths;
  // threads need a cross-origin isolated page (the server sends COOP/COEP); otherwise one thread
  const cores = navigator.hardwareConcurrency || 1;
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? (threads ?? Math.min(4, cores)) : 1;
  const recognizer = await loadRecognizer(ort, vision);
  recognizer.threads = ort.env.wasm.numThreads;
  return recognizer;
}

/** The RGB pixels of a canvas. */
export function rgbOfCanvas(canvas) {
  const { data } = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height);
  const rgb = image(canvas.width, canvas.height, 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb.data[j] = data[i];
    rgb.data[j + 1] = data[i + 1];
    rgb.data[j + 2] = data[i + 2];
  }
  return rgb;
}

/** What the server's frame reply holds (frames.FrameResult.to_dict), from the page's own analysis. */
export function frameReply(analysis, rgb, statusMessages) {
  const n = analysis.faces.length;
  const status = n === 0 ? "no_face" : n > 1 ? "many_faces" : "ok";
  return {
    width: rgb.width,
    height: rgb.height,
    faces: analysis.faces,
    faces_found: analysis.facesFound,
    truncated: analysis.facesFound > n,
    status,
    message: statusMessages[status],
  };
}

function interp(x, knots) {
  // numpy.interp over increasing knots [[p, score], ...]
  if (x <= knots[0][0]) return knots[0][1];
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i];
    if (x <= x1) {
      const [x0, y0] = knots[i - 1];
      return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
    }
  }
  return knots[knots.length - 1][1];
}

/** rules.RoundScorer: the best probability held for hold_frames frames in a row, as a 0-100 score. */
export class RoundScorer {
  constructor(target, vision) {
    this.target = target;
    this.hold = vision.rules.hold_frames;
    this.difficulty = vision.rules.difficulty[target] ?? 1;
    this.knots = vision.model.judge?.[target] ?? null;
    this.probabilities = [];
    this.onTop = [];
  }

  bestRun() {
    let best = 0, end = -1;
    for (let i = this.hold - 1; i < this.probabilities.length; i++) {
      const held = Math.min(...this.probabilities.slice(i - this.hold + 1, i + 1));
      if (held > best) [best, end] = [held, i];
    }
    return [best, end];
  }

  /** Records a frame; true when it ends the best held run so far. */
  add(probability, isTop) {
    const [before] = this.bestRun();
    this.probabilities.push(probability);
    this.onTop.push(isTop);
    return this.probabilities.length >= this.hold && this.bestRun()[0] > before;
  }

  scoreOf(probability) {
    if (this.knots) return Math.min(100, roundHalfEven(interp(probability, this.knots)));
    return Math.min(100, roundHalfEven(100 * probability * this.difficulty));
  }

  get score() {
    return this.scoreOf(this.bestRun()[0]);
  }
}

/** The face with a margin around it, cut from the frame, and the face's box within that picture. */
export function verificationPicture(rgb, box, margin) {
  const pad = Math.ceil(Math.max(box.w, box.h) * margin);
  const x0 = Math.max(0, box.x - pad), y0 = Math.max(0, box.y - pad);
  const x1 = Math.min(rgb.width, box.x + box.w + pad), y1 = Math.min(rgb.height, box.y + box.h + pad);
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((y0 + y) * rgb.width + x0 + x) * 3, d = (y * w + x) * 4;
      rgba[d] = rgb.data[s];
      rgba[d + 1] = rgb.data[s + 1];
      rgba[d + 2] = rgb.data[s + 2];
      rgba[d + 3] = 255;
    }
  }
  return { pixels: new ImageData(rgba, w, h), box: { x: box.x - x0, y: box.y - y0, w: box.w, h: box.h } };
}

/** A verification picture as the claim carries it: {jpeg: base64, box}. */
export async function claimFrame(picture, quality) {
  const canvas = document.createElement("canvas");
  canvas.width = picture.pixels.width;
  canvas.height = picture.pixels.height;
  canvas.getContext("2d").putImageData(picture.pixels, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { jpeg: btoa(text), box: picture.box };
}
