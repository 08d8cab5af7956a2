"""Exports of trained models for use outside PyTorch (the editor's onnxruntime-node scorer)."""
