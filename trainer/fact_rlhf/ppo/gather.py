"""The whole rollout batch on every rank, for the iteration's metrics and sample records.

Each rank generated and scored its own share; the per-sequence and per-token results (a few
numbers per token, never the images) are gathered in rank order, so the metrics are computed
over the global batch exactly as a single process computes them, and every rank sees the same
values (the adaptive KL controller stays in step).
"""

from __future__ import annotations

import dataclasses

import torch

from ..algo.rewards import ScoreTerms
from ..data.records import PromptRecord
from ..distributed import Group
from ..models.codec import Codec
from .report import Advantages
from .rollout import Rollout


def gather_rollout(ro: Rollout, adv: Advantages, prompts: list[PromptRecord], codec: Codec, group: Group) -> tuple[Rollout, Advantages]:
    """`prompts` is the global batch. The returned Rollout keeps this rank's `batch` (inputs
    with images), which no report reads."""
    if not group.enabled:
        return ro, adv
    rows = group.gather_rows
    responses, mask = rows(ro.responses), rows(ro.mask)
    has_eos = rows(torch.tensor(ro.has_eos, dtype=torch.int64))
    terms = rows(torch.tensor([[t.eos_penalty, t.length, t.symbolic] for t in ro.terms], dtype=torch.float64))
    lengths = mask.sum(-1).long().tolist()
    # The texts are decoded from the gathered ids: the same call that made them on their rank.
    texts = [codec.decode(responses[i, :n].tolist()) for i, n in enumerate(lengths)]
    n_tokens = float(ro.mask.sum())
    entropy_sum, count = group.sum([ro.entropy * n_tokens, n_tokens])
    timings = dict(zip(ro.timings, group.max(list(ro.timings.values()))))
    gathered = dataclasses.replace(
        ro,
        prompts=prompts,
        responses=responses,
        mask=mask,
        has_eos=[bool(v) for v in has_eos.tolist()],
        texts=texts,
        logprobs=rows(ro.logprobs),
        ref_logprobs=rows(ro.ref_logprobs),
        values=rows(ro.values),
        rm_scores=rows(ro.rm_scores),
        terms=[ScoreTerms(*t) for t in terms.tolist()],
        entropy=entropy_sum / max(count, 1.0),
        timings=timings,
    )
    return gathered, Advantages(rows(adv.kl), rows(adv.rewards), rows(adv.advantages), rows(adv.returns))
