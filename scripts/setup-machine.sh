#!/usr/bin/env bash
# Installs the Debian packages Cellflow's steps and tests use (idempotent; needs root or sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  python3 python3-numpy python3-pandas python3-sklearn python3-joblib
  python3-ipykernel python3-nbformat python3-nbclient jupyter-nbconvert python3-pyflakes
  python3-jupyter-server python3-jupyterlab-server chromium
  # the JupyterLab wheel: built with hatchling (scripts/package-jupyterlab.sh), tested in a venv
  python3-hatchling python3-build python3-venv
  libpython3.11-testsuite # the parser conformance test (test/python-conformance) reads it
  python-sklearn-doc
  # bench:serve's peer: FastAPI on uvicorn with uvloop, the stack KServe's Python model server runs
  python3-fastapi python3-uvicorn python3-uvloop
  # the upstream KFP SDK test (test/kfp-sdk) runs ../shared/kfp-sdk with these
  python3-protobuf python3-yaml python3-click python3-kubernetes python3-requests-toolbelt
  python3-tabulate python3-google-auth python3-six python3-dateutil python3-certifi
  # Kale notebooks pass xgboost values between steps (test/semantics: xgboost-dmatrix)
  python3-xgboost
  # sympy's functions cross steps (test/cli: cross-step-values)
  python3-sympy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
