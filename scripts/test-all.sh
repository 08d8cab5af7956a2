#!/usr/bin/env bash
# `npm test`: sets up what is missing, then runs every tier of DESIGN.md §6 and prints one closing
# line "N passed, N failed". Tiers: static (types, lint) · unit (node, pytest) · protocol (LSP over stdio,
# run manager + real trainer) · browser (webviews in headless Chromium) · editor (real VS Code: code-server).
# FACT_RLHF_TIERS="unit protocol" runs a subset.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tiers="${FACT_RLHF_TIERS:-static unit protocol browser editor}"
mkdir -p test-results
log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "npm test: error: $*" >&2; exit 1; }

# ---- set-up (each step is a no-op when already done) ----
bash scripts/setup.sh || die "set-up failed (see above)"
if [[ " $tiers " == *" editor "* ]]; then
  bash scripts/setup-code-server.sh || die "code-server set-up failed (see above)"
fi
log "build"
node scripts/build.mjs || die "build failed"

passed=0; failed=0; failures=()
count_tap() { # file label
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}'); f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  p=${p:-0}; f=${f:-0}
  passed=$((passed + p)); failed=$((failed + f))
  if [[ "$f" != 0 || "$p" == 0 ]]; then failures+=("$2 ($p passed, $f failed)"); [[ "$p" == 0 && "$f" == 0 ]] && failed=$((failed + 1)); fi
}
node_tests() { # label files...
  local label="$1"; shift
  local tap="test-results/$label.tap"
  log "$label"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
  count_tap "$tap" "$label"
}

editor_run() { # label results-file runner-args...: one code-server run of test/editor/runner.mjs
  local label="$1" res="$2" rc p f; shift 2
  node test/editor/runner.mjs "$@"
  rc=$?
  if [[ -f "$res" ]]; then
    p=$(node -p "require('./$res').passes ?? 0"); f=$(node -p "require('./$res').failures ?? 0")
  else
    p=0; f=1
  fi
  [[ $rc != 0 && "$f" == 0 ]] && f=1
  passed=$((passed + p)); failed=$((failed + f))
  if [[ "$f" != 0 || "$p" == 0 ]]; then failures+=("$label ($p passed, $f failed)"); [[ "$p" == 0 && "$f" == 0 ]] && failed=$((failed + 1)); fi
}

for tier in $tiers; do
  case "$tier" in
    static)
      log "static: generated types, tsc, eslint, prettier, ruff (lint and format) and mypy (Python)"
      if node scripts/gen-types.mjs --check && node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/tsc --noEmit -p webview && node_modules/.bin/eslint . \
        && node_modules/.bin/prettier --check --log-level warn . \
        && .venv/bin/ruff check --no-cache . && .venv/bin/ruff format --check --no-cache . && (cd trainer && ../.venv/bin/mypy); then
        passed=$((passed + 1))
      else
        failed=$((failed + 1)); failures+=("static checks")
      fi
      ;;
    unit)
      node_tests unit test/unit/*.test.ts
      log "unit: pytest trainer/"
      out=test-results/pytest.txt
      (cd trainer && ../.venv/bin/python -m pytest -q -p no:cacheprovider) 2>&1 | tee "$out"
      p=$(grep -oE '[0-9]+ passed' "$out" | tail -1 | awk '{print $1}'); f=$(grep -oE '[0-9]+ (failed|error)' "$out" | awk '{s+=$1} END {print s+0}')
      passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
      if [[ "${f:-0}" != 0 || -z "${p:-}" ]]; then failures+=("pytest"); [[ -z "${p:-}" && "${f:-0}" == 0 ]] && failed=$((failed + 1)); fi
      ;;
    protocol) node_tests protocol test/protocol/*.test.ts ;;
    browser) node_tests browser test/browser/*.test.ts ;;
    editor)
      log "editor: extension tests in a real VS Code (code-server) in headless Chromium"
      # No stale results or package: the Restricted Mode run below installs the VSIX this run builds.
      rm -f test-results/editor-results.json test-results/editor-restricted-results.json fact-rlhf-studio.vsix
      editor_run editor test-results/editor-results.json
      log "editor: Restricted Mode (Workspace Trust on, the workspace untrusted)"
      # The VSIX the run above packaged and installed; packaged anew only if that run made none.
      vsix=(); [[ -f fact-rlhf-studio.vsix ]] && vsix=(--vsix fact-rlhf-studio.vsix)
      editor_run "editor, Restricted Mode" test-results/editor-restricted-results.json --restricted "${vsix[@]}"
      ;;
    *) die "unknown tier $tier" ;;
  esac
done

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
