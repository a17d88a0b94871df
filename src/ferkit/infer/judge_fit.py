"""Fit a model's judge curves on PublicTest faces in webcam-like frames, and write them into its ONNX file."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.errors import DatasetUnsuitable, ModelError
from ferkit.infer.judge import METADATA_KEY, JudgeCalibration, JudgePolicy, KnotQuantiles, fit_judge
from ferkit.infer.recognizer import Recognizer
from ferkit.labels import FERPLUS_EMOTIONS, FERPLUS_TO_FER2013, SELECT_SPLIT, TRAIN_SPLIT
from ferkit.vision.webcam import frame_probabilities
from ferkit.weights.metadata import with_metadata

EVIDENCE_FORMAT = "ferkit-judge-evidence-v1"


@dataclass(frozen=True)
class JudgeEvidence:
    """What the curves are fitted from: per PublicTest face, its held frames' and its plain crop's probabilities.

    Saved as .npz (no pickles) so that a curve policy can be refitted in a second instead of 16 minutes.
    """

    class_names: tuple[str, ...]
    held: np.ndarray  # faces × classes: lowest probability over the held webcam-like frames
    crops: np.ndarray  # faces × classes: the same faces as plain crops
    labels: np.ndarray  # faces: true class in the model's label space
    votes: np.ndarray | None = None  # faces × 10 FER+ votes, where the data has them
    # faces: True where the face is from the Training fold the model never saw (`hold_out`), not PublicTest
    unseen_training: np.ndarray | None = None

    def clear(self, min_votes: int = 7) -> np.ndarray | None:
        """Faces whose FER+ annotators agree strongly (≥ `min_votes` of 10) on their true class (None without votes)."""
        if self.votes is None:
            return None
        top = self.votes[:, :8].argmax(1)
        if self.class_names != FERPLUS_EMOTIONS:  # a FER2013 model: the vote's emotion in FER2013's classes
            top = np.array([-1 if FERPLUS_TO_FER2013[int(t)] is None else FERPLUS_TO_FER2013[int(t)] for t in top])
        return (self.votes[:, :8].max(1) >= min_votes) & (top == self.labels)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays = {"held": self.held, "crops": self.crops, "labels": self.labels}
        if self.votes is not None:
            arrays["votes"] = self.votes
        if self.unseen_training is not None:
            arrays["unseen_training"] = self.unseen_training
        with path.open("wb") as file:  # a file object: numpy would otherwise append .npz to the name
            header = {"format": np.array(EVIDENCE_FORMAT), "class_names": np.array(self.class_names)}
            np.savez_compressed(file, **header, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> JudgeEvidence:
        refused = f"{path}: not judge evidence ({EVIDENCE_FORMAT}, an .npz written by calibrate-judge --save-evidence)"
        try:
            with np.load(path, allow_pickle=False) as data:  # never unpickle: an .npz of plain arrays or nothing
                if not hasattr(data, "files") or "format" not in data.files or str(data["format"]) != EVIDENCE_FORMAT:
                    raise ModelError(refused)
                names = tuple(str(n) for n in data["class_names"])
                unseen = data["unseen_training"].astype(bool) if "unseen_training" in data.files else None
                return cls(names, data["held"], data["crops"], data["labels"], data.get("votes"), unseen)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
            raise ModelError(f"{refused}: {type(error).__name__}") from None

    def with_out_of_fold(self, folds: Sequence[JudgeEvidence]) -> JudgeEvidence:
        """This evidence's PublicTest faces plus the unseen Training faces of fold-models' evidence.

        For a model trained on every face: fold-models of its recipe (`--set hold_out=k/K`, k = 0..K-1) each
        saw all but one fold, so their poses of that fold are out-of-fold poses of Training faces, a proxy for
        this model's poses of faces it never saw (NOTES, probe 10). Any unseen faces of this evidence are dropped.
        """
        own = np.ones(len(self.labels), bool) if self.unseen_training is None else ~self.unseen_training
        rows: list[tuple[JudgeEvidence, np.ndarray]] = [(self, own)]
        for fold in folds:
            if fold.class_names != self.class_names:
                raise ModelError(f"out-of-fold evidence for classes {fold.class_names}, not {self.class_names}")
            if fold.unseen_training is None or not fold.unseen_training.any():
                raise ModelError("out-of-fold evidence must come from a model that held a Training fold out")
            rows.append((fold, fold.unseen_training))
        with_votes = all(evidence.votes is not None for evidence, _ in rows)
        return JudgeEvidence(
            self.class_names,
            np.concatenate([evidence.held[keep] for evidence, keep in rows]),
            np.concatenate([evidence.crops[keep] for evidence, keep in rows]),
            np.concatenate([evidence.labels[keep] for evidence, keep in rows]),
            np.concatenate([evidence.votes[keep] for evidence, keep in rows]) if with_votes else None,
            np.concatenate([np.full(int(keep.sum()), k > 0) for k, (_, keep) in enumerate(rows)]),
        )

    def fit(self, policy: JudgePolicy = JudgePolicy()) -> JudgeCalibration:
        source = SELECT_SPLIT
        if self.unseen_training is not None and self.unseen_training.any():
            source += f" + {int(self.unseen_training.sum())} faces of the Training fold the model never saw"
        fitted_on = f"{source}, webcam-like frames held per face; win bar also on the plain crops"
        if policy.knot_quantiles:
            fitted_on += ", median and clear knots at the quantiles where fold-models' unseen faces' medians lie"
        if policy.true_above_bar is not None:
            fitted_on += (
                f", lowered where fewer than {policy.true_above_bar:.0%} of true held poses clear it"
                f" (at most {policy.lowest_bar_rate:.0%} false rewards)"
            )
        return fit_judge(self.held, self.labels, self.class_names, fitted_on, self.crops, self.clear(), policy)


def population_knots(folds: Sequence[JudgeEvidence], min_clear: int = JudgePolicy.min_clear) -> KnotQuantiles:
    """Per class, where the population's median held pose and median clear crop lie among PublicTest's (probe 15).

    Each fold-model of a recipe (`--set hold_out=k/K`) is its own ruler: the PublicTest quantile of its own true
    held poses below which its unseen fold's median true held pose lies (likewise the clear crops' median, among
    clear true crops, or all true crops where PublicTest has fewer than `min_clear` clear ones, as `fit_judge`);
    averaged over the fold-models. PublicTest's neutral faces are harder than Training's and PrivateTest's (probe
    14), so a median knot at PublicTest's own median reads neutral high everywhere else.
    """
    if not folds:
        raise ModelError("population knots need the evidence of at least one fold-model")
    names = folds[0].class_names
    for fold in folds:
        if fold.class_names != names:
            raise ModelError(f"fold-model evidence for classes {fold.class_names}, not {names}")
        if fold.unseen_training is None or not fold.unseen_training.any():
            raise ModelError("population knots need evidence from a model that held a Training fold out")
    out = []
    for c, name in enumerate(names):
        held_q, clear_q = [], []
        for fold in folds:
            clear, public = fold.clear(), ~fold.unseen_training
            true_public, true_unseen = public & (fold.labels == c), fold.unseen_training & (fold.labels == c)
            if true_public.sum() < 5 or true_unseen.sum() < 5:
                continue
            held_q.append(np.mean(fold.held[true_public, c] < np.median(fold.held[true_unseen, c])))
            if clear is not None and (true_public & clear).sum() >= min_clear:
                true_public, true_unseen = true_public & clear, true_unseen & clear
                if true_unseen.sum() < min_clear:
                    continue
            clear_q.append(np.mean(fold.crops[true_public, c] < np.median(fold.crops[true_unseen, c])))
        if held_q:
            out.append((name, float(np.mean(held_q)), float(np.mean(clear_q)) if clear_q else 0.5))
    return tuple(out)


def collect_evidence(
    model: str | Path,
    data: str | Path,
    *,
    seed: int = 1,
    limit: int | None = None,
    frames: int = 3,
    progress: Callable[[int, int], None] | None = None,
    ferplus: str | Path | None = None,
) -> JudgeEvidence:
    """PublicTest faces (never PrivateTest) held for `frames` webcam-like frames through the whole pipeline.

    Each face contributes what a round scores: per class, the lowest probability over the held frames
    (the game's HOLD_FRAMES), so the curves are fitted on held poses, not on single lucky frames; its
    plain crop bounds the win bar too. A FER+ model is fitted on the FER+ majority labels (`ferplus`:
    fer2013new.csv). A model trained with a Training fold held out (`--set hold_out=k/K`, in its metadata)
    is fitted on that fold's faces too: faces it never saw, which steady the curves of the small classes.
    `limit` caps the faces taken from each source.
    """
    from ferkit.data import load_faces, split_with_votes

    recognizer = Recognizer(model)
    dataset = load_faces(data, ferplus=ferplus)
    # in the model's own label space: FER2013's labels, or the FER+ majority vote (faces without one left out)
    faces, labels, votes = split_with_votes(dataset, SELECT_SPLIT, recognizer.class_names)
    if len(labels) == 0:
        raise DatasetUnsuitable(f"{data}: the {SELECT_SPLIT} faces need labels to fit the judge")
    if set(range(len(recognizer.class_names))) - set(labels.tolist()):
        raise DatasetUnsuitable(f"{data}: {SELECT_SPLIT} lacks some of the model's classes {recognizer.class_names}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))[:limit] if limit else np.arange(len(labels))
    sources = [(np.asarray(faces)[order], labels[order], None if votes is None else votes[order])]
    unseen = unseen_training_faces(recognizer, dataset, data)
    if unseen is not None:
        keep = rng.permutation(len(unseen[1]))[:limit] if limit else np.arange(len(unseen[1]))
        unseen_faces, unseen_labels, unseen_votes = unseen
        sources.append((unseen_faces[keep], unseen_labels[keep], None if unseen_votes is None else unseen_votes[keep]))
    chosen = np.concatenate([faces for faces, _, _ in sources])
    held = np.zeros((len(chosen), len(recognizer.class_names)))
    for k, face in enumerate(chosen):
        held[k] = frame_probabilities(recognizer, face, rng, frames).min(axis=0)
        if progress is not None:
            progress(k + 1, len(chosen))
    crops = recognizer.predict_faces(chosen)  # the same faces as plain crops
    with_votes = all(v is not None for _, _, v in sources)
    publictest_count = len(sources[0][1])
    from_training = np.arange(len(chosen)) >= publictest_count if unseen is not None else None
    return JudgeEvidence(
        tuple(recognizer.class_names),
        held,
        crops,
        np.concatenate([labels for _, labels, _ in sources]),
        np.concatenate([v for _, _, v in sources]) if with_votes else None,
        from_training,
    )


def unseen_training_faces(
    recognizer: Recognizer, dataset, data: str | Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The faces, labels and votes of the Training fold the model never saw (None: it saw every face)."""
    from ferkit.data import split_with_votes
    from ferkit.data.folds import HELD_OUT_KEY, face_folds, parse_hold_out

    classifier = getattr(recognizer, "classifier", None)
    hold_out = parse_hold_out(getattr(classifier, "metadata", {}).get(HELD_OUT_KEY, ""))
    if hold_out is None:
        return None
    fold, folds = hold_out
    faces, labels, votes = split_with_votes(dataset, TRAIN_SPLIT, recognizer.class_names)
    if len(labels) == 0 or not (labels >= 0).all():
        raise DatasetUnsuitable(f"{data}: the model held out Training fold {fold}/{folds}, but Training has no labels")
    unseen = face_folds(faces, folds) == fold
    return faces[unseen], labels[unseen], None if votes is None else votes[unseen]


def fit_on_webcam_frames(model: str | Path, data: str | Path, **options) -> JudgeCalibration:
    """The curves from freshly collected evidence (options as `collect_evidence`)."""
    return collect_evidence(model, data, **options).fit()


def write_judge(model: str | Path, out: str | Path, judge: JudgeCalibration) -> Path:
    """A copy of the ONNX model (weights untouched) with the curves in its metadata."""
    return with_metadata(model, out, METADATA_KEY, judge.to_json())
