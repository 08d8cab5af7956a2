"""The PPO loop (FACT_RLHF.md §4): rollout → KL-shaped rewards → GAE → clipped updates,
with metrics, sample records and checkpoints written to the run directory.

With several processes (torchrun) each rank generates, scores and trains on its share of the
global batch; DDP (or FSDP's reduce-scatter, launch.strategy: fsdp) averages the gradients,
whitening uses statistics of the whole batch, metrics are computed over the gathered batch and
only rank 0 writes. Every random choice is derived from (seed, iteration, sample index) —
tokens, fact order, minibatches — so the results neither depend on the number of processes nor
on where a run was resumed.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from pathlib import Path
from typing import Callable

import torch

from ..algo.advantages import compute_gae, whiten
from ..algo.kl import per_token_kl
from ..algo.kl_controller import make_kl_controller
from ..algo.losses import policy_loss, value_loss
from ..algo.rewards import shaped_rewards
from ..checkpoint import Diverged, load_checkpoint, restore_rng, rng_tensors, save_checkpoint
from ..config.annotations import iteration_rule
from ..data.records import PromptRecord
from ..distributed import Group, group
from ..errors import UsageError
from ..models.codec import Codec
from ..models.stack import POLICY, VALUE, ModelStack, logprobs_of
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from ..sharding import clip_grad_norm, placement_note
from .gather import gather_rollout
from .minibatches import minibatch_plan
from .report import Advantages, iteration_metrics, sample_records
from .rollout import PromptEncoder, Rollout, collect
from .sampling import sample_key
from ..stages.schedule import resumable_scheduler
from .train_module import PolicyValue, wrap_for_ranks
from ..stages.batches import seeded_batch
from ..stages.loop import Loop, Stage, StopInStep, Values, rank0_save
from .hyper import PPOHyper


def total_iterations(ppo: PPOHyper, n_prompts: int) -> int:
    """The schema's `ppo.x-iterations` rule (the editor's inlay hint reads the same one)."""
    rule = iteration_rule()
    by_epochs = max(int(rule["minimum"]), math.floor(getattr(ppo, rule["epochs"]) * n_prompts / getattr(ppo, rule["batch"])))
    limit = getattr(ppo, rule["cap"])
    return min(by_epochs, limit) if limit else by_epochs


class PPOTrainer(Stage):
    def __init__(
        self,
        stack: ModelStack,
        codec: Codec,
        prompts: list[PromptRecord],
        ppo: PPOHyper,
        seed: int,
        fact_augmentation: bool,
        run: RunDirectory,
        should_stop: Callable[[], bool],
        ranks: Group | None = None,
    ) -> None:
        """`fact_augmentation` (reward_model.fact_augmentation): whether the reward model reads
        the prompt's facts."""
        self.stack, self.codec, self.prompts, self.run = stack, codec, prompts, run
        self.group = ranks or group()
        self.ppo, self.seed, self.fact_augmentation = ppo, seed, fact_augmentation
        self.should_stop = should_stop
        self.total = total_iterations(ppo, len(prompts))
        self.loop = Loop(run, self.group, self.total, ppo.save_every, should_stop)
        self.kl_ctl = make_kl_controller(ppo.kl_controller, ppo.kl_coef, ppo.target_kl)
        self.encoder = PromptEncoder(codec)
        truncate_at = ppo.truncate_at
        self.stop_id = codec.token_id(truncate_at) if truncate_at else None
        if truncate_at and self.stop_id is None:
            raise UsageError(f"ppo.truncate_at: {truncate_at!r} is not a single token of this model's tokenizer")
        stack.set_trainable({POLICY, VALUE})
        self.policy_params = stack.adapter_params(POLICY)
        self.value_params = stack.adapter_params(VALUE) + list(stack.value_head.parameters())
        self.params = self.policy_params + self.value_params
        self.optimizer = torch.optim.AdamW(self.params, lr=ppo.learning_rate, weight_decay=0.0)
        self._lr_offset = 0  # iterations done before this process (resume)
        self.scheduler = self._make_scheduler()
        self.checkpoints = run.path / CHECKPOINTS_DIR
        self._module: torch.nn.Module | None = None  # built at the first update (after the RM warm-up)
        # What the iteration's metric event is followed by: its sample records and the KL update.
        self._recorded: tuple[Rollout, Advantages, float] | None = None
        # Written into each checkpoint: how far the reward-model warm-up got (run_ppo sets it).
        self.reward_warmup: dict[str, int | bool] = {"complete": True}
        if self.group.enabled:
            everything = [*stack.model.parameters(), *stack.value_head.parameters(), *stack.reward_head.parameters()]
            run.log(f"model placement: {placement_note(self.group, everything)}")

    @property
    def iteration(self) -> int:
        """Completed iterations."""
        return self.loop.position

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LambdaLR:
        """Steps once per iteration; the factor depends on the absolute iteration only."""
        return resumable_scheduler(self.optimizer, self._lr_offset, self.ppo.warmup_iterations, self.total, self.ppo.lr_schedule)

    # --- data ---------------------------------------------------------------------------------
    def prompts_for(self, iteration: int) -> list[PromptRecord]:
        """The global batch of an iteration: epoch-wise shuffles from a seed, so batch i is known
        without state (resume-safe) and every rank knows every rank's prompts."""
        return seeded_batch(self.prompts, iteration, self.ppo.rollout_batch_size, f"{self.seed}")

    # --- advantages ---------------------------------------------------------------------------
    def advantages(self, ro: Rollout) -> Advantages:
        ppo = self.ppo
        kl = per_token_kl(ro.logprobs, ro.ref_logprobs, estimator=ppo.kl_estimator, clamp=True) * ro.mask
        rewards = shaped_rewards(ro.scores, kl, ro.mask, self.kl_ctl.value, ppo.reward_scale)
        if ppo.whiten_rewards:
            rewards = whiten(rewards, ro.mask, shift_mean=False)
        adv, returns = compute_gae(rewards, ro.values, ro.mask, ppo.gamma, ppo.lam)
        if ppo.whiten:
            adv = whiten(adv, ro.mask, shift_mean=True)
        return Advantages(kl, rewards, adv, returns)

    # --- update -------------------------------------------------------------------------------
    def _train_module(self) -> torch.nn.Module:
        if self._module is None:
            self._module = wrap_for_ranks(PolicyValue(self.stack), self.stack.device, self.group)
        return self._module

    def update(self, ro: Rollout, adv: Advantages) -> dict[str, float]:
        """`noptepochs` passes over this rank's share in stratified minibatches (minibatches.py);
        one backward per micro-batch, gradients all-reduced by DDP at the minibatch's last one."""
        ppo = self.ppo
        width = ro.responses.shape[1]
        step_size, micro = ppo.step_batch_size, ppo.step_per_device_batch_size
        world, n_global = self.group.world_size, len(ro.prompts) * self.group.world_size
        targets = ro.responses.masked_fill(ro.mask == 0, self.codec.eos_id)
        dev = self.stack.device
        module = self._train_module()
        no_sync = getattr(module, "no_sync", None)  # DDP: accumulate locally until the last micro-batch
        keys = ("policy_loss", "value_loss", "clipfrac", "approx_kl", "vf_clipfrac")
        sums = dict.fromkeys(keys, 0.0)
        count, norms, value_norms = 0, [], []

        for epoch in range(ppo.ppo_epochs):
            plan = minibatch_plan(n_global, step_size, micro, world, self.group.rank, f"{self.seed}-{self.iteration}-{epoch}")
            for micro_batches in plan:
                self.optimizer.zero_grad(set_to_none=True)
                local_size = sum(len(m) for m in micro_batches)
                for i, chosen in enumerate(micro_batches):
                    idx = torch.tensor(chosen, dtype=torch.long)
                    # Weighted by this rank's share of the minibatch: DDP's average over ranks
                    # then gives the gradient of the whole minibatch's loss.
                    weight = len(idx) / local_size
                    sub, mask = ro.batch.select(idx), ro.mask[idx].to(dev)
                    last = i == len(micro_batches) - 1
                    with contextlib.nullcontext() if last or no_sync is None else no_sync():
                        logits, values = module(sub.input_ids.to(dev), sub.attention_mask.to(dev), sub.pixel_values.to(dev), width)
                        logprobs = logprobs_of(logits, targets[idx].to(dev))
                        pg_loss, pg_stats = policy_loss(
                            logprobs, ro.logprobs[idx].to(dev), adv.advantages[idx].to(dev), mask, ppo.clip_range
                        )
                        vf_loss, vf_stats = value_loss(values, ro.values[idx].to(dev), adv.returns[idx].to(dev), mask, ppo.value_clip_range)
                        # Policy and value use different adapters: one backward over the summed
                        # loss gives each its own gradient.
                        ((pg_loss + ppo.value_loss_coef * vf_loss) * weight).backward()
                    for key, value in (
                        ("policy_loss", pg_loss.item()),
                        ("value_loss", vf_loss.item()),
                        *pg_stats.items(),
                        *vf_stats.items(),
                    ):
                        sums[key] += value
                    count += 1
                # Clipped per model: early value errors are large (returns of -20 against a zero
                # head) and a joint clip would shrink the policy step with them.
                norms.append(clip_grad_norm(self.policy_params, ppo.grad_clip))
                value_norms.append(clip_grad_norm(self.value_params, ppo.grad_clip))
                self._check_update(pg_loss.item(), vf_loss.item(), norms[-1], value_norms[-1])
                self.optimizer.step()
                if not all(bool(torch.isfinite(p).all()) for p in self.params):
                    raise Diverged(
                        f"training diverged at iteration {self.iteration + 1}: the optimiser step made weights non-finite "
                        f"(learning rate {self.optimizer.param_groups[0]['lr']:g})"
                    )
        totals = self.group.sum([sums[k] for k in keys] + [float(count)])
        stats = {k: v / max(totals[-1], 1.0) for k, v in zip(keys, totals)}
        stats["grad_norm"] = sum(norms) / max(len(norms), 1)  # the same on every rank (after all-reduce)
        stats["value_grad_norm"] = sum(value_norms) / max(len(value_norms), 1)
        return stats

    def _check_update(self, pg_loss: float, vf_loss: float, norm: float, value_norm: float) -> None:
        """Before the optimiser step: a non-finite loss or gradient would poison every weight."""
        figures = {"policy_loss": pg_loss, "value_loss": vf_loss, "grad_norm": norm, "value_grad_norm": value_norm}
        bad = {k: v for k, v in figures.items() if not math.isfinite(v)}
        if bad:
            raise Diverged(
                f"training diverged at iteration {self.iteration + 1}: non-finite "
                f"{', '.join(f'{k}={v}' for k, v in bad.items())} (learning rate {self.optimizer.param_groups[0]['lr']:g}); "
                "the last checkpoint holds the last finite weights"
            )

    def _phase(self, before: str) -> None:
        """A stop point inside an iteration, before `before` changes any state (every rank
        calls it at the same point: the stop is agreed across ranks)."""
        if self.group.any(self.should_stop()):
            raise StopInStep(before)

    # --- checkpoints --------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Rank 0 writes step-N/ (under DDP the ranks hold identical weights and optimizer states;
        a sharded model's shards are gathered first, with every rank taking part)."""
        state = {
            "iteration": self.iteration,
            "total_iterations": self.total,
            "kl_coef": self.kl_ctl.value,
            "scheduler_position": self.iteration,
            "data_position": self.iteration * self.ppo.rollout_batch_size,  # prompts consumed
            "world_size": self.group.world_size,
            "reward_warmup": dict(self.reward_warmup),
        }

        # save_checkpoint gathers and writes in one call (only where `write`).
        def gather(keep: bool) -> Path | None:
            return save_checkpoint(self.checkpoints, self.iteration, self.stack, self.optimizer, state, write=keep)

        return rank0_save(self.group, gather, lambda path: path)

    def resume(self, folder: Path) -> None:
        state = load_checkpoint(folder, self.stack, self.optimizer)
        self.loop.position = int(state["iteration"])
        self.kl_ctl.value = float(state["kl_coef"])
        self._lr_offset = self.iteration
        self.scheduler = self._make_scheduler()

    # --- loop ---------------------------------------------------------------------------------
    def train_step(self, position: int) -> Values:
        """One iteration (the `position + 1`-th); returns its metrics."""
        step = position + 1
        lr = self.optimizer.param_groups[0]["lr"]
        batch = self.prompts_for(position)
        share = range(len(batch))[self.group.share(len(batch))]
        keys = [sample_key(self.seed, position, i) for i in share]
        fact_rngs = [random.Random(f"{self.seed}-rm-{step}-{i}") for i in share]
        # A stop is honoured between phases (rollout, scoring, advantages, optimisation), not
        # only between iterations: the state is still that of `position` completed iterations,
        # so the RNG is put back and the checkpoint resumes exactly.
        rng = rng_tensors()
        try:
            ro = collect(
                self.stack,
                self.codec,
                self.encoder,
                [batch[i] for i in share],
                self.ppo,
                self.fact_augmentation,
                self.stop_id,
                keys,
                fact_rngs,
                self.group,
                phase=self._phase,
            )
            self._phase("advantages")
            adv = self.advantages(ro)
            self._phase("optimisation")
        except StopInStep:
            restore_rng(rng)
            raise
        t_opt = time.perf_counter()
        stats = self.update(ro, adv)
        t_opt = self.group.max([time.perf_counter() - t_opt])[0]
        self.scheduler.step()
        beta = self.kl_ctl.value  # the coefficient this iteration's rewards used
        ro, adv = gather_rollout(ro, adv, batch, self.codec, self.group)
        self._recorded = (ro, adv, beta)
        return iteration_metrics(ro, adv, stats, beta, lr, t_opt, self.stack.device)

    def after_metric(self, values: Values) -> None:
        assert self._recorded is not None, "after_metric follows train_step"
        ro, adv, beta = self._recorded
        self._recorded = None
        step, n = self.iteration, self.ppo.samples_per_step
        if n > 0 and self.group.is_main:
            self.run.samples(step, sample_records(step, ro, adv, beta, n, self.run.relative))
        self.kl_ctl.update(float(values["ppo/kl_sum"] or 0.0), len(ro.prompts))

    def line(self, values: Values, seconds: float) -> str:
        return (
            f"[ppo] {self.iteration:>4}/{self.total} reward {values['ppo/reward_total']:+.3f} "
            f"(rm {values['ppo/score_rm']:+.2f} eos {values['ppo/score_eos_penalty']:+.2f} "
            f"len {values['ppo/score_length']:+.2f} sym {values['ppo/score_symbolic']:+.2f}) "
            f"kl {values['ppo/kl_sum']:.3f} eos_rate {values['ppo/eos_rate']:.2f} "
            f"len {values['ppo/response_length']:.1f} {seconds:.2f}s"
        )

    def train(self) -> tuple[str, list[Values]]:
        """Runs to the end or to a stop request; returns (`finished`|`stopped`, metrics)."""
        # A resumed run re-writes its checkpoint when stopped before the first iteration (as it
        # always has; the other stages do not).
        return self.loop.train(self, saved=False)
