"""Page and model text in the terminal's log lines: `glmv-agent -v run` on a real page (headless Chromium) whose
list options carry ESC/BEL sequences, with a model that types text carrying them too. The step fails with an error
quoting both; the INFO log line must show them as escapes, never raw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from web_support import PageServer  # noqa: E402

PAGE = ("<html><body><select id='s'><option>PAGE\x1b]0;PWNED\x07\x1b[8mhidden</option><option>Other</option>"
        "</select></body></html>")
REPLIES = ["Thought: pick\nAction: Type [0]; [zzz\x1bc\x07]\nMemory_Updated: {}",
           "Thought: stop\nAction: ANSWER; <content>no such option</content>\nMemory_Updated: {}"]


def test_verbose_log_lines_write_control_characters_as_escapes(tmp_path: Path) -> None:
    replay = tmp_path / "replies.jsonl"
    replay.write_text("".join(json.dumps({"content": reply}) + "\n" for reply in REPLIES), encoding="utf-8")
    with PageServer({"/select.html": (200, {}, PAGE)}) as site:
        done = subprocess.run(
            [sys.executable, "-m", "glmv_agent.cli", "-v", "run", "pick Other", "--platform", "web", "--url",
             site.url + "select.html", "--replay", str(replay), "--out", str(tmp_path / "run")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    logged = [line for line in done.stderr.splitlines() if "INFO" in line and "without an option" in line]
    assert logged, done.stderr[-2000:]
    assert "\\x1b]0;PWNED\\x07\\x1b[8mhidden" in logged[0] and "zzz\\x1bc\\x07" in logged[0]
    assert not any(char in done.stdout + done.stderr for char in "\x1b\x07"), done.stderr[-2000:]


def test_no_controls_keeps_text_and_escapes_what_could_drive_the_terminal() -> None:
    from glmv_agent.printable import no_controls

    text = "周报 ✅\tcol\r\nline2 \u202eevil\u202c \x9b2J \x1b[8m"
    assert no_controls(text) == "周报 ✅\tcol\nline2 \\u202eevil\\u202c \\x9b2J \\x1b[8m"
