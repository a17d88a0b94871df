"""The import contracts of pyproject.toml hold: the layer order, no torch and no dataset stack where players are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold(monkeypatch, capsys):
    cli = pytest.importorskip("importlinter.cli", reason="import-linter not installed (.[dev])")
    monkeypatch.chdir(ROOT)
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"))
    assert code == 0, capsys.readouterr().out[-3000:]
