"""`ferkit serve`, `play` and `models`: the REST API, Best Actor, and the model registry."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ferkit.cli.common import DetectorOpt, ModelOpt, RuleOpt, _fail, command, console
from ferkit.cli.fast import FastOpt, MinFaceOpt, fast_settings

HostOption = Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 lets the network (a phone) in")]
PortOption = Annotated[int, typer.Option(help="port", min=1, max=65535)]
LeaderboardOption = Annotated[Optional[Path], typer.Option(help="SQLite file for the game's scores")]  # noqa: UP045


class InferenceMode(str, Enum):
    browser = "browser"
    server = "server"


def _server_settings(model: str, detector: str, leaderboard: Path | None, **extra: object):
    from ferkit.game.settings import ServerSettings
    from ferkit.vision.detectors import DETECTORS

    DETECTORS.entry(detector)  # an unknown name fails here, before the server starts
    return ServerSettings(model=model, detector=detector, leaderboard_path=leaderboard, **extra)


def _run_server_or_fail(settings, **options) -> None:
    """run_server, with a bad model or leaderboard reported in one line before the port opens."""
    from ferkit.game.server import run_server

    try:
        run_server(settings, **options)
    except OSError as e:  # the port is taken, or the address is not this machine's
        raise _fail(f"cannot listen on {options.get('host')}:{options.get('port')} ({e.strerror or e})") from None


@command("serve")
def serve_command(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    model: ModelOpt = "default",
    detector: DetectorOpt = "mtcnn",
    leaderboard: LeaderboardOption = None,
    max_upload_mb: Annotated[float, typer.Option(help="largest photo accepted by POST /v1/predict")] = 10.0,
    tta: Annotated[
        str, typer.Option(help="none, or flip: each face and its mirror averaged (the game then scores on the server)")
    ] = "none",
    rule: RuleOpt = "balanced",
    min_face: MinFaceOpt = None,
    fast: FastOpt = False,
) -> None:
    """The REST API (POST /v1/predict, GET /healthz, docs at /docs); the game's page is served too."""
    from ferkit.infer.recognizer import TTA_CHOICES

    if tta not in TTA_CHOICES:
        raise _fail(f"--tta must be one of {', '.join(TTA_CHOICES)}, not {tta!r}")
    upload_bytes = int(max_upload_mb * 1024 * 1024)
    if fast:
        model, detector, min_face = fast_settings(model, "default", detector, min_face)
    settings = _server_settings(
        model, detector, leaderboard, max_upload_bytes=upload_bytes, tta=tta, rule=rule, min_face=min_face
    )
    _run_server_or_fail(settings, host=host, port=port)


@command("play")
def play_command(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    # the FER+ model is the more even judge (README "Fair scoring": medians 63-78 vs 40-73 on PrivateTest frames)
    model: ModelOpt = "ferplus",
    detector: DetectorOpt = "mtcnn",
    leaderboard: LeaderboardOption = None,
    rounds: Annotated[int, typer.Option(help="rounds in a game")] = 5,
    capture_seconds: Annotated[float, typer.Option(help="seconds of camera per round")] = 3.0,
    countdown_seconds: Annotated[float, typer.Option(help="length of the 3-2-1 countdown")] = 3.0,
    browser: Annotated[bool, typer.Option(help="open the game in the default browser")] = True,
    seed: Annotated[Optional[int], typer.Option(help="draw the same targets every game (practice, tests)")] = None,  # noqa: UP045
    ssl_certfile: Annotated[Optional[Path], typer.Option(help="TLS certificate: phones need https")] = None,  # noqa: UP045
    ssl_keyfile: Annotated[Optional[Path], typer.Option(help="TLS private key")] = None,  # noqa: UP045
    inference: Annotated[
        InferenceMode,
        typer.Option(help="browser: the page runs the model and frames stay on the device; server: frames are sent"),
    ] = InferenceMode.browser,
    min_face: MinFaceOpt = None,
    fast: FastOpt = False,
) -> None:
    """Best Actor: the screen names an expression, you make the face, the model scores it."""
    if fast:
        model, detector, min_face = fast_settings(model, "ferplus", detector, min_face)
    settings = _server_settings(
        model,
        detector,
        leaderboard,
        min_face=min_face,
        inference=inference.value,
        rounds=rounds,
        capture_seconds=capture_seconds,
        countdown_seconds=countdown_seconds,
        seed=seed,
    )
    _run_server_or_fail(
        settings,
        host=host,
        port=port,
        open_browser=browser,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


@command("detectors")
def detectors_command() -> None:
    """List the registered face detectors (`--detector NAME` on predict, serve and play)."""
    from ferkit.vision.detectors import DEFAULT_DETECTOR, DETECTORS

    table = Table(title="ferkit face detectors")
    table.add_column("name")
    table.add_column("description")
    for entry in DETECTORS:
        table.add_row(entry.name + (" (default)" if entry.name == DEFAULT_DETECTOR else ""), entry.description)
    console.print(table)


@command("models")
def models_command() -> None:
    """List the registered networks with parameters and multiply-adds per face."""
    from ferkit.models import count_parameters, create_model, list_models, multiply_adds

    table = Table(title="ferkit models (input 48×48 gray)")
    for col in ("name", "parameters", "MMACs / face", "description"):
        table.add_column(col, justify="right" if col in ("parameters", "MMACs / face") else "left")
    for spec in list_models():
        net = create_model(spec.name)
        table.add_row(spec.name, f"{count_parameters(net):,}", f"{multiply_adds(net) / 1e6:,.1f}", spec.description)
    console.print(table)
