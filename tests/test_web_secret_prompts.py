"""A value typed from a secret never reaches the model (element list, URL, page texts, dialogs), nor the run
folder, nor the logs, in any spelling: the whole CLI run against a page on 127.0.0.1 and the fake OpenAI server,
which records every request the backend sends."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import PageServer  # noqa: E402

from glmv_agent.cli import main  # noqa: E402
from glmv_agent.environments.web.options import resolve_executable  # noqa: E402
from glmv_agent.errors import ConfigError  # noqa: E402
from tests.support import FakeOpenAIServer  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def chromium() -> None:
    try:
        resolve_executable(None, None)
    except ConfigError as exc:
        pytest.skip(f"no Chromium here: {exc}")


# A value with characters every encoding changes: '&', a space, quotes, '!', '/', a non-ASCII letter.
PHRASE = 'Tr0ub4dor&3 "horse"!/é'


def _spellings(value: str) -> list[str]:
    """The forms no prompt, record or log may hold: raw, URL-encoded (four ways), base64 (two), JSON-escaped."""
    raw = value.encode("utf-8")
    forms = [value, quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="!'()*~"),
             quote(value, safe="").lower(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(forms))


def _texts(request) -> str:  # noqa: ANN001
    """Every text part of the messages one chat request carried."""
    parts = []
    for message in request.body["messages"]:
        content = message["content"]
        parts += [content] if isinstance(content, str) else [p["text"] for p in content if p["type"] == "text"]
    return "\n".join(parts)


def test_a_typed_secret_reaches_no_prompt_record_or_log(tmp_path: Path, caplog) -> None:  # noqa: ANN001
    """Typed into a visible field and into a GET form (so the URL, the page, its title and a dialog echo it), the
    value never appears in what the model is sent, nor in steps.jsonl, summary.json, the report or the logs."""
    script = [
        "Thought: note\nAction: Type [0]; [<secret>PW</secret>]\nMemory_Updated: {}",
        "Thought: sign in\nAction: Type [2]; [<secret>PW</secret>]\nMemory_Updated: {}",
        "Thought: done\nAction: ANSWER; <content>signed in</content>\nMemory_Updated: {}",
    ]
    caplog.set_level(logging.DEBUG)
    with PageServer() as site, FakeOpenAIServer(script) as model:
        code = main(["run", "sign in", "--platform", "web", "--url", site.url + "login.html", "--model", "glm-4.5v",
                     "--base-url", model.base_url, "--api-model", "fake-glm", "--api-key", "k",
                     "--secret", f"PW={PHRASE}", "--out", str(tmp_path / "run"), "--allowed-domains", "127.0.0.1"])
        prompts = [_texts(request) for request in model.chat_requests]
    assert code == 0 and len(prompts) == 3
    assert any(quote_plus(PHRASE) in hit for hit in site.hits)  # the site did get the real value
    assert '[0]: <input> "<secret>PW</secret>"' in prompts[1]  # the field is listed, its value is not
    assert "pw=<secret>PW</secret>" in prompts[2] and "Signed in with <secret>PW</secret>" in prompts[2]
    assert 'Your pass phrase <secret>PW</secret> is weak' in prompts[2]
    files = {p.name: p.read_text("utf-8") for p in (tmp_path / "run").iterdir() if p.suffix in {".jsonl", ".json",
                                                                                              ".html"}}
    assert {"steps.jsonl", "summary.json", "report.html"} <= set(files)
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for form in _spellings(PHRASE):
        for index, prompt in enumerate(prompts):
            assert form not in prompt, (index, form)
        for name, text in files.items():
            assert form not in text, (name, form)
        assert form not in logs, form
