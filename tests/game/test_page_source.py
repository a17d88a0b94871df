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


def test_the_api_docs_ignore_a_spec_or_config_named_in_the_query():
    """Swagger UI (/docs, vendored) renders HTML from the spec it loads: it must only ever load our own schema.

    Old Swagger UI versions took `?url=` / `?configUrl=` from the address bar (a known DOM-XSS route); the
    vendored 5.x has `queryConfigEnabled` off, and FastAPI's page names /openapi.json itself.
    """
    import tempfile

    from fastapi.testclient import TestClient

    from ferkit.game.app import create_app
    from ferkit.game.settings import ServerSettings

    bundle = (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").read_text()
    assert "queryConfigEnabled:!1" in bundle  # the default stays off in the copy we ship
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestClient(create_app(ServerSettings(leaderboard_path=Path(tmp) / "lb.sqlite3"))) as client,
    ):
        page = client.get("/docs?url=https://evil.example/x.json&configUrl=https://evil.example/c.json").text
    assert "evil.example" not in page and "url: '/openapi.json'" in page
    assert "queryConfigEnabled" not in page or "queryConfigEnabled: false" in page
