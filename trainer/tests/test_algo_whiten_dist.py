"""Whitening across 2 real gloo processes equals single-process whitening of the whole batch."""

import json
import os
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from fact_rlhf.algo import whiten

# 4 rows of varying length; rank 0 holds rows 0-1, rank 1 rows 2-3.
BATCH = [[0.5, -1.0, 2.0, 8.0], [3.0, 0.0, 0.0, 0.0], [-2.0, 4.0, 1.0, 0.5], [7.0, 1.5, 0.0, 0.0]]
MASK = [[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0]]


def _worker(rank: int, world_size: int, tmp: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{os.path.join(tmp, 'store')}", rank=rank, world_size=world_size)
    try:
        rows = slice(2 * rank, 2 * rank + 2)
        out = whiten(torch.tensor(BATCH[rows]), torch.tensor(MASK[rows]))
        result = {"world_size": dist.get_world_size(), "out": out.tolist()}
        Path(tmp, f"rank{rank}.json").write_text(json.dumps(result))
        dist.barrier()  # without it a rank can abort at exit while the other still talks
    finally:
        dist.destroy_process_group()


def test_whiten_two_gloo_ranks_match_full_batch(tmp_path: Path) -> None:
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    full = whiten(torch.tensor(BATCH), torch.tensor(MASK))
    for rank in range(2):
        result = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert result["world_size"] == 2
        torch.testing.assert_close(torch.tensor(result["out"]), full[2 * rank : 2 * rank + 2])
    # each half alone would be whitened with different statistics: the all-reduce matters
    alone = whiten(torch.tensor(BATCH[:2]), torch.tensor(MASK[:2]))
    assert not torch.allclose(alone, full[:2])
