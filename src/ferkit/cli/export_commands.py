"""`ferkit export` and `ensemble`: models as files for other runtimes, each checked against torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ferkit.cli.common import FerplusOpt, _fail, _load, command, console
from ferkit.export.formats import EXPORTERS


@command("export")
def export_command(
    checkpoint: Annotated[
        Path, typer.Argument(help="a checkpoint (.pt); with --int8 --format onnx also an fp32 .onnx or a shipped name")
    ],
    out: Annotated[Path, typer.Option(help="the file to write (.onnx, .tflite, or a .mlpackage folder)")],
    format_: Annotated[str, typer.Option("--format", help=f"one of: {EXPORTERS.help()}")] = "onnx",
    int8: Annotated[
        bool, typer.Option("--int8", help="onnx, tflite: full int8 (needs --data); coreml: int8 weights")
    ] = False,
    data: Annotated[Optional[Path], typer.Option(help="FER2013, for int8 calibration and checks")] = None,  # noqa: UP045
    card: Annotated[Optional[Path], typer.Option(help="dataset to score the export on for its model card")] = None,  # noqa: UP045
    ferplus: FerplusOpt = None,
) -> None:
    """Export a checkpoint and check the export against the torch model (optionally write a model card)."""
    import sys

    from ferkit.export.int8 import is_onnx_source

    exporter = EXPORTERS.get(format_)
    command = "ferkit " + " ".join(sys.argv[1:])
    if int8 and not exporter.int8:
        raise _fail(f"--int8: the {format_} export has no int8 form")
    if is_onnx_source(checkpoint) and not (int8 and format_ == "onnx"):
        raise _fail(f"{checkpoint}: an ONNX model can only be quantized (--int8 --format onnx); export a checkpoint")
    if int8 and exporter.int8 == "calibrated":
        if data is None:
            raise _fail(f"--int8 for {format_} needs --data: int8 ranges are calibrated on Training faces")
        _export_int8(checkpoint, out, data, format_, ferplus)
        if card is not None and is_onnx_source(checkpoint):
            from ferkit.export.model_card import write_int8_card

            console.print(f"model card: {write_int8_card(checkpoint, out, card, command=command, ferplus=ferplus)}")
        return
    report = exporter.write(checkpoint, out, int8)
    console.print(f"wrote {report.path} ({report.size_bytes / 1e6:.1f} MB)")
    if report.max_prob_difference is not None:
        console.print(
            f"max probability difference vs torch on {report.faces_checked} faces: {report.max_prob_difference:.1e}"
        )
    for line in report.details:
        console.print(f"  {line}")
    if card is not None:
        from ferkit.export.model_card import write_model_card

        console.print(f"model card: {write_model_card(checkpoint, out, card, command=command, ferplus=ferplus)}")


@command("ensemble")
def ensemble_command(
    members: Annotated[list[Path], typer.Argument(help="checkpoints (.pt) or run directories, two or more")],
    out: Annotated[Path, typer.Option(help="the ONNX file to write")],
    data: Annotated[Path, typer.Option(help="FER2013: each member's TTA (and --greedy) is chosen on PublicTest")],
    greedy: Annotated[
        bool, typer.Option("--greedy", help="keep the members that improve the PublicTest score (forward selection)")
    ] = False,
    select_by: Annotated[
        str, typer.Option(help="what --greedy improves: accuracy, or log-loss (sees confidence, less noisy)")
    ] = "accuracy",
    ferplus: FerplusOpt = None,
) -> None:
    """Export several checkpoints as one ONNX model averaging their probabilities; loads like any model."""
    from ferkit.export.ensemble import export_ensemble

    report, metadata = export_ensemble(members, out, data, greedy=greedy, select_by=select_by, ferplus=ferplus)
    table = Table(title=f"{report.path}: {metadata['model_name']} ({report.size_bytes / 1e6:.1f} MB)")
    for col in ("member", "model", "epoch", "TTA", "PublicTest"):
        table.add_column(col, justify="left" if col in ("member", "model", "TTA") else "right")
    for m in metadata["members"]:
        table.add_row(m["checkpoint"], m["model_name"], str(m["epoch"]), m["tta"], f"{m['publictest_accuracy']:.4f}")
    console.print(table)
    console.print(
        f"ensemble PublicTest accuracy {metadata['publictest_accuracy']:.4f}, "
        f"log-loss {metadata['publictest_log_loss']:.4f} ({metadata['selected_by']}); "
        f"max probability difference vs torch on {report.faces_checked} faces: {report.max_prob_difference:.1e}"
    )


def _export_int8(checkpoint: Path, out: Path, data: Path, fmt: str, ferplus: Path | None) -> None:
    """int8 calibrated on Training faces; a table of accuracy, size and speed against fp32."""
    from ferkit.export.int8 import export_int8

    result = export_int8(checkpoint, out, _load(data, ferplus), fmt)
    console.print(
        f"wrote {out}: int8 {result.size_bytes / 1e6:.2f} MB (fp32 {result.fp32_size_bytes / 1e6:.2f} MB), "
        f"calibrated on {result.calibration_faces} Training faces"
    )
    runtime = "onnxruntime" if fmt == "onnx" else "LiteRT interpreter"
    console.print(f"fp32 vs int8 accuracy in the {runtime}:")
    table = Table()
    columns = list(result.rows["fp32"])
    table.add_column("model")
    for column in columns:
        table.add_column(column, justify="right")
    for name, row in result.rows.items():
        table.add_row(name, *["-" if row[c] is None else f"{row[c]:.2%}" for c in columns])
    console.print(table)
    result.refuse_if_worse()
