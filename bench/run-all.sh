#!/usr/bin/env bash
# Runs every benchmark and prints its figures; record them in bench/RESULTS.md with the machine and date.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node scripts/build.mjs
for b in bench/*.bench.ts; do
  echo "== $b"
  node --import tsx "$b"
done
for b in bench/*_bench.py; do
  [ -e "$b" ] || continue
  echo "== $b"
  .venv/bin/python "$b"
done
