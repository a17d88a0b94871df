"""The Recognizer on the shipped ONNX model: crops in, probabilities out; photos without faces say so."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.infer import Recognizer
from tests.conftest import FER2013_TARBALL

runner = CliRunner()


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_predict_faces_gives_what_the_card_was_evaluated_with():
    """The player's path (onnxruntime, no torch) gives the evaluated probabilities, with and without the rule.

    The card's PrivateTest figures themselves are reproduced by tests/evaluate/test_shipped_model.py through
    `evaluate`; here the same predictor against the Recognizer on 300 real faces is enough.
    """
    from ferkit.data import load_faces
    from ferkit.evaluate.predictors import load_predictor

    faces = np.ascontiguousarray(load_faces(FER2013_TARBALL).split("PrivateTest").faces[:300])
    for recognizer, rule in ((Recognizer(rule="as-trained"), "as-trained"), (Recognizer(), "balanced")):
        probs = recognizer.predict_faces(faces)
        np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
        np.testing.assert_allclose(probs, load_predictor("default", rule).predict_proba(faces), atol=1e-6)


def test_flip_tta_averages_each_face_and_its_mirror(tmp_path):
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), np.uint8)
    once, flipped = Recognizer(), Recognizer(tta="flip")
    expected = (once.predict_faces(faces) + once.predict_faces(np.ascontiguousarray(faces[:, :, ::-1]))) / 2
    np.testing.assert_allclose(flipped.predict_faces(faces), expected, atol=1e-6)
    assert flipped.predict_faces(faces[:0]).shape[0] == 0
    with pytest.raises(ValueError, match="tta must be one of none, flip, not 'tencrop'"):
        Recognizer(tta="tencrop")
    cv2.imwrite(str(tmp_path / "wall.jpg"), np.full((60, 80, 3), 128, np.uint8))
    assert runner.invoke(app, ["predict", str(tmp_path / "wall.jpg"), "--tta", "flip"]).exit_code == 0
    result = runner.invoke(app, ["predict", str(tmp_path / "wall.jpg"), "--tta", "mirror"])
    assert result.exit_code == 2 and "--tta must be one of none, flip, not 'mirror'" in result.output


def test_no_face_photo(tmp_path):
    cv2.imwrite(str(tmp_path / "wall.jpg"), np.full((240, 320, 3), 128, np.uint8))
    assert Recognizer().predict(cv2.imread(str(tmp_path / "wall.jpg"))) == []
    result = runner.invoke(app, ["predict", str(tmp_path / "wall.jpg")])
    assert result.exit_code == 0 and "no face found" in result.stdout
    result = runner.invoke(app, ["predict", str(tmp_path), "--json", "--out", str(tmp_path / "out")])
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"image": str(tmp_path / "wall.jpg"), "faces": []}
    assert (tmp_path / "out" / "wall.annotated.jpg").exists()


def test_inputs_with_the_same_stem_get_their_own_annotated_files(tmp_path):
    for folder, name, grey in (("a", "face.jpg", 60), ("b", "face.webp", 120), ("c", "face.jpg", 180)):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / name), np.full((60, 80, 3), grey, np.uint8))
    inputs = [str(tmp_path / "a" / "face.jpg"), str(tmp_path / "b" / "face.webp"), str(tmp_path / "c" / "face.jpg")]
    result = runner.invoke(app, ["predict", *inputs, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["face.annotated.jpg", "face.jpg.annotated.jpg", "face.webp.annotated.jpg"]
    greys = {p.name: int(cv2.imread(str(p)).mean()) for p in (tmp_path / "out").iterdir()}
    assert greys["face.annotated.jpg"] < greys["face.webp.annotated.jpg"] < greys["face.jpg.annotated.jpg"]
    assert "annotated: " in result.stdout


def test_bad_file_is_named_and_others_still_run(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), np.full((120, 160, 3), 90, np.uint8))
    (tmp_path / "b.jpg").write_text("not an image")
    result = runner.invoke(app, ["predict", str(tmp_path / "b.jpg"), str(tmp_path / "a.jpg")])
    assert result.exit_code == 2
    assert "b.jpg: not a readable image" in result.stderr
    assert "a.jpg: no face found" in result.stdout


def test_recognizer_is_safe_to_share_between_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    images = [cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 3) for _ in range(8)]
    crops = rng.integers(0, 256, (8, 4, 48, 48), dtype=np.uint8)
    recognizer = Recognizer()
    expected = [(recognizer.predict(im), recognizer.predict_faces(c)) for im, c in zip(images, crops)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda k: (recognizer.predict(images[k]), recognizer.predict_faces(crops[k])), range(8)))
    for (faces_a, probs_a), (faces_b, probs_b) in zip(expected, got):
        assert [f.box for f in faces_a] == [f.box for f in faces_b]
        np.testing.assert_allclose(probs_a, probs_b, atol=1e-6)


def test_output_names_fall_back_to_a_number():
    from pathlib import Path

    from ferkit.infer.output_names import OutputNames

    names = OutputNames(Path("out"))
    got = [names.name_for(p, ".x") for p in ("a/f.jpg", "b/f.jpg", "c/f.jpg", "a/f.jpg")]
    assert [p.name for p in got] == ["f.x", "f.jpg.x", "f-2.x", "f.x"]  # the same input keeps its name


def test_annotations_are_legible_and_never_cover_the_faces():
    from ferkit.infer.annotate import annotate
    from ferkit.infer.recognizer import FacePrediction
    from ferkit.labels import EMOTIONS
    from ferkit.vision import FaceBox

    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)  # as busy as it gets
    boxes = [FaceBox(60, 120, 150, 150, 0.99), FaceBox(330, 100, 150, 150, 0.98)]
    probs = dict(zip(EMOTIONS, (0.02, 0.01, 0.05, 0.80, 0.04, 0.03, 0.05)))
    drawn = annotate(image, [FacePrediction(b, probs) for b in boxes])
    for b in boxes:  # inside each face (off its outline and label tag) nothing is drawn
        inner = (slice(b.y + 30, b.y + b.h - 6), slice(b.x + 6, b.x + b.w - 6))
        assert np.array_equal(drawn[inner], image[inner])
    below = drawn[boxes[0].y + boxes[0].h + 4 : boxes[0].y + boxes[0].h + 100, boxes[0].x : boxes[0].x + 120]
    assert below.mean() < image.mean() * 0.6  # the probability panel sits below the face, on a dark backing
