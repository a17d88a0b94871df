"""Make a teacher file: a model's (or an ensemble's) probabilities for every Training and PublicTest face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.data import load_faces
from ferkit.data.teacher import Teacher, faceset_digest, ferplus_vote_teacher, taught_rows
from ferkit.evaluate.predictors import load_predictor
from ferkit.evaluate.run import predict_with_tta


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


def vote_teacher(data: str | Path, ferplus: str | Path) -> Teacher:
    """The FER+ annotators' vote distributions, mapped to FER2013's 7 classes."""
    return ferplus_vote_teacher(load_faces(data, ferplus=ferplus))
