#!/usr/bin/env bash
# Packages the VS Code extension (root package.json = manifest, dist/ = webpack bundle) into
# artifacts/cellflow-<version>.vsix with vsce from scripts/setup-code-server.sh's cache.
# Run `npm run package:vscode` (builds first).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${CELLFLOW_CACHE_DIR:-/var/cache/cellflow}"
vsce="$cache/vsce-${VSCE_VERSION:-3.9.2}/node_modules/.bin/vsce"
[ -x "$vsce" ] || { echo "vsce is missing: run bash scripts/setup-code-server.sh" >&2; exit 1; }
version="$(node -p 'require("./package.json").version')"
mkdir -p artifacts
"$vsce" package --no-dependencies --allow-missing-repository --skip-license --no-rewrite-relative-links \
  --out "artifacts/cellflow-$version.vsix"
ls -l "artifacts/cellflow-$version.vsix"
