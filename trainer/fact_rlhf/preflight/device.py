"""The device a run trains on, decided before any model is loaded: a GPU that is asked for must
be there, fp16 needs one, a quantized base needs bitsandbytes on CUDA."""

from __future__ import annotations

from ..config import ExperimentConfig
from ..errors import ConfigError, EnvironmentProblem
from .problems import Collector


def device_checks(c: Collector, cuda_available: bool) -> str:
    """Adds the device problems of `c.config` to `c`; returns the device the run would use."""
    import torch  # torch loads only once the trainer's packages are known to be there

    config = c.config
    wanted = config.data["launch"]["device"]
    if wanted == "cuda" and not cuda_available:
        build = torch.version.cuda or "none (CPU-only build)"
        c.error(
            ("launch", "device"),
            f"cuda requested but PyTorch sees no CUDA GPU (torch {torch.__version__}, CUDA build: {build}); use auto or cpu",
            "device-unavailable",
        )
        return "cpu"
    if config.data["model"]["dtype"] == "fp16" and not (wanted != "cpu" and cuda_available):
        c.error(("model", "dtype"), "fp16 needs a GPU; use fp32 or bf16 on CPU", "device-mismatch")
        return "cpu"
    device = "cuda" if wanted in ("cuda", "auto") and cuda_available else "cpu"
    if config.data["model"]["quantization"] != "none":
        from ..models.pretrained import quantization_problem  # imports transformers

        problem = quantization_problem(config.data["model"]["quantization"], device)
        if problem:
            c.error(("model", "quantization"), problem, "device-mismatch")
    return device


def resolve_device(config: ExperimentConfig) -> str:
    """`cpu` or `cuda`; `launch.device: cuda` without a visible GPU is an error."""
    import torch

    c = Collector(config)
    device = device_checks(c, torch.cuda.is_available())
    if c.problems:  # one at a time, as each makes the next meaningless
        first = c.problems[0]
        raise EnvironmentProblem(first.text) if first.code == "device-unavailable" else ConfigError([first.text])
    return device
