"""Keras 3 (`.keras`, or legacy `.h5`): the registry's nets rebuilt layer by layer with the trained weights.

Keras runs on the JAX backend here (JAX comes with the export extra; set KERAS_BACKEND to choose another
before ferkit imports keras). The model takes N×48×48×1 raw gray pixels (channels last, as Keras does)
and returns probabilities; it is saved, loaded back, and its probabilities are compared with torch's in
Keras itself. Class names and provenance go in a .json beside the file, as for TFLite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ferkit.errors import BadInput, UnknownName
from ferkit.export.common import ExportReport, checked_report, float_model, model_metadata, random_faces
from ferkit.face_size import FACE_SIZE
from ferkit.models.layers import PIXEL_MEAN, PIXEL_STD, FerNet, Normalize
from ferkit.models.resnet import BasicBlock, FerResNet

SUFFIXES = (".keras", ".h5")


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # read once, when keras is first imported
    import keras

    return keras


def to_keras(model: nn.Module) -> Any:
    """A keras.Model computing softmax(model(x)) for NHWC input, with `model`'s weights (eval mode)."""
    keras = _keras()
    inputs = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="faces")
    logits = _convert(model.eval(), inputs, keras.layers)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, outputs, name=getattr(model, "model_name", type(model).__name__))


def _built(layer, x, weights: list[np.ndarray] | None = None):
    """Apply `layer` (which builds it), then give it torch's weights."""
    y = layer(x)
    if weights is not None:
        layer.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    return y


def _convert(m: nn.Module, x, layers):
    """One torch module as Keras layers applied to the tensor x (NHWC); unknown modules are refused."""
    if isinstance(m, FerResNet):
        x = _convert(m.stem, _convert(m.normalize, x, layers), layers)
        x = _convert(m.stages, x, layers)
        x = _convert(m.pool, x, layers)
        return _convert(m.fc, _flatten_like_torch(x, layers), layers)
    if isinstance(m, FerNet):
        return _convert(m.head, _convert(m.features, x, layers), layers)
    if isinstance(m, nn.Sequential):
        for child in m:
            x = _convert(child, x, layers)
        return x
    if isinstance(m, BasicBlock):
        residual = _convert(m.conv2, _convert(m.conv1, x, layers), layers)
        return layers.ReLU()(layers.Add()([residual, _convert(m.shortcut, x, layers)]))
    if isinstance(m, Normalize):
        return layers.Rescaling(1 / PIXEL_STD, offset=-PIXEL_MEAN / PIXEL_STD)(x)
    if isinstance(m, nn.Conv2d):
        return _conv(m, x, layers)
    if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
        stats = [m.weight, m.bias, m.running_mean, m.running_var]
        return _built(layers.BatchNormalization(epsilon=m.eps), x, [t.detach().numpy() for t in stats])
    if isinstance(m, nn.ReLU):
        return layers.ReLU()(x)
    if isinstance(m, nn.MaxPool2d):
        return layers.MaxPooling2D(pool_size=m.kernel_size, strides=m.stride)(x)
    if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1)):
        return layers.GlobalAveragePooling2D(keepdims=True)(x)
    if isinstance(m, (nn.Dropout, nn.Identity)):
        return x  # dropout does nothing at inference
    if isinstance(m, nn.Flatten):
        return _flatten_like_torch(x, layers)
    if isinstance(m, nn.Linear):
        weights = [m.weight.detach().numpy().T] + ([m.bias.detach().numpy()] if m.bias is not None else [])
        return _built(layers.Dense(m.out_features, use_bias=m.bias is not None), x, weights)
    raise UnknownName(f"the Keras export has no rule for {type(m).__name__}; add one in export/keras_export.py")


def _conv(m: nn.Conv2d, x, layers):
    """Explicit zero padding, then a 'valid' convolution: the same windows as torch for any stride."""
    if m.groups != 1 or m.dilation not in (1, (1, 1)):
        raise UnknownName("the Keras export handles plain convolutions only (no groups, no dilation)")
    pad = m.padding if isinstance(m.padding, tuple) else (m.padding, m.padding)
    if any(pad):
        x = layers.ZeroPadding2D(padding=pad)(x)
    weights = [m.weight.detach().permute(2, 3, 1, 0).numpy()]  # torch O×I×H×W -> Keras H×W×I×O
    if m.bias is not None:
        weights.append(m.bias.detach().numpy())
    conv = layers.Conv2D(m.out_channels, m.kernel_size, strides=m.stride, padding="valid", use_bias=m.bias is not None)
    return _built(conv, x, weights)


def _flatten_like_torch(x, layers):
    """torch flattens C×H×W, Keras H×W×C: put channels first before flattening a 4-D map."""
    if len(x.shape) == 4:
        x = layers.Permute((3, 1, 2))(x)
    return layers.Flatten()(x)


def keras_probabilities(path: Path, faces: np.ndarray) -> np.ndarray:
    """Probabilities of a saved Keras export for N×48×48 uint8 faces, computed by Keras."""
    model = _keras().saving.load_model(str(path))
    return np.asarray(model.predict(faces[..., None].astype(np.float32), verbose=0, batch_size=256))


def export_keras(
    checkpoint: str | Path, out: str | Path, *, check_faces: np.ndarray | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Write `out` (.keras, or legacy .h5) and a .json beside it; reload it and compare with torch."""
    out = Path(out)
    if out.suffix not in SUFFIXES:
        raise BadInput(f"{out}: a Keras export is named *.keras (or legacy *.h5)")
    state, model = float_model(checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    to_keras(model).save(str(out))
    sidecar = model_metadata(state) | {
        "input": "N×48×48×1 float32 gray pixels 0-255, channels last (the model normalises)",
        "output": "N×C probabilities",
        "keras_backend": _keras().backend.backend(),
    }
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2))
    faces = check_faces if check_faces is not None else random_faces(256)
    return checked_report(out, keras_probabilities(out, faces), model, faces, tolerance, "Keras")
