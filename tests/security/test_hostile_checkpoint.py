"""A .pt file is untrusted input: a pickle that would run code is refused before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

torch = pytest.importorskip("torch")

from ferkit.models.checkpoint import FORMAT, CheckpointError, load_checkpoint  # noqa: E402
from tests.conftest import make_faces, write_fer2013_csv  # noqa: E402


class RunsACommand:
    """Unpickling this calls os.system: what an attacker puts in a shared model file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def hostile_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.pt"
    torch.save({"format": FORMAT, "model_name": "fer-vgg-s", "payload": RunsACommand(marker)}, path)
    return path, marker


def test_load_checkpoint_refuses_a_pickle_that_runs_code(tmp_path):
    path, marker = hostile_checkpoint(tmp_path)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path)
    assert not marker.exists()
    message = str(refused.value)
    assert str(path) in message and "could run code" in message and "posix.system" in message
    assert "weights_only` set to `False`" not in message  # torch's advice to switch the check off is dropped


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "--model", "{pt}", "--data", "{csv}"],
        ["inspect", "--model", "{pt}", "--image", "{png}"],
        ["export", "{pt}", "--out", "{dir}/m.onnx"],
        ["mine", "{dir}", "--out", "{dir}/mined"],
        ["train", "--resume", "{dir}"],
    ],
    ids=lambda c: c[0],
)
def test_no_command_runs_code_from_a_model_file(tmp_path, command):
    path, marker = hostile_checkpoint(tmp_path)
    csv = write_fer2013_csv(tmp_path / "fer2013.csv", make_faces())
    for run_file in ("best.pt", "last.pt"):  # what `mine` and `train --resume` read from a run directory
        (tmp_path / run_file).write_bytes(path.read_bytes())
    png = tmp_path / "face.png"
    png.write_bytes(cv2.imencode(".png", make_faces().faces[0])[1].tobytes())
    args = [a.format(pt=path, dir=tmp_path, csv=csv, png=png) for a in command]
    done = subprocess.run([sys.executable, "-m", "ferkit.cli", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert not marker.exists(), f"ferkit {command[0]} ran code from the file"
    assert "Traceback" not in done.stderr
    assert "could run code" in done.stdout + done.stderr  # refused for the right reason, with a clear line
