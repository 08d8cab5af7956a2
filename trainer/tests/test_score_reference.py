"""`python -m fact_rlhf score` (the PyTorch reference of the editor's scorer) and what rm.json v2
tells a scorer outside Python: template pieces that rebuild rm_input exactly, tokenizer checks,
max length, and the checkpoint fingerprint."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from fact_rlhf.algo.rm_prompt import rm_input
from fact_rlhf.cli import main
from fact_rlhf.export.rm_spec import QUESTION_PREFIX, VERSION, assemble, checkpoint_fingerprint, template_pieces
from fact_rlhf.score.samples import read_records, run_folder
from run_helpers import REPO
from stage_helpers import cached_run

FIXTURES = REPO / "test" / "fixtures" / "scoring"


def test_template_pieces_rebuild_rm_input_exactly() -> None:
    pieces = template_pieces()
    rng = random.Random(3)
    words = ["red", "circle", " ", "\n", "\t", "é", "  two  ", "", "</s>", "USER:"]
    for _ in range(200):
        prompt = "".join(rng.choice(words) for _ in range(rng.randrange(6)))
        response = "".join(rng.choice(words) for _ in range(rng.randrange(6)))
        facts = (
            None if rng.random() < 0.3 else ["".join(rng.choice(words) for _ in range(rng.randrange(4))) for _ in range(rng.randrange(4))]
        )
        expected = rm_input([{"from": "human", "value": QUESTION_PREFIX + prompt}], response, facts)
        assert assemble(pieces, prompt, response, facts) == expected, (prompt, response, facts)


def test_node_fixtures_are_what_the_trainer_writes_today(tmp_path: Path) -> None:
    # test/unit/scoring.test.ts checks the Node scorer against these; they must follow rm_input and PIL.
    subprocess.run([sys.executable, str(FIXTURES / "make_fixtures.py"), str(tmp_path)], check=True)
    for name in ("rm-input.json", "image-expected.json"):
        assert json.loads((tmp_path / name).read_text()) == json.loads((FIXTURES / name).read_text()), name
    with Image.open(tmp_path / "image.png") as fresh, Image.open(FIXTURES / "image.png") as committed:
        assert fresh.tobytes() == committed.tobytes()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The cached tiny rm run, its export and a samples file of 12 records from its world."""
    run = cached_run(tmp_path_factory, "rm", "rm")
    out = tmp_path_factory.mktemp("score-export") / "onnx"
    assert main(["export-rm-onnx", "--run-dir", str(run), "--out", str(out)]) == 0
    pairs = json.loads((run / "world" / "preference.json").read_text())[:6]
    facts = json.loads((run / "world" / "facts.json").read_text())
    samples = tmp_path_factory.mktemp("score-samples") / "samples" / "step-3.jsonl"
    samples.parent.mkdir()
    lines = []
    for p in pairs:
        for k in (1, 2):
            lines.append(
                json.dumps(
                    {
                        "step": 3,
                        "prompt_id": f"{p['id']}/{k}",
                        "image": str(run / "world" / "images" / p["image"]),
                        "prompt": p["conversations"][0]["value"].replace("<image>\n", ""),
                        "response": p[f"output_{k}"]["value"],
                        "facts": facts.get(p["id"]) or facts.get(p["image"]) or [],
                        "reward": {"rm": 0, "eos_penalty": 0, "length": 0, "symbolic": 0, "kl": 0, "total": 0},
                        "caption_type": p["caption_type"],
                    }
                )
            )
    samples.write_text("\n".join(lines) + "\n")
    return run, out, samples


def test_rm_json_v2_describes_input_tokenizer_and_checkpoint(scored: tuple[Path, Path, Path]) -> None:
    run, out, _ = scored
    rm = json.loads((out / "rm.json").read_text())
    assert rm["version"] == VERSION == 2
    assert rm["rm_input"] == template_pieces()
    enc = rm["encoding"]
    assert enc["vocab_size"] == len(json.loads((out / "tokenizer.json").read_text())["model"]["vocab"])
    assert enc["special_tokens"]["image"] == {"id": enc["image_token_id"], "token": "<image>"}
    assert enc["max_length"] == 512 and enc["add_special_tokens"] is False and enc["prepend_bos"] is True
    fingerprint = rm["source"]["fingerprint"]
    assert fingerprint == checkpoint_fingerprint(run / "checkpoints" / "best")
    assert fingerprint["step"] == json.loads((run / "checkpoints" / "best" / "trainer_state.json").read_text())["step"]
    # The worked examples' ids are the pieces + tokenizer + expansion a scorer outside Python applies.
    for example in rm["examples"]:
        assert len(example["input_ids"]) <= enc["max_length"]


def test_score_prints_with_and_without_facts_for_a_run_or_its_export(
    scored: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run, out, samples = scored
    assert main(["score", "--rm", str(run), "--samples", str(samples), "--json"]) == 0
    from_run = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["index"] for r in from_run] == list(range(12))
    assert all(r["step"] == 3 and r["difference"] == r["with_facts"] - r["without_facts"] for r in from_run)
    assert sum(abs(r["difference"]) > 1e-3 for r in from_run) >= 10  # the facts reach the model
    # onnxruntime on the export agrees with the reference on rm.json's own examples (its verification).
    rm = json.loads((out / "rm.json").read_text())
    assert rm["verification"]["max_abs_diff"] <= 1e-4

    assert main(["score", "--rm", str(out), "--samples", str(samples), "--batch-size", "5"]) == 0
    text = capsys.readouterr()
    lines = text.out.splitlines()
    assert len(lines) == 12 and "PyTorch eager (CPU)" in text.err
    first = from_run[0]
    assert lines[0] == (
        f"   0  {first['prompt_id']}  with_facts {first['with_facts']:+.6f}  "
        f"without_facts {first['without_facts']:+.6f}  difference {first['difference']:+.6f}"
    )


def test_score_errors_name_what_is_wrong(scored: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, _, samples = scored
    assert main(["score", "--rm", str(tmp_path), "--samples", str(samples)]) == 2
    assert "neither a run folder (run.json) nor a reward-model export (rm.json)" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    record = json.loads(samples.read_text().splitlines()[0])
    bad.write_text(json.dumps({**record, "image": str(tmp_path / "missing.png")}) + "\n")
    assert main(["score", "--rm", str(run), "--samples", str(bad)]) == 2
    assert f"{tmp_path / 'missing.png'}: cannot read the image" in capsys.readouterr().err
    bad.write_text(json.dumps({**record, "facts": "one fact"}) + "\n")
    assert main(["score", "--rm", str(run), "--samples", str(bad)]) == 2
    assert f"{bad}:1: `facts` must be a list of strings" in capsys.readouterr().err


def test_sample_images_resolve_against_the_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.json").write_text("{}")
    record = {"step": 0, "prompt_id": "a", "image": "world/images/x.png", "prompt": "q", "response": "r", "facts": []}
    (run / "samples" / "step-0.jsonl").write_text(json.dumps(record) + "\n\n")
    assert run_folder(run / "samples" / "step-0.jsonl") == run.resolve()
    [r] = read_records(run / "samples" / "step-0.jsonl")
    assert r.image == run.resolve() / "world" / "images" / "x.png" and r.facts == [] and r.index == 0
