#!/usr/bin/env bash
# The README's main job: a tiny Fact-RLHF PPO run on the built-in synthetic world, from the CLI.
# Sets up what is missing first (npm packages, the Python environment), then builds and runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
FACT_RLHF_NEED_CHROMIUM=0 bash scripts/setup.sh
node scripts/build.mjs
exec node dist/cli.js ppo "${1:-examples/tiny-ppo.rlhf.yaml}"
