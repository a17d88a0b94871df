"""Recognizer: photos or face crops in, expression probabilities out, on onnxruntime (no torch)."""

from ferkit.infer.recognizer import FacePrediction, Recognizer

__all__ = ["FacePrediction", "Recognizer"]
