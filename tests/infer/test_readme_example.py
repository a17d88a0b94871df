"""The README's Python example runs as printed, on the shipped model and a picture with a face."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
PICTURE = Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"


def readme_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_python_example_names_the_face_on_a_photo(tmp_path, monkeypatch, capsys):
    (example,) = [block for block in readme_python_blocks() if "Recognizer()" in block]
    shutil.copy(PICTURE, tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines, "the example printed no face"
    _x, _y, w, h, label, probability = lines[0].split()
    assert int(w) > 40 and int(h) > 40
    assert label == "happy" and 0.5 < float(probability) <= 1.0
