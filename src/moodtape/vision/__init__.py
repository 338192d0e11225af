"""Seeing faces and their emotions: decode → detect (Haar) → crop → classify (ONNX Runtime)."""
