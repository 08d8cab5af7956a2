"""The reward model as one self-contained ONNX graph: (input_ids, attention_mask, pixel_values)
→ score [B], read at the last position of left-padded sequences (FACT_RLHF.md §3).

Exported with the TorchScript exporter (`dynamo=False`): with eager attention it writes a single
file with the weights inside, which onnxruntime-node loads as is.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn
from transformers import LlavaForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutputWithPooling

INPUT_NAMES = ("input_ids", "attention_mask", "pixel_values")
OUTPUT_NAME = "score"
OPSET = 17


class RewardScorer(nn.Module):
    """LLaVA (reward adapter merged or attached) + the scalar head at the last token."""

    def __init__(self, lm: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.lm = lm
        self.head = head

    def llava(self) -> LlavaForConditionalGeneration:
        inner = self.lm.get_submodule("base_model.model") if hasattr(self.lm, "peft_config") else self.lm
        assert isinstance(inner, LlavaForConditionalGeneration)
        return inner

    def image_features(self, pixel_values: Tensor) -> Tensor:
        """Projected patch features [B * patches, H], computed as LlavaModel.get_image_features
        does, but kept as one tensor: its per-image list would fix the batch size in a trace."""
        model = self.llava().model
        config = model.config
        layer, strategy = config.vision_feature_layer, config.vision_feature_select_strategy
        hidden = model.vision_tower(pixel_values, output_hidden_states=True, return_dict=True).hidden_states
        layers = [layer] if isinstance(layer, int) else list(layer)
        chosen = [hidden[i][:, 1:] if strategy == "default" else hidden[i] for i in layers]
        features: Tensor = model.multi_modal_projector(torch.cat(chosen, dim=-1))
        return features.flatten(0, 1)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, pixel_values: Tensor) -> Tensor:
        # The positions `generate` and the trainer use for left-padded rows.
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        # A one-tensor tuple where LlavaModel takes its per-image features (typed as one tensor).
        image = BaseModelOutputWithPooling(pooler_output=(self.image_features(pixel_values),))  # type: ignore[arg-type]
        out = self.llava().model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            mm_encoder_outputs={"image": image},
            use_cache=False,
        )
        return self.head(out.last_hidden_state[:, -1]).squeeze(-1)


def export(scorer: RewardScorer, example: tuple[Tensor, Tensor, Tensor], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The tracer warns about every shape check it freezes (image size, placeholder count); a
    # graph that froze something it should not is caught by the verification on other shapes.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            scorer,
            example,
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "pixel_values": {0: "batch"},
                OUTPUT_NAME: {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def onnx_scores(path: Path, inputs: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """Scores from onnxruntime (CPU) for the same inputs."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {name: t.numpy() for name, t in zip(INPUT_NAMES, inputs)}
    (scores,) = session.run([OUTPUT_NAME], feeds)
    return torch.from_numpy(scores)
