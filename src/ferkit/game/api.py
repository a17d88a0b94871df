"""The REST API: POST /v1/predict (a photo in, every face's expression out) and GET /healthz."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from ferkit.game.frames import analyse
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from ferkit.vision.io import CorruptImageError, ImageTooLargeError, NotAnImageError


class Box(BaseModel):
    x: int
    y: int
    w: int
    h: int


class Face(BaseModel):
    box: Box
    detection_score: float
    label: str
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    width: int
    height: int
    faces: list[Face]
    faces_found: int
    truncated: bool
    model: str


class Health(BaseModel):
    status: str
    model: str
    classes: list[str]


def get_recognizer(request: Request) -> Recognizer:
    return request.app.state.recognizer


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


RecognizerDep = Annotated[Recognizer, Depends(get_recognizer)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]

router = APIRouter()


@router.get("/healthz", response_model=Health)
def healthz(recognizer: RecognizerDep) -> Health:
    return Health(status="ok", model=recognizer_name(recognizer), classes=list(recognizer.class_names))


@router.post(
    "/v1/predict",
    response_model=PredictResponse,
    responses={
        400: {"description": "corrupt image, or absurd dimensions (decompression bomb)"},
        413: {"description": "upload over the size limit"},
        415: {"description": "not an image"},
    },
)
async def predict(
    image: Annotated[UploadFile, File(description="a JPEG, PNG, BMP, WebP or TIFF photo")],
    recognizer: RecognizerDep,
    settings: SettingsDep,
) -> PredictResponse:
    """Find every face in the photo (at most `max_faces`) and give each one's 7 expression probabilities."""
    raw = await image.read()
    name = image.filename or "upload"
    try:
        result = await run_in_threadpool(analyse, recognizer, raw, settings.max_faces, name)
    except NotAnImageError as e:
        raise HTTPException(415, str(e)) from None
    except (ImageTooLargeError, CorruptImageError) as e:
        raise HTTPException(400, str(e)) from None
    # the frame's game-only fields (status, message) are dropped by the schema
    return PredictResponse.model_validate(result.to_dict() | {"model": recognizer_name(recognizer)})


def recognizer_name(recognizer: Recognizer) -> str:
    path = getattr(getattr(recognizer, "classifier", None), "path", None)
    return path.name if path is not None else type(recognizer).__name__
