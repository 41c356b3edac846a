"""scripts/demo.sh from a fresh clone: it installs the package with only its web extra into the venv and runs the
real demo in headless Chromium. The venv here is a stand-in whose python records the install it is asked for (a
real install from the package index takes about a minute; docs/api.md says how the full run was checked)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _stand_in_venv(venv: Path, log: Path) -> None:
    """bin/python logs its arguments (the pip install); bin/glmv-agent runs the installed glmv-agent."""
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n', encoding="utf-8")
    agent = venv / "bin" / "glmv-agent"
    agent.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -m glmv_agent.cli "$@"\n', encoding="utf-8")
    for path in (python, agent):
        path.chmod(0o755)


def test_demo_script_from_a_fresh_clone(tmp_path: Path) -> None:
    from glmv_agent.environments.web.options import SYSTEM_BROWSERS

    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout")
    if not any(Path(p).is_file() for p in SYSTEM_BROWSERS):
        pytest.skip("needs a system Chromium")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    log = tmp_path / "pip.log"
    _stand_in_venv(tmp_path / "venv", log)
    env = {**os.environ, "GLMV_VENV": str(tmp_path / "venv"), "GLMV_DEMO_APT": "0"}
    done = subprocess.run(["bash", "scripts/demo.sh", "--out", str(tmp_path / "run")], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status: complete" in done.stdout and "Mapo Tofu" in done.stdout
    assert log.read_text().split("\n")[0] == "-m pip install -q -e .[web]"  # the web extra only: no torch
    assert (tmp_path / "run" / "report.html").is_file()
