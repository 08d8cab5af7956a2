#!/usr/bin/env bash
# The hallucination lab: SFT → plain and fact-augmented reward models → plain RLHF and Fact-RLHF PPO →
# evaluation, on the built-in shapes world over 3 seeds, printing one results table (~6 min on 2 cores).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
FACT_RLHF_NEED_CHROMIUM=0 bash scripts/setup.sh
cd trainer
exec ../.venv/bin/python -m fact_rlhf demo --seeds "${SEEDS:-0,1,2}" --out "$root/runs/demo-$(date +%Y%m%d-%H%M%S)"
