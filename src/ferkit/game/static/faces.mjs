// The Recognizer in the page: MTCNN (the package's three ONNX nets) finds faces, each is cropped the way
// ferkit.vision.crop does and classified by the server's own ONNX model, all on onnxruntime-web.
// Every constant comes from the server (GET /api/vision, made from the Python objects), never from here.
import { equalizedRgb, grayFromRgb, image, loadKernels, resizeArea, resizeAreaWindow, resizeLinearExact } from "./imageops.mjs";

// Python's round(): half to even (crop_face rounds sides and corners with it)
export function roundHalfEven(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function nms(boxes, threshold, method) {
  // boxes: arrays [x1, y1, x2, y2, score, ...]; returns the kept indices, best first
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[b][4] - boxes[a][4]);
  const keep = [];
  const area = (b) => (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
  while (order.length) {
    const i = order.shift();
    keep.push(i);
    const a = boxes[i];
    for (let k = order.length - 1; k >= 0; k--) {
      const b = boxes[order[k]];
      const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1);
      const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1);
      const inter = w * h;
      const denom = method === "min" ? Math.min(area(a), area(b)) : area(a) + area(b) - inter;
      if (inter / denom > threshold) order.splice(k, 1);
    }
  }
  return keep;
}

function top(boxes, k) {
  return boxes.length <= k ? boxes : [...boxes].sort((a, b) => b[4] - a[4]).slice(0, k);
}

function square(b) {
  const w = b[2] - b[0], h = b[3] - b[1], side = Math.max(w, h);
  const x1 = b[0] + w * 0.5 - side * 0.5, y1 = b[1] + h * 0.5 - side * 0.5;
  return [x1, y1, x1 + side, y1 + side, ...b.slice(4)];
}

function refine(b, reg) {
  const w = b[2] - b[0] + 1, h = b[3] - b[1] + 1;
  return [b[0] + reg[0] * w, b[1] + reg[1] * h, b[2] + reg[2] * w, b[3] + reg[3] * h, ...b.slice(4)];
}

// (x − 127.5) / 128 into a float32 tensor, H and W swapped (the nets were trained on transposed images)
function normalisedTransposed(img, out, offset) {
  const { width, height, data } = img;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3, d = offset + (x * height + y) * 3;
      out[d] = (data[s] - 127.5) * 0.0078125;
      out[d + 1] = (data[s + 1] - 127.5) * 0.0078125;
      out[d + 2] = (data[s + 2] - 127.5) * 0.0078125;
    }
  }
}

function crop(rgb, box, size) {
  // the box cut from the image (zero outside it), resized to size×size with INTER_AREA
  const [x1, y1, x2, y2] = box.slice(0, 4).map(Math.trunc);
  const bw = Math.max(x2 - x1 + 1, 1), bh = Math.max(y2 - y1 + 1, 1);
  const copies = rgb.copies; // ShrunkCopies.source: a large box is cut from a half- or quarter-size copy
  const factor = !copies ? 1 : Math.min(bw, bh) >= 2 * copies.reach * size ? 4 : Math.min(bw, bh) >= copies.reach * size ? 2 : 1;
  if (factor === 1) return resizeAreaWindow(rgb, x1, y1, bw, bh, size, size);
  const r = (v) => roundHalfEven(v / factor);
  return resizeAreaWindow(factor === 4 ? copies.quarter : copies.half, r(x1), r(y1), Math.max(r(bw), 1), Math.max(r(bh), 1), size, size);
}

function areaHalf(img) {
  // _area_half: each pixel the mean of 2×2 (an odd last row or column dropped)
  return resizeAreaWindow(img, 0, 0, img.width - (img.width % 2), img.height - (img.height % 2), img.width >> 1, img.height >> 1);
}

function withShrunkCopies(rgb, reach) {
  // MtcnnFaceDetector(shrunk_crops=True)'s ShrunkCopies: the equalised image with 1/2- and 1/4-size copies
  const half = areaHalf(rgb);
  return { ...rgb, copies: { half, quarter: areaHalf(half), reach } };
}

export class MtcnnDetector {
  constructor(ort, sessions, config) {
    this.ort = ort;
    this.sessions = sessions; // {pnet, rnet, onet}: onnxruntime-web InferenceSessions
    this.config = config; // /api/vision's "detector"
  }

  async _run(session, data, dims) {
    const feeds = { [session.inputNames[0]]: new this.ort.Tensor("float32", data, dims) };
    const out = await session.run(feeds);
    return session.outputNames.map((name) => out[name]);
  }

  async _stage1(rgb, minSize) {
    // MtcnnFaceDetector._stage1: the pyramid from the detector's own min_size, levels for faces smaller
    // than minSize skipped (not re-sized: new input shapes cost onnxruntime-web a new plan each)
    const c = this.config;
    const { width, height } = rgb;
    let scale = 12 / c.min_size;
    let side = Math.min(height, width) * scale;
    // levels shrunk from the half-size copy where there is one and every level is smaller than it
    let level = rgb.copies && scale <= 0.5 ? rgb.copies.half : rgb;
    let found = [];
    while (side >= 12) {
      const hs = Math.ceil(height * scale), ws = Math.ceil(width * scale);
      level = resizeArea(level, ws, hs); // each level from the one before, as the Python side does
      if (12 / scale < minSize * c.level_tolerance) {
        scale *= c.pyramid_factor;
        side *= c.pyramid_factor;
        continue;
      }
      const input = new Float32Array(ws * hs * 3);
      normalisedTransposed(level, input, 0);
      const [reg, prob] = await this._run(this.sessions.pnet, input, [1, ws, hs, 3]);
      const [, mw, mh] = prob.dims; // map width (columns) and height (rows), transposed back below
      const boxes = [];
      for (let y = 0; y < mh; y++) {
        for (let x = 0; x < mw; x++) {
          const p = prob.data[(x * mh + y) * 2 + 1];
          if (p < c.thresholds[0]) continue;
          const r = (x * mh + y) * 4;
          boxes.push([
            Math.trunc((2 * x + 1) / scale), Math.trunc((2 * y + 1) / scale),
            Math.trunc((2 * x + 12) / scale), Math.trunc((2 * y + 12) / scale),
            p, reg.data[r], reg.data[r + 1], reg.data[r + 2], reg.data[r + 3],
          ]);
        }
      }
      if (boxes.length) {
        const kept = top(boxes, c.level_candidates);
        found = found.concat(nms(kept, 0.5, "union").map((i) => kept[i]));
      }
      scale *= c.pyramid_factor;
      side *= c.pyramid_factor;
    }
    let boxes = top(found, 4 * c.rnet_candidates);
    boxes = top(nms(boxes, 0.7, "union").map((i) => boxes[i]), c.rnet_candidates);
    return boxes.map((b) => {
      const w = b[2] - b[0], h = b[3] - b[1];
      return square([b[0] + b[5] * w, b[1] + b[6] * h, b[2] + b[7] * w, b[3] + b[8] * h, b[4]]);
    });
  }

  async _runBatched(session, rgb, boxes, size) {
    const outputs = [];
    for (let start = 0; start < boxes.length; start += this.config.batch_size) {
      const batch = boxes.slice(start, start + this.config.batch_size);
      const input = new Float32Array(batch.length * size * size * 3);
      batch.forEach((box, k) => normalisedTransposed(crop(rgb, box, size), input, k * size * size * 3));
      const result = await this._run(session, input, [batch.length, size, size, 3]);
      result.forEach((tensor, j) => {
        const per = tensor.dims[1];
        outputs[j] = outputs[j] || [];
        for (let k = 0; k < batch.length; k++) outputs[j].push(tensor.data.slice(k * per, (k + 1) * per));
      });
    }
    return outputs;
  }

  async _stage(session, rgb, boxes, size, threshold, method) {
    if (!boxes.length) return boxes;
    const outputs = await this._runBatched(session, rgb, boxes, size);
    const reg = outputs[0], prob = outputs[outputs.length - 1];
    const keep = boxes.map((_, i) => i).filter((i) => prob[i][1] > threshold);
    if (method !== "min") {
      const kept = keep.map((i) => [...boxes[i].slice(0, 4), prob[i][1]]);
      return nms(kept, 0.7, method).map((k) => square(refine(kept[k], reg[keep[k]])));
    }
    // O-Net's landmarks: x1..x5 then y1..y5 as fractions of the box
    const refined = keep.map((i) => {
      const b = boxes[i];
      const w = b[2] - b[0] + 1, h = b[3] - b[1] + 1;
      const marks = outputs[1][i];
      const xs = [0, 1, 2, 3, 4].map((j) => b[0] + marks[j] * w);
      const ys = [0, 1, 2, 3, 4].map((j) => b[1] + marks[5 + j] * h);
      return [...refine([...b.slice(0, 4), prob[i][1]], reg[i]), ...xs, ...ys];
    });
    return nms(refined, 0.7, "min").map((k) => refined[k]);
  }

  /** Faces in an RGB image, most confident first: {x, y, w, h, score, landmarks} (minSize: this call looks
   * for no face smaller, nor than the detector's own minimum; MtcnnFaceDetector.detect's min_size). */
  async detect(rgb, maxFaces = null, minSize = null) {
    const c = this.config;
    let equalized = c.equalize ? equalizedRgb(rgb, c.clahe_clip_limit, c.clahe_tiles) : rgb;
    if (c.shrunk_crops) equalized = withShrunkCopies(equalized, c.shrunk_reach);
    let boxes = await this._stage1(equalized, Math.max(c.min_size, minSize ?? 0));
    boxes = await this._stage(this.sessions.rnet, equalized, boxes, 24, c.thresholds[1], "union");
    const cap = maxFaces === null ? c.onet_candidates : Math.min(c.onet_candidates, Math.max(8 * maxFaces, 64));
    boxes = await this._stage(this.sessions.onet, equalized, top(boxes, cap), 48, c.thresholds[2], "min");
    return boxes
      .map((b) => ({
        x: Math.trunc(b[0]), y: Math.trunc(b[1]), w: Math.trunc(b[2] - b[0]), h: Math.trunc(b[3] - b[1]),
        score: b[4],
        landmarks: [0, 1, 2, 3, 4].map((j) => [b[5 + j], b[10 + j]]),
      }))
      .sort((a, b) => b.score - a.score);
  }
}

/** crop_face: a square `framing` × the box's larger side, edges replicated, as a 48×48 gray face; with
 * `levelEyes` (and landmarks) turned about the face centre so the eyes lie level. */
export function cropFace(gray, box, framing, faceSize, levelEyes = false) {
  const side = roundHalfEven(Math.max(box.w, box.h) * framing);
  const cx = box.x + box.w / 2, cy = box.y + box.h / 2;
  if (levelEyes && box.landmarks) {
    const [[lx, ly], [rx, ry]] = box.landmarks;
    // eye_angle: math.degrees(atan2) is x * (180 / pi)
    if (Math.abs(Math.atan2(ry - ly, rx - lx) * (180 / Math.PI)) > 1.0) {
      return toFaceSize(levelledSquare(gray, cx, cy, rx - lx, ry - ly, side), faceSize);
    }
  }
  const x0 = roundHalfEven(cx - side / 2), y0 = roundHalfEven(cy - side / 2);
  const square = image(side, side, 1);
  for (let y = 0; y < side; y++) {
    const sy = Math.min(Math.max(y0 + y, 0), gray.height - 1);
    for (let x = 0; x < side; x++) {
      const sx = Math.min(Math.max(x0 + x, 0), gray.width - 1);
      square.data[y * side + x] = gray.data[sy * gray.width + sx];
    }
  }
  return toFaceSize(square, faceSize);
}

function toFaceSize(square, faceSize) {
  if (square.width === faceSize) return square;
  return square.width > faceSize ? resizeArea(square, faceSize, faceSize) : resizeLinearExact(square, faceSize, faceSize);
}

/** ferkit.vision.crop.levelled_square, the same bytes: the side×side square centred on (cx, cy) turned so
 * (dx, dy) becomes horizontal; bilinear at 1/32 pixel with integer weights, edges replicated. */
export function levelledSquare(gray, cx, cy, dx, dy, side) {
  const norm = Math.sqrt(dx * dx + dy * dy);
  const c = dx / norm, s = dy / norm;
  const out = image(side, side, 1);
  const { width, height, data } = gray;
  const clampX = (v) => Math.min(Math.max(v, 0), width - 1);
  const clampY = (v) => Math.min(Math.max(v, 0), height - 1);
  for (let v = 0; v < side; v++) {
    const dv = v - side / 2;
    for (let u = 0; u < side; u++) {
      const du = u - side / 2;
      // the same float64 operations in the same order as the Python, then 1/32 pixel
      const x = Math.floor((cx + c * du - s * dv) * 32 + 0.5);
      const y = Math.floor((cy + s * du + c * dv) * 32 + 0.5);
      const fx = x & 31, fy = y & 31;
      const x0 = clampX(x >> 5), x1 = clampX((x >> 5) + 1), y0 = clampY(y >> 5), y1 = clampY((y >> 5) + 1);
      const top = (32 - fx) * data[y0 * width + x0] + fx * data[y0 * width + x1];
      const bottom = (32 - fx) * data[y1 * width + x0] + fx * data[y1 * width + x1];
      out.data[v * side + u] = ((32 - fy) * top + fy * bottom + 512) >> 10;
    }
  }
  return out;
}

export class Recognizer {
  /** vision: GET /api/vision; sessions: {classifier, pnet, rnet, onet} onnxruntime-web sessions. */
  constructor(ort, sessions, vision) {
    this.ort = ort;
    this.vision = vision;
    this.classNames = vision.model.class_names;
    this.logitOffsets = vision.model.logit_offsets || this.classNames.map(() => 0);
    this.detector = new MtcnnDetector(ort, sessions, vision.detector);
    this.classifier = sessions.classifier;
  }

  async classify(rgb, boxes) {
    if (!boxes.length) return [];
    const size = this.vision.face_size;
    const gray = grayFromRgb(rgb);
    const input = new Float32Array(boxes.length * size * size);
    const level = Boolean(this.vision.level_eyes);
    boxes.forEach((box, k) => input.set(cropFace(gray, box, this.vision.detector.fer_framing, size, level).data, k * size * size));
    const feeds = { [this.classifier.inputNames[0]]: new this.ort.Tensor("float32", input, [boxes.length, 1, size, size]) };
    const logits = (await this.classifier.run(feeds))[this.classifier.outputNames[0]].data;
    const n = this.classNames.length;
    return boxes.map((box, k) => {
      // the model's decision rule, as the server applies it (ferkit/weights/decision_rule.py)
      const row = Array.from(logits.slice(k * n, (k + 1) * n), (v, i) => v + this.logitOffsets[i]);
      const peak = Math.max(...row);
      const exps = row.map((v) => Math.exp(v - peak));
      const total = exps.reduce((a, b) => a + b, 0);
      const probabilities = Object.fromEntries(this.classNames.map((name, i) => [name, exps[i] / total]));
      const label = this.classNames.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
      return { box: { x: box.x, y: box.y, w: box.w, h: box.h }, detection_score: box.score, label, probabilities };
    });
  }

  /** Like frames.analyse on the server: at most maxFaces classified, and how many were found (minSize:
   * look for no face smaller, as a game stream does: followedMinSize; nor than the server's min_face, as
   * Recognizer.detect). */
  async analyse(rgb, maxFaces, minSize = null) {
    const floor = Math.max(minSize ?? 0, this.vision.min_face ?? 0);
    const boxes = await this.detector.detect(rgb, maxFaces, floor > 0 ? floor : null);
    const faces = await this.classify(rgb, boxes.slice(0, maxFaces));
    return { faces, facesFound: boxes.length, boxes };
  }
}

/** following.followed_min_size: the smallest face detection number `detection` of a stream looks for, given
 * the boxes just found (null: any size). `following`: /api/vision's "following". */
export function followedMinSize(followed, detection, following) {
  if (!followed.length || detection % following.full_detection_every === 0) return null;
  return following.followed_face_share * Math.min(...followed.map((box) => Math.min(box.w, box.h)));
}

/** Sessions for the page's Recognizer, from the URLs in /api/vision. */
export async function loadRecognizer(ort, vision) {
  try {
    await loadKernels(vision.runtime.kernels);
  } catch (e) {
    console.warn("pixel kernels not loaded, JavaScript does their work (same results, slower):", e);
  }
  const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  const urls = { classifier: vision.model.url, ...vision.detector.nets };
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]) => [name, await ort.InferenceSession.create(url, options)]),
  );
  return new Recognizer(ort, Object.fromEntries(entries), vision);
}
