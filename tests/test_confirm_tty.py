"""`glmv-agent run --confirm` driven through a pseudo-terminal, as a person at a terminal would."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

STEPS = [
    'Memory: None\nReason: r\nAction: {"action_type": "open_app", "app_name": "Settings"}',
    'Memory: None\nReason: r\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}',
    'Memory: None\nReason: r\nAction: {"action_type": "status", "goal_status": "complete"}',
]


def read_until(fd: int, marker: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {marker!r}; got {seen[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    script = tmp_path / "script.jsonl"
    script.write_text("\n".join(json.dumps({"content": s}) for s in STEPS), encoding="utf-8")
    out = tmp_path / "run"
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "glmv_agent.cli", "run", "Open settings", "--platform", "mobile", "--replay",
         str(script), "--fake-screen", "--out", str(out), "--no-report", *extra],
        stdin=child, stdout=child, stderr=child, env=env, close_fds=True,
    )
    os.close(child)
    return proc, main, out


def test_yes_then_no_then_finish(tmp_path: Path) -> None:
    proc, fd, out = start(tmp_path, "--confirm")
    read_until(fd, b"[y]es/[n]o/[s]top")
    os.write(fd, b"y\n")
    read_until(fd, b"[y]es/[n]o/[s]top")
    os.write(fd, b"n\n")
    tail = read_until(fd, b"run folder:")
    assert proc.wait(timeout=30) == 0
    assert b"status: complete" in tail
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert steps[0]["audit"] == ["confirm: yes"] and steps[0]["error"] is None
    assert steps[1]["audit"] == ["confirm: no"] and steps[1]["error_kind"] == "blocked"


def test_stop_aborts_with_trajectory_saved(tmp_path: Path) -> None:
    proc, fd, out = start(tmp_path, "--confirm")
    read_until(fd, b"[y]es/[n]o/[s]top")
    os.write(fd, b"s\n")
    tail = read_until(fd, b"run folder:")
    assert proc.wait(timeout=30) == 130
    assert b"status: aborted" in tail
    assert json.loads((out / "summary.json").read_text())["status"] == "aborted"
    assert len((out / "steps.jsonl").read_text().splitlines()) == 1
