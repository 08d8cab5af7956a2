"""Pure algorithm core of Fact-RLHF: rewards, KL, GAE, whitening, losses, RM templates."""

from fact_rlhf.algo.advantages import compute_gae, whiten
from fact_rlhf.algo.kl import KL_ESTIMATORS, per_token_kl
from fact_rlhf.algo.kl_controller import AdaptiveKLController, FixedKLController, make_kl_controller
from fact_rlhf.algo.losses import entropy_from_logits, masked_mean, policy_loss, value_loss
from fact_rlhf.algo.rewards import (
    SCORE_AT_MODES,
    ScoreConfig,
    ScoreTerms,
    last_real_index,
    score_terms,
    shaped_rewards,
    symbolic_correctness,
)
from fact_rlhf.algo.rm_loss import pairwise_loss
from fact_rlhf.algo.rm_prompt import (
    RM_SCORE_SUFFIX_END,
    SEP,
    SEP2,
    SYSTEM_PROMPT,
    policy_prompt,
    rm_critique_suffix,
    rm_input,
)

__all__ = [
    "KL_ESTIMATORS",
    "RM_SCORE_SUFFIX_END",
    "SCORE_AT_MODES",
    "SEP",
    "SEP2",
    "SYSTEM_PROMPT",
    "AdaptiveKLController",
    "FixedKLController",
    "ScoreConfig",
    "ScoreTerms",
    "compute_gae",
    "entropy_from_logits",
    "last_real_index",
    "make_kl_controller",
    "masked_mean",
    "pairwise_loss",
    "per_token_kl",
    "policy_loss",
    "policy_prompt",
    "rm_critique_suffix",
    "rm_input",
    "score_terms",
    "shaped_rewards",
    "symbolic_correctness",
    "value_loss",
    "whiten",
]
