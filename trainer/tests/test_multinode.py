"""Several nodes through torchrun's rendezvous, on one machine: two separate torchrun launchers
(`--nnodes=2 --nproc_per_node=1`, c10d rendezvous on a local port), as two nodes would each start
one, run the ppo stage on one config into one run directory. World size 2, rank 0 alone writes,
and the metrics equal the 1-process run's."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dist_helpers import (
    TRAINER,
    compare_metrics,
    compare_tensor_files,
    free_port,
    manifest,
    ppo_config,
    reference_ppo_run,
    run_files,
    worker_env,
)
from run_helpers import read_events, statuses


def launcher(node: int, port: int, config: Path, run: Path) -> list[str]:
    """What an operator types on node `node` (an argument array). The first node hosts the
    rendezvous store (is_host); on real nodes the endpoint is that node's address."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=2",
        "--nproc_per_node=1",
        f"--node_rank={node}",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint=127.0.0.1:{port}",
        "--rdzv_id=fact-rlhf-test",
        f"--rdzv_conf=is_host={1 if node == 0 else 0},join_timeout=120",
        "-m",
        "fact_rlhf",
        "ppo",
        "--config",
        str(config),
        "--run-dir",
        str(run),
    ]


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("nodes")
    config = ppo_config(folder, "nodes.rlhf.yaml", {"backend": "torchrun", "nodes": 2, "processes": 1})
    run = folder / "two-nodes"
    port = free_port()
    logs = [open(folder / f"node{n}.log", "w+", encoding="utf-8") for n in (0, 1)]
    procs = [
        subprocess.Popen(launcher(n, port, config, run), env=worker_env(), cwd=TRAINER, stdout=logs[n], stderr=subprocess.STDOUT)
        for n in (0, 1)
    ]
    try:
        codes = [p.wait(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    assert codes == [0, 0], "\n".join(o[-2000:] for o in outputs)
    return run, outputs


def test_two_launchers_rendezvous_into_one_run(two_nodes: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    run, outputs = two_nodes
    one = reference_ppo_run(tmp_path_factory)
    m = manifest(run)
    assert m["world_size"] == 2 and m["status"] == "finished" and m["config"]["launch"]["nodes"] == 2
    assert len(m["pids"]) == 2 and len(set(m["pids"])) == 2  # one worker per "node", no self-launcher

    # Rank 0 alone wrote: one status sequence, each step once, the files a 1-process run writes,
    # and only one launcher's worker printed the iterations.
    events = read_events(run)
    assert statuses(events) == ["starting", "running", "finished"]
    assert run_files(run) == run_files(one)
    printed = [o.count("[ppo]    3/3") for o in outputs]
    assert sorted(printed) == [0, 1], printed
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"fact-rlhf-{run.name}-*"))  # rank 1's scratch removed

    assert compare_metrics(one, run, rel=0.0) > 60
    names = ["policy/adapter_model.safetensors", "value/adapter_model.safetensors", "heads.safetensors", "optimizer.safetensors"]
    assert compare_tensor_files(one / "checkpoints/step-3", run / "checkpoints/step-3", names) > 100


def test_several_nodes_without_torchrun_say_how_to_start_them(tmp_path: Path) -> None:
    from fact_rlhf.cli import main

    config = ppo_config(tmp_path, "nodes.rlhf.yaml", {"backend": "torchrun", "nodes": 2})
    assert main(["ppo", "--config", str(config), "--run-dir", str(tmp_path / "run")]) == 2
    error = read_events(tmp_path / "run")[-1]["error"]
    assert "launch.nodes: several nodes: start `torchrun --nnodes=N" in error and "--rdzv-endpoint=HOST:PORT" in error
