"""Print face-detection recall, false faces per scene, and detect→classify accuracy on built scenes.

Scenes: PrivateTest faces upscaled 2.5-5×, rotated ±10°, lighting varied, pasted (1-3 per scene) on
blurred-noise 640×480 backgrounds. Compares end-to-end accuracy with classifying the crops themselves.
A FER+ model (`--model ferplus`) is scored against the FER+ majority vote (fer2013new.csv beside the data).
Usage: python benchmarks/detect_scenes.py [--model default|default-int8|ferplus|file.onnx] [--scenes 200]
       [--detector mtcnn|mtcnn-fast|mtcnn-paper|mtcnn-fast-coarse|haar] [--tta none|flip]
       [--split PrivateTest|PublicTest] [--min-face 50] [--data ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ferkit.data import load_faces, split_with_labels
from ferkit.infer import Recognizer
from ferkit.infer.recognizer import TTA_CHOICES
from ferkit.labels import FERPLUS_EMOTIONS
from ferkit.vision import DETECTORS, MtcnnFaceDetector, create_detector
from ferkit.vision.detectors import DEFAULT_DETECTOR

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def build_scene(rng: np.random.Generator, faces: np.ndarray, count: int):
    scene = cv2.GaussianBlur(rng.integers(40, 220, (480, 640), dtype=np.uint8), (0, 0), 6)
    placed = []
    for face_index in rng.choice(len(faces), size=count, replace=False):
        side = int(rng.integers(120, 240))
        face = cv2.resize(faces[face_index], (side, side), interpolation=cv2.INTER_CUBIC)
        rot = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-10, 10)), 1.0)
        face = cv2.warpAffine(face, rot, (side, side), borderMode=cv2.BORDER_REPLICATE)
        face = np.clip(face.astype(np.float32) * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30), 0, 255)
        for _ in range(50):  # find a spot that overlaps no other face
            x, y = int(rng.integers(0, 640 - side)), int(rng.integers(0, 480 - side))
            if all(x + side < px or px + ps < x or y + side < py or py + ps < y for px, py, ps, _ in placed):
                scene[y : y + side, x : x + side] = face.astype(np.uint8)
                placed.append((x, y, side, int(face_index)))
                break
    return cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR), placed


def is_match(box, x: int, y: int, side: int, strict: bool) -> bool:
    """Does a detection find the face pasted at (x, y, side)?

    Default: the box centre lies in the middle 60% of the pasted square and the box is 0.3-1.6× its side
    (FER2013 crops are framed loosely or tightly, so a true face box can be a third of the crop).
    `strict` (the first yardstick): centre anywhere in the square, box 0.5-2× the side.
    """
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    if strict:
        return x <= cx <= x + side and y <= cy <= y + side and 0.5 < box.w / side < 2
    near = abs(cx - x - side / 2) <= 0.3 * side and abs(cy - y - side / 2) <= 0.3 * side
    return near and 0.3 < box.w / side < 1.6


def match(boxes, placed, strict: bool) -> dict[int, int]:
    """Placed face number -> detection number; each detection matches at most one face."""
    taken: dict[int, int] = {}
    for face_number, (x, y, side, _) in enumerate(placed):
        for k, box in enumerate(boxes):
            if k not in taken.values() and is_match(box, x, y, side, strict):
                taken[face_number] = k
                break
    return taken


# every registered detector, plus settings worth comparing against
VARIANTS = {
    "mtcnn-paper": lambda: MtcnnFaceDetector(thresholds=(0.6, 0.7, 0.7), equalize=False),  # before tuning
    # a coarser pyramid for mtcnn-fast (fewer levels): tried in session 33, recall fell, no faster
    "mtcnn-fast-coarse": lambda: MtcnnFaceDetector(shrunk_crops=True, pyramid_factor=0.65),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--detector", choices=[*DETECTORS.names(), *VARIANTS], default=DEFAULT_DETECTOR)
    parser.add_argument("--model", default="default", help="default, default-int8, ferplus or an .onnx file")
    parser.add_argument("--min-face", type=float, default=None, help="the Recognizer's min_face (predict --min-face)")
    parser.add_argument("--split", choices=["PrivateTest", "PublicTest"], default="PrivateTest")
    parser.add_argument(
        "--tta", choices=list(TTA_CHOICES), default="none", help="the Recognizer's test-time augmentation"
    )
    args = parser.parse_args()
    detector = VARIANTS[args.detector]() if args.detector in VARIANTS else create_detector(args.detector)
    recognizer = Recognizer(args.model, detector=detector, tta=args.tta, min_face=args.min_face)
    # true classes in the model's own label space (FER2013's, or the FER+ majority vote)
    ferplus = args.data.parent / "fer2013new.csv" if recognizer.class_names == FERPLUS_EMOTIONS else None
    faces, labels = split_with_labels(load_faces(args.data, ferplus=ferplus), args.split, recognizer.class_names)
    rng = np.random.default_rng(0)
    total = false_faces = found_strict = right_crop = right_crop_found = 0
    found = {False: 0, True: 0}  # found faces, and faces right end to end, with and without eye levelling
    right = {False: 0, True: 0}
    seconds = 0.0
    for _ in range(args.scenes):
        scene, placed = build_scene(rng, faces, int(rng.integers(1, 4)))
        start = time.perf_counter()
        boxes = recognizer.detect(scene)
        predictions = {level: recognizer.classify_levelled(scene, boxes, level) for level in (False, True)}
        seconds += time.perf_counter() - start
        matched = match(boxes, placed, strict=False)
        found_strict += len(match(boxes, placed, strict=True))
        false_faces += len(boxes) - len(matched)
        for face_number, (_, _, _, index) in enumerate(placed):
            total += 1
            crop_right = int(recognizer.predict_faces(faces[index : index + 1])[0].argmax() == labels[index])
            right_crop += crop_right
            if face_number in matched:
                right_crop_found += crop_right
                for level in (False, True):
                    found[level] += 1
                    label = predictions[level][matched[face_number]].label
                    right[level] += int(label == recognizer.class_names[labels[index]])
    print(f"{args.model}: {args.scenes} scenes, {total} {args.split} faces, detector {args.detector}, TTA {args.tta}")
    print(f"recall {found[False] / total:.1%} (strict yardstick {found_strict / total:.1%}); ", end="")
    print(f"false faces per scene {false_faces / args.scenes:.3f}")
    print(
        f"accuracy on the face crops themselves {right_crop / total:.1%}; detect→classify "
        f"{right[False] / total:.1%}, with eyes levelled {right[True] / total:.1%}"
    )
    # the classification gap alone: the faces the detector found, as crops and through the detector's box
    n = found[False]
    print(
        f"on the {n} faces found: crops {right_crop_found / n:.1%}, detect→classify {right[False] / n:.1%} "
        f"(gap {100 * (right_crop_found - right[False]) / n:.1f} points), with eyes levelled {right[True] / n:.1%} "
        f"(gap {100 * (right_crop_found - right[True]) / n:.1f})"
    )
    print(
        f"detection + 2 classifications per 640×480 scene {1000 * seconds / args.scenes:.1f} ms "
        "(benchmarks/latency.py times the pipeline alone)"
    )


if __name__ == "__main__":
    main()
