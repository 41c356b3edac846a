#!/usr/bin/env bash
# From a fresh clone, the offline demo in two minutes: install what it needs and run it.
#   bash scripts/demo.sh [glmv-agent demo args...]      e.g. --headed, --out DIR
# As root on Debian/Ubuntu it installs the chromium package (GLMV_DEMO_APT=0 skips that); then it installs the
# package with its web extra (Playwright; no torch, so never a CUDA download) into .venv (or $GLMV_VENV) and runs
# `glmv-agent demo`: a recorded GLM-4.5V episode in real headless Chromium against a bundled site, no model needed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${GLMV_DEMO_APT:-1}" = "1" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "installing chromium (apt-get)..."
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends chromium python3-venv >/dev/null
fi

VENV="${GLMV_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV..."
  python3 -m venv "$VENV"
fi
echo "installing glmv-agent[web] into $VENV..."
"$VENV/bin/python" -m pip install -q -e ".[web]"

# Without a Chromium the demo says how to get one (the chromium package, or `playwright install chromium`).
exec "$VENV/bin/glmv-agent" demo "$@"
