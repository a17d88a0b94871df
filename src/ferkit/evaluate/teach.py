"""Make a teacher file: a model's (or an ensemble's) probabilities for every Training and PublicTest face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.data import load_faces
from ferkit.data.teacher import Teacher, faceset_digest, ferplus_vote_teacher, taught_rows
from ferkit.errors import BadInput
from ferkit.evaluate.predictors import load_predictor
from ferkit.evaluate.run import predict_with_tta
from ferkit.labels import SPLITS, TRAIN_SPLIT


def model_teacher(model: str | Path, data: str | Path, *, tta: str = "flip") -> Teacher:
    """`model` (.pt, run dir, .onnx — an ensemble export included) run on Training + PublicTest with `tta`.

    PrivateTest is never predicted: a teacher must not carry what the report split knows.
    """
    predictor = load_predictor(model)
    faces = load_faces(data)
    rows = taught_rows(faces)
    probs = predict_with_tta(predictor, np.ascontiguousarray(np.asarray(faces.faces)[rows]), tta)
    return Teacher(
        probs.astype(np.float16),
        np.asarray(faces.labels)[rows],
        faces.split_codes[rows],
        tuple(predictor.class_names),
        (f"{predictor.description}, TTA {tta}",),
        faceset_digest(faces),
    )


def cross_fitted_teacher(runs: list[str | Path], data: str | Path, *, tta: str = "flip") -> Teacher:
    """Each Training face labelled by the member that never saw it; PublicTest by the members' mean.

    `runs` are training checkpoints (.pt or run directories) trained with `hold_out=k/K`, one for every
    fold k of the same K: a teacher trained on a face has fit that face's own label, one that held it out
    says what the face looks like.
    """
    from ferkit.data.folds import face_folds, parse_hold_out
    from ferkit.models.checkpoint import load_checkpoint
    from ferkit.weights import resolve_model

    held_out: dict[int, Path] = {}
    total = None
    for run in runs:
        path = resolve_model(run)
        if path.suffix != ".pt":
            raise BadInput(f"{path}: a cross-fitted teacher's members are training checkpoints (.pt or run dirs)")
        fold = parse_hold_out(load_checkpoint(path).get("config", {}).get("hold_out", ""))
        if fold is None:
            raise BadInput(f"{path}: trained without a fold held out (--set hold_out=k/K): it saw every face")
        k, folds = fold
        if total not in (None, folds) or k in held_out:
            raise BadInput(f"{path}: holds out fold {k}/{folds}; the members must hold out each fold of one K once")
        total, held_out[k] = folds, path
    if total is None or len(held_out) != total:
        missing = sorted(set(range(total or 2)) - set(held_out))
        raise BadInput(f"a cross-fitted teacher needs a member for every fold; missing fold(s) {missing}")
    faces = load_faces(data)
    rows = taught_rows(faces)
    taught = np.ascontiguousarray(np.asarray(faces.faces)[rows])
    training = faces.split_codes[rows] == SPLITS.index(TRAIN_SPLIT)
    folds_of = face_folds(taught, total)
    probs, class_names, members = None, None, []
    for k, path in sorted(held_out.items()):
        predictor = load_predictor(path)
        member = predict_with_tta(predictor, taught, tta)
        if probs is None:
            probs, class_names = np.zeros_like(member), tuple(predictor.class_names)
        elif tuple(predictor.class_names) != class_names:
            raise BadInput(f"{path}: classes {predictor.class_names}; the other members have {class_names}")
        unseen = training & (folds_of == k)
        probs[unseen] = member[unseen]
        probs[~training] += member[~training] / total  # PublicTest: no member saw it, so all of them speak
        members.append(f"{predictor.description}, TTA {tta}, fold {k}/{total} held out")
    return Teacher(
        probs.astype(np.float16),
        np.asarray(faces.labels)[rows],
        faces.split_codes[rows],
        class_names,
        tuple(members),
        faceset_digest(faces),
    )


def vote_teacher(data: str | Path, ferplus: str | Path) -> Teacher:
    """The FER+ annotators' vote distributions, mapped to FER2013's 7 classes."""
    return ferplus_vote_teacher(load_faces(data, ferplus=ferplus))
