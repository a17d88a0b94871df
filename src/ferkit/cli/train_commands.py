"""`ferkit train`, `gpu-job`, `mine` and `teach`: making models and what they know."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ferkit.cli.common import FerplusOpt, _fail, command, console


@command("train")
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
    progress: Annotated[Optional[bool], typer.Option(help="show the progress bar [default: show]")] = None,  # noqa: UP045
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a finished run already in --out")] = False,
) -> None:
    """Train on Training, select on PublicTest (PrivateTest is never read); also works under torchrun.

    A run already in --out is never replaced silently: continue it with --resume, or pass --overwrite.
    """
    from ferkit.train import TrainConfig, recipe_config, train
    from ferkit.train.config import parse_settings

    overrides = parse_settings(set_ or [])
    options = dict(
        model=model,
        data=str(data) if data else None,
        out=str(out) if out else None,
        progress=progress,
        labels=labels,
        ferplus=str(ferplus) if ferplus else None,
    )
    # An option given outright wins; one left out must not erase the same setting given with --set
    # (`--set model=fer-resnet-s` once trained the recipe's model without a word).
    overrides.update({key: value for key, value in options.items() if value is not None})
    cfg = TrainConfig(progress=progress is not False) if resume else recipe_config(recipe, **overrides)
    result = train(cfg, resume=resume, overwrite=overwrite)
    console.print(
        f"best PublicTest accuracy {result.best_accuracy:.4f} at epoch {result.best_epoch}; "
        f"checkpoint: {result.run_dir / 'best.pt'}"
    )


@command("gpu-job")
def gpu_job_command(
    data: Annotated[Path, typer.Option(help="a ferkit pack of Training + PublicTest (or any FER2013 layout)")],
    out: Annotated[Path, typer.Option(help="folder for what comes back ($OUT on a lent device)")],
    budget_minutes: Annotated[float, typer.Option(help="wall time for the whole job, writing included")] = 8.0,
    smoke: Annotated[bool, typer.Option("--smoke", help="tiny members on the CPU: the same path in a minute")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N")] = "auto",
    labels: Annotated[str, typer.Option(help="fer2013, or ferplus: members trained on the FER+ votes")] = "fer2013",
    ferplus: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="fer2013new.csv, for --labels ferplus with a full FER2013 layout (a pack carries its votes)"),
    ] = None,
    members: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="a named member set instead of the label space's (train/job.py MEMBER_SETS)"),
    ] = None,
) -> None:
    """Train an ensemble within a wall-clock budget; return fp16 checkpoints, the teacher file, a log, a summary."""
    from ferkit.train.job import members_for, run_job

    summary = run_job(
        data, out, members=members_for(labels, smoke=smoke, member_set=members), budget_minutes=budget_minutes,
        reserve_seconds=10.0 if smoke else 40.0, device="cpu" if smoke else device, ferplus=ferplus,
    )  # fmt: skip
    if not summary["members"]:
        raise _fail("no member finished within the budget")


@command("mine")
def mine_command(
    run_dir: Annotated[Path, typer.Argument(help="a finished run (uses its best.pt)")],
    epochs: int = 3,
    hard_fraction: Annotated[float, typer.Option(help="share of each batch drawn from the mistakes")] = 0.25,
    out: Annotated[Optional[Path], typer.Option(help="new run directory (default RUN_DIR/mined)")] = None,  # noqa: UP045
    progress: bool = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace a mined run already in --out")] = False,
    agree_with: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="fer2013new.csv: mine only mistakes whose FER+ majority is the FER2013 label"),
    ] = None,
) -> None:
    """Fine-tune on the TRAINING faces the model gets wrong; report PublicTest before and after."""
    from ferkit.train.mining import mine_and_finetune

    r = mine_and_finetune(
        run_dir,
        epochs=epochs,
        hard_fraction=hard_fraction,
        out=out,
        progress=progress,
        overwrite=overwrite,
        agree_with=agree_with,
    )
    console.print(
        f"{r.hard_examples:,} of {r.training_faces:,} training faces were wrong; PublicTest "
        f"{r.publictest_before:.4f} -> {r.publictest_after:.4f} (best of the fine-tune); run: {r.run_dir}"
    )


@command("teach")
def teach_command(
    data: Annotated[Path, typer.Option(help="FER2013 in any supported layout (a pack of Training + PublicTest too)")],
    out: Annotated[Path, typer.Option(help="the teacher file to write (.npz)")],
    model: Annotated[Optional[Path], typer.Option(help="the teacher: .pt, run dir, .onnx (an ensemble too)")] = None,  # noqa: UP045
    ferplus_votes: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--ferplus-votes", help="fer2013new.csv: the FER+ annotators teach instead of a model"),
    ] = None,
    tta: Annotated[str, typer.Option(help="the model's test-time augmentation: none, flip or tencrop")] = "flip",
    cross_fitted: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(
            "--cross-fitted",
            help="a run trained with --set hold_out=k/K (repeat: one per fold): each Training face is labelled "
            "by the run that never saw it",
        ),
    ] = None,
) -> None:
    """Write a teacher file: soft labels for every Training and PublicTest face (never PrivateTest)."""
    from ferkit.data.teacher import write_teacher
    from ferkit.evaluate.teach import cross_fitted_teacher, model_teacher, vote_teacher
    from ferkit.labels import EMOTIONS, SELECT_SPLIT, SPLITS

    if sum(x is not None and x != [] for x in (model, ferplus_votes, cross_fitted)) != 1:
        raise _fail(
            "give the teacher: --model MODEL, --ferplus-votes fer2013new.csv or --cross-fitted RUN per fold (one kind)"
        )
    if cross_fitted:
        teacher = cross_fitted_teacher(list(cross_fitted), data, tta=tta)
    elif ferplus_votes:
        teacher = vote_teacher(data, ferplus_votes)
    else:
        teacher = model_teacher(model, data, tta=tta)
    path = write_teacher(out, teacher)
    console.print(
        f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB): {len(teacher.labels):,} faces × "
        f"{len(teacher.class_names)} classes from {', '.join(teacher.members)}"
    )
    if teacher.class_names == EMOTIONS:
        select = teacher.split_codes == SPLITS.index(SELECT_SPLIT)
        agree = teacher.mean_probabilities.argmax(1) == teacher.labels
        train_agree, select_agree = agree[~select].mean(), agree[select].mean()
        console.print(f"top class = FER2013 label: Training {train_agree:.4f}, PublicTest {select_agree:.4f}")
