#!/usr/bin/env bash
# Creates (or reuses) the trainer's virtual environment at .venv from the machine's local pip mirror.
# Idempotent: a venv whose stamp matches trainer/requirements.txt is left as it is.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${FACT_RLHF_VENV:-$root/.venv}"
req="$root/trainer/requirements.txt"
stamp="$venv/.fact-rlhf-stamp"
py="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "python env: $venv is up to date"
  exit 0
fi

if ! command -v "$py" >/dev/null 2>&1; then
  echo "error: $py not found. Install Python 3.10+ (e.g. apt-get install python3 python3-venv)." >&2
  exit 1
fi

# The mirror is configured as extra-index-url; using it as the primary index avoids
# pip's retries against an unreachable public index (minutes per install).
urls="$("$py" -m pip config list 2>/dev/null | sed -n "s/^global.extra-index-url='\(.*\)'$/\1/p")"
first="$(echo "$urls" | awk '{print $1}')"
second="$(echo "$urls" | awk '{print $2}')"
if [ -n "$first" ]; then
  export PIP_INDEX_URL="$first"
  [ -n "$second" ] && export PIP_EXTRA_INDEX_URL="$second"
elif [ -z "${PIP_INDEX_URL:-}" ]; then
  echo "warning: no local pip mirror is configured (pip config list shows no extra-index-url);" >&2
  echo "         falling back to pip's default index. Offline, install these yourself into $venv:" >&2
  sed 's/^/           /' "$req" >&2
fi

echo "python env: creating $venv (torch CPU, transformers, peft, ...)"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip >/dev/null 2>&1 || true
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" -e "$root/trainer"; then
  echo "error: could not install the trainer's Python packages into $venv." >&2
  echo "       Needed: $(grep -v '^#' "$req" | tr '\n' ' ')" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "python env: ready ($("$venv/bin/python" -c 'import torch,transformers,peft;print("torch",torch.__version__,"transformers",transformers.__version__,"peft",peft.__version__)'))"
