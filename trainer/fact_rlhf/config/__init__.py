"""Experiment configs (`*.rlhf.yaml`): loading, validation against the shared schema, defaults."""

from .loader import ExperimentConfig, display_path, load_config

__all__ = ["ExperimentConfig", "display_path", "load_config"]
