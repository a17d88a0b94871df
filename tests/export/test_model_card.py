"""The model card written beside an export: the export's own accuracy, in the label space the model has."""

from __future__ import annotations

import json

import numpy as np

from ferkit.export.model_card import write_model_card
from ferkit.export.onnx_export import export_onnx
from ferkit.train import train
from tests.data.test_ferplus_and_summary import write_votes
from tests.train.conftest import tiny_csv, tiny_faces, tiny_run_config  # noqa: F401 (fixture)


def test_a_ferplus_model_card_scores_the_majority_vote_and_names_its_start(tiny_csv, tmp_path):  # noqa: F811
    faces = tiny_faces()
    votes = np.zeros((len(faces), 10), int)
    ferplus_of = {0: 4, 1: 5, 2: 6, 3: 1, 4: 3, 5: 2, 6: 0}  # FER2013 class -> FER+ column
    votes[np.arange(len(faces)), [ferplus_of[int(c)] for c in faces.labels]] = 9
    votes_csv = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes)
    train(tiny_run_config(tiny_csv, tmp_path / "fer2013", epochs=1, augment="none"))
    config = tiny_run_config(
        tiny_csv,
        tmp_path / "ferplus",
        epochs=1,
        labels="ferplus",
        ferplus=str(votes_csv),
        init=str(tmp_path / "fer2013"),
    )
    train(config)
    out = tmp_path / "ferplus.onnx"
    export_onnx(tmp_path / "ferplus" / "best.pt", out)
    card = json.loads(
        write_model_card(tmp_path / "ferplus" / "best.pt", out, tiny_csv, command="x", ferplus=votes_csv).read_text()
    )
    assert card["classes"][7] == "contempt" and "FER+ Test" in card["reported_on"]
    assert card["recipe"]["init"] == str(tmp_path / "fer2013")
    assert set(card["results"]) == {"PublicTest/none", "PublicTest/flip", "PrivateTest/none", "PrivateTest/flip"}
    assert card["results"]["PrivateTest/none"]["n"] == 16  # every tiny PrivateTest face has a majority
    assert "Fine-tuned from" in out.with_name("ferplus.card.md").read_text()
