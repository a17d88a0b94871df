"""`ferkit evaluate`, `inspect`, `plot-run`, `fit-rule` and `calibrate-judge`: how good a model is, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ferkit.cli.common import FerplusOpt, ModelOpt, _fail, command, console
from ferkit.errors import DatasetUnsuitable


@command("evaluate")
def evaluate_command(
    data: Annotated[Path, typer.Option(help="FER2013 in any supported layout")],
    model: Annotated[Optional[Path], typer.Option(help="checkpoint (.pt), run dir, .onnx, or default")] = None,  # noqa: UP045
    split: Annotated[str, typer.Option(help="PublicTest (selection) or PrivateTest (the report)")] = "PublicTest",
    tta: Annotated[str, typer.Option(help="test-time augmentation: none, flip or tencrop")] = "none",
    ferplus: FerplusOpt = None,
    calibrate: Annotated[bool, typer.Option(help="temperature-scale, fitted on PublicTest only")] = False,
    rule: Annotated[
        str, typer.Option(help="as-trained (plain softmax, as published tables score) or balanced (the model's rule)")
    ] = "as-trained",
    out: Annotated[Optional[Path], typer.Option(help="write the full report (PNGs, HTML, csv, json) here")] = None,  # noqa: UP045
    compare: Annotated[bool, typer.Option(help="score every MODELS argument on the same split, as a table")] = False,
    models_to_compare: Annotated[
        Optional[list[Path]], typer.Argument(metavar="MODELS", help="run directories or model files, with --compare")  # noqa: UP045
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="end with one JSON line of metrics")] = False,
) -> None:
    """Accuracy, macro-F1 and per-class metrics of a model on one official split."""
    from ferkit.evaluate.run import evaluate

    models = [model] if model else []
    if compare:
        models += models_to_compare or []
    elif models_to_compare:
        raise _fail("several models given: add --compare to score them side by side")
    if not models:
        raise _fail("give --model MODEL, or --compare RUN_A RUN_B ...")
    results = [evaluate(m, data, split=split, tta=tta, ferplus=ferplus, calibrate=calibrate, rule=rule) for m in models]
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
    console.print(
        f"accuracy {m['accuracy']:.4f}   balanced accuracy {m['balanced_accuracy']:.4f}   "
        f"macro-F1 {m['macro_f1']:.4f}   ECE {m['ece']:.4f}{temperature}   rule {m['rule']}"
    )
    unseen = m.get("unseen")
    if unseen and unseen["copies_in_training"] and unseen["accuracy"] is not None:
        console.print(
            f"accuracy {unseen['accuracy']:.4f} on the {unseen['n']:,} faces with no copy in Training "
            f"({unseen['copies_in_training']:,} of this split's faces also occur in Training)"
        )


@command("inspect")
def inspect_command(
    model: Annotated[Path, typer.Option(help="a training checkpoint (.pt)")],
    image: Annotated[Path, typer.Option(help="a face crop (any size; made 48×48 gray)")],
    layer: Annotated[Optional[str], typer.Option(help="a conv layer name (default: the last conv)")] = None,  # noqa: UP045
    out: Annotated[Path, typer.Option(help="the PNG to write")] = Path("inspect.png"),
) -> None:
    """Feature maps of one layer for a face, and a Grad-CAM overlay of where the net looked."""
    from ferkit.evaluate.inspect import inspect_face

    path, top = inspect_face(model, image, out, layer)
    console.print(f"wrote {path} (top class: {top})")


@command("plot-run")
def plot_run_command(run_dir: Annotated[Path, typer.Argument(help="a training run directory")]) -> None:
    """Training curves (loss and accuracy per epoch, Training vs PublicTest) from a run's history.json."""
    from ferkit.evaluate.curves import plot_history

    console.print(f"wrote {plot_history(run_dir)}")


@command("calibrate-judge")
def calibrate_judge_command(
    out: Annotated[Path, typer.Option(help="the model with its judge curves (.onnx); may be the same file")],
    data: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="FER2013 with labelled PublicTest, in any supported layout (not needed with --evidence)"),
    ] = None,
    model: ModelOpt = "default",
    limit: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="fit on this many PublicTest faces, and as many of an unseen Training fold (default: all)"),
    ] = None,
    ferplus: FerplusOpt = None,
    save_evidence: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="also save the faces' frame and crop probabilities (.npz) to refit later in seconds"),
    ] = None,
    evidence: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="refit from probabilities saved by --save-evidence instead of running the pipeline"),
    ] = None,
    true_above_bar: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            min=0.5,
            max=0.95,
            help="lower a win bar that fewer than this share of its expression's true held poses clear, within 8% "
            "false rewards (the shipped FER+ judge: 0.6)",
        ),
    ] = None,
    out_of_fold: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(
            help="evidence of fold-models of this model's recipe (--set hold_out=k/K): their poses of the folds they "
            "never saw join the fit (repeat for each fold)"
        ),
    ] = None,
    population_knots: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(
            help="evidence of fold-models of this model's recipe (--set hold_out=k/K): the median and clear knots go "
            "where their unseen folds' medians lie among their PublicTest faces (repeat for each fold; probe 15)"
        ),
    ] = None,
) -> None:
    """Fit fair per-expression round scoring on PublicTest faces in webcam-like frames; store it in the model.

    A model trained with a Training fold held out (`--set hold_out=k/K`, named in its metadata) is fitted on the
    faces of that fold too, which it never saw.
    """
    from ferkit.infer.judge_fit import JudgeEvidence, collect_evidence, write_judge
    from ferkit.infer.recognizer import Recognizer
    from ferkit.weights import resolve_model

    model = str(resolve_model(model))
    if evidence is not None:
        found = JudgeEvidence.load(evidence)
        if found.class_names != tuple(Recognizer(model).class_names):
            raise DatasetUnsuitable(f"{evidence}: its classes {found.class_names} are not the model's")
    elif data is None:
        raise DatasetUnsuitable("calibrate-judge needs --data (PublicTest faces) or --evidence (saved probabilities)")
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("webcam-like PublicTest frames", total=None)
            found = collect_evidence(
                model,
                data,
                limit=limit,
                ferplus=ferplus,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if out_of_fold:
        found = found.with_out_of_fold([JudgeEvidence.load(path) for path in out_of_fold])
        poses = int(found.unseen_training.sum())
        console.print(f"with {poses} out-of-fold Training poses of {len(out_of_fold)} fold-models")
    if save_evidence is not None:  # (with --out-of-fold: the merged evidence, for benchmarks/judge_policies.py)
        console.print(f"evidence: {found.save(save_evidence)}")
    from ferkit.infer.judge import JudgePolicy
    from ferkit.infer.judge_fit import population_knots as knots_of

    quantiles = knots_of([JudgeEvidence.load(path) for path in population_knots]) if population_knots else ()
    for name, held_q, clear_q in quantiles:
        console.print(f"{name:9s} median knot at PublicTest's {held_q:.3f} quantile, clear knot at {clear_q:.3f}")
    judge = found.fit(JudgePolicy(true_above_bar=true_above_bar, knot_quantiles=quantiles))
    write_judge(model, out, judge)  # needs the onnx package: a missing one is named by the error edge
    console.print(f"fitted on {judge.fitted_on}")
    for name, knots in judge.knots.items():
        console.print(f"{name:9s} " + "  ".join(f"{p:.3f}→{s:.0f}" for p, s in knots))
    console.print(f"written: {out}")


@command("fit-rule")
def fit_rule_command(
    data: Annotated[Path, typer.Option(help="FER2013 with labelled Training and PublicTest, in any supported layout")],
    out: Annotated[Path, typer.Option(help="the model with its decision rule (.onnx); may be the same file")],
    model: ModelOpt = "default",
    ferplus: FerplusOpt = None,
) -> None:
    """Store a balanced decision rule in the model: probabilities ÷ training prior^power, power fitted on PublicTest."""
    from ferkit.evaluate.decision_fit import fit_decision_rule
    from ferkit.infer.judge import METADATA_KEY as JUDGE_KEY
    from ferkit.weights import resolve_model
    from ferkit.weights.decision_rule import METADATA_KEY
    from ferkit.weights.metadata import with_metadata
    from ferkit.weights.onnx_classifier import OnnxClassifier

    path = resolve_model(model)
    rule, scores = fit_decision_rule(path, data, ferplus=ferplus)
    table = Table(title=f"{path.name} on PublicTest, probabilities ÷ training prior^power")
    for col in ("power", "accuracy", "balanced accuracy", "balanced log-loss"):
        table.add_column(col, justify="right")
    for s in scores:
        mark = " ←" if s.power == rule.power else ""
        table.add_row(
            f"{s.power:.2f}{mark}", f"{s.accuracy:.4f}", f"{s.balanced_accuracy:.4f}", f"{s.balanced_log_loss:.4f}"
        )
    console.print(table)
    had_judge = JUDGE_KEY in OnnxClassifier(path, rule="as-trained").metadata
    with_metadata(path, out, METADATA_KEY, rule.to_json())
    console.print(f"power {rule.power:.2f}; written: {out}")
    if had_judge:
        console.print(
            "[yellow]its judge curves were fitted under the previous rule: refit them with "
            f"ferkit calibrate-judge --model {out} --out {out}[/yellow]"
        )
