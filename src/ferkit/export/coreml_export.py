"""Export a checkpoint to Core ML (an ML program for iOS 16+) and inspect it; Core ML itself runs only on Apple OSes."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from ferkit.errors import BadInput, ModelError
from ferkit.export.common import ExportReport, WithSoftmax, float_model
from ferkit.face_size import FACE_SHAPE


def export_coreml(checkpoint: str | Path, out: str | Path, *, int8: bool = False) -> ExportReport:
    """Write a .mlpackage classifier (input `faces` 1×1×48×48 raw pixels; class label + probabilities out)."""
    import coremltools as ct

    state, network = float_model(checkpoint)
    model = WithSoftmax(network).eval()
    out = Path(out)
    if out.suffix != ".mlpackage":
        raise BadInput(f"{out}: a Core ML ML program is a folder named *.mlpackage")
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, torch.zeros(1, *FACE_SHAPE))
        mlmodel = ct.convert(
            traced,
            inputs=[ct.TensorType(name="faces", shape=(1, *FACE_SHAPE))],
            classifier_config=ct.ClassifierConfig(list(state["class_names"])),
            convert_to="mlprogram",
            minimum_deployment_target=ct.target.iOS16,
        )
        if int8:
            config = ct.optimize.coreml.OptimizationConfig(
                global_config=ct.optimize.coreml.OpLinearQuantizerConfig(mode="linear_symmetric")
            )
            mlmodel = ct.optimize.coreml.linear_quantize_weights(mlmodel, config)
    mlmodel.short_description = f"ferkit {state['model_name']}: facial expression from a 48×48 gray face"
    mlmodel.user_defined_metadata["class_names"] = ",".join(state["class_names"])
    mlmodel.save(str(out))
    details = inspect_coreml(out, list(state["class_names"]))
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return ExportReport(out, None, 0, size, details)


def inspect_coreml(path: Path, class_names: list[str]) -> tuple[str, ...]:
    """Load the saved package (spec only: Linux has no Core ML runtime) and check its interface."""
    import coremltools as ct

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    (source,) = spec.description.input
    shape = tuple(source.type.multiArrayType.shape)
    if source.name != "faces" or shape != (1, *FACE_SHAPE):
        raise ModelError(f"{path}: input is {source.name} {shape}, expected faces {(1, *FACE_SHAPE)}")
    labels = _labels(spec)
    if labels != class_names:
        raise ModelError(f"{path}: class labels {labels} differ from the checkpoint's {class_names}")
    blocks = [b for f in spec.mlProgram.functions.values() for b in f.block_specializations.values()]
    ops = [op.type for b in blocks for op in b.operations]
    int8_weights = sum(op in ("constexpr_affine_dequantize", "constexpr_blockwise_shift_scale") for op in ops)
    return (
        f"input faces {shape} float32",
        f"outputs {[o.name for o in spec.description.output]}",
        f"class labels {labels}",
        f"{len(ops)} ML program ops, {ops.count('conv')} conv, {int8_weights} int8 weight tensors",
    )


def _labels(spec) -> list[str]:
    """The class names baked into the ML program's `classify` op."""
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                if op.type == "classify":
                    values = op.inputs["classes"].arguments[0].value.immediateValue.list.values
                    return [v.immediateValue.tensor.strings.values[0] for v in values]
    return []
