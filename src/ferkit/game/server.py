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
    config = uvicorn_config(app, settings, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    uvicorn.Server(config).run()


def uvicorn_config(app, settings: ServerSettings, *, host: str, port: int, log_level: str = "info", **extra):
    """uvicorn with the settings' connection limits (README: "Limits"); the tests' server uses it too."""
    import uvicorn

    from ferkit.game.protocol import head_timeout_protocol

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=head_timeout_protocol(settings.request_head_timeout_s),
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_seconds,
        # bigger messages close the socket; smaller oversize ones get a message
        ws_max_size=4 * settings.max_frame_bytes,
        log_level=log_level,
        **extra,
    )
