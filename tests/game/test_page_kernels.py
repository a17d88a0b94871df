"""The page's WebAssembly pixel kernels (static/kernels.wasm) against its JavaScript, in Chromium: identical.

kernels.wasm is built from scripts/page_kernels/kernels.ts (scripts/build_page_kernels.sh); imageops.mjs
uses it when loaded and does the same work in JavaScript otherwise. Every result must be the same bytes:
area-shrunk crops (inside, across and outside the image's edges) and the detector's CLAHE-equalised input,
on random pictures of many sizes (CLAHE pads sizes that are not a multiple of its tiles).
"""

from __future__ import annotations

from ferkit.game.settings import ServerSettings
from tests.game.server import running_server
from tests.game.test_browser import launch, playwright, pytestmark  # noqa: F401  (fixture; skip without Chromium)

COMPARE_IN_PAGE = """async () => {
  const ops = await import("/static/imageops.mjs");
  const vision = await (await fetch("/api/vision")).json();
  await ops.loadKernels(vision.runtime.kernels);
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const both = (f) => {
    ops.useKernels(false);
    const js = f();
    if (!ops.useKernels(true)) throw new Error("kernels not loaded");
    return [js, f()];
  };
  const same = (a, b) => a.width === b.width && a.height === b.height && a.data.every((v, i) => v === b.data[i]);
  const counts = { crops: 0, cropsDiffering: 0, equalized: 0, equalizedDiffering: 0 };
  for (const [width, height] of [[320, 240], [333, 251], [64, 48], [17, 13], [640, 480]]) {
    const picture = ops.image(width, height, 3);
    // smooth regions and noise: CLAHE's tiles see both flat and busy histograms
    for (let i = 0; i < picture.data.length; i++) {
      picture.data[i] = (i % 7 < 3 ? (i >> 5) & 255 : 0) + Math.floor(random() * 80);
    }
    const [a, b] = both(() => ops.equalizedRgb(picture, 2.0, 8));
    counts.equalized++;
    counts.equalizedDiffering += !same(a, b);
    for (let t = 0; t < 300; t++) {
      const size = [24, 48, 12][t % 3];
      const w = size + 1 + Math.floor(random() * 2 * width), h = size + 1 + Math.floor(random() * 2 * height);
      const x0 = Math.floor(random() * (width + w)) - w, y0 = Math.floor(random() * (height + h)) - h;
      const [c, d] = both(() => ops.resizeAreaWindow(picture, x0, y0, w, h, size, size));
      counts.crops++;
      counts.cropsDiffering += !same(c, d);
    }
  }
  return counts;
}"""


def test_the_webassembly_kernels_give_the_javascripts_bytes(playwright, tmp_path):  # noqa: F811
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3")
    with running_server(settings) as url:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(url)
        counts = page.evaluate(COMPARE_IN_PAGE)
        browser.close()
    assert counts == {"crops": 1500, "cropsDiffering": 0, "equalized": 5, "equalizedDiffering": 0}
