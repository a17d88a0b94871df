"""What does a FER2013 teacher file say about the faces it labels: their own label, or what the face shows?

A teacher trained on a Training face has fit that face's label, right or wrong; a cross-fitted teacher
(`ferkit teach --cross-fitted`) never saw the faces it labels. The FER+ annotators (10 per face) are the
referee: per teacher file and split, how often its top class is the FER2013 label, how often it is the
FER+ majority (mapped to FER2013's classes; faces without one left out), and — on the faces where at least
`--min-votes` annotators agree on an emotion other than the FER2013 label (the label is likely wrong) —
how often the teacher sides with the annotators and how much probability it leaves on the label.
Read-only: nothing is trained or chosen here, and PrivateTest is never read (teacher files do not hold it).

Usage: python benchmarks/teacher_honesty.py TEACHER.npz... [--data ../shared/data/fer2013.tar.gz]
       [--ferplus ../shared/data/fer2013new.csv] [--min-votes 6]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ferkit.data import load_faces
from ferkit.data.ferplus import ferplus_majority
from ferkit.data.teacher import aligned_teacher, read_teacher, taught_rows
from ferkit.labels import EMOTIONS, FERPLUS_TO_FER2013, SELECT_SPLIT, SPLITS, TRAIN_SPLIT

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def mapped_majority(votes: np.ndarray) -> np.ndarray:
    """The FER+ majority in FER2013's classes; -1 where there is none or it is contempt."""
    plus = ferplus_majority(votes)
    return np.array([-1 if p < 0 or FERPLUS_TO_FER2013[int(p)] is None else FERPLUS_TO_FER2013[int(p)] for p in plus])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("teachers", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.tar.gz")
    parser.add_argument("--ferplus", type=Path, default=DATA / "fer2013new.csv")
    parser.add_argument("--min-votes", type=int, default=6)
    args = parser.parse_args()
    faces = load_faces(args.data, ferplus=args.ferplus)
    rows = taught_rows(faces)
    labels = np.asarray(faces.labels)[rows].astype(int)
    splits = faces.split_codes[rows]
    votes = faces.votes[rows]
    majority = mapped_majority(votes)
    # the annotators' strongest emotion, when enough of them agree on it and it is not the FER2013 label
    strongest = np.array([-1 if FERPLUS_TO_FER2013[int(t)] is None else FERPLUS_TO_FER2013[int(t)]
                          for t in votes[:, :8].argmax(1)])  # fmt: skip
    disputed = (votes[:, :8].max(1) >= args.min_votes) & (strongest >= 0) & (strongest != labels)
    print(f"{int(rows.sum()):,} taught faces; FER+ majority in FER2013's classes for {int((majority >= 0).sum()):,}; "
          f"label disputed by ≥ {args.min_votes} of 10 annotators: {int(disputed.sum()):,}")  # fmt: skip
    header = (
        f"{'teacher':28s} {'split':11s} {'top = label':>11s} {'top = FER+':>10s} {'disputed n':>10s} "
        f"{'sides w/ FER+':>13s} {'p(label)':>8s} {'mean top p':>10s}"
    )
    print(header)
    for path in args.teachers:
        probs = aligned_teacher(faces, read_teacher(path), EMOTIONS, path)[rows]
        top = probs.argmax(1)
        for split in (TRAIN_SPLIT, SELECT_SPLIT):
            part = splits == SPLITS.index(split)
            has = part & (majority >= 0)
            dis = part & disputed
            print(
                f"{path.name:28s} {split:11s} {np.mean(top[part] == labels[part]):11.1%} "
                f"{np.mean(top[has] == majority[has]):10.1%} {int(dis.sum()):10,d} "
                f"{np.mean(top[dis] == strongest[dis]):13.1%} {np.mean(probs[dis, labels[dis]]):8.3f} "
                f"{np.mean(probs[part].max(1)):10.3f}"
            )


if __name__ == "__main__":
    main()
