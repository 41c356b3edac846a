"""Redaction replaces whole occurrences of a secret value in every spelling (raw, URL-encoded, JSON-escaped,
base64, clipped with "…") and nothing else: other words keep every character, so a record reads as the model saw."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from glmv_agent.actions import InputText
from glmv_agent.oversight.redaction import base64_forms
from glmv_agent.oversight.secrets import SecretStore
from glmv_agent.types import Observation, Platform, WebElement

VALUE = 'Enterprise&Co "1"!/é'
STORE = SecretStore({"PW": VALUE})
P = "<secret>PW</secret>"


@pytest.mark.parametrize("spelling", [
    VALUE, quote(VALUE, safe=""), quote_plus(VALUE, safe=""), quote(VALUE, safe="!'()*~"), quote_plus(VALUE, safe="*"),
    re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(VALUE, safe="")), json.dumps(VALUE)[1:-1], json.dumps(VALUE, ensure_ascii=False)[1:-1],
    base64.b64encode(VALUE.encode()).decode(), base64.urlsafe_b64encode(VALUE.encode()).decode().rstrip("="),
    VALUE.replace("&", "\\&").replace('"', '\\"'), VALUE.replace("&", "&amp;").replace('"', "&quot;"),
])
def test_every_spelling_of_the_whole_value_is_replaced(spelling: str) -> None:
    assert STORE.redact(f"before {spelling} after") == f"before {P} after"


def test_base64_of_a_longer_text_loses_every_part_that_only_the_value_decides() -> None:
    for prefix in (b"", b"a", b"ab", b"user:"):
        encoded = base64.b64encode(prefix + VALUE.encode() + b" tail").decode()
        redacted = STORE.redact(encoded) or ""
        assert P in redacted
        assert not any(form in redacted for form in base64_forms(VALUE))


def test_other_words_keep_every_character() -> None:
    text = "Press Enter to open Enterprise tools; E&Co is a company; 1/é"
    assert STORE.redact(text) == text  # the old redaction cut 4-character pieces ("Ente", "&Co ") out of these
    assert SecretStore({"K": "hunter2"}).redact("hunter hunter22x") == "hunter <secret>K</secret>2x"


def test_a_copy_clipped_with_an_ellipsis_is_replaced_and_placeholders_survive_a_second_pass() -> None:
    clipped = f'typed "login {VALUE[:9]}…" into [1]'
    once = STORE.redact(clipped)
    assert once == f'typed "login {P}…" into [1]'
    assert STORE.redact(once) == once
    assert SecretStore({"S": "secret"}).redact("<secret>S</secret> and secret") == "<secret>S</secret> and " \
                                                                                  "<secret>S</secret>"


def test_the_longer_of_two_overlapping_values_wins() -> None:
    store = SecretStore({"SHORT": "abc123", "LONG": "abc123xyz"})
    assert store.redact("abc123xyz abc123") == "<secret>LONG</secret> <secret>SHORT</secret>"


def test_an_observation_is_redacted_in_every_text_the_model_reads() -> None:
    from PIL import Image

    element = WebElement(label=0, tag="input", text=f"{VALUE} typed", box=(0, 0, 5, 5))
    observation = Observation(screenshot=Image.new("RGB", (4, 4)), platform=Platform.WEB, elements=[element],
                              url=f"http://x/?pw={quote_plus(VALUE)}", notes=[f'A dialog said "{VALUE}"'])
    clean = STORE.redact_observation(observation)
    assert (clean.url, clean.elements[0].text, clean.notes) == (f"http://x/?pw={P}", f"{P} typed",
                                                                [f'A dialog said "{P}"'])
    assert clean.screenshot is observation.screenshot and observation.elements[0].text.startswith(VALUE)


def test_the_log_filter_redacts_formatted_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("glmv_agent.test_redaction")
    caplog.handler.addFilter(STORE.log_filter())
    with caplog.at_level(logging.INFO):
        logger.info("sent %s as %s", quote(VALUE, safe=""), base64.b64encode(VALUE.encode()).decode())
    assert caplog.records[-1].getMessage() == f"sent {P} as {P}"


def test_a_secret_the_model_writes_or_types_reaches_no_file_and_no_output(tmp_path: Path) -> None:
    """The model types the secret by its placeholder, then writes the value itself into its answer: neither the
    value nor its length appears in the run folder, the --json result or the terminal."""
    value = "Hunter2Secret"
    replies = [
        'Memory: None\nReason: log in\nAction: {"action_type": "input_text", "text": "<secret>PW</secret>", '
        '"box_2d": [[100,200,300,400]]}',
        f'Memory: None\nReason: done\nAction: {{"action_type": "answer", "text": "logged in as aka {value}"}}',
        'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}',
    ]
    script = tmp_path / "script.jsonl"
    script.write_text("".join(json.dumps({"content": r}) + "\n" for r in replies), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "glmv_agent.cli", "run", "log in", "--platform", "mobile", "--model", "glm-4.5v",
         "--fake-screen", "--replay", str(script), "--secret", f"PW={value}", "--out", str(tmp_path / "run"),
         "--json"],
        capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"] == "logged in as aka <secret>PW</secret>"
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".html")]
    assert {p.name for p in files} >= {"steps.jsonl", "summary.json", "report.html"}
    for text in [done.stdout, done.stderr, *(p.read_text(encoding="utf-8") for p in files)]:
        assert value not in text
        assert f"{len(value)} characters" not in text
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert steps[0]["action"]["text"] == P


def test_a_typed_secret_does_not_give_its_length_away_in_the_step_detail() -> None:
    typed = InputText(text=P, box_2d=[100, 200, 300, 400])
    detail = f"tap at (540, 720), typed {len(VALUE)} characters '{VALUE}' via ADB Keyboard"
    assert STORE.redact_detail(detail, typed) == f"tap at (540, 720), typed some characters '{P}' via ADB Keyboard"
    plain = InputText(text="hello", box_2d=[100, 200, 300, 400])
    assert STORE.redact_detail("typed 5 characters 'hello'", plain) == "typed 5 characters 'hello'"
