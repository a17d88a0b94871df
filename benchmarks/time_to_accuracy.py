"""Time to accuracy of a training recipe over seeds: the yardstick every training change is judged by.

Trains the recipe once per seed and prints, per seed, PublicTest accuracy against wall-clock minutes (a
row per epoch); then mean ± standard deviation (and min-max) of the final PublicTest accuracy, minutes
and faces/s, and the PrivateTest accuracy of each seed's selected checkpoint — computed once, at the
end, and never used to choose anything. The final table is merged into a JSON file under `--label`.

Usage:
  python benchmarks/time_to_accuracy.py --recipe cpu --seeds 0,1,2 --label cpu-70ep \\
      [--set epochs=30 --set lr=0.05 ...] [--data ../shared/data/fer2013.tar.gz] [--out runs/tta]
  A long budget can run one seed per invocation: add `--merge` to add its seeds to the label's row.
  (A claimed gain under 1 point needs the mean of at least 3 seeds. Never run the test suite beside it.)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from ferkit.data import load_faces
from ferkit.evaluate.run import split_with_labels
from ferkit.labels import REPORT_SPLIT
from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint
from ferkit.models.predict import predict_logits
from ferkit.train import recipe_config, train
from ferkit.train.config import parse_settings
from ferkit.train.distributed import bf16_supported, resolve_device

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013.tar.gz"
DEFAULT_JSON = ROOT / "docs" / "results" / "time_to_accuracy.json"


def report_accuracy(checkpoint: Path, data: Path) -> float:
    """PrivateTest accuracy of a selected checkpoint, no TTA (read once, at the very end)."""
    state = load_checkpoint(checkpoint)
    faces, labels = split_with_labels(load_faces(data), REPORT_SPLIT, tuple(state["class_names"]))
    logits = predict_logits(model_from_checkpoint(state), faces)
    return float((logits.argmax(1).numpy() == labels).mean())


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return (
        f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} (min {min(values):.4f}, max {max(values):.4f})"
    )


def device_description(device: str) -> str:
    import torch

    d = resolve_device(device)
    name = torch.cuda.get_device_name(d) if d.type == "cuda" else cpu_name()
    return f"{name}, {torch.get_num_threads()} threads, bf16 {'on' if bf16_supported(d) else 'off'}"


def cpu_name() -> str:
    """The CPU's model name and matrix extensions, from /proc/cpuinfo where there is one: on this project's
    2-core machines fer-vgg-s trains at 819 faces/s with AMX and 492 with AVX512-BF16 alone."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "CPU"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    name = fields.get("model name\t", platform.processor() or "CPU").strip()
    flags = fields.get("flags\t\t", "").split()
    extras = [label for flag, label in (("avx512_bf16", "AVX512-BF16"), ("amx_bf16", "AMX")) if flag in flags]
    return f"{name} ({', '.join(extras) or 'no AVX512-BF16'})"


def merged_row(old: dict | None, new: dict) -> dict:
    """The label's row with the new seeds added: a long budget's seeds can run one per invocation (or
    session), and a seed run again replaces its earlier figures. Rows of another recipe are refused."""
    if old is None:
        return new
    if (old["recipe"], old["settings"]) != (new["recipe"], new["settings"]):
        raise SystemExit(
            f"--merge: the row holds recipe {old['recipe']} {old['settings']}, not {new['recipe']} {new['settings']}"
        )
    fresh = {run["seed"] for run in new["seeds"]}
    seeds = sorted([r for r in old["seeds"] if r["seed"] not in fresh] + new["seeds"], key=lambda r: r["seed"])
    commands = [*old.get("commands", [old["command"]]), new["command"]]
    devices = sorted({old["device"], new["device"]})
    return {**new, "seeds": seeds, "commands": commands, "command": commands[0], "device": " | ".join(devices)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipe", default="cpu")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="KEY=VALUE on the recipe")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/time_to_accuracy"))
    parser.add_argument("--label", default=None, help="the row's name in the JSON (default: the recipe)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add these seeds to the label's existing row (same recipe and settings) instead of replacing it",
    )
    args = parser.parse_args()
    settings = parse_settings(args.settings)
    seeds = [int(s) for s in args.seeds.split(",")]
    label = args.label or args.recipe
    print(f"recipe {args.recipe} {settings or ''}, seeds {seeds}, device {device_description(args.device)}")

    runs = []
    for seed in seeds:
        cfg = recipe_config(
            args.recipe,
            data=str(args.data),
            out=str(args.out / f"{label}-seed{seed}"),
            seed=seed,
            device=args.device,
            progress=False,
            tensorboard=False,
            **settings,
        )
        started = time.perf_counter()
        result = train(cfg, overwrite=True)
        minutes = (time.perf_counter() - started) / 60
        print(f"\nseed {seed}: epoch, minutes, PublicTest")
        for h in result.history:
            mark = " *" if h["epoch"] == result.best_epoch else ""
            print(f"  {h['epoch']:3d}  {h['elapsed_minutes']:6.2f}  {h['val_accuracy']:.4f}{mark}")
        faces_per_s = float(np.mean([h["faces_per_second"] for h in result.history]))
        runs.append(
            {"seed": seed, "minutes": minutes, "faces_per_second": faces_per_s,
             "publictest": result.best_accuracy, "best_epoch": result.best_epoch, "run": str(result.run_dir)}
        )  # fmt: skip

    for run in runs:  # PrivateTest: after every choice was made, read once per final checkpoint
        run["privatetest"] = report_accuracy(Path(run["run"]) / "best.pt", args.data)
    column = {key: [r[key] for r in runs] for key in ("publictest", "privatetest", "minutes", "faces_per_second")}
    print(f"\n{label}: {len(runs)} seeds")
    print(f"  PublicTest (selection) {spread(column['publictest'])}")
    print(f"  PrivateTest (report)   {spread(column['privatetest'])}")
    print(f"  minutes                {statistics.mean(column['minutes']):.1f}")
    print(f"  faces/s                {statistics.mean(column['faces_per_second']):.0f}")

    table = json.loads(args.json.read_text()) if args.json.exists() else {}
    row = {
        "recipe": args.recipe,
        "settings": settings,
        "device": device_description(args.device),
        "date": time.strftime("%Y-%m-%d"),
        "command": "python " + " ".join(sys.argv),
        "seeds": runs,
    }
    table[label] = merged_row(table.get(label), row) if args.merge else row
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(table, indent=1))
    every = table[label]["seeds"]
    if len(every) > len(runs):  # --merge added to earlier seeds: the row's figures are over all of them
        print(f"{label}, the row's {len(every)} seeds ({', '.join(str(r['seed']) for r in every)}):")
        print(f"  PublicTest (selection) {spread([r['publictest'] for r in every])}")
        print(f"  PrivateTest (report)   {spread([r['privatetest'] for r in every])}")
    print(f"written: {args.json} [{label}]")


if __name__ == "__main__":
    main()
