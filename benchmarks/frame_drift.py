"""Where a face loses its expression on the way into a webcam frame: crops vs frames with parts switched off.

For FER+ PublicTest faces (majority vote), prints accuracy and the median true-class probability per class on
(1) the dataset crops, (2) crops dimmed by a webcam's gamma and exposure, and (3) webcam-like frames through the
whole pipeline (MTCNN, crop, classifier) with the light and the sensor (noise, blur, JPEG) each on or off.
Usage: python benchmarks/frame_drift.py [--model ferplus] [--faces 800] [--frames 400]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from ferkit.data.ferplus import ferplus_majority
from ferkit.data.load import load_faces
from ferkit.evaluate.predictors import load_predictor
from ferkit.infer import Recognizer
from ferkit.labels import SPLITS
from ferkit.webcam_light import GAMMA, LIGHT


def frame(face: np.ndarray, rng: np.random.Generator, light: bool, sensor: bool) -> np.ndarray:
    """vision.webcam.webcam_frame with its light and its sensor each optional (same framing draws)."""
    scene = cv2.GaussianBlur(rng.integers(40, 200, (480, 640), dtype=np.uint8), (0, 0), 8)
    side = int(rng.integers(150, 260))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    rot = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-6, 6)), 1.0)
    big = cv2.warpAffine(big, rot, (side, side), borderMode=cv2.BORDER_REPLICATE)
    x, y = int(rng.integers(80, 640 - side - 80)), int(rng.integers(20, 480 - side - 20))
    scene[y : y + side, x : x + side] = big
    f = scene.astype(np.float32)
    if light:
        f = 255 * (f / 255) ** rng.uniform(*GAMMA) * rng.uniform(*LIGHT)
    if sensor:
        f += rng.normal(0, rng.uniform(2, 7), f.shape)
        f = cv2.GaussianBlur(np.clip(f, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.3, 1.4))
        _, jpeg = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 85))])
        f = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    return cv2.cvtColor(np.clip(f, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def report(tag: str, probs: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> None:
    true = probs[np.arange(len(labels)), labels]
    shown = [(c, n) for c, n in enumerate(names[:7]) if (labels == c).any()]
    medians = " ".join(f"{n[:5]} {np.median(true[labels == c]):.2f}" for c, n in shown)
    print(f"{tag:34s} acc {np.mean(probs.argmax(1) == labels):.3f}  median p(true): {medians}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="ferplus")
    ap.add_argument("--data", default="../shared/data/fer2013.tar.gz")
    ap.add_argument("--ferplus", default="../shared/data/fer2013new.csv")
    ap.add_argument("--faces", type=int, default=800)
    ap.add_argument("--frames", type=int, default=400)
    args = ap.parse_args()
    fs = load_faces(args.data, ferplus=args.ferplus)
    majority = ferplus_majority(fs.votes)
    keep = (fs.split_codes == SPLITS.index("PublicTest")) & (majority >= 0) & (majority < 8)
    pick = np.random.default_rng(0).permutation(int(keep.sum()))[: args.faces]
    faces, labels = fs.faces[keep][pick], majority[keep][pick]
    predictor = load_predictor(args.model)
    names = predictor.class_names
    report("crops", predictor.predict_proba(faces), labels, names)
    for gamma, exposure in [(1.0, 0.7), (1.0, 0.45), (1.5, 1.0), (1.5, 0.6), (0.8, 0.8)]:
        dim = np.clip(255 * (faces / 255) ** gamma * exposure, 0, 255).astype(np.uint8)
        report(f"crops, gamma {gamma} exposure {exposure}", predictor.predict_proba(dim), labels, names)
    recognizer = Recognizer(model=args.model)
    n = min(args.frames, len(faces))
    for light, sensor in [(False, False), (False, True), (True, False), (True, True)]:
        rng, rows = np.random.default_rng(1), []
        for face in faces[:n]:
            found = recognizer.predict(frame(face, rng, light, sensor))
            best = max(found, key=lambda f: f.box.w * f.box.h) if found else None
            rows.append([best.probabilities[c] for c in names] if best else [0.0] * len(names))
        report(f"frames, light {light}, sensor {sensor}", np.array(rows), labels[:n], names)


if __name__ == "__main__":
    main()
