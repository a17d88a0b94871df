"""The game's own page never builds HTML from strings: player names and messages go through textContent.

Vendored third-party files (static/vendor/: Swagger UI for /docs, which shows the API schema, not players'
text; onnxruntime-web, which runs the model and touches no page text) are left out; they are pinned by
version and refreshed with scripts/vendor_npm.sh. Our own ES modules (*.mjs) are checked like game.js.
"""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "src" / "ferkit" / "game" / "static"
HTML_SINKS = re.compile(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b")


def test_the_page_scripts_use_no_html_sinks():
    own = [p for p in STATIC.rglob("*") if p.suffix in (".js", ".mjs", ".html") and "vendor" not in p.parts]
    assert {"game.js", "faces.mjs", "imageops.mjs", "local_play.mjs", "index.html"} <= {p.name for p in own}
    offenders = [f"{p.name}:{n}" for p in own for n, line in enumerate(p.read_text().splitlines(), 1)
                 if HTML_SINKS.search(line)]  # fmt: skip
    assert offenders == []
