"""A bag-of-visual-words member for the FER2013 ensemble: dense SIFT, a k-means vocabulary, a linear classifier.

Georgescu et al. (2019) added such handcrafted features to a CNN ensemble on FER2013. Each 48×48 face gets
RootSIFT descriptors on a regular grid; a vocabulary of --words words is fitted on descriptors sampled from
Training; a face becomes its word counts over the whole face and over its four quadrants (L1 per cell, square
root, L2 overall); a multinomial logistic regression is fitted on Training, its C chosen on PublicTest. The
PublicTest and PrivateTest probabilities are written as kept member predictions (the format
`benchmarks/ensemble_selection.py` reads), so the member can join the kept nets' ensembles.
Usage: python benchmarks/bovw_member.py --data fer2013.tar.gz --out docs/results/member_predictions/bovw.npz
       [--words 1024] [--step 4] [--size 12]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.linear_model import LogisticRegression

from ferkit.data import load_faces, split_with_labels
from ferkit.evaluate.member_predictions import MemberPredictions, splits_digest, write_member_predictions
from ferkit.labels import EMOTIONS, REPORT_SPLIT, SELECT_SPLIT

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def grid(step: int, size: float) -> list[cv2.KeyPoint]:
    return [cv2.KeyPoint(float(x), float(y), size) for y in range(step, 48 - step + 1, step)
            for x in range(step, 48 - step + 1, step)]  # fmt: skip


def dense_root_sift(faces: np.ndarray, points: list[cv2.KeyPoint]) -> np.ndarray:
    """faces × points × 128 RootSIFT descriptors (L1-normalised SIFT, square-rooted)."""
    sift = cv2.SIFT_create()
    out = np.empty((len(faces), len(points), 128), np.float32)
    for i, face in enumerate(faces):
        kept, descriptors = sift.compute(np.ascontiguousarray(face), points)
        if len(kept) != len(points):
            raise RuntimeError("SIFT dropped grid points: use a smaller --size or a larger --step")
        out[i] = descriptors
    out /= out.sum(axis=2, keepdims=True) + 1e-7
    return np.sqrt(out)


def nearest_words(descriptors: np.ndarray, centres: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """The index of each descriptor's nearest vocabulary word (squared Euclidean distance)."""
    norms = (centres**2).sum(1)
    words = np.empty(len(descriptors), np.int32)
    for start in range(0, len(descriptors), chunk):
        block = descriptors[start : start + chunk]
        words[start : start + chunk] = np.argmin(norms[None, :] - 2 * block @ centres.T, axis=1)
    return words


def pyramid_histograms(words: np.ndarray, cells: np.ndarray, n_cells: int, n_words: int) -> np.ndarray:
    """faces × (n_cells × n_words): per face, word counts per cell, L1 per cell, square root, L2 overall."""
    faces = len(words)
    index = (np.arange(faces)[:, None] * n_cells + cells[None, :]) * n_words + words
    counts = np.bincount(index.ravel(), minlength=faces * n_cells * n_words).astype(np.float32)
    counts = counts.reshape(faces, n_cells, n_words)
    counts /= counts.sum(axis=2, keepdims=True) + 1e-7
    features = np.sqrt(counts).reshape(faces, -1)
    return features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--words", type=int, default=1024)
    parser.add_argument("--step", type=int, default=4)
    parser.add_argument("--size", type=float, default=12)
    parser.add_argument("--sample", type=int, default=400_000, help="descriptors the vocabulary is fitted on")
    parser.add_argument("--c", type=float, nargs="+", default=[30.0, 100.0, 300.0], help="inverse regularisation")
    args = parser.parse_args()
    start = time.perf_counter()
    data = load_faces(args.data)
    splits = {name: split_with_labels(data, name, EMOTIONS) for name in ("Training", SELECT_SPLIT, REPORT_SPLIT)}
    points = grid(args.step, args.size)
    # each grid point's spatial-pyramid cells: the whole face (0) and its quadrant (1-4)
    quadrant = np.array([1 + (p.pt[1] >= 24) * 2 + (p.pt[0] >= 24) for p in points])
    descriptors = {name: dense_root_sift(np.asarray(faces), points) for name, (faces, _) in splits.items()}
    print(f"dense SIFT: {len(points)} points a face, {time.perf_counter() - start:.0f} s", flush=True)
    train = descriptors["Training"].reshape(-1, 128)
    rng = np.random.default_rng(0)
    sample = train[rng.choice(len(train), size=min(args.sample, len(train)), replace=False)]
    kmeans = MiniBatchKMeans(n_clusters=args.words, batch_size=4096, n_init=1, random_state=0, max_iter=50)
    centres = kmeans.fit(sample).cluster_centers_.astype(np.float32)
    print(f"vocabulary of {args.words} words: {time.perf_counter() - start:.0f} s", flush=True)
    features = {}
    for name, d in descriptors.items():
        words = nearest_words(d.reshape(-1, 128), centres).reshape(len(d), -1)
        whole = pyramid_histograms(words, np.zeros(len(points), int), 1, args.words)
        parts = pyramid_histograms(words, quadrant - 1, 4, args.words)
        features[name] = np.hstack([whole, parts]) / np.sqrt(2)
    print(f"encoded: {time.perf_counter() - start:.0f} s", flush=True)
    labels = {name: np.asarray(y) for name, (_, y) in splits.items()}
    best = None
    # unit-length features need weak regularisation (large C); chosen on the select split only
    for c in args.c:
        model = LogisticRegression(C=c, max_iter=500).fit(features["Training"], labels["Training"])
        accuracy = float(np.mean(model.predict(features[SELECT_SPLIT]) == labels[SELECT_SPLIT]))
        print(f"C {c:g}: {SELECT_SPLIT} {accuracy:.2%} ({time.perf_counter() - start:.0f} s)", flush=True)
        if best is None or accuracy > best[0]:
            best = (accuracy, c, model)
    accuracy, c, model = best
    (sel_faces, sel_labels), (rep_faces, rep_labels) = splits[SELECT_SPLIT], splits[REPORT_SPLIT]
    kept = MemberPredictions(
        name=f"bovw-sift-{args.words}w",
        source=f"benchmarks/bovw_member.py --words {args.words} --step {args.step} --size {args.size} (C {c:g})",
        class_names=tuple(EMOTIONS),
        flip=False,
        select_probabilities=model.predict_proba(features[SELECT_SPLIT]),
        report_probabilities=model.predict_proba(features[REPORT_SPLIT]),
        digest=splits_digest(sel_faces, sel_labels, rep_faces, rep_labels),
    )
    write_member_predictions(args.out, kept)
    print(f"wrote {args.out}: {SELECT_SPLIT} {accuracy:.2%} (C {c:g})")


if __name__ == "__main__":
    main()
