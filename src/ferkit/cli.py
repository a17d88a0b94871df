"""The `ferkit` command line: one thin command per step, each calling one function elsewhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Optional

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
err_console = Console(stderr=True)

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

    page = write_exploration(_load(path, ferplus), out, seed=seed)
    console.print(f"wrote {page}")


if __name__ == "__main__":
    app()
