"""Export trained models to ONNX, TFLite (LiteRT), Core ML and int8 ONNX, each checked against torch."""
