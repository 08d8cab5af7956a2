"""Which samples form each PPO minibatch, the same whatever the number of processes.

The global rollout batch of n samples is cut into K contiguous strata, K = lcm(step_batch_size /
step_per_device_batch_size, world size). Each epoch shuffles every stratum with its own seed, and
minibatch j takes the j-th slice of every stratum, one micro-batch per stratum. A rank holds the
contiguous share of the batch made of K / world strata, so its micro-batches are exactly the ones
a single process would run for those strata: gradients averaged over ranks equal the
single-process gradient of the same minibatch. (A plain shuffle of the whole batch would need
every rank to see every sample; this stratified one needs no exchange of rollouts.) When the
world size divides step_batch_size / step_per_device_batch_size, K is the one a single process
uses and runs with 1 or several processes are equal.
"""

from __future__ import annotations

import math
import random


def strata(step_batch: int, micro: int, world_size: int) -> int:
    """K, the number of strata (and of micro-batches per minibatch over all ranks)."""
    micro = min(micro, step_batch)
    return math.lcm(step_batch // micro, world_size)


def minibatch_plan(n: int, step_batch: int, micro: int, world_size: int, rank: int, seed: str) -> list[list[list[int]]]:
    """For each minibatch of one epoch, this rank's micro-batches as indices into its share.

    `seed` names the epoch (e.g. "<seed>-<iteration>-<epoch>"); every rank derives the same
    permutations from it.
    """
    k = strata(step_batch, micro, world_size)
    if n % step_batch or step_batch % k or k % world_size:
        raise ValueError(f"minibatch_plan: n={n}, step_batch={step_batch}, micro={micro}, world_size={world_size} do not divide evenly")
    stratum, unit = n // k, step_batch // k
    mine = range(rank * k // world_size, (rank + 1) * k // world_size)
    orders = []
    for s in mine:
        order = list(range(stratum))
        random.Random(f"{seed}-stratum-{s}").shuffle(order)
        orders.append(order)
    first = mine.start * stratum  # global index of this rank's first sample
    plan = []
    for j in range(n // step_batch):
        plan.append([[s * stratum + i - first for i in order[j * unit : (j + 1) * unit]] for s, order in zip(mine, orders)])
    return plan


def iteration_shape(n: int, step_batch: int, micro: int, world_size: int, ppo_epochs: int) -> tuple[int, int]:
    """(optimiser steps per PPO iteration, micro-batches per rank in each), as PPOTrainer.update
    runs the plans: one optimiser step per minibatch, `ppo_epochs` passes over the rollout batch."""
    plan = minibatch_plan(n, step_batch, micro, world_size, 0, "shape")
    return ppo_epochs * len(plan), len(plan[0]) if plan else 0
