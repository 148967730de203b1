#!/usr/bin/env bash
# Packages the JupyterLab integration into artifacts/cellflow_jupyterlab-<version>-py3-none-any.whl:
# the prebuilt lab extension, the server extension with its jupyter-config file, and the agent
# bundled into one file (scripts/webpack.agent.config.js). Builds those first, then the wheel with
# hatchling (Debian's python3-hatchling and python3-build: scripts/setup-machine.sh). Run
# `npm run package:jupyterlab`.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${CELLFLOW_PACKAGE_PYTHON:-/usr/bin/python3}"
"$python" -c 'import build, hatchling' 2>/dev/null ||
  { echo "python3-build or python3-hatchling is missing: run bash scripts/setup-machine.sh" >&2; exit 1; }
node node_modules/typescript/bin/tsc -b packages/jupyterlab packages/cli
rm -rf packages/jupyterlab/labextension packages/jupyterlab/build
node packages/jupyterlab/scripts/build-labextension.mjs
node node_modules/webpack-cli/bin/cli.js --no-color --config scripts/webpack.agent.config.js
mkdir -p artifacts
# --no-isolation: the build uses the installed hatchling (no PyPI here). --skip-dependency-check:
# Debian's hatchling lacks `editables`, which only editable installs use.
"$python" -m build --no-isolation --skip-dependency-check --wheel --outdir artifacts packages/jupyterlab
