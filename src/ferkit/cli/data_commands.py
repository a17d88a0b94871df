"""`ferkit data ...` and `ferkit explore`: read, check, pack, download and explore FER2013."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table

from ferkit.cli.common import DataPath, FerplusOpt, _load, command, console, data_app, err_console
from ferkit.errors import BadInput

if TYPE_CHECKING:
    from ferkit.data.faceset import FaceSet

Progressed = Callable[[int, int], None]


@command("info", data_app)
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


@command("pack", data_app)
def data_pack(
    path: DataPath,
    out: Annotated[Path, typer.Option(help="the pack to write (name ends in .ferpack.xz)")],
    splits: Annotated[str, typer.Option(help="comma-separated splits to keep")] = "Training,PublicTest",
    ferplus: FerplusOpt = None,
) -> None:
    """Write chosen splits as one compact xz file (Training + PublicTest ≈ 50 MiB) to carry elsewhere."""
    from ferkit.data.pack import write_pack

    written = write_pack(_load(path, ferplus), out, [s.strip() for s in splits.split(",") if s.strip()])
    console.print(f"wrote {written} ({written.stat().st_size / 2**20:.1f} MiB, splits {splits})")


@command("layouts", data_app)
def data_layouts() -> None:
    """The dataset layouts ferkit reads, in the order a path is tried."""
    from ferkit.data.layouts import LAYOUTS

    table = Table(title="FER2013 layouts (a path is read by the first that matches)")
    table.add_column("layout")
    table.add_column("what it is")
    for entry in LAYOUTS:
        table.add_row(entry.name, entry.description)
    console.print(table)


@command("download", data_app)
def data_download(dest: Annotated[Path, typer.Option(help="folder to download into")] = Path("data/fer2013")) -> None:
    """Download FER2013 from Kaggle with the official client (needs your Kaggle credentials)."""
    from ferkit.data.kaggle_download import download_fer2013

    csv_path = download_fer2013(dest)
    console.print(f"FER2013 is at {csv_path}")
    console.print(f"next: ferkit data info {csv_path}")


@command("explore")
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
        err_console.print("no augmentation gallery: it needs torch (pip install 'ferkit[train]')", markup=False)
    page = write_exploration(faces, out, seed=seed, extra=extra)
    console.print(f"wrote {page}")


@command("reframe", data_app)
def data_reframe(
    path: DataPath,
    out: Annotated[Path, typer.Option(help="the pack to write (name ends in .ferpack.xz): every split, votes kept")],
    share: Annotated[float, typer.Option(help="the share of Training faces to replace by detector crops")] = 0.5,
    seed: Annotated[int, typer.Option(help="which faces, and their frames")] = 0,
    jobs: Annotated[int, typer.Option(help="processes (default: one per core)")] = 0,
    ferplus: FerplusOpt = None,
) -> None:
    """Replace a share of the Training faces by the crop our detector cuts from a webcam-like frame of each.

    Train on the result (`ferkit train --data OUT`) so training sees the framing, tilt, light, blur and JPEG
    that inference sees; test splits are copied untouched.
    """
    from rich.progress import Progress

    from ferkit.data.pack import PACK_SUFFIX, write_pack

    if not out.name.endswith(PACK_SUFFIX):  # said before minutes of work, not after
        raise BadInput(f"{out}: a pack's name must end in {PACK_SUFFIX}")
    faces = _load(path, ferplus)
    with Progress(transient=True) as bar:
        task = bar.add_task("detector crops of Training faces", total=None)
        reframed, replaced, chosen = reframe_training(
            faces,
            share,
            seed=seed,
            jobs=jobs or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    written = write_pack(reframed, out, reframed.split_names)
    console.print(
        f"{replaced:,} of {chosen:,} chosen Training faces re-framed ({chosen - replaced:,} not found: kept as they "
        f"were); wrote {written} ({written.stat().st_size / 2**20:.1f} MiB)"
    )


def reframe_training(
    faces: FaceSet, share: float, *, seed: int = 0, jobs: int | None = None, progress: Progressed | None = None
) -> tuple[FaceSet, int, int]:
    """(a copy of `faces` with `share` of its Training faces replaced by detector crops, replaced, chosen).

    Faces the detector misses keep their original crop; other splits, labels and votes are untouched.
    """
    from ferkit.data.faceset import FaceSet
    from ferkit.labels import SPLITS, TRAIN_SPLIT
    from ferkit.vision.reframe import detector_crops

    if not 0 < share <= 1:
        raise BadInput(f"--share must be more than 0 and at most 1, not {share}")
    training = np.flatnonzero(faces.split_codes == SPLITS.index(TRAIN_SPLIT))
    chosen = np.sort(np.random.default_rng(seed).choice(training, size=round(share * len(training)), replace=False))
    crops, found = detector_crops(faces.faces[chosen], seed=seed, jobs=jobs, progress=progress)
    new_faces = faces.faces.copy()
    new_faces[chosen] = crops
    source = f"{faces.source}, {int(found.sum())} Training faces re-framed by the detector"
    reframed = FaceSet(new_faces, faces.labels, faces.split_codes, faces.votes, source, faces.row_index)
    return reframed, int(found.sum()), len(chosen)
