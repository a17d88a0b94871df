"""Run the app with uvicorn: `ferkit serve` (the REST API) and `ferkit play` (the same server, page opened)."""

from __future__ import annotations

import sys
import threading
import webbrowser

from ferkit.game.settings import ServerSettings


def run_server(
    settings: ServerSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> None:
    import uvicorn

    from ferkit.game.app import create_app

    app = create_app(settings)  # loads the model first: a bad --model fails before the port opens
    scheme = "https" if ssl_certfile else "http"
    if host not in ("127.0.0.1", "localhost", "::1") and not ssl_certfile:
        # browsers give a page its camera only on https or on localhost
        print(
            "note: a phone's browser allows the camera only over https; start with --ssl-certfile and "
            "--ssl-keyfile (README: 'Play on a phone') or the page will say it has no camera",
            file=sys.stderr,
        )
    if open_browser:
        shown_host = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host
        threading.Timer(1.0, webbrowser.open, args=(f"{scheme}://{shown_host}:{port}/",)).start()
    uvicorn.run(
        app,
        host=host,
        port=port,
        ws_max_size=4
        * settings.max_frame_bytes,  # bigger messages close the socket; smaller oversize ones get a message
        log_level="info",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
