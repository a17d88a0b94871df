"""`--min-face` and `--fast`, shared by predict, serve and play: the quickest settings measured for a photo."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

MinFaceOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(help="look only for faces at least this many pixels across (faster; `fer` uses 50)", min=1),
]
FastOpt = Annotated[
    bool,
    typer.Option(
        "--fast",
        help="the quickest settings, for options left at their defaults: the model's int8 form, --detector "
        "mtcnn-fast, --min-face 50",
    ),
]


def fast_settings(
    model: str, default_model: str, detector: str, min_face: float | None
) -> tuple[str, str, float | None]:
    """--fast: a model left at its default becomes its int8 form, the mtcnn detector mtcnn-fast, and faces are looked
    for from 50 px unless --min-face says otherwise (infer.recognizer.FAST_SETTINGS; options given are kept)."""
    from ferkit.infer.recognizer import FAST_SETTINGS
    from ferkit.weights import INT8_FORMS

    model = INT8_FORMS.get(model, model) if model == default_model else model
    detector = FAST_SETTINGS["detector"] if detector == "mtcnn" else detector
    return model, detector, FAST_SETTINGS["min_face"] if min_face is None else min_face
