"""Faces in real photos: detection, and the crop that makes a face look like FER2013's (no torch)."""

from ferkit.vision.crop import crop_face
from ferkit.vision.detect import FaceBox, HaarFaceDetector
from ferkit.vision.detectors import DETECTORS, FaceDetector, create_detector
from ferkit.vision.io import read_image
from ferkit.vision.mtcnn import MtcnnFaceDetector

__all__ = [
    "DETECTORS",
    "FaceBox",
    "FaceDetector",
    "HaarFaceDetector",
    "MtcnnFaceDetector",
    "create_detector",
    "crop_face",
    "read_image",
]
