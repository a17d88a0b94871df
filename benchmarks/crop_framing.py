"""Which crop of a detected face classifies best? Framings compared on the built scenes' found faces.

The detect→classify gap (issue 14): a face the detector found is classified less well than the same face as
a dataset crop, because the detector's box frames it differently. For each face found in the scenes of
`benchmarks/detect_scenes.py` (detected once), the crop is cut several ways — the box's centre or the
landmarks' centre, scaled by a framing factor, shifted up or down — and classified; printed is the
accuracy on those faces beside the crops themselves. Choose on PublicTest; read PrivateTest once.
Usage: python benchmarks/crop_framing.py [--model default|ferplus] [--split PublicTest] [--scenes 200]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from detect_scenes import DEFAULT, build_scene, match

from ferkit.data import load_faces, split_with_labels
from ferkit.infer import Recognizer
from ferkit.labels import FERPLUS_EMOTIONS
from ferkit.vision.crop import crop_face
from ferkit.vision.detect import FaceBox

FRAMINGS = (0.90, 0.93, 0.96, 1.00, 1.04)
SHIFTS = (-0.06, -0.03, 0.0, 0.03)  # of the box side, + is down


def landmark_centred(box: FaceBox) -> FaceBox:
    """The same-sized box moved so its centre is the five landmarks' mean (eyes, nose, mouth corners)."""
    if not box.landmarks:
        return box
    cx, cy = np.mean(box.landmarks, axis=0)
    return replace(box, x=round(cx - box.w / 2), y=round(cy - box.h / 2))


def shifted(box: FaceBox, shift: float) -> FaceBox:
    return replace(box, y=round(box.y + shift * max(box.w, box.h)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--split", choices=["PrivateTest", "PublicTest"], default="PublicTest")
    parser.add_argument("--scenes", type=int, default=200)
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    ferplus = args.data.parent / "fer2013new.csv" if recognizer.class_names == FERPLUS_EMOTIONS else None
    faces, labels = split_with_labels(load_faces(args.data, ferplus=ferplus), args.split, recognizer.class_names)
    rng = np.random.default_rng(0)  # the same scenes as detect_scenes.py
    found = []  # (scene, box, face index)
    for _ in range(args.scenes):
        scene, placed = build_scene(rng, faces, int(rng.integers(1, 4)))
        boxes = recognizer.detect(scene)
        for face_number, k in match(boxes, placed, strict=False).items():
            found.append((scene, boxes[k], placed[face_number][3]))
    truth = np.array([labels[i] for _, _, i in found])
    crops = recognizer.predict_faces(np.stack([faces[i] for _, _, i in found]))
    print(f"{args.model}, {args.split}: {len(found)} faces found in {args.scenes} scenes")
    print(f"the crops themselves: {(crops.argmax(1) == truth).mean():.1%}")
    for centre, move in (("box", lambda b: b), ("landmarks", landmark_centred)):
        for framing in FRAMINGS:
            row = []
            for shift in SHIFTS:
                cut = np.stack([crop_face(s, shifted(move(b), shift), framing) for s, b, _ in found])
                row.append(f"{(recognizer.predict_faces(cut).argmax(1) == truth).mean():.1%}")
            print(
                f"centre {centre:9s} framing {framing:.2f}: " + "  ".join(f"{s:+.2f} {a}" for s, a in zip(SHIFTS, row))
            )


if __name__ == "__main__":
    main()
