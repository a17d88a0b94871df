"""The `ferkit` command line: one thin command per step, each calling one function elsewhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Facial expression recognition: data, training, evaluation, prediction, Best Actor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Read, check and download FER2013.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(width=max(120, shutil.get_terminal_size().columns))  # tables never truncate names
err_console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for logs and grep

DataPath = Annotated[
    Path,
    typer.Argument(
        help="fer2013.csv, fer2013.tar.gz, icml_face_data.csv, "
        "train.csv, a Kaggle .zip, or image folders train|test/<class>/"
    ),
]
FerplusOpt = Annotated[Optional[Path], typer.Option("--ferplus", help="fer2013new.csv to join (FER+ votes)")]  # noqa: UP045


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def _load(path: Path, ferplus: Path | None):
    from ferkit.data import DataError, load_faces

    try:
        return load_faces(path, ferplus=ferplus)
    except DataError as e:
        raise _fail(str(e)) from None


@data_app.command("info")
def data_info(
    path: DataPath,
    ferplus: FerplusOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Rows and class counts per split, and exact-duplicate faces within and across splits."""
    from ferkit.data.summary import summarize

    summary = summarize(_load(path, ferplus))
    if as_json:
        print(json.dumps(summary))
        return
    table = Table(title=f"{summary['source']}: {summary['rows']:,} faces")
    table.add_column("split")
    table.add_column("rows", justify="right")
    for name in summary["class_names"]:
        table.add_column(name, justify="right")
    for split, rows in summary["rows_per_split"].items():
        counts = summary["class_counts"].get(split, {})
        table.add_row(split, f"{rows:,}", *[f"{counts.get(n, 0):,}" if counts else "-" for n in summary["class_names"]])
    console.print(table)
    dup = summary["duplicates"]
    console.print(
        f"exact duplicate faces: {dup['groups']:,} groups holding {dup['faces_in_groups']:,} faces; "
        f"{dup['groups_with_conflicting_labels']} groups carry conflicting labels"
    )
    for split, n in dup["extra_copies_within_split"].items():
        console.print(f"  extra copies inside {split}: {n:,}")
    for pair, n in dup["groups_shared_across_splits"].items():
        console.print(f"  [yellow]faces shared by {pair}: {n:,}[/yellow] (leakage between splits)")


@data_app.command("pack")
def data_pack(
    path: DataPath,
    out: Annotated[Path, typer.Option(help="the pack to write (name ends in .ferpack.xz)")],
    splits: Annotated[str, typer.Option(help="comma-separated splits to keep")] = "Training,PublicTest",
    ferplus: FerplusOpt = None,
) -> None:
    """Write chosen splits as one compact xz file (Training + PublicTest ≈ 54 MiB) to carry elsewhere."""
    from ferkit.data.pack import write_pack

    try:
        written = write_pack(_load(path, ferplus), out, [s.strip() for s in splits.split(",") if s.strip()])
    except (KeyError, ValueError) as e:
        raise _fail(e.args[0] if isinstance(e, KeyError) else str(e)) from None
    console.print(f"wrote {written} ({written.stat().st_size / 2**20:.1f} MiB, splits {splits})")


@data_app.command("download")
def data_download(dest: Annotated[Path, typer.Option(help="folder to download into")] = Path("data/fer2013")) -> None:
    """Download FER2013 from Kaggle with the official client (needs your Kaggle credentials)."""
    from ferkit.data import DataError
    from ferkit.data.kaggle_download import KaggleSetupError, download_fer2013

    try:
        csv_path = download_fer2013(dest)
    except (KaggleSetupError, DataError) as e:
        raise _fail(str(e)) from None
    console.print(f"FER2013 is at {csv_path}")
    console.print(f"next: ferkit data info {csv_path}")


@app.command("explore")
def explore(
    path: DataPath,
    out: Annotated[Path, typer.Option("--out", help="folder for PNGs and index.html")],
    ferplus: FerplusOpt = None,
    seed: int = 0,
) -> None:
    """Write exploration figures (thumbnail grid, one face per class, class counts) and an HTML page."""
    from ferkit.data.explore import write_exploration

    faces = _load(path, ferplus)
    extra = []
    try:  # the gallery runs the real training ops, which need torch (the `train` extra)
        from ferkit.train.gallery import augmentation_gallery

        pick = np.random.default_rng(seed).choice(len(faces), size=2, replace=False)
        gallery = augmentation_gallery(np.asarray(faces.faces)[pick], out / "augmentations.png", seed=seed)
        extra.append(("Every augmentation, four random draws each", gallery))
    except ImportError:
        err_console.print("no augmentation gallery: it needs torch (pip install 'ferkit[train]')")
    page = write_exploration(faces, out, seed=seed, extra=extra)
    console.print(f"wrote {page}")


@app.command("train")
def train_command(
    data: Annotated[Optional[Path], typer.Option(help="FER2013 in any supported layout")] = None,  # noqa: UP045
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="run directory (checkpoints, history, TensorBoard); default runs/latest"),
    ] = None,
    recipe: Annotated[Optional[str], typer.Option(help="named settings: seed, cpu, gpu, smoke")] = None,  # noqa: UP045
    model: Annotated[Optional[str], typer.Option(help="a name from `ferkit models`")] = None,  # noqa: UP045
    resume: Annotated[Optional[Path], typer.Option(help="continue the run in this directory")] = None,  # noqa: UP045
    labels: Annotated[Optional[str], typer.Option(help="fer2013 (7 classes) or ferplus (8, vote targets)")] = None,  # noqa: UP045
    ferplus: FerplusOpt = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="any TrainConfig field: --set lr=0.05")] = None,  # noqa: UP045
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a finished run already in --out")] = False,
) -> None:
    """Train on Training, select on PublicTest (PrivateTest is never read); also works under torchrun.

    A run already in --out is never replaced silently: continue it with --resume, or pass --overwrite.
    """
    from ferkit.data import DataError
    from ferkit.train import TrainConfig, recipe_config, train
    from ferkit.train.checkpoint import CheckpointError
    from ferkit.train.config import parse_settings
    from ferkit.train.loop import TrainingDiverged
    from ferkit.train.targets import DatasetUnsuitable

    try:
        overrides = parse_settings(set_ or [])
        overrides.update(
            model=model,
            data=str(data) if data else None,
            out=str(out) if out else None,
            progress=progress,
            labels=labels,
            ferplus=str(ferplus) if ferplus else None,
        )
        cfg = TrainConfig(progress=progress) if resume else recipe_config(recipe, **overrides)
        result = train(cfg, resume=resume, overwrite=overwrite)
    except (KeyError, ValueError, DataError, CheckpointError, TrainingDiverged, DatasetUnsuitable) as e:
        raise _fail(e.args[0] if isinstance(e, KeyError) else str(e)) from None
    console.print(
        f"best PublicTest accuracy {result.best_accuracy:.4f} at epoch {result.best_epoch}; "
        f"checkpoint: {result.run_dir / 'best.pt'}"
    )


@app.command("gpu-job")
def gpu_job_command(
    data: Annotated[Path, typer.Option(help="a ferkit pack of Training + PublicTest (or any FER2013 layout)")],
    out: Annotated[Path, typer.Option(help="folder for what comes back ($OUT on a lent device)")],
    budget_minutes: Annotated[float, typer.Option(help="wall time for the whole job, writing included")] = 8.0,
    smoke: Annotated[bool, typer.Option("--smoke", help="tiny members on the CPU: the same path in a minute")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N")] = "auto",
) -> None:
    """Train an ensemble within a wall-clock budget; return fp16 checkpoints, the teacher file, a log, a summary."""
    from ferkit.data import DataError
    from ferkit.train.job import GPU_MEMBERS, SMOKE_MEMBERS, run_job

    members, reserve = (SMOKE_MEMBERS, 10.0) if smoke else (GPU_MEMBERS, 40.0)
    try:
        summary = run_job(
            data, out, members=members, budget_minutes=budget_minutes, reserve_seconds=reserve,
            device="cpu" if smoke else device,
        )  # fmt: skip
    except (DataError, ValueError, KeyError) as e:
        raise _fail(str(e.args[0] if isinstance(e, KeyError) else e)) from None
    if not summary["members"]:
        raise _fail("no member finished within the budget")


@app.command("calibrate-judge")
def calibrate_judge_command(
    data: Annotated[Path, typer.Option(help="FER2013 with labelled PublicTest, in any supported layout")],
    out: Annotated[Path, typer.Option(help="the model with its judge curves (.onnx); may be the same file")],
    model: Annotated[str, typer.Option(help="an exported .onnx, or default (the shipped model)")] = "default",
    limit: Annotated[Optional[int], typer.Option(help="fit on this many PublicTest faces (default: all)")] = None,  # noqa: UP045
) -> None:
    """Fit fair per-expression round scoring on PublicTest faces in webcam-like frames; store it in the model."""
    from ferkit.data import DataError
    from ferkit.infer.judge_fit import fit_on_webcam_frames, write_judge

    if model == "default":
        from ferkit.weights import default_model_path

        model = str(default_model_path())
    try:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("webcam-like PublicTest frames", total=None)
            judge = fit_on_webcam_frames(
                model, data, limit=limit, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    except (DataError, ValueError) as e:
        raise _fail(str(e)) from None
    try:
        write_judge(model, out, judge)
    except ImportError:
        raise _fail("writing the curves into the model needs the onnx package: pip install 'ferkit[train]'") from None
    for name, knots in judge.knots.items():
        console.print(f"{name:9s} " + "  ".join(f"{p:.3f}→{s:.0f}" for p, s in knots))
    console.print(f"written: {out}")


@app.command("mine")
def mine_command(
    run_dir: Annotated[Path, typer.Argument(help="a finished run (uses its best.pt)")],
    epochs: int = 3,
    hard_fraction: Annotated[float, typer.Option(help="share of each batch drawn from the mistakes")] = 0.25,
    out: Annotated[Optional[Path], typer.Option(help="new run directory (default RUN_DIR/mined)")] = None,  # noqa: UP045
    progress: bool = True,
) -> None:
    """Fine-tune on the TRAINING faces the model gets wrong; report PublicTest before and after."""
    from ferkit.data import DataError
    from ferkit.train.checkpoint import CheckpointError
    from ferkit.train.mining import mine_and_finetune

    try:
        r = mine_and_finetune(run_dir, epochs=epochs, hard_fraction=hard_fraction, out=out, progress=progress)
    except (ValueError, DataError, CheckpointError) as e:
        raise _fail(str(e)) from None
    console.print(
        f"{r.hard_examples:,} of {r.training_faces:,} training faces were wrong; PublicTest "
        f"{r.publictest_before:.4f} -> {r.publictest_after:.4f} (best of the fine-tune); run: {r.run_dir}"
    )


@app.command("evaluate")
def evaluate_command(
    data: Annotated[Path, typer.Option(help="FER2013 in any supported layout")],
    model: Annotated[Optional[Path], typer.Option(help="checkpoint (.pt), run dir, .onnx, or default")] = None,  # noqa: UP045
    split: Annotated[str, typer.Option(help="PublicTest (selection) or PrivateTest (the report)")] = "PublicTest",
    tta: Annotated[str, typer.Option(help="test-time augmentation: none, flip or tencrop")] = "none",
    ferplus: FerplusOpt = None,
    calibrate: Annotated[bool, typer.Option(help="temperature-scale, fitted on PublicTest only")] = False,
    out: Annotated[Optional[Path], typer.Option(help="write the full report (PNGs, HTML, csv, json) here")] = None,  # noqa: UP045
    compare: Annotated[bool, typer.Option(help="score every MODELS argument on the same split, as a table")] = False,
    models_to_compare: Annotated[
        Optional[list[Path]], typer.Argument(metavar="MODELS", help="run directories or model files, with --compare")  # noqa: UP045
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="end with one JSON line of metrics")] = False,
) -> None:
    """Accuracy, macro-F1 and per-class metrics of a model on one official split."""
    from ferkit.data import DataError
    from ferkit.evaluate.run import evaluate

    models = [model] if model else []
    if compare:
        models += models_to_compare or []
    elif models_to_compare:
        raise _fail("several models given: add --compare to score them side by side")
    if not models:
        raise _fail("give --model MODEL, or --compare RUN_A RUN_B ...")
    try:
        results = [evaluate(m, data, split=split, tta=tta, ferplus=ferplus, calibrate=calibrate) for m in models]
    except (KeyError, ValueError, DataError) as e:
        raise _fail(e.args[0] if isinstance(e, KeyError) else str(e)) from None
    if len(results) > 1:
        table = Table(title=f"{split}, TTA {tta}")
        for col in ("model", "accuracy", "macro-F1", "ECE", "faces"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for r in results:
            m = r.metrics
            table.add_row(m["model"], f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}", f"{m['ece']:.4f}", f"{m['n']:,}")
        console.print(table)
    else:
        _print_evaluation(results[0].metrics)
    if out:
        from ferkit.evaluate.report import write_report

        console.print(f"report: {write_report(results[0], out)}")
    if as_json:
        rows = [{k: v for k, v in r.metrics.items() if k != "reliability"} for r in results]
        print(json.dumps(rows[0] if len(rows) == 1 else rows))


def _print_evaluation(m: dict) -> None:
    table = Table(title=f"{m['model']} on {m['split']} ({m['n']:,} faces, TTA {m['tta']})")
    for col in ("class", "precision", "recall", "F1", "accuracy (1-vs-rest)", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name, c in m["per_class"].items():
        table.add_row(
            name,
            f"{c['precision']:.3f}",
            f"{c['recall']:.3f}",
            f"{c['f1']:.3f}",
            f"{c['accuracy']:.3f}",
            f"{c['support']:,}",
        )
    console.print(table)
    temperature = f"   temperature {m['temperature']:.3f} (fitted on PublicTest)" if "temperature" in m else ""
    console.print(f"accuracy {m['accuracy']:.4f}   macro-F1 {m['macro_f1']:.4f}   ECE {m['ece']:.4f}{temperature}")


@app.command("inspect")
def inspect_command(
    model: Annotated[Path, typer.Option(help="a training checkpoint (.pt)")],
    image: Annotated[Path, typer.Option(help="a face crop (any size; made 48×48 gray)")],
    layer: Annotated[Optional[str], typer.Option(help="a conv layer name (default: the last conv)")] = None,  # noqa: UP045
    out: Annotated[Path, typer.Option(help="the PNG to write")] = Path("inspect.png"),
) -> None:
    """Feature maps of one layer for a face, and a Grad-CAM overlay of where the net looked."""
    from ferkit.data import DataError
    from ferkit.data.images import read_face_image
    from ferkit.evaluate.inspect import conv_layer_names, draw_inspection, feature_maps, grad_cam
    from ferkit.train.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint

    try:
        state = load_checkpoint(model)
        face = read_face_image(image)
        net = model_from_checkpoint(state).float()
        layer = layer or conv_layer_names(net)[-1]
        maps = feature_maps(net, face, layer)
        cam, target = grad_cam(net, face, layer)
    except (CheckpointError, DataError) as e:
        raise _fail(str(e)) from None
    except KeyError as e:
        raise _fail(e.args[0]) from None
    path = draw_inspection(face, maps, cam, layer, state["class_names"][target], out)
    console.print(f"wrote {path} (top class: {state['class_names'][target]})")


@app.command("plot-run")
def plot_run_command(run_dir: Annotated[Path, typer.Argument(help="a training run directory")]) -> None:
    """Training curves (loss and accuracy per epoch, Training vs PublicTest) from a run's history.json."""
    from ferkit.evaluate.curves import plot_history

    try:
        path = plot_history(run_dir)
    except (OSError, ValueError) as e:
        raise _fail(str(e)) from None
    console.print(f"wrote {path}")


@app.command("export")
def export_command(
    checkpoint: Annotated[Path, typer.Argument(help="a training checkpoint (.pt)")],
    out: Annotated[Path, typer.Option(help="the file to write (.onnx, .tflite, or a .mlpackage folder)")],
    format_: Annotated[str, typer.Option("--format", help="onnx, tflite or coreml")] = "onnx",
    int8: Annotated[
        bool, typer.Option("--int8", help="onnx, tflite: full int8 (needs --data); coreml: int8 weights")
    ] = False,
    data: Annotated[Optional[Path], typer.Option(help="FER2013, for int8 calibration and checks")] = None,  # noqa: UP045
    card: Annotated[Optional[Path], typer.Option(help="dataset to score the export on for its model card")] = None,  # noqa: UP045
) -> None:
    """Export a checkpoint and check the export against the torch model (optionally write a model card)."""
    import sys

    from ferkit.train.checkpoint import CheckpointError

    if format_ not in ("onnx", "tflite", "coreml"):
        raise _fail(f"--format {format_}: expected onnx, tflite or coreml")
    if int8 and format_ in ("onnx", "tflite") and data is None:
        raise _fail(f"--int8 for {format_} needs --data: int8 ranges are calibrated on Training faces")
    try:
        if format_ in ("onnx", "tflite") and int8:
            _export_int8(checkpoint, out, data, format_)
            return
        if format_ == "onnx":
            from ferkit.export.onnx_export import export_onnx as exporter
        elif format_ == "tflite":
            from ferkit.export.tflite_export import export_tflite as exporter
        else:
            from functools import partial

            from ferkit.export.coreml_export import export_coreml

            exporter = partial(export_coreml, int8=int8)
        report = exporter(checkpoint, out)
    except (CheckpointError, RuntimeError, ValueError, ImportError) as e:
        raise _fail(str(e)) from None
    console.print(f"wrote {report.path} ({report.size_bytes / 1e6:.1f} MB)")
    if report.max_prob_difference is not None:
        console.print(
            f"max probability difference vs torch on {report.faces_checked} faces: {report.max_prob_difference:.1e}"
        )
    for line in report.details:
        console.print(f"  {line}")
    if card is not None:
        from ferkit.export.model_card import write_model_card

        command = "ferkit " + " ".join(sys.argv[1:])
        console.print(f"model card: {write_model_card(checkpoint, out, card, command=command)}")


@app.command("ensemble")
def ensemble_command(
    members: Annotated[list[Path], typer.Argument(help="checkpoints (.pt) or run directories, two or more")],
    out: Annotated[Path, typer.Option(help="the ONNX file to write")],
    data: Annotated[Path, typer.Option(help="FER2013: each member's TTA (and --greedy) is chosen on PublicTest")],
    greedy: Annotated[
        bool, typer.Option("--greedy", help="keep only the members that raise PublicTest accuracy (forward selection)")
    ] = False,
) -> None:
    """Export several checkpoints as one ONNX model averaging their probabilities; loads like any model."""
    from ferkit.data import DataError
    from ferkit.export.ensemble import export_ensemble
    from ferkit.train.checkpoint import CheckpointError

    try:
        report, metadata = export_ensemble(members, out, data, greedy=greedy)
    except (CheckpointError, DataError, RuntimeError, ValueError) as e:
        raise _fail(str(e)) from None
    table = Table(title=f"{report.path}: {metadata['model_name']} ({report.size_bytes / 1e6:.1f} MB)")
    for col in ("member", "model", "epoch", "TTA", "PublicTest"):
        table.add_column(col, justify="left" if col in ("member", "model", "TTA") else "right")
    for m in metadata["members"]:
        table.add_row(m["checkpoint"], m["model_name"], str(m["epoch"]), m["tta"], f"{m['publictest_accuracy']:.4f}")
    console.print(table)
    console.print(
        f"ensemble PublicTest accuracy {metadata['publictest_accuracy']:.4f}; "
        f"max probability difference vs torch on {report.faces_checked} faces: {report.max_prob_difference:.1e}"
    )


@app.command("teach")
def teach_command(
    data: Annotated[Path, typer.Option(help="FER2013 in any supported layout (a pack of Training + PublicTest too)")],
    out: Annotated[Path, typer.Option(help="the teacher file to write (.npz)")],
    model: Annotated[Optional[Path], typer.Option(help="the teacher: .pt, run dir, .onnx (an ensemble too)")] = None,  # noqa: UP045
    ferplus_votes: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--ferplus-votes", help="fer2013new.csv: the FER+ annotators teach instead of a model"),
    ] = None,
    tta: Annotated[str, typer.Option(help="the model's test-time augmentation: none, flip or tencrop")] = "flip",
) -> None:
    """Write a teacher file: soft labels for every Training and PublicTest face (never PrivateTest)."""
    from ferkit.data import DataError
    from ferkit.data.teacher import write_teacher
    from ferkit.evaluate.teach import model_teacher, vote_teacher
    from ferkit.labels import EMOTIONS, SELECT_SPLIT, SPLITS
    from ferkit.train.checkpoint import CheckpointError

    if (model is None) == (ferplus_votes is None):
        raise _fail("give the teacher: --model MODEL or --ferplus-votes fer2013new.csv (one of them)")
    try:
        teacher = vote_teacher(data, ferplus_votes) if ferplus_votes else model_teacher(model, data, tta=tta)
        path = write_teacher(out, teacher)
    except (CheckpointError, DataError, KeyError, ValueError, OSError) as e:
        raise _fail(e.args[0] if isinstance(e, KeyError) else str(e)) from None
    console.print(
        f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB): {len(teacher.labels):,} faces × "
        f"{len(teacher.class_names)} classes from {', '.join(teacher.members)}"
    )
    if teacher.class_names == EMOTIONS:
        select = teacher.split_codes == SPLITS.index(SELECT_SPLIT)
        agree = teacher.mean_probabilities.argmax(1) == teacher.labels
        train_agree, select_agree = agree[~select].mean(), agree[select].mean()
        console.print(f"top class = FER2013 label: Training {train_agree:.4f}, PublicTest {select_agree:.4f}")


def _export_int8(checkpoint: Path, out: Path, data: Path, fmt: str) -> None:
    """int8 calibrated on Training faces; a table of accuracy, size and speed against fp32."""
    from ferkit.export.int8 import export_int8

    result = export_int8(checkpoint, out, _load(data, None), fmt)
    console.print(
        f"wrote {out}: int8 {result.size_bytes / 1e6:.2f} MB (fp32 {result.fp32_size_bytes / 1e6:.2f} MB), "
        f"calibrated on {result.calibration_faces} Training faces"
    )
    runtime = "onnxruntime" if fmt == "onnx" else "LiteRT interpreter"
    table = Table(title=f"fp32 vs int8 ({runtime}, this CPU)")
    columns = list(result.rows["fp32"])
    table.add_column("model")
    for column in columns:
        table.add_column(column, justify="right")
    for name, row in result.rows.items():
        cells = [
            "-"
            if row[c] is None
            else f"{row[c]:.2%}"
            if "Test" in c
            else f"{row[c]:,.2f}"
            if "ms" in c
            else f"{row[c]:,.0f}"
            for c in columns
        ]
        table.add_row(name, *cells)
    console.print(table)
    drop = result.accuracy_drop("PrivateTest")
    if drop is not None and drop > 0.01:
        raise _fail(f"int8 loses {drop:.2%} of PrivateTest accuracy (more than 1 point)")


@app.command("predict")
def predict_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="images, videos, or folders of them")] = None,  # noqa: UP045
    model: Annotated[str, typer.Option(help="an exported .onnx, or default (the shipped model)")] = "default",
    out: Annotated[Optional[Path], typer.Option(help="write annotated copies here")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line per image or video frame")] = False,
    webcam: Annotated[Optional[int], typer.Option(help="read this camera (0: the first) instead of files")] = None,  # noqa: UP045
    stride: Annotated[int, typer.Option(help="videos: analyse every N-th frame")] = 1,
    smoothing: Annotated[float, typer.Option(help="videos: weight of the past in the moving average, 0-1")] = 0.6,
) -> None:
    """Find every face in photos, videos or a webcam and name its expression (onnxruntime; no torch needed)."""
    import cv2

    from ferkit.data import DataError
    from ferkit.data.images import IMAGE_SUFFIXES
    from ferkit.infer import Recognizer
    from ferkit.infer.annotate import annotate
    from ferkit.infer.output_names import OutputNames
    from ferkit.infer.video import VIDEO_SUFFIXES
    from ferkit.vision import read_image

    if webcam is None and not paths:
        raise _fail("give images, videos or folders, or --webcam 0")
    files: list[Path] = []
    for path in paths or []:
        if path.is_dir():
            wanted = IMAGE_SUFFIXES | VIDEO_SUFFIXES
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in wanted)
        else:
            files.append(path)
    try:
        recognizer = Recognizer(model)
    except (ValueError, FileNotFoundError) as e:  # a model file that cannot serve: one line, no traceback
        raise _fail(str(e)) from None
    failed = False
    names = OutputNames(out) if out is not None else None
    if webcam is not None:
        failed = not _predict_video(recognizer, webcam, names, as_json, stride, smoothing)
    for file in files:
        if file.suffix.lower() in VIDEO_SUFFIXES:
            failed |= not _predict_video(recognizer, file, names, as_json, stride, smoothing)
            continue
        try:
            image = read_image(file)
        except DataError as e:
            err_console.print(f"[red]error:[/red] {e}", highlight=False)
            failed = True
            continue
        faces = recognizer.predict(image)
        if as_json:
            print(json.dumps({"image": str(file), "faces": [f.to_dict() for f in faces]}))
        elif not faces:
            console.print(f"{file}: no face found")
        else:
            found = ", ".join(f"{f.label} {f.probabilities[f.label]:.0%} at ({f.box.x},{f.box.y})" for f in faces)
            console.print(f"{file}: {found}")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            target = names.name_for(file, ".annotated.jpg")
            cv2.imwrite(str(target), annotate(image, faces))
            if not as_json:
                console.print(f"  annotated: {target}")
    if failed:
        raise typer.Exit(2)


def _predict_video(recognizer, source, names, as_json: bool, stride: int, smoothing: float) -> bool:
    """One video file or camera: per-frame results, smoothed; an annotated .mp4 with --out. False on error."""
    from collections import Counter

    import cv2

    from ferkit.data import DataError
    from ferkit.infer.annotate import annotate
    from ferkit.infer.video import read_video, track_video

    name = f"camera {source}" if isinstance(source, int) else str(source)
    window = isinstance(source, int) and _has_display()
    live = isinstance(source, int) and not window and not as_json
    writer = None
    labels: dict[int, Counter] = {}
    frames = 0
    try:
        for frame, tracks in track_video(recognizer, read_video(source, stride), smoothing):
            frames += 1
            for t in tracks:
                labels.setdefault(t.track_id, Counter())[t.label] += 1
            if live:  # a camera with no window to show it in: one line per frame
                found = ", ".join(f"face {t.track_id}: {t.label} {t.probabilities[t.label]:.0%}" for t in tracks)
                console.print(f"{frame.seconds:7.2f} s  {found or 'no face'}")
            if as_json:
                faces = [t.to_dict() for t in tracks]
                print(
                    json.dumps(
                        {"video": name, "frame": frame.index, "seconds": round(frame.seconds, 3), "faces": faces}
                    )
                )
            if names is not None or window:
                drawn = annotate(frame.image, [t.prediction for t in tracks])
            if names is not None:
                if writer is None:
                    names.folder.mkdir(parents=True, exist_ok=True)
                    target = names.name_for("webcam" if isinstance(source, int) else source, ".annotated.mp4")
                    height, width = drawn.shape[:2]
                    fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                    writer = cv2.VideoWriter(str(target), fourcc, 25.0 / stride, (width, height))
                writer.write(drawn)
            if window:
                cv2.imshow("ferkit (q quits)", drawn)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    break
    except DataError as e:
        err_console.print(f"[red]error:[/red] {e}", highlight=False)
        return False
    except KeyboardInterrupt:
        pass
    finally:
        if writer is not None:
            writer.release()
    if not as_json:
        if frames == 0:
            console.print(f"{name}: no frames could be read")
        elif not labels:
            console.print(f"{name}: {frames} frames, no face found")
        else:
            summary = ", ".join(
                f"face {k}: mostly {c.most_common(1)[0][0]} ({sum(c.values())} frames)" for k, c in labels.items()
            )
            console.print(f"{name}: {frames} frames; {summary}")
    return frames > 0


def _has_display() -> bool:
    """A window needs a screen and an OpenCV built with a GUI (opencv-python-headless has none)."""
    import os

    import cv2

    build = cv2.getBuildInformation()
    gui = "GUI:" in build and "NONE" not in build.split("GUI:")[1][:40]
    return gui and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt")


HostOption = Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 lets the network (a phone) in")]
PortOption = Annotated[int, typer.Option(help="port")]
ModelOption = Annotated[str, typer.Option(help="an exported .onnx, or default (the shipped model)")]
LeaderboardOption = Annotated[Optional[Path], typer.Option(help="SQLite file for the game's scores")]  # noqa: UP045


def _server_settings(model: str, leaderboard: Path | None, **extra: object):
    from ferkit.game.settings import ServerSettings

    return ServerSettings(model=model, leaderboard_path=leaderboard, **extra)


def _run_server_or_fail(settings, **options) -> None:
    """run_server, with a bad model or leaderboard reported in one line before the port opens."""
    from ferkit.game.server import run_server

    try:
        run_server(settings, **options)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        raise _fail(str(e)) from None


@app.command("serve")
def serve_command(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    model: ModelOption = "default",
    leaderboard: LeaderboardOption = None,
    max_upload_mb: Annotated[float, typer.Option(help="largest photo accepted by POST /v1/predict")] = 10.0,
) -> None:
    """The REST API (POST /v1/predict, GET /healthz, docs at /docs); the game's page is served too."""
    settings = _server_settings(model, leaderboard, max_upload_bytes=int(max_upload_mb * 1024 * 1024))
    _run_server_or_fail(settings, host=host, port=port)


@app.command("play")
def play_command(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    model: ModelOption = "default",
    leaderboard: LeaderboardOption = None,
    rounds: Annotated[int, typer.Option(help="rounds in a game")] = 5,
    capture_seconds: Annotated[float, typer.Option(help="seconds of camera per round")] = 3.0,
    countdown_seconds: Annotated[float, typer.Option(help="length of the 3-2-1 countdown")] = 3.0,
    browser: Annotated[bool, typer.Option(help="open the game in the default browser")] = True,
    seed: Annotated[Optional[int], typer.Option(help="draw the same targets every game (practice, tests)")] = None,  # noqa: UP045
    ssl_certfile: Annotated[Optional[Path], typer.Option(help="TLS certificate: phones need https")] = None,  # noqa: UP045
    ssl_keyfile: Annotated[Optional[Path], typer.Option(help="TLS private key")] = None,  # noqa: UP045
) -> None:
    """Best Actor: the screen names an expression, you make the face, the model scores it."""
    settings = _server_settings(
        model,
        leaderboard,
        rounds=rounds,
        capture_seconds=capture_seconds,
        countdown_seconds=countdown_seconds,
        seed=seed,
    )
    _run_server_or_fail(
        settings,
        host=host,
        port=port,
        open_browser=browser,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


@app.command("models")
def models_command() -> None:
    """List the registered networks with parameters and multiply-adds per face."""
    from ferkit.models import count_parameters, create_model, list_models, multiply_adds

    table = Table(title="ferkit models (input 48×48 gray)")
    for col in ("name", "parameters", "MMACs / face", "description"):
        table.add_column(col, justify="right" if col in ("parameters", "MMACs / face") else "left")
    for spec in list_models():
        net = create_model(spec.name)
        table.add_row(spec.name, f"{count_parameters(net):,}", f"{multiply_adds(net) / 1e6:,.1f}", spec.description)
    console.print(table)


if __name__ == "__main__":
    app()
