"""The README's reachability table is rendered from `game_fairness.py`'s JSON, both of its formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def row(n: int, median: float, p90: float, false_reward: float) -> dict:
    return {"n": n, "median": median, "p90": p90, "false_reward": false_reward, "neutral_false_reward": None}


def test_a_fer2013_and_a_ferplus_result_share_rows_and_the_spread_leaves_contempt_out(tmp_path):
    old = {
        "b_webcam": {"angry": row(60, 31, 75.4, 0.048), "happy": row(60, 89, 92, 0.02), "neutral": row(60, 31, 87, 0)}
    }
    new = {
        "b_webcam": {
            "targets": {
                "anger": row(273, 67, 93, 0.025),
                "happiness": row(400, 65, 95, 0.046),
                "neutral": row(400, 73, 95, 0.053),
                "contempt": row(16, 36, 74, 0.2),  # off by default: neither its median nor its rate counts
            }
        }
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    out = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "fairness_table.py"),
            f"before={tmp_path / 'old.json'}",
            f"after={tmp_path / 'new.json'}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    assert lines[0] == "| expression | before | after |"
    assert "| angry | 31 / 75 / 4.8% (n 60) | 67 / 93 / 2.5% (n 273) |" in lines
    assert "| disgust | – | – |" in lines
    assert "| contempt | – | 36 / 74 / 20.0% (n 16) |" in lines
    assert lines[-2] == "| **spread of the medians** (played rounds) | 58 | 8 |"
    assert lines[-1] == "| **worst false rewards** (played rounds) | 4.8% | 5.3% |"
