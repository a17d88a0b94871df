"""Predicting and playing need no torch: the photo path and the game server run with torch made unimportable."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import FER2013_TARBALL

BLOCK_TORCH = "import sys; sys.modules['torch'] = None  # any 'import torch' now raises ImportError\n"


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH + code], capture_output=True, text=True, timeout=120)


def test_inference_and_game_modules_import_without_torch():
    result = run_without_torch(
        "import ferkit.infer, ferkit.vision, ferkit.game.app, ferkit.infer.video\n"
        "from ferkit.game.app import create_app\n"
        "create_app()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'numba' or m.startswith('ferkit.data'))\n"
        "print(loaded or 'ok')"
    )
    # vision, infer and game need neither torch nor the dataset stack (ferkit.data pulls in numba)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr + result.stdout


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_predict_finds_several_faces_in_a_photo_without_torch(tmp_path):
    from ferkit.data import load_faces
    from tests.game.webcam import confident_faces

    test = load_faces(FER2013_TARBALL).split("PrivateTest")
    # three faces the detector finds on their own (recall is measured elsewhere; this is about the path)
    faces = confident_faces(np.asarray(test.faces), test.labels, "happy", 3, minimum=0.0)
    photo = np.full((480, 960), 140, np.uint8)
    for k, face in enumerate(faces):
        photo[120:360, 40 + 310 * k : 280 + 310 * k] = cv2.resize(face, (240, 240), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(tmp_path / "group.jpg"), cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR))
    result = run_without_torch(
        "from ferkit.cli import app\n"
        f"app(['predict', {str(tmp_path / 'group.jpg')!r}, '--json', '--out', {str(tmp_path / 'out')!r}])"
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])["faces"]
    assert len(found) == 3
    assert sorted(f["box"]["x"] // 310 for f in found) == [0, 1, 2]  # one box on each face
    assert (tmp_path / "out" / "group.annotated.jpg").exists()


def test_commands_that_need_torch_say_which_extra_installs_it(tmp_path):
    out = str(tmp_path / "run")
    result = run_without_torch(
        f"from ferkit.cli import app\napp(['train', '--data', '/nonexistent', '--out', {out!r}])"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pip install 'ferkit[train]'" in result.stderr


def test_models_lists_the_shipped_models_without_torch_and_says_what_the_networks_need():
    result = run_without_torch("from ferkit.cli import app\napp(['models'])")
    assert result.returncode == 0, result.stderr
    for name in ("default", "default-int8", "ferplus", "ferplus-int8"):
        assert f" {name} " in result.stdout
    assert "networks: building them to count parameters needs torch (pip install 'ferkit[train]')" in result.stdout
