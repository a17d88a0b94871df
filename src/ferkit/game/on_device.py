"""Inference on the player's device: what the page needs to run detector and model itself, and the files.

GET /api/vision describes the Recognizer (detector constants, crop, model URL, class names, judge curves,
round rules) from the Python objects, so the page's port never retypes a number. The networks are
served from the files the server itself loads. onnxruntime-web's WebAssembly is stored gzipped and sent
as-is with Content-Encoding: gzip. Every response carries the cross-origin isolation headers that let
the page use WebAssembly threads.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from ferkit.face_size import FACE_SIZE
from ferkit.game.frames import STATUS_MESSAGES
from ferkit.game.rules import DIFFICULTY, HOLD_FRAMES, NAILED_IT_BONUS
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from ferkit.vision.following import FOLLOWED_FACE_SHARE, FULL_DETECTION_EVERY
from ferkit.vision.mtcnn import LEVEL_TOLERANCE, MtcnnFaceDetector, ShrunkCopies, _model_dir

router = APIRouter()
STATIC = Path(__file__).parent / "static"
ORT_FOLDER = STATIC / "vendor" / "ort"  # scripts/vendor_npm.sh onnxruntime-web (see its VERSION file)
MTCNN_NETS = ("pnet", "rnet", "onet")
GAME_MAX_FACES = 2  # a game frame: one actor, or "more than one face" (play.py analyses at most 2)
CAPTURE_WIDTH = 320  # the page analyses (and, with server inference, sends) frames this wide
VERIFY_JPEG_QUALITY = 0.92  # of the round's best frames sent back for the server to re-score
VERIFY_MARGIN = 0.25  # each verification picture is the face box plus this share of its side around it
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def browser_ready(recognizer: Recognizer, settings: ServerSettings) -> bool:
    """The page may run inference itself: asked for, and the detector is the MTCNN the page has a port of."""
    return settings.browser_inference and has_page_port(getattr(recognizer, "detector", None))


def has_page_port(detector: object) -> bool:
    """The page's faces.mjs ports MtcnnFaceDetector (with or without `shrunk_crops`), no other detector."""
    return isinstance(detector, MtcnnFaceDetector)


def vision_config(recognizer: Recognizer, settings: ServerSettings) -> dict:
    """Everything the page's Recognizer and round scorer need, from the objects the server itself uses."""
    detector = getattr(recognizer, "detector", None)
    config: dict = {
        "inference": "browser" if browser_ready(recognizer, settings) else "server",
        "face_size": FACE_SIZE,
        "level_eyes": bool(getattr(recognizer, "level_eyes", False)),  # crop_face turns the face so the eyes lie level
        "min_face": getattr(recognizer, "min_face", None),  # Recognizer.detect looks for no face smaller
        "max_faces": GAME_MAX_FACES,
        "capture_width": CAPTURE_WIDTH,
        "model": {
            "url": "/models/classifier.onnx",
            "class_names": list(recognizer.class_names),
            # the decision rule (weights/decision_rule.py): added to the logits before the softmax, as the server does
            "logit_offsets": [float(v) for v in _logit_offsets(recognizer)],
            "judge": None if recognizer.judge is None else {k: list(v) for k, v in recognizer.judge.knots.items()},
        },
        "rules": {"hold_frames": HOLD_FRAMES, "difficulty": DIFFICULTY, "nailed_bonus": NAILED_IT_BONUS},
        "status_messages": STATUS_MESSAGES,
        "following": {"full_detection_every": FULL_DETECTION_EVERY, "followed_face_share": FOLLOWED_FACE_SHARE},
        "verification": {
            "jpeg_quality": VERIFY_JPEG_QUALITY,
            "margin": VERIFY_MARGIN,
            "tolerance": settings.claim_tolerance,
        },
        "runtime": {
            "wasm_paths": "/static/vendor/ort/",
            "script": "/static/vendor/ort/ort.wasm.min.js",
            "kernels": "/static/kernels.wasm",  # imageops.mjs's crops in WebAssembly (scripts/build_page_kernels.sh)
        },
    }
    if has_page_port(detector):
        config["detector"] = {
            "name": "mtcnn",
            "min_size": detector.min_size,
            "thresholds": list(detector.thresholds),
            "pyramid_factor": detector.factor,
            "level_tolerance": LEVEL_TOLERANCE,
            "equalize": detector.equalize,
            "clahe_clip_limit": detector.clahe_clip_limit,
            "clahe_tiles": detector.clahe_tiles,
            "level_candidates": detector.level_candidates,
            "rnet_candidates": detector.rnet_candidates,
            "onet_candidates": detector.onet_candidates,
            "batch_size": detector.batch_size,
            "shrunk_crops": detector.shrunk_crops,
            "shrunk_reach": ShrunkCopies.reach,
            "fer_framing": detector.fer_framing,
            "nets": {name: f"/models/mtcnn/{name}.onnx" for name in MTCNN_NETS},
        }
    return config


def _logit_offsets(recognizer: Recognizer) -> list[float]:
    classifier = getattr(recognizer, "classifier", None)  # a Recognizer stand-in may have none
    offsets = getattr(classifier, "logit_offsets", None)
    return [0.0] * len(recognizer.class_names) if offsets is None else list(offsets)


@router.get("/api/vision", tags=["game"])
def vision(request: Request) -> dict:
    """How the page runs the server's Recognizer itself: constants, model URL, class names, judge curves."""
    return vision_config(request.app.state.recognizer, request.app.state.settings)


@router.get("/models/classifier.onnx", include_in_schema=False)
def classifier_file(request: Request) -> FileResponse:
    """The ONNX model this server scores with (the page runs the very same file)."""
    path = request.app.state.recognizer.classifier.path
    return FileResponse(path, media_type="application/octet-stream", headers={"Cache-Control": "no-cache"})


@router.get("/models/mtcnn/{name}.onnx", include_in_schema=False)
def mtcnn_file(name: str) -> FileResponse:
    if name not in MTCNN_NETS:
        raise HTTPException(404, f"no MTCNN network named {name!r}")
    return FileResponse(_model_dir() / f"{name}.onnx", media_type="application/octet-stream")


@router.get("/static/vendor/ort/{name}.wasm", include_in_schema=False)
def gzipped_wasm(name: str, request: Request) -> Response:
    """The gzipped WebAssembly as stored, for browsers that accept gzip (all do); 404 for unknown names."""
    path = ORT_FOLDER / f"{name}.wasm.gz"
    if "/" in name or not path.is_file():
        raise HTTPException(404, f"no {name}.wasm")
    if "gzip" not in request.headers.get("accept-encoding", ""):
        import gzip

        return Response(gzip.decompress(path.read_bytes()), media_type="application/wasm")
    headers = {"Content-Encoding": "gzip", "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    return FileResponse(path, media_type="application/wasm", headers=headers)


class CrossOriginIsolation:
    """COOP/COEP/CORP on every HTTP response: the page becomes cross-origin isolated (WebAssembly threads).

    Plain ASGI (not BaseHTTPMiddleware), so streamed responses and WebSockets pass through untouched.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.extra = [(k.lower().encode(), v.encode()) for k, v in ISOLATION_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
