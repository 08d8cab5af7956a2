"""The PPO loop (FACT_RLHF.md §4): rollout → KL-shaped rewards → GAE → clipped updates,
with metrics, sample records and checkpoints written to the run directory."""
from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from ..algo.advantages import compute_gae, whiten
from ..algo.kl import per_token_kl
from ..algo.kl_controller import make_kl_controller
from ..algo.losses import policy_loss, value_loss
from ..algo.rewards import shaped_rewards
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.records import PromptRecord
from ..errors import UsageError
from ..models.codec import Codec
from ..models.stack import POLICY, VALUE, ModelStack, logprobs_of
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from .report import Advantages, iteration_metrics, sample_records
from .rollout import PromptEncoder, Rollout, collect
from .schedule import lr_factor


def total_iterations(ppo: dict[str, Any], n_prompts: int) -> int:
    by_epochs = max(1, math.floor(float(ppo["total_epochs"]) * n_prompts / int(ppo["rollout_batch_size"])))
    limit = ppo.get("max_iterations")
    return min(by_epochs, int(limit)) if limit else by_epochs


class PPOTrainer:
    def __init__(
        self,
        stack: ModelStack,
        codec: Codec,
        prompts: list[PromptRecord],
        config: dict[str, Any],
        run: RunDirectory,
        should_stop: Callable[[], bool],
    ) -> None:
        self.stack, self.codec, self.prompts, self.run = stack, codec, prompts, run
        self.ppo: dict[str, Any] = config["ppo"]
        self.seed = int(config["seed"])
        self.fact_augmentation = bool(config["reward_model"]["fact_augmentation"])
        self.should_stop = should_stop
        self.total = total_iterations(self.ppo, len(prompts))
        self.iteration = 0  # completed iterations
        self.kl_ctl = make_kl_controller(self.ppo["kl_controller"], float(self.ppo["kl_coef"]), float(self.ppo["target_kl"]))
        self.encoder = PromptEncoder(codec)
        truncate_at = self.ppo.get("truncate_at")
        self.stop_id = codec.token_id(truncate_at) if truncate_at else None
        if truncate_at and self.stop_id is None:
            raise UsageError(f"ppo.truncate_at: {truncate_at!r} is not a single token of this model's tokenizer")
        stack.set_trainable({POLICY, VALUE})
        self.policy_params = stack.adapter_params(POLICY)
        self.value_params = stack.adapter_params(VALUE) + list(stack.value_head.parameters())
        self.params = self.policy_params + self.value_params
        self.optimizer = torch.optim.AdamW(self.params, lr=float(self.ppo["learning_rate"]), weight_decay=0.0)
        self._lr_offset = 0  # iterations done before this process (resume)
        self.scheduler = self._make_scheduler()
        self.checkpoints = run.path / CHECKPOINTS_DIR
        self._iteration_seconds: list[float] = []

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LambdaLR:
        """Steps once per iteration; the factor depends on the absolute iteration only."""
        warmup, kind = int(self.ppo["warmup_iterations"]), str(self.ppo["lr_schedule"])
        offset = self._lr_offset
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda i: lr_factor(i + offset, warmup, self.total, kind))

    # --- data ---------------------------------------------------------------------------------
    def prompts_for(self, iteration: int) -> list[PromptRecord]:
        """Epoch-wise shuffles from a seed, so batch i is known without state (resume-safe)."""
        size, n = int(self.ppo["rollout_batch_size"]), len(self.prompts)
        out: list[PromptRecord] = []
        position = iteration * size
        while len(out) < size:
            epoch, offset = divmod(position, n)
            order = list(range(n))
            random.Random(f"{self.seed}-epoch-{epoch}").shuffle(order)
            take = order[offset : offset + size - len(out)]
            out.extend(self.prompts[i] for i in take)
            position += len(take)
        return out

    # --- advantages ---------------------------------------------------------------------------
    def advantages(self, ro: Rollout) -> Advantages:
        ppo = self.ppo
        kl = per_token_kl(ro.logprobs, ro.ref_logprobs, estimator=str(ppo["kl_estimator"]), clamp=True) * ro.mask
        rewards = shaped_rewards(ro.scores, kl, ro.mask, self.kl_ctl.value, float(ppo["reward_scale"]))
        if ppo["whiten_rewards"]:
            rewards = whiten(rewards, ro.mask, shift_mean=False)
        adv, returns = compute_gae(rewards, ro.values, ro.mask, float(ppo["gamma"]), float(ppo["lam"]))
        if ppo["whiten"]:
            adv = whiten(adv, ro.mask, shift_mean=True)
        return Advantages(kl, rewards, adv, returns)

    # --- update -------------------------------------------------------------------------------
    def update(self, ro: Rollout, adv: Advantages) -> dict[str, float]:
        ppo = self.ppo
        n, width = len(ro.prompts), ro.responses.shape[1]
        step_size, micro = int(ppo["step_batch_size"]), int(ppo["step_per_device_batch_size"])
        targets = ro.responses.masked_fill(ro.mask == 0, self.codec.eos_id)
        dev = self.stack.device
        sums: dict[str, float] = {}
        count, norms, value_norms = 0, [], []

        def add(key: str, value: float) -> None:
            sums[key] = sums.get(key, 0.0) + value

        for _ in range(int(ppo["ppo_epochs"])):
            order = torch.randperm(n)
            for start in range(0, n, step_size):
                minibatch = order[start : start + step_size]
                self.optimizer.zero_grad(set_to_none=True)
                for m in range(0, len(minibatch), micro):
                    idx = minibatch[m : m + micro]
                    weight = len(idx) / len(minibatch)
                    sub, mask = ro.batch.select(idx), ro.mask[idx].to(dev)
                    # Policy and value use different adapters: two backward passes over disjoint
                    # parameters give the same gradients as one over the summed loss.
                    logprobs = logprobs_of(self.stack.response_logits(sub, width), targets[idx].to(dev))
                    pg_loss, pg_stats = policy_loss(logprobs, ro.logprobs[idx].to(dev), adv.advantages[idx].to(dev), mask, float(ppo["clip_range"]))
                    (pg_loss * weight).backward()
                    values = self.stack.values(sub, width)
                    vf_loss, vf_stats = value_loss(values, ro.values[idx].to(dev), adv.returns[idx].to(dev), mask, float(ppo["value_clip_range"]))
                    (float(ppo["value_loss_coef"]) * vf_loss * weight).backward()
                    add("policy_loss", pg_loss.item())
                    add("value_loss", vf_loss.item())
                    add("clipfrac", pg_stats["clipfrac"])
                    add("approx_kl", pg_stats["approx_kl"])
                    add("vf_clipfrac", vf_stats["vf_clipfrac"])
                    count += 1
                # Clipped per model: early value errors are large (returns of -20 against a zero
                # head) and a joint clip would shrink the policy step with them.
                norms.append(float(torch.nn.utils.clip_grad_norm_(self.policy_params, float(ppo["grad_clip"]))))
                value_norms.append(float(torch.nn.utils.clip_grad_norm_(self.value_params, float(ppo["grad_clip"]))))
                self.optimizer.step()
        stats = {k: v / max(count, 1) for k, v in sums.items()}
        stats["grad_norm"] = sum(norms) / max(len(norms), 1)
        stats["value_grad_norm"] = sum(value_norms) / max(len(value_norms), 1)
        return stats

    # --- checkpoints --------------------------------------------------------------------------
    def save(self) -> Path:
        state = {
            "iteration": self.iteration,
            "total_iterations": self.total,
            "kl_coef": self.kl_ctl.value,
        }
        path = save_checkpoint(self.checkpoints, self.iteration, self.stack, self.optimizer, state)
        self.run.checkpoint(self.iteration, path)
        return path

    def resume(self, folder: Path) -> None:
        state = load_checkpoint(folder, self.stack, self.optimizer)
        self.iteration = int(state["iteration"])
        self.kl_ctl.value = float(state["kl_coef"])
        self._lr_offset = self.iteration
        self.scheduler = self._make_scheduler()

    # --- loop ---------------------------------------------------------------------------------
    def step(self) -> dict[str, float | None]:
        """One iteration; returns its metrics (already written to the run)."""
        step = self.iteration + 1
        start = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        rng = random.Random(f"{self.seed}-rm-{step}")
        ro = collect(self.stack, self.codec, self.encoder, self.prompts_for(self.iteration), self.ppo, self.fact_augmentation, self.stop_id, rng)
        adv = self.advantages(ro)
        t_opt = time.perf_counter()
        stats = self.update(ro, adv)
        t_opt = time.perf_counter() - t_opt
        self.scheduler.step()
        self.iteration = step
        beta = self.kl_ctl.value  # the coefficient this iteration's rewards used
        values = iteration_metrics(ro, adv, stats, beta, lr, t_opt, self.stack.device)
        self.run.metric(step, values)
        if int(self.ppo["samples_per_step"]) > 0:
            self.run.samples(step, sample_records(step, ro, adv, beta, int(self.ppo["samples_per_step"]), self.run.relative))
        self.kl_ctl.update(float(values["ppo/kl_sum"] or 0.0), len(ro.prompts))
        self._iteration_seconds.append(time.perf_counter() - start)
        recent = self._iteration_seconds[-10:]
        self.run.progress(step, self.total, sum(recent) / len(recent) * (self.total - step))
        print(
            f"[ppo] {step:>4}/{self.total} reward {values['ppo/reward_total']:+.3f} "
            f"(rm {values['ppo/score_rm']:+.2f} eos {values['ppo/score_eos_penalty']:+.2f} "
            f"len {values['ppo/score_length']:+.2f} sym {values['ppo/score_symbolic']:+.2f}) "
            f"kl {values['ppo/kl_sum']:.3f} eos_rate {values['ppo/eos_rate']:.2f} "
            f"len {values['ppo/response_length']:.1f} {self._iteration_seconds[-1]:.2f}s",
            file=sys.stderr, flush=True,
        )
        return values

    def train(self) -> tuple[str, list[dict[str, float | None]]]:
        """Runs to the end or to a stop request; returns (`finished`|`stopped`, metrics)."""
        history: list[dict[str, float | None]] = []
        save_every = int(self.ppo["save_every"])
        last_saved = -1
        while self.iteration < self.total:
            if self.should_stop():
                break
            history.append(self.step())
            if self.iteration % save_every == 0:
                self.save()
                last_saved = self.iteration
        if last_saved != self.iteration:
            self.save()
        return ("stopped" if self.iteration < self.total else "finished"), history
