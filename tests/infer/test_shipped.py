"""`ferkit models`' shipped table: every shipped model, its accuracy as its card says, its rule and judge."""

from __future__ import annotations

from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.infer.shipped import shipped_models
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS
from ferkit.weights import SHIPPED_MODELS, shipped_model_card


def test_each_shipped_model_is_listed_with_its_cards_accuracy_rule_and_judge():
    rows = shipped_models()
    assert [m.name for m in rows] == list(SHIPPED_MODELS)
    for m in rows:
        card = shipped_model_card(m.name)
        assert m.class_names == (FERPLUS_EMOTIONS if m.name.startswith("ferplus") else EMOTIONS)
        assert m.report_accuracy == card["results"]["PrivateTest/none"]["accuracy"]
        assert m.select_accuracy == card["results"]["PublicTest/none"]["accuracy"]
        assert m.has_judge and m.rule_power is not None and 1 < m.megabytes < 10
    by_name = {m.name: m for m in rows}
    assert by_name["ferplus"].split_names == ("FER+ Valid", "FER+ Test")
    assert by_name["default"].split_names == ("PublicTest", "PrivateTest")


def test_the_models_command_shows_both_tables():
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "86.27%" in result.output and "71.86%" in result.output  # (cells may wrap: figures, not phrases)
    assert "play uses ferplus" in result.output
    assert "fer-vgg-s" in result.output and "1,765,031" in result.output
