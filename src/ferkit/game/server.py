"""Run the app with uvicorn: `ferkit serve` (the REST API) and `ferkit play` (the same server, page opened)."""

from __future__ import annotations

import threading
import webbrowser

from ferkit.game.settings import ServerSettings


def run_server(
    settings: ServerSettings, *, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False
) -> None:
    import uvicorn

    from ferkit.game.app import create_app

    app = create_app(settings)  # loads the model first: a bad --model fails before the port opens
    if open_browser:
        shown_host = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host
        threading.Timer(1.0, webbrowser.open, args=(f"http://{shown_host}:{port}/",)).start()
    uvicorn.run(
        app,
        host=host,
        port=port,
        ws_max_size=4
        * settings.max_frame_bytes,  # bigger messages close the socket; smaller oversize ones get a message
        log_level="info",
    )
