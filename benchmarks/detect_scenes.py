"""Print face-detection recall, false faces per scene, and detect→classify accuracy on built scenes.

Scenes: PrivateTest faces upscaled 2.5-5×, rotated ±10°, lighting varied, pasted (1-3 per scene) on
blurred-noise 640×480 backgrounds. Compares end-to-end accuracy with classifying the crops themselves.
Usage: python benchmarks/detect_scenes.py [--scenes 200] [--data ../shared/data/fer2013.tar.gz]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ferkit.data import load_faces
from ferkit.infer import Recognizer
from ferkit.vision import HaarFaceDetector, MtcnnFaceDetector

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--detector", choices=["mtcnn", "haar"], default="mtcnn")
    args = parser.parse_args()
    test = load_faces(args.data).split("PrivateTest")
    faces, labels = np.asarray(test.faces), test.labels
    detector = MtcnnFaceDetector() if args.detector == "mtcnn" else HaarFaceDetector()
    recognizer = Recognizer(detector=detector)
    rng = np.random.default_rng(0)
    found = total = false_faces = right_end_to_end = right_crop = 0
    seconds = 0.0
    for _ in range(args.scenes):
        scene, placed = build_scene(rng, faces, int(rng.integers(1, 4)))
        start = time.perf_counter()
        predictions = recognizer.predict(scene)
        seconds += time.perf_counter() - start
        matched = set()
        for x, y, side, index in placed:
            total += 1
            right_crop += int(recognizer.predict_faces(faces[index : index + 1])[0].argmax() == labels[index])
            for k, p in enumerate(predictions):
                cx, cy = p.box.x + p.box.w / 2, p.box.y + p.box.h / 2
                if k not in matched and x <= cx <= x + side and y <= cy <= y + side and 0.5 < p.box.w / side < 2:
                    matched.add(k)
                    found += 1
                    right_end_to_end += int(p.label == recognizer.class_names[labels[index]])
                    break
        false_faces += len(predictions) - len(matched)
    print(f"{args.scenes} scenes, {total} faces, detector {type(recognizer.detector).__name__}")
    print(f"recall {found / total:.1%}; false faces per scene {false_faces / args.scenes:.2f}")
    print(
        f"accuracy on the face crops themselves {right_crop / total:.1%}; "
        f"detect→classify {right_end_to_end / total:.1%}"
    )
    print(
        f"pipeline time per 640×480 scene {1000 * seconds / args.scenes:.1f} ms ({args.scenes / seconds:.0f} scenes/s)"
    )


if __name__ == "__main__":
    main()
