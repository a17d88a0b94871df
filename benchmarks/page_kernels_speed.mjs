// The page's pixel work with and without its WebAssembly kernels, in Node (the V8 that Chromium runs):
// equalising a 320×240 frame for the detector (CLAHE on LAB lightness) and 49 R-Net crops of ~100 px.
// Usage: node benchmarks/page_kernels_speed.mjs   (two rounds each way, alternating)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "ferkit", "game", "static");
globalThis.fetch = async (file) => ({ arrayBuffer: async () => fs.readFileSync(file) }); // loadKernels reads a file here
const ops = await import(path.join(staticDir, "imageops.mjs"));
await ops.loadKernels(path.join(staticDir, "kernels.wasm"));

const width = 320, height = 240, frame = ops.image(width, height, 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const i = 3 * (y * width + x);
    frame.data.set([(x + y) & 255, (2 * x) & 255, (3 * y + (x >> 3)) & 255], i);
  }
}
const boxes = Array.from({ length: 49 }, (_, q) => [100 + (q % 7), 60 + ((q * 3) % 11), 97, 103]);
const msPer = (f, repeats) => {
  for (let i = 0; i < 10; i++) f();
  const start = performance.now();
  for (let i = 0; i < repeats; i++) f();
  return (performance.now() - start) / repeats;
};
for (const on of [false, true, false, true]) {
  ops.useKernels(on);
  const equalise = msPer(() => ops.equalizedRgb(frame, 2, 8), 100);
  const crops = msPer(() => boxes.forEach((b) => ops.resizeAreaWindow(frame, b[0], b[1], b[2], b[3], 24, 24)), 50);
  console.log(`${on ? "kernels   " : "JavaScript"}  equalise 320×240 ${equalise.toFixed(2)} ms   49 crops to 24×24 ${crops.toFixed(2)} ms`);
}
