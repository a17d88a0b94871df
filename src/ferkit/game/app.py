"""The FastAPI app: the REST API, the game's WebSocket and page, and the leaderboard, built from settings."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

import ferkit
from ferkit.errors import BadInput
from ferkit.game import api, on_device, play
from ferkit.game.analysis import Analyser
from ferkit.game.leaderboard import Leaderboard
from ferkit.game.limits import BodySizeLimit
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from ferkit.onnx_sessions import set_intra_op_threads

STATIC = Path(__file__).parent / "static"
SWAGGER = "/static/vendor/swagger-ui"  # scripts/vendor_npm.sh swagger-ui-dist (see its VERSION file)


def create_app(settings: ServerSettings | None = None, *, recognizer: Recognizer | None = None) -> FastAPI:
    """No side effects at import: the model and the database open here."""
    settings = settings or ServerSettings()
    app = FastAPI(
        title="ferkit",
        summary="Facial expression recognition: the REST API and the Best Actor game",
        version=ferkit.__version__,
        docs_url=None,  # served below from vendored files: FastAPI's default loads them from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    if recognizer is None:
        set_intra_op_threads(settings.onnx_threads)
        recognizer = Recognizer(
            settings.model, settings.detector, tta=settings.tta, rule=settings.rule, min_face=settings.min_face
        )
    app.state.recognizer = recognizer
    app.state.analyser = Analyser(app.state.recognizer, settings)
    unknown = set(settings.targets) - set(app.state.recognizer.class_names)
    if unknown:
        names = ", ".join(app.state.recognizer.class_names)
        raise BadInput(f"targets {', '.join(sorted(unknown))} are not classes of the model ({names})")
    if app.state.recognizer.judge is None:
        logging.getLogger("ferkit.game").warning(
            "%s has no judge curves (ferkit calibrate-judge): round scores are raw probabilities, and some "
            "expressions will be much harder to win than others",
            settings.model,
        )
    if settings.inference == "browser" and not on_device.browser_ready(app.state.recognizer, settings):
        logging.getLogger("ferkit.game").warning(
            "the page runs only MTCNN itself; with the %s detector the server scores every frame", settings.detector
        )
    app.state.players = 0  # open game sockets (play.py keeps the count; one event loop, so no lock)
    app.state.leaderboard = Leaderboard(settings.leaderboard_path, judge=app.state.recognizer.identity)
    app.include_router(api.router)
    app.include_router(play.router)
    app.include_router(on_device.router)  # before the /static mount: it serves the gzipped WebAssembly

    @app.get("/api/leaderboard", tags=["game"])
    def leaderboard(request: Request, limit: int = 10) -> dict:
        """Top games overall and the best round per expression."""
        if not 1 <= limit <= 100:
            raise HTTPException(400, "limit must be between 1 and 100")
        return request.app.state.leaderboard.snapshot(limit)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the package's own copy (static/vendor/swagger-ui): it works offline."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="ferkit API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(on_device.CrossOriginIsolation)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_upload_bytes, body_timeout_s=settings.request_body_timeout_s
    )
    return app
