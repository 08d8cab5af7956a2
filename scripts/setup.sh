#!/usr/bin/env bash
# Everything the main job and the tests need, installed only when missing: npm packages (from the
# lockfile), the trainer's Python environment, and Debian's Chromium for the webview tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

lock_stamp=node_modules/.fact-rlhf-lock
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$lock_stamp" || "$(cat "$lock_stamp")" != "$want" ]]; then
  echo "setup: npm ci"
  # onnxruntime-node's install step downloads CUDA binaries; the CPU binary ships in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$lock_stamp"
fi

bash scripts/setup-python.sh

# The VSIX test (test/protocol/vsixScoring.test.ts) reads the package with Debian's unzip.
if ! command -v unzip >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: apt-get install unzip (VSIX test)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip) >/dev/null
  else
    echo "setup: error: unzip is missing: install Debian's unzip package (sudo apt-get install unzip)" >&2
    exit 1
  fi
fi

if [[ "${FACT_RLHF_NEED_CHROMIUM:-1}" == 1 && ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: apt-get install chromium (webview tests)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null
  else
    echo "setup: error: Chromium is missing: install Debian's chromium package (sudo apt-get install chromium)" >&2
    exit 1
  fi
fi
