"""The CLI edge: arguments reach the right function, errors become a message and exit code 2."""

from __future__ import annotations

import json

from PIL import Image
from typer.testing import CliRunner

from ferkit.cli import app
from tests.conftest import write_fer2013_csv

runner = CliRunner()


def test_data_info_json(tmp_path, faces):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    result = runner.invoke(app, ["data", "info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["rows"] == len(faces)
    assert info["class_counts"]["Training"] == faces.split("Training").class_counts()


def test_data_info_table(tmp_path, faces):
    result = runner.invoke(app, ["data", "info", str(write_fer2013_csv(tmp_path / "fer2013.csv", faces))])
    assert result.exit_code == 0
    assert "PrivateTest" in result.stdout and "surprise" in result.stdout


def test_bad_file_gives_message_and_exit_code(tmp_path):
    (tmp_path / "bad.csv").write_text("emotion,pixels,Usage\n9,1 2,Training\n")
    result = runner.invoke(app, ["data", "info", str(tmp_path / "bad.csv")])
    assert result.exit_code == 2
    assert "bad.csv, line 2" in result.stderr
    assert "Traceback" not in result.output


def test_explore_writes_figures_and_page(tmp_path, faces):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    result = runner.invoke(app, ["explore", str(path), "--out", str(tmp_path / "eda")])
    assert result.exit_code == 0, result.output
    for name, size in [
        ("thumbnails.png", (1320, 1000)),
        ("one_per_class.png", (1260, 230)),
        ("class_counts.png", (1560, 360)),
    ]:
        with Image.open(tmp_path / "eda" / name) as im:
            assert im.size == size
            assert len(im.getcolors(1 << 24)) > 10  # drawn, not blank
    with Image.open(tmp_path / "eda" / "augmentations.png") as im:
        assert im.size == (640, 1690)  # 13 rows: original, 10 ops, mixup, cutmix
    page = (tmp_path / "eda" / "index.html").read_text()
    assert "thumbnails.png" in page and "class_counts.png" in page and "augmentations.png" in page


def test_train_maps_flags_onto_the_config(monkeypatch, tmp_path):
    import ferkit.train

    seen = {}

    def fake_train(cfg, resume=None, overwrite=False):
        seen["cfg"], seen["resume"], seen["overwrite"] = cfg, resume, overwrite
        from ferkit.train.loop import TrainResult

        return TrainResult(tmp_path, 0.5, 1)

    monkeypatch.setattr(ferkit.train, "train", fake_train)
    result = runner.invoke(
        app,
        [
            "train",
            "--recipe",
            "cpu",
            "--data",
            "x.csv",
            "--out",
            str(tmp_path),
            "--set",
            "lr=0.02",
            "--set",
            "epochs=3",
            "--set",
            "channels_last=false",
        ],
    )
    assert result.exit_code == 0, result.output
    cfg = seen["cfg"]
    assert (cfg.model, cfg.lr, cfg.epochs, cfg.channels_last, cfg.data) == ("fer-vgg-s", 0.02, 3, False, "x.csv")
    assert seen["overwrite"] is False
    bad = runner.invoke(app, ["train", "--data", "x.csv", "--set", "speed=fast"])
    assert bad.exit_code == 2 and "expected KEY=VALUE with KEY one of" in bad.stderr


def test_train_refuses_a_finished_run_and_names_the_default(tmp_path):
    (tmp_path / "best.pt").write_bytes(b"a finished run")
    refused = runner.invoke(app, ["train", "--recipe", "smoke", "--data", "x.csv", "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "already holds a run (best.pt)" in refused.stderr
    assert (tmp_path / "best.pt").read_bytes() == b"a finished run"
    assert "runs/latest" in runner.invoke(app, ["train", "--help"]).output
