"""The reachability table, before and after, as markdown: per expression median / p90 / false-reward rate.

Reads what `benchmarks/game_fairness.py --json` kept (no model is run), so the README's table is rendered
from committed results, not retyped: each column is one JSON file, each row one expression (FER+ names
are shown in FER2013's words so both kinds of model share a row; contempt keeps its own). Cells are
"median / 90th percentile / false rewards" of set (b) (webcam-like frames through the whole pipeline) or
(c) (FER+ faces whose annotators agree, as crops); the last rows give the spread of the played rounds'
medians (contempt off, as the game plays) and the worst false-reward rate.
Usage: python benchmarks/fairness_table.py [--set b|c] "LABEL=docs/results/game_fairness_X.json" ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ferkit.errors import UnknownName
from ferkit.labels import EMOTIONS, emotion_index

SETS = {"a": "a_crops", "b": "b_webcam", "c": "c_ferplus_clear"}
OFF_BY_DEFAULT = ("contempt",)  # as benchmarks/game_fairness.py: the game leaves contempt rounds out by default


def row_name(target: str) -> str:
    """FER2013's word for a FER+ class ('anger' → 'angry'); a class FER2013 lacks keeps its own name."""
    try:
        return EMOTIONS[emotion_index(target)]
    except UnknownName:
        return target


def cell(row: dict) -> str:
    if row.get("median") is None:
        return "–"
    return f"{row['median']:.0f} / {row['p90']:.0f} / {100 * row['false_reward']:.1f}% (n {row['n']})"


def render(columns: list[tuple[str, dict]], which: str) -> str:
    """Markdown for set `which` of each (label, game_fairness result) column."""
    key = SETS[which]
    # files written before session 11 hold the per-target rows directly, later ones under "targets"
    tables = [(label, result[key].get("targets", result[key])) for label, result in columns]
    names = list(EMOTIONS)
    for _, targets in tables:
        names += [row_name(t) for t in targets if row_name(t) not in names]
    lines = ["| expression | " + " | ".join(label for label, _ in tables) + " |", "|---" * (len(tables) + 1) + "|"]
    for name in names:
        cells = []
        for _, targets in tables:
            by_name = {row_name(t): row for t, row in targets.items()}
            cells.append(cell(by_name[name]) if name in by_name else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    spreads, worst = [], []
    for _, targets in tables:
        medians = [r["median"] for t, r in targets.items() if r.get("median") is not None and t not in OFF_BY_DEFAULT]
        spreads.append(f"{max(medians) - min(medians):.0f}")
        rates = [r["false_reward"] for t, r in targets.items() if t not in OFF_BY_DEFAULT]
        worst.append(f"{100 * max(rates):.1f}%")
    lines.append("| **spread of the medians** (played rounds) | " + " | ".join(spreads) + " |")
    lines.append("| **worst false rewards** (played rounds) | " + " | ".join(worst) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("columns", nargs="+", help="LABEL=path/to/game_fairness.json")
    parser.add_argument("--set", default="b", choices=sorted(SETS))
    args = parser.parse_args()
    columns = []
    for spec in args.columns:
        label, sep, path = spec.rpartition("=")
        if not sep:
            raise SystemExit(f"{spec!r}: expected LABEL=path")
        columns.append((label, json.loads(Path(path).read_text())))
    print(render(columns, args.set))


if __name__ == "__main__":
    main()
