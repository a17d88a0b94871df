"""A page's claimed round score, checked: the server re-scores the frames the page sent with its own model.

With inference on the device the page scores a round itself and sends the claim with the frames that
earned it (the best held run: `HOLD_FRAMES` small JPEGs, each the face with a margin, and the face's box in
it). The server confirms each box is a face (its MTCNN finds one there), classifies it with the same
model, and scores the run with the same rules. Its own score is the one that counts; a claim further than
the tolerance from it is refused, and the player is told.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import numpy as np

from ferkit.errors import DataError
from ferkit.game.frames import thumbnail_data_url
from ferkit.game.rules import RoundScorer
from ferkit.imagefile import decode_image_within
from ferkit.infer import Recognizer
from ferkit.vision.detect import FaceBox
from ferkit.vision.stop import StopSignal, check

MIN_BOX_SIDE = 8  # pixels; smaller boxes cannot hold a face the detector would have found
MAX_PIXELS = 640 * 480  # a verification picture is a face cut from a 320-wide frame: far smaller


class BadClaim(Exception):
    """A claim message that does not say what a page would: the reason is sent back as-is."""


@dataclass(frozen=True)
class ClaimFrame:
    image: np.ndarray
    box: FaceBox


@dataclass(frozen=True)
class Claim:
    round: int
    score: int
    frames: list[ClaimFrame]


@dataclass(frozen=True)
class Verdict:
    scorer: RoundScorer  # the server's own scoring of the frames: what the round earns
    thumbnail: str
    not_faces: int  # frames whose box MTCNN does not call a face (they count as probability 0)

    @property
    def score(self) -> int:
        return self.scorer.score


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise BadClaim(f"{name} must be a whole number")
    return int(value)


def parse_claim(message: dict, hold: int, *, max_frame_bytes: int, max_pixels: int = MAX_PIXELS) -> Claim:
    """The claim in a {"type": "claim"} message, its frames decoded within the usual bounds; BadClaim if not."""
    round_index = _whole(message.get("round"), "round")
    score = _whole(message.get("score"), "score")
    if not 0 <= score <= 100:
        raise BadClaim("score must be between 0 and 100")
    frames = message.get("frames")
    if not isinstance(frames, list) or len(frames) != hold:
        raise BadClaim(f"a claim carries the {hold} frames of its best held run")
    decoded = []
    for i, frame in enumerate(frames):
        well_formed = isinstance(frame, dict) and isinstance(frame.get("jpeg"), str)
        if not well_formed or not isinstance(frame.get("box"), dict):
            raise BadClaim(f"frame {i}: expected {{'jpeg': base64 text, 'box': {{x, y, w, h}}}}")
        if len(frame["jpeg"]) > 4 * (max_frame_bytes // 3 + 1):  # checked before decoding anything
            raise BadClaim(f"frame {i}: over the {max_frame_bytes:,}-byte frame limit")
        try:
            raw = base64.b64decode(frame["jpeg"], validate=True)
        except (binascii.Error, ValueError):
            raise BadClaim(f"frame {i}: not base64") from None
        try:
            image, full_size = decode_image_within(raw, max_pixels, f"verification frame {i}")
        except DataError as e:
            raise BadClaim(str(e)) from None  # names the frame: 'verification frame 1: ...'
        if full_size != (image.shape[1], image.shape[0]):
            raise BadClaim(f"frame {i}: larger than a verification frame may be")
        b = frame["box"]
        x, y, w, h = (_whole(b.get(k), f"frame {i} box {k}") for k in ("x", "y", "w", "h"))
        height, width = image.shape[:2]
        if w < MIN_BOX_SIDE or h < MIN_BOX_SIDE or x < -w or y < -h or x > width or y > height:
            raise BadClaim(f"frame {i}: the box does not lie on the picture")
        decoded.append(ClaimFrame(image, FaceBox(x, y, w, h, 1.0)))
    return Claim(round_index, score, decoded)


def rescore(recognizer: Recognizer, target: str, frames: list[ClaimFrame], stop: StopSignal | None = None) -> Verdict:
    """The server's score of the claimed frames: face check, classification, the round's rules."""
    scorer = RoundScorer(target, judge=recognizer.judge, hold=len(frames))
    not_faces = 0
    best_frame = frames[-1]
    predictions = recognizer.classify_each([(frame.image, frame.box) for frame in frames])
    for frame, prediction in zip(frames, predictions):
        check(stop)
        is_face = recognizer.detector.confirms(frame.image, frame.box)
        probability = prediction.probabilities.get(target, 0.0) if is_face else 0.0
        not_faces += not is_face
        if scorer.add(probability, is_face and prediction.label == target):
            best_frame = frame
    thumbnail = thumbnail_data_url(best_frame.image, best_frame.box)
    return Verdict(scorer, thumbnail, not_faces)


def refusal_message(claimed: int, verdict: Verdict) -> str:
    why = f" ({verdict.not_faces} of its pictures show no face)" if verdict.not_faces else ""
    return (
        f"This round's score was not accepted: the page claimed {claimed}, but the server's judge gives "
        f"{verdict.score} for the pictures it sent{why}. The server's score counts."
    )
