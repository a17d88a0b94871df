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


# the game judges with the FER+ model: on PrivateTest frames its judged medians lie 17 points apart where the FER2013
# model's lie 44 apart (README "Fair scoring")
GAME_MODEL = "ferplus"


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
    model: ModelOpt = GAME_MODEL,
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
        model, detector, min_face = fast_settings(model, GAME_MODEL, detector, min_face)
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
    """List the shipped models (`--model NAME`) and the registered networks with parameters and multiply-adds."""
    from ferkit.infer.shipped import shipped_models

    shipped = Table(title="shipped models (--model NAME; a path to any ferkit .onnx or .pt works too)")
    shipped.caption = f"predict and serve use default; play uses {GAME_MODEL}"
    for col in ("name", "labels", "classes", "MB", "selected on", "reported on", "balanced rule", "judge"):
        shipped.add_column(col, justify="right" if col == "MB" else "left")
    for m in shipped_models():
        (select_name, report_name), percent = m.split_names, "{:.2%}".format
        shipped.add_row(
            m.name,
            "FER+ votes" if m.ferplus else "FER2013",
            f"{len(m.class_names)}: {', '.join(m.class_names)}",
            f"{m.megabytes:.2f}",
            f"{select_name} {percent(m.select_accuracy)}" if m.select_accuracy is not None else "–",
            f"{report_name} {percent(m.report_accuracy)}" if m.report_accuracy is not None else "–",
            f"power {m.rule_power:g}" if m.rule_power is not None else "none",
            "yes" if m.has_judge else "no",
        )
    console.print(shipped)
    try:
        from ferkit.models import count_parameters, create_model, list_models, multiply_adds
    except ImportError:  # a player's install: the networks are built with torch
        console.print(
            "networks: building them to count parameters needs torch (pip install 'ferkit[train]')", markup=False
        )
        return
    table = Table(title="ferkit networks (--model NAME in train; input 48×48 gray)")
    for col in ("name", "parameters", "MMACs / face", "description"):
        table.add_column(col, justify="right" if col in ("parameters", "MMACs / face") else "left")
    for spec in list_models():
        net = create_model(spec.name)
        table.add_row(spec.name, f"{count_parameters(net):,}", f"{multiply_adds(net) / 1e6:,.1f}", spec.description)
    console.print(table)
