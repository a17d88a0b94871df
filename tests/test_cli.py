"""The CLI edge: arguments reach the right function, errors become a message and exit code 2."""

from __future__ import annotations

import json

import pytest
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

    # a setting given with --set that also has an option of its own is not erased by the option left out
    settings = ["model=fer-resnet-s", "labels=ferplus", "ferplus=v.csv", "progress=false", "data=y.csv"]
    given = runner.invoke(
        app, ["train", "--recipe", "cpu", "--out", str(tmp_path), *[a for kv in settings for a in ("--set", kv)]]
    )
    assert given.exit_code == 0, given.output
    cfg = seen["cfg"]
    assert (cfg.model, cfg.labels, cfg.ferplus, cfg.progress, cfg.data) == (
        "fer-resnet-s",
        "ferplus",
        "v.csv",
        False,
        "y.csv",
    )
    both = runner.invoke(
        app, ["train", "--recipe", "cpu", "--data", "x.csv", "--model", "seed-vgg", "--set", "model=fer-resnet-s"]
    )
    assert both.exit_code == 0 and seen["cfg"].model == "seed-vgg"  # the option given outright wins


def test_train_refuses_a_finished_run_and_names_the_default(tmp_path):
    (tmp_path / "best.pt").write_bytes(b"a finished run")
    refused = runner.invoke(app, ["train", "--recipe", "smoke", "--data", "x.csv", "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "already holds a run (best.pt)" in refused.stderr
    assert (tmp_path / "best.pt").read_bytes() == b"a finished run"
    assert "runs/latest" in runner.invoke(app, ["train", "--help"]).output


def test_predict_on_folders_reports_skips_empty_folders_and_bad_images_and_goes_on(tmp_path):
    import cv2
    import numpy as np
    from typer.testing import CliRunner

    from ferkit.cli import app

    runner = CliRunner()
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["predict", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "no images or videos in this folder" in result.stderr
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), np.full((60, 60, 3), 128, np.uint8))
    (photos / "broken.jpg").write_text("not a jpeg")
    (photos / "notes.txt").write_text("hello")
    cv2.imwrite(str(photos / "b.png"), np.full((60, 60, 3), 90, np.uint8))
    result = runner.invoke(app, ["predict", str(photos)])
    assert result.exit_code == 2
    assert "skipping 1 file(s) that are not images or videos" in result.stderr
    assert "broken.jpg" in result.stderr and "1 of 3 files could not be read" in result.stderr
    assert "a.png: no face found" in result.stdout and "b.png: no face found" in result.stdout  # went on


def test_split_names_are_accepted_in_any_case():
    from ferkit.errors import UnknownName
    from ferkit.labels import split_name

    assert split_name("privatetest") == "PrivateTest" and split_name(" TRAINING ") == "Training"
    with pytest.raises(UnknownName, match="unknown split 'dev'; choose one of: Training, PublicTest"):
        split_name("dev")
    with pytest.raises(UnknownName, match=r"'Valid' \(FER\+ Valid is PublicTest and FER\+ Test is PrivateTest\)"):
        split_name("Valid")


def test_a_missing_extra_is_named_with_its_install_command_not_a_traceback():
    from ferkit.cli.common import missing_extra

    advice = missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"))
    assert advice == "this needs torch, which comes with ferkit's 'train' extra: pip install 'ferkit[train]'"
    assert missing_extra(ModuleNotFoundError("x", name="something_else")) is None


def test_error_lines_keep_square_brackets(capsys):
    from ferkit.cli.common import _fail

    _fail("pip install 'ferkit[train]'")
    assert "pip install 'ferkit[train]'" in capsys.readouterr().err


def test_an_impossible_port_is_refused_before_anything_starts():
    from typer.testing import CliRunner

    from ferkit.cli import app

    result = CliRunner().invoke(app, ["serve", "--port", "99999"])
    assert result.exit_code == 2 and "65535" in result.output and "Traceback" not in result.output


def test_photos_with_two_jobs_give_the_same_results_in_order_and_reruns_skip_what_is_done(tmp_path):
    import json as json_module

    import cv2
    import numpy as np
    from typer.testing import CliRunner

    from ferkit.cli import app

    runner = CliRunner()
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for k in range(5):
        cv2.imwrite(
            str(photos / f"p{k}.png"), cv2.GaussianBlur(rng.integers(0, 255, (90, 120, 3), np.uint8), (0, 0), 3)
        )
    (photos / "p9.jpg").write_text("broken")
    one = runner.invoke(app, ["predict", str(photos), "--json"])
    two = runner.invoke(app, ["predict", str(photos), "--json", "--jobs", "2"])
    assert one.exit_code == two.exit_code == 2 and "p9.jpg" in two.stderr  # the bad one reported, the rest ran
    lines = [json_module.loads(line) for line in two.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(photos / f"p{k}.png") for k in range(5)]
    assert one.stdout == two.stdout
    out = tmp_path / "out"
    assert (
        runner.invoke(app, ["predict", str(photos / "p0.png"), str(photos / "p1.png"), "--out", str(out)]).exit_code
        == 0
    )
    again = runner.invoke(app, ["predict", str(photos / "p0.png"), str(photos / "p1.png"), "--out", str(out)])
    assert "2 photo(s) already annotated" in again.stderr and "annotated:" not in again.stdout
    redo = runner.invoke(app, ["predict", str(photos / "p0.png"), "--out", str(out), "--redo"])
    assert "annotated:" in redo.stdout


def test_predict_looks_only_for_faces_from_min_face_with_any_detector_and_jobs():
    import json as json_module
    from pathlib import Path

    from typer.testing import CliRunner

    from ferkit.cli import app

    photo = Path(__file__).resolve().parents[1] / "docs" / "predict-astronaut.jpg"  # her face is ~90 px across
    runner = CliRunner()

    def faces(*options: str) -> int:
        result = runner.invoke(app, ["predict", str(photo), "--json", *options])
        assert result.exit_code == 0, result.output
        return len([f for f in json_module.loads(result.stdout.splitlines()[0])["faces"] if f["detection_score"] > 0.9])

    assert faces() == faces("--min-face", "50") == faces("--detector", "mtcnn-fast", "--min-face", "50") == 1
    assert faces("--min-face", "200") == faces("--min-face", "200", "--jobs", "2") == 0  # no face that big
    assert runner.invoke(app, ["predict", str(photo), "--min-face", "0"]).exit_code != 0


def test_predict_fast_takes_the_fast_settings_where_none_is_given(monkeypatch):
    from pathlib import Path

    from typer.testing import CliRunner

    import ferkit.infer.batch
    from ferkit.cli import app
    from ferkit.infer.recognizer import FAST_SETTINGS

    photo = Path(__file__).resolve().parents[1] / "docs" / "predict-astronaut.jpg"
    runner = CliRunner()
    result = runner.invoke(app, ["predict", str(photo), "--json", "--fast"])
    assert result.exit_code == 0, result.output
    assert '"label": "' in result.stdout  # her face, classified by the int8 model
    seen: list[dict] = []
    monkeypatch.setattr(ferkit.infer.batch, "analyse_photos", lambda tasks, **kwargs: seen.append(kwargs) or iter(()))
    assert runner.invoke(app, ["predict", str(photo), "--fast"]).exit_code == 0
    assert (
        runner.invoke(app, ["predict", str(photo), "--fast", "--min-face", "80", "--model", "ferplus"]).exit_code == 0
    )
    assert {key: seen[0][key] for key in FAST_SETTINGS} == FAST_SETTINGS
    assert (seen[1]["model"], seen[1]["detector"], seen[1]["min_face"]) == ("ferplus", "mtcnn-fast", 80)


def test_fast_keeps_what_is_given_and_takes_each_models_int8_form():
    from ferkit.cli.fast import fast_settings

    assert fast_settings("default", "default", "mtcnn", None) == ("default-int8", "mtcnn-fast", 50.0)  # predict, serve
    assert fast_settings("ferplus", "ferplus", "mtcnn", None) == ("ferplus-int8", "mtcnn-fast", 50.0)  # play
    assert fast_settings("ferplus", "default", "haar", 80.0) == ("ferplus", "haar", 80.0)  # given: kept
    assert fast_settings("my.onnx", "ferplus", "mtcnn", None) == ("my.onnx", "mtcnn-fast", 50.0)
