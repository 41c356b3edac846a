"""`pip install .` (not editable) gives a working CLI from any directory and no generic top-level names."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_under_glmv_agent_only_and_cli_runs_anywhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, timeout=300)
    wheel = next(wheels.glob("glmv_agent-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops <= {"glmv_agent", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "glmv_agent/prompts/glm45v_web.txt" in names
    assert "glmv_agent/environments/__init__.py" in names and "glmv_agent/local_backend/__init__.py" in names
    assert "glmv_agent/environments/android/apps.csv" in names  # open_app's name -> package table
    assert "glmv_agent/environments/web/demo_site/index.html" in names  # glmv-agent demo's site
    # every module of the checkout ships (a package left out of pyproject's list would be missing)
    roots = {"glmv_agent": "glmv_agent", "environments": "glmv_agent/environments",
             "local_backend": "glmv_agent/local_backend", "prompts": "glmv_agent/prompts"}
    for folder, installed in roots.items():
        for source in (ROOT / folder).rglob("*.py"):
            assert f"{installed}/{source.relative_to(ROOT / folder).as_posix()}" in names, source

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([str(target / "bin" / "glmv-agent"), "parse", "--model", "glm-4.5v", "--platform", "web",
                           "-"], input="Thought: t\nAction: Click [2]\nMemory_Updated: {}", capture_output=True,
                          text=True, cwd=elsewhere, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"type": "Click"' in done.stdout
    where = subprocess.run([sys.executable, "-c", "import glmv_agent; print(glmv_agent.__file__)"], capture_output=True,
                           text=True, cwd=elsewhere, env=env, check=True).stdout
    assert where.startswith(str(target))  # the installed copy, not the checkout
