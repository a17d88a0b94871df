"""How far the detector's crop of a face is from the dataset's own crop of it, and what that alone costs.

On the built scenes of `benchmarks/detect_scenes.py` each pasted face's dataset crop is a known square; the
crop the Recognizer cuts is the detector's box scaled by its framing (0.96). Printed: the spread between the
two (centre offsets as a share of the box height, log of the size ratio; RMS), also after the best linear
correction from the box's shape alone or from the box and its five landmarks (fitted on scenes of Training
faces, scored on the split's scenes); then accuracy on the found faces: the dataset crops; the same crops
re-framed as the detector framed each face (framing alone, no scene); the scene cropped on the true square
(the scene's rotation, light and resampling alone); and detect→classify (both, eyes levelled as in predict).
Usage: python benchmarks/framing_spread.py [--model default|ferplus] [--split PublicTest] [--scenes 800]
       [--fit-scenes 2000] [--data fer2013.tar.gz]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from detect_scenes import DEFAULT, build_scene, match

from ferkit.data import load_faces, split_with_labels
from ferkit.face_size import FACE_SIZE
from ferkit.infer import Recognizer
from ferkit.labels import FERPLUS_EMOTIONS
from ferkit.vision.detect import to_gray


def found_faces(recognizer: Recognizer, faces: np.ndarray, scenes: int, seed: int) -> list[tuple]:
    """(scene, detected box, true square (x, y, side), face index) for every pasted face the detector found."""
    rng, found = np.random.default_rng(seed), []
    for _ in range(scenes):
        scene, placed = build_scene(rng, faces, int(rng.integers(1, 4)))
        boxes = recognizer.detect(scene)
        for face_number, k in match(boxes, placed, strict=False).items():
            x, y, side, index = placed[face_number]
            found.append((scene, boxes[k], (x, y, side), index))
    return found


def framing_error(found: list[tuple], framing: float) -> np.ndarray:
    """Per face: the dataset square's centre minus the crop's (x, y, as a share of the box height) and
    log(dataset side / crop side)."""
    rows = []
    for _, b, (x, y, side), _ in found:
        crop_side = framing * max(b.w, b.h)
        rows.append(
            [(x + side / 2 - b.x - b.w / 2) / b.h, (y + side / 2 - b.y - b.h / 2) / b.h, np.log(side / crop_side)]
        )
    return np.array(rows)


def features(found: list[tuple], landmarks: bool) -> np.ndarray:
    """The box's shape, and optionally its landmarks relative to the box centre, in box heights."""
    rows = []
    for _, b, _, _ in found:
        row = [1.0, b.w / b.h]
        if landmarks:
            cx, cy = b.x + b.w / 2, b.y + b.h / 2
            row += [(px - cx) / b.h for px, _ in b.landmarks] + [(py - cy) / b.h for _, py in b.landmarks]
        rows.append(row)
    return np.array(rows)


def reframed(face: np.ndarray, error: np.ndarray, box_height: float, side: int) -> np.ndarray:
    """The 48×48 dataset crop cut again as the detector's crop frames that face (edges replicated)."""
    scale = FACE_SIZE / side  # dataset crop pixels per scene pixel
    ratio = np.exp(-error[2])  # crop side / dataset side
    centre = FACE_SIZE / 2 - np.array(error[:2]) * box_height * scale  # the crop's centre in the 48 px crop
    to_source = np.array([[ratio, 0, centre[0] - ratio * FACE_SIZE / 2], [0, ratio, centre[1] - ratio * FACE_SIZE / 2]])
    return cv2.warpAffine(
        face, to_source, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--split", choices=["PrivateTest", "PublicTest"], default="PublicTest")
    parser.add_argument("--scenes", type=int, default=800)
    parser.add_argument("--fit-scenes", type=int, default=2000)
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    framing = recognizer.detector.fer_framing
    ferplus = args.data.parent / "fer2013new.csv" if recognizer.class_names == FERPLUS_EMOTIONS else None
    data = load_faces(args.data, ferplus=ferplus)
    faces, labels = split_with_labels(data, args.split, recognizer.class_names)
    faces = np.asarray(faces)
    found = found_faces(recognizer, faces, args.scenes, seed=0)  # the scenes of detect_scenes.py
    fit = found_faces(recognizer, np.asarray(data.split("Training").faces), args.fit_scenes, seed=1)
    error, fit_error = framing_error(found, framing), framing_error(fit, framing)
    print(f"{args.model}, {args.split}: {len(found)} faces found in {args.scenes} scenes; fitted on {len(fit)} "
          f"Training faces in {args.fit_scenes} scenes")  # fmt: skip
    print("spread of the crop against the dataset's (RMS): centre x, centre y (box heights), log size")
    print(f"  the crop as cut (framing {framing})   " + "  ".join(f"{v:.3f}" for v in np.sqrt((error**2).mean(0))))
    for name, landmarks in (("box shape", False), ("box + landmarks", True)):
        weights = np.linalg.lstsq(features(fit, landmarks), fit_error, rcond=None)[0]
        left = error - features(found, landmarks) @ weights
        print(f"  corrected from the {name:16s}" + "  ".join(f"{v:.3f}" for v in np.sqrt((left**2).mean(0))))
    truth = np.array([labels[i] for *_, i in found])

    def accuracy(crops: list[np.ndarray]) -> str:
        return f"{(recognizer.predict_faces(np.stack(crops)).argmax(1) == truth).mean():.1%}"

    again = [reframed(faces[i], e, b.h, side) for (_, b, (_, _, side), i), e in zip(found, error)]
    squares = [to_gray(s[y : y + side, x : x + side]) for s, _, (x, y, side), _ in found]
    on_square = [cv2.resize(q, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA) for q in squares]
    predicted = [recognizer.classify(s, [b])[0].label for s, b, _, _ in found]
    end_to_end = np.mean([p == recognizer.class_names[t] for p, t in zip(predicted, truth)])
    print("accuracy on those faces:")
    print(f"  the dataset crops                                     {accuracy([faces[i] for *_, i in found])}")
    print(f"  the same crops re-framed as the detector framed them  {accuracy(again)} (framing alone)")
    print(f"  the scene cut on the dataset's square                 {accuracy(on_square)} (the scene alone)")
    print(f"  detect→classify, eyes levelled                        {end_to_end:.1%} (both)")


if __name__ == "__main__":
    main()
