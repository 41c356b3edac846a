#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian/Ubuntu machine (or reuse what is there) and run it.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # chromium: web tests; xvfb/xdotool/x11-utils/x11-xserver-utils (xrandr)/xclip/xsel/python3-tk: desktop tests;
  # adb: the real client against our simulated phone; fonts-wqy-zenhei: CJK glyphs in screenshots.
  apt-get install -y -q --no-install-recommends \
    chromium xvfb xdotool x11-utils x11-xserver-utils xclip xsel python3-tk adb fonts-wqy-zenhei >/dev/null
fi

VENV="${GLMV_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip >/dev/null
# A CPU build of torch first: a plain `pip install torch` pulls several GB of CUDA packages.
"$PY" -m pip install -q "${GLMV_TORCH_SPEC:-torch==2.13.0}"
"$PY" -m pip install -q -e ".[test,local]"

export HF_HUB_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
"$VENV/bin/ruff" check .
"$PY" scripts/check_sizes.py
exec "$PY" -m pytest -q -p no:cacheprovider "$@"
