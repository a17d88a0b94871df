"""Run a ferkit ONNX export with onnxruntime (no torch): face crops in, class probabilities out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ferkit.errors import ModelError
from ferkit.face_size import FACE_SHAPE
from ferkit.onnx_sessions import cpu_session
from ferkit.weights.decision_rule import METADATA_KEY as RULE_KEY
from ferkit.weights.decision_rule import RULES, PriorShift


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


FACE_INPUT = FACE_SHAPE


class ModelFileError(ModelError):
    """A model file that cannot serve as a ferkit classifier; the message names the file and the problem."""


class OnnxClassifier:
    """One onnxruntime session (safe to share between threads); class names from the export's metadata.

    Checked at load, so that a server never says it is healthy and then fails every request: one input of
    N×1×48×48, class names as a JSON list of distinct strings, and one output row of that many scores.
    `rule`: "balanced" applies the decision rule the model carries (if any; weights/decision_rule.py),
    "as-trained" gives the plain softmax.
    """

    def __init__(self, path: str | Path, *, batch_size: int = 512, rule: str = "balanced") -> None:
        if rule not in RULES:
            raise ModelError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        try:
            self.session = cpu_session(path)
        except Exception as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelFileError(f"{path}: not a loadable ONNX model ({first_line})") from None
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.class_names: tuple[str, ...] = _class_names(self.path, self.session)
        self.input_name = self._checked_input()
        self.batch_size = batch_size
        self._check_output()
        self.decision_rule = self._stored_rule()
        # added to the logits before the softmax: zeros for "as-trained" or a model without a stored rule
        self.logit_offsets = (
            self.decision_rule.logit_offsets(self.class_names)
            if self.decision_rule is not None and rule == "balanced"
            else np.zeros(len(self.class_names), np.float32)
        )
        self.rule = rule if self.decision_rule is not None else "as-trained"

    def _stored_rule(self) -> PriorShift | None:
        raw = self.metadata.get(RULE_KEY)
        if not raw:
            return None
        try:
            rule = PriorShift.from_json(raw)
            rule.logit_offsets(self.class_names)  # names the same classes as the model
            return rule
        except ModelError as e:
            raise ModelFileError(f"{self.path}: {e}") from None

    def _checked_input(self) -> str:
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelFileError(f"{self.path}: expected one input (faces N×1×48×48), found {len(inputs)}")
        shape = inputs[0].shape
        fixed = [d if isinstance(d, int) else None for d in shape[1:]]
        if len(shape) != 4 or any(d is not None and d != want for d, want in zip(fixed, FACE_INPUT)):
            raise ModelFileError(f"{self.path}: its input is {_shape(shape)}; a ferkit model takes N×1×48×48 faces")
        return inputs[0].name

    def _check_output(self) -> None:
        """One probe face through the model: the scores must be one row of len(class_names)."""
        try:
            out = self.session.run(None, {self.input_name: np.zeros((1, *FACE_INPUT), np.float32)})[0]
        except Exception as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelFileError(f"{self.path}: fails on a 48×48 face ({first_line})") from None
        if out.shape != (1, len(self.class_names)):
            one_row = out.ndim == 2 and out.shape[0] == 1
            got = f"{out.shape[1]} scores" if one_row else f"an output of {_shape(out.shape)}"
            raise ModelFileError(
                f"{self.path}: gives {got} per face but names {len(self.class_names)} classes in its metadata "
                f"({', '.join(self.class_names)})"
            )

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """N×48×48 uint8 faces -> N×C probabilities, in batches."""
        out = [
            softmax(
                self.session.run(None, {self.input_name: faces[i : i + self.batch_size, None].astype(np.float32)})[0]
                + self.logit_offsets
            )
            for i in range(0, len(faces), self.batch_size)
        ]
        return np.concatenate(out) if out else np.empty((0, len(self.class_names)), np.float32)


def _class_names(path: Path, session: ort.InferenceSession) -> tuple[str, ...]:
    meta = session.get_modelmeta().custom_metadata_map
    if "class_names" not in meta:
        raise ModelFileError(f"{path}: ONNX model lacks the 'class_names' metadata that ferkit export writes")
    try:
        names = json.loads(meta["class_names"])
    except ValueError as e:
        raise ModelFileError(f"{path}: its 'class_names' metadata is not valid JSON ({e})") from None
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
        raise ModelFileError(f"{path}: its 'class_names' metadata must be a JSON list of at least 2 names")
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path}: its 'class_names' metadata names a class twice")
    return tuple(names)


def _shape(shape) -> str:
    return "×".join(str(d) if isinstance(d, int) else "N" for d in shape)
