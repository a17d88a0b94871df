"""Recognizer: photos or face crops in, expression probabilities out, on onnxruntime (no torch)."""

from ferkit.infer.recognizer import FAST_SETTINGS, FacePrediction, Recognizer

__all__ = ["FAST_SETTINGS", "FacePrediction", "Recognizer"]
