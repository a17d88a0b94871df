"""The REST API: POST /v1/predict (a photo in, every face's expression out) and GET /healthz."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from pydantic import BaseModel

from ferkit.game.analysis import Analyser, Busy
from ferkit.game.settings import ServerSettings
from ferkit.imagefile import CorruptImageError, ImageTooLargeError, NotAnImageError
from ferkit.infer import Recognizer
from ferkit.vision.stop import AnalysisStopped


class Box(BaseModel):
    x: int
    y: int
    w: int
    h: int


class Face(BaseModel):
    box: Box
    detection_score: float
    label: str
    probabilities: dict[str, float]  # the model's probabilities, under the server's decision rule (/healthz "rule")
    # how well each expression is acted, 0-100, through the model's judge curves (what a Best Actor round
    # would award if the pose were held); null when the model has none
    acting_scores: dict[str, int] | None = None


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
    judge: bool  # whether the model carries judge curves (fair round scores) or scores are raw
    tta: str = "none"  # "flip": each face is classified with its mirror and the two averaged
    # "balanced": probabilities moved to an even mix of expressions by the model's decision rule
    rule: str = "as-trained"


def get_recognizer(request: Request) -> Recognizer:
    return request.app.state.recognizer


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def get_analyser(request: Request) -> Analyser:
    return request.app.state.analyser


RecognizerDep = Annotated[Recognizer, Depends(get_recognizer)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
AnalyserDep = Annotated[Analyser, Depends(get_analyser)]

router = APIRouter()


@router.get("/healthz", response_model=Health)
def healthz(recognizer: RecognizerDep) -> Health:
    judged = recognizer.judge is not None
    tta = getattr(recognizer, "tta", "none")  # a Recognizer stand-in may have none
    return Health(
        status="ok",
        model=recognizer_name(recognizer),
        classes=list(recognizer.class_names),
        judge=judged,
        tta=tta,
        rule=getattr(getattr(recognizer, "classifier", None), "rule", "as-trained"),
    )


@router.post(
    "/v1/predict",
    response_model=PredictResponse,
    responses={
        400: {"description": "corrupt image, or absurd dimensions (decompression bomb)"},
        413: {"description": "upload over the size limit"},
        415: {"description": "not an image"},
        422: {"description": "the analysis ran past its time limit and was stopped"},
        503: {"description": "every analysis slot is busy: retry after the Retry-After seconds"},
    },
)
async def predict(
    image: Annotated[UploadFile, File(description="a JPEG, PNG, BMP, WebP, TIFF or GIF photo")],
    request: Request,
    recognizer: RecognizerDep,
    settings: SettingsDep,
    analyser: AnalyserDep,
) -> PredictResponse:
    """Find the faces in the photo (at most `max_faces`) and give each one's expression probabilities.

    Photos over the pixel budget are shrunk before detection; boxes are always in the photo's own pixels.
    """
    name = image.filename or "upload"
    try:
        result = await analyser.run(
            image.read,  # read only once a slot is free: waiting uploads stay spooled on disk
            settings.max_faces,
            name,
            wait_seconds=settings.upload_wait_seconds,
            client_gone=request.is_disconnected,
        )
    except NotAnImageError as e:
        raise HTTPException(415, str(e)) from None
    except (ImageTooLargeError, CorruptImageError) as e:
        raise HTTPException(400, str(e)) from None
    except Busy as e:
        raise HTTPException(503, f"{e}; retry in a second", headers={"Retry-After": "1"}) from None
    except AnalysisStopped as e:
        raise HTTPException(422, f"{name}: {e.reason}; send a smaller or simpler image") from None
    # the frame's game-only fields (status, message) are dropped by the schema
    body = result.to_dict() | {"model": recognizer_name(recognizer)}
    if recognizer.judge is not None:
        for face in body["faces"]:
            face["acting_scores"] = {n: recognizer.judge.acting_score(n, p) for n, p in face["probabilities"].items()}
    return PredictResponse.model_validate(body)


def recognizer_name(recognizer: Recognizer) -> str:
    path = getattr(getattr(recognizer, "classifier", None), "path", None)
    return path.name if path is not None else type(recognizer).__name__
