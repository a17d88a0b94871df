"""One ONNX file from several checkpoints: the mean of the members' probabilities, each with its own TTA.

Every choice (each member's flip TTA; which members, with greedy selection on accuracy or log-loss) is made on
PublicTest (FER+ Valid for FER+ members).
The graph outputs log(mean probability), so every ferkit runner's softmax returns the ensemble's
probabilities unchanged: `evaluate`, `predict`, `serve`, `play --model` and `teach` load it like any model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ferkit.data import load_faces, split_with_labels
from ferkit.errors import BadInput
from ferkit.export.common import ExportReport, checked_report, float_model, random_faces
from ferkit.export.onnx_export import write_onnx
from ferkit.labels import SELECT_SPLIT
from ferkit.models.checkpoint import code_version
from ferkit.models.predict import predict_logits
from ferkit.weights import resolve_model


class EnsembleNet(nn.Module):
    """Average of the members' softmax outputs (a member with `flip` also sees the mirrored face)."""

    def __init__(self, members: list[nn.Module], flips: list[bool]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.flips = list(flips)

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(())
        for member, flip in zip(self.members, self.flips):
            p = torch.softmax(member(faces), dim=1)
            if flip:
                p = (p + torch.softmax(member(faces.flip(-1)), dim=1)) / 2
            total = total + p
        # log of the mean: a runner's softmax gives back exactly the mean probabilities
        return torch.log((total / len(self.members)).clamp_min(1e-12))


@dataclass(frozen=True)
class MemberChoice:
    path: Path
    state: dict[str, Any]
    model: nn.Module
    flip: bool
    publictest_accuracy: float  # with the chosen TTA
    probabilities: np.ndarray  # PublicTest, with the chosen TTA


def member_choice(path: Path, faces: np.ndarray, labels: np.ndarray) -> MemberChoice:
    """Load a member and choose its TTA (none or flip) by PublicTest accuracy; ties keep the cheaper none."""
    state, model = float_model(path)
    plain = torch.softmax(predict_logits(model, faces), dim=1).numpy()
    mirrored = torch.softmax(predict_logits(model, np.ascontiguousarray(faces[:, :, ::-1])), dim=1).numpy()
    flipped = (plain + mirrored) / 2
    acc_plain, acc_flip = _accuracy(plain, labels), _accuracy(flipped, labels)
    flip = acc_flip > acc_plain
    return MemberChoice(path, state, model, flip, max(acc_plain, acc_flip), flipped if flip else plain)


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


def negative_log_loss(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())


# What greedy selection maximises. Accuracy moves in whole faces, so on a split of ~3,500 faces two sets of
# members a few faces apart are a tie decided by noise; the log-loss sees every face's confidence.
SELECTION_SCORES = {"accuracy": _accuracy, "log-loss": negative_log_loss}


def greedy_members(probabilities: list[np.ndarray], labels: np.ndarray, select_by: str = "accuracy") -> list[int]:
    """Forward selection on PublicTest (Caruana et al. 2004, without replacement): start from the best
    member, add whichever improves the ensemble's score (accuracy, or log-loss) most, stop when none does."""
    if select_by not in SELECTION_SCORES:
        raise BadInput(f"unknown selection score {select_by!r}: use one of {', '.join(SELECTION_SCORES)}")
    score = SELECTION_SCORES[select_by]
    order = [int(np.argmax([score(p, labels) for p in probabilities]))]
    best = score(probabilities[order[0]], labels)
    while len(order) < len(probabilities):
        total = sum(probabilities[i] for i in order)
        # the mean, not the sum: the log-loss depends on the scale (accuracy does not)
        n = len(order) + 1
        scores = {i: score((total + p) / n, labels) for i, p in enumerate(probabilities) if i not in order}
        pick = max(scores, key=scores.get)  # type: ignore[arg-type]
        if scores[pick] <= best:
            break
        order.append(pick)
        best = scores[pick]
    return order


def _provenance(c: MemberChoice) -> dict[str, Any]:
    return {
        "checkpoint": str(c.path),
        "model_name": c.state["model_name"],
        "epoch": c.state["epoch"],
        "tta": "flip" if c.flip else "none",
        "publictest_accuracy": round(c.publictest_accuracy, 4),
    }


def resolve_member(member: str | Path) -> Path:
    path = resolve_model(member)
    if path.suffix.lower() == ".onnx":
        raise BadInput(f"{path}: an ensemble member is a training checkpoint (.pt) or a run directory")
    return path


def export_ensemble(
    members: list[str | Path],
    out: str | Path,
    data: str | Path,
    *,
    greedy: bool = False,
    select_by: str = "accuracy",
    tolerance: float = 1e-4,
    ferplus: str | Path | None = None,
) -> tuple[ExportReport, dict[str, Any]]:
    """Write the ensemble ONNX and return (the parity report, the metadata it carries).

    Members trained on FER+ classes are chosen on FER+ Valid's majority votes (`ferplus`: fer2013new.csv).
    """
    if len(members) < 2:
        raise BadInput("an ensemble needs at least two members")
    if select_by not in SELECTION_SCORES:
        raise BadInput(f"unknown selection score {select_by!r}: use one of {', '.join(SELECTION_SCORES)}")
    paths = [resolve_member(m) for m in members]
    dataset = load_faces(data, ferplus=ferplus)
    first_state, _ = float_model(paths[0])
    class_names = tuple(first_state["class_names"])
    faces, labels = split_with_labels(dataset, SELECT_SPLIT, class_names)
    choices = []
    for path in paths:
        choice = member_choice(path, faces, labels)
        if tuple(choice.state["class_names"]) != class_names:
            raise BadInput(f"{path}: predicts {choice.state['class_names']}, {paths[0]} predicts {list(class_names)}")
        choices.append(choice)
    if greedy:
        choices = [choices[i] for i in greedy_members([c.probabilities for c in choices], labels, select_by)]
    mean = np.mean([c.probabilities for c in choices], axis=0)
    accuracy = _accuracy(mean, labels)
    net = EnsembleNet([c.model for c in choices], [c.flip for c in choices]).eval()
    metadata = {
        "class_names": list(class_names),
        "model_name": f"ensemble of {len(choices)}",
        "members": [_provenance(c) for c in choices],
        "publictest_accuracy": round(accuracy, 4),
        "publictest_log_loss": round(-negative_log_loss(mean, labels), 4),
        "selected_on": SELECT_SPLIT,
        "selected_by": f"greedy on {select_by}" if greedy else "all members",
        "code_version": code_version(),
        "output": "log of the mean member probability (softmax gives the ensemble's probabilities)",
    }
    out = Path(out)
    write_onnx(net, out, metadata)
    from ferkit.weights.onnx_classifier import OnnxClassifier

    check = random_faces(256)
    return checked_report(out, OnnxClassifier(out).predict_proba(check), net, check, tolerance, "ONNX"), metadata
