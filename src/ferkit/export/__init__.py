"""Export trained models (ONNX now; TFLite, Core ML and int8 are open work), each checked against torch."""
