"""`ferkit predict`: every face in photos, videos or a webcam, with its expression."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ferkit.cli.common import DetectorOpt, ModelOpt, RuleOpt, _fail, command, console, err_console
from ferkit.cli.fast import FastOpt, MinFaceOpt, fast_settings
from ferkit.errors import DataError


@command("predict")
def predict_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="images, videos, or folders of them")] = None,  # noqa: UP045
    model: ModelOpt = "default",
    tta: Annotated[str, typer.Option(help="none, or flip: also classify each mirrored face and average")] = "none",
    rule: RuleOpt = "balanced",
    detector: DetectorOpt = "mtcnn",
    out: Annotated[Optional[Path], typer.Option(help="write annotated copies here")] = None,  # noqa: UP045
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line per image or video frame")] = False,
    webcam: Annotated[Optional[int], typer.Option(help="read this camera (0: the first) instead of files")] = None,  # noqa: UP045
    stride: Annotated[int, typer.Option(help="videos: analyse every N-th frame")] = 1,
    smoothing: Annotated[float, typer.Option(help="videos: weight of the past in the moving average, 0-1")] = 0.6,
    min_face: MinFaceOpt = None,
    detect_every: Annotated[
        int, typer.Option(help="videos: find faces every N-th analysed frame, follow them in between (faster)", min=1)
    ] = 1,
    jobs: Annotated[int, typer.Option(help="photos: analyse with this many processes (one per core)", min=1)] = 1,
    redo: Annotated[
        bool, typer.Option("--redo", help="photos: analyse again those already annotated in --out")
    ] = False,
    start: Annotated[float, typer.Option(help="videos: begin at this second")] = 0.0,
    end: Annotated[Optional[float], typer.Option(help="videos: stop after this second")] = None,  # noqa: UP045
    timeline: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="videos: write each face's expressions over time here (csv, json, png, html); resumes"),
    ] = None,
    fast: FastOpt = False,
) -> None:
    """Find every face in photos, videos or a webcam and name its expression (onnxruntime; no torch needed)."""
    from ferkit.data.images import IMAGE_SUFFIXES
    from ferkit.infer import Recognizer
    from ferkit.infer.batch import PhotoTask, analyse_photos
    from ferkit.infer.output_names import OutputNames
    from ferkit.infer.recognizer import TTA_CHOICES
    from ferkit.infer.video import VIDEO_SUFFIXES
    from ferkit.infer.video_job import VideoOptions

    if webcam is None and not paths:
        raise _fail("give images, videos or folders, or --webcam 0")
    if fast:
        model, detector, min_face = fast_settings(model, "default", detector, min_face)
    if tta not in TTA_CHOICES:
        raise _fail(f"--tta must be one of {', '.join(TTA_CHOICES)}, not {tta!r}")
    files: list[Path] = []
    wanted = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    for path in paths or []:
        if not path.is_dir():
            files.append(path)  # a missing or unreadable file is reported when its turn comes
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file())
        media = [p for p in found if p.suffix.lower() in wanted]
        if len(media) < len(found):
            err_console.print(
                f"{path}: skipping {len(found) - len(media)} file(s) that are not images or videos "
                f"({', '.join(sorted(wanted))})",
                highlight=False,
                markup=False,
            )
        if not media:
            raise _fail(f"{path}: no images or videos in this folder")
        files += media
    options = VideoOptions(  # ferkit.infer.video_job
        stride=stride, smoothing=smoothing, detect_every=detect_every, start=start, end=end, timeline=timeline
    )
    names = OutputNames(out) if out is not None else None
    photos = [f for f in files if f.suffix.lower() not in VIDEO_SUFFIXES]
    tasks = [PhotoTask(f, names.name_for(f, ".annotated.jpg") if names else None) for f in photos]
    unreadable: list[Path] = []
    skipped = 0
    for result in analyse_photos(
        tasks, model=model, detector=detector, tta=tta, jobs=jobs, redo=redo, rule=rule, min_face=min_face
    ):
        if result.error is not None:  # report it and go on: one bad file must not stop a batch
            err_console.print(f"[red]error:[/red] {escape(result.error)}", highlight=False)
            unreadable.append(result.path)
        elif result.skipped:
            skipped += 1
        else:
            _print_photo(result, as_json)
    if skipped:
        err_console.print(f"{skipped} photo(s) already annotated in {out}: skipped (--redo analyses them again)")
    videos = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
    failed = False
    if webcam is not None or videos:
        recognizer = Recognizer(model, detector, tta=tta, rule=rule, min_face=min_face)
        if webcam is not None:
            failed = not _predict_video(recognizer, webcam, names, as_json, options)
        for file in videos:
            failed |= not _predict_video(recognizer, file, names, as_json, options)
    if unreadable:
        raise _fail(f"{len(unreadable)} of {len(files)} files could not be read: {', '.join(map(str, unreadable))}")
    if failed:
        raise typer.Exit(2)


def _predict_video(recognizer, source, names, as_json: bool, options) -> bool:
    """One video file or camera, streamed (ferkit.infer.video_job); here only what is printed. False on error."""
    from collections import Counter

    from ferkit.infer.video_job import VideoJob

    name = f"camera {source}" if isinstance(source, int) else str(source)
    window = isinstance(source, int) and _has_display()
    live = isinstance(source, int) and not window and not as_json
    if names is not None:
        annotated = names.name_for("webcam" if isinstance(source, int) else source, ".annotated.mp4")
        options = replace(options, annotated=annotated)
    labels: dict[int, Counter] = {}
    frames, job = 0, None
    try:
        job = VideoJob(recognizer, source, replace(options, draw=window))
        if job.first_frame and not as_json:
            console.print(f"{name}: resuming the timeline in {options.timeline} at frame {job.first_frame}")
        with _progress(name, None if as_json or live else job.frames_to_do) as bar:
            for result in job.run():
                frames += 1
                for t in result.tracks:
                    labels.setdefault(t.track_id, Counter())[t.label] += 1
                _report_frame(name, result.frame, result.tracks, as_json, live)
                bar.advance()
                if window and _show(result.drawn):
                    break
    except DataError as e:
        err_console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
        if job is not None:
            job.close()
        return False
    except KeyboardInterrupt:
        pass
    if job.close() is not None and not as_json:
        console.print(f"  timeline: {options.timeline / 'index.html'}")
    if not as_json:
        _print_video_summary(name, frames, labels)
    return frames > 0


class _progress:
    """A transient bar with frames/s and time left on stderr (nothing when `total` is None)."""

    def __init__(self, name: str, total: int | None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = None
        if total:
            self.bar = Progress(TextColumn(name), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[fps]}"),
                                TimeRemainingColumn(), console=err_console, transient=True)  # fmt: skip
            self.task = self.bar.add_task(name, total=total, fps="")
        self.started = 0.0
        self.done = 0

    def __enter__(self):
        self.started = time.perf_counter()
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def advance(self) -> None:
        self.done += 1
        if self.bar is not None:
            rate = self.done / max(1e-9, time.perf_counter() - self.started)
            self.bar.update(self.task, advance=1, fps=f"{rate:.1f} frames/s")


def _print_photo(result, as_json: bool) -> None:
    faces = result.faces
    if as_json:
        print(json.dumps({"image": str(result.path), "faces": faces}))
        return
    if not faces:
        console.print(f"{result.path}: no face found")
    else:
        found = ", ".join(f"{f['label']} {f['probabilities'][f['label']]:.0%} at ({f['box']['x']},{f['box']['y']})"
                          for f in faces)  # fmt: skip
        console.print(f"{result.path}: {found}")
    if result.annotated is not None:
        console.print(f"  annotated: {result.annotated}")


def _report_frame(name: str, frame, tracks, as_json: bool, live: bool) -> None:
    if live:  # a camera with no window to show it in: one line per frame
        found = ", ".join(f"face {t.track_id}: {t.label} {t.probabilities[t.label]:.0%}" for t in tracks)
        console.print(f"{frame.seconds:7.2f} s  {found or 'no face'}")
    if as_json:
        faces = [t.to_dict() for t in tracks]
        print(json.dumps({"video": name, "frame": frame.index, "seconds": round(frame.seconds, 3), "faces": faces}))


def _show(drawn) -> bool:
    """Show a frame in the window; True when the user pressed q."""
    import cv2

    cv2.imshow("ferkit (q quits)", drawn)
    return cv2.waitKey(1) & 0xFF == ord("q")


def _print_video_summary(name: str, frames: int, labels: dict) -> None:
    if frames == 0:
        console.print(f"{name}: no frames could be read")
    elif not labels:
        console.print(f"{name}: {frames} frames, no face found")
    else:
        summary = ", ".join(
            f"face {k}: mostly {c.most_common(1)[0][0]} ({sum(c.values())} frames)" for k, c in labels.items()
        )
        console.print(f"{name}: {frames} frames; {summary}")


def _has_display() -> bool:
    """A window needs a screen and an OpenCV built with a GUI (opencv-python-headless has none)."""
    import os

    import cv2

    build = cv2.getBuildInformation()
    gui = "GUI:" in build and "NONE" not in build.split("GUI:")[1][:40]
    return gui and bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt")
