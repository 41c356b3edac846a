"""A password typed from a secret never reaches the model through the element list, nor the run folder."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from web_support import browser_fixture, playwright_fixture  # noqa: E402, F401

from glmv_agent.agent import Agent, AgentConfig  # noqa: E402
from glmv_agent.backends.replay import ReplayBackend  # noqa: E402
from glmv_agent.environments.web.environment import WebEnvironment  # noqa: E402
from glmv_agent.environments.web.options import WebOptions  # noqa: E402
from glmv_agent.oversight.secrets import SecretStore  # noqa: E402
from glmv_agent.profiles import get_profile  # noqa: E402

pytestmark = pytest.mark.browser
SECRET = "Tr0ub4dor&3-horse"
PAGE = ("data:text/html,<input id=u placeholder=user><input id=p type=password placeholder=password>"
        "<input id=otp autocomplete=one-time-code placeholder=code>")


def test_password_and_otp_values_stay_out_of_prompts_and_records(browser, tmp_path: Path) -> None:  # noqa: ANN001
    script = [
        "Thought: user\nAction: Type [0]; [alice]\nMemory_Updated: {}",
        "Thought: pw\nAction: Type [1]; [<secret>PW</secret>]\nMemory_Updated: {}",
        "Thought: code\nAction: Type [2]; [login <secret>PW</secret> now]\nMemory_Updated: {}",
        "Thought: done\nAction: ANSWER; <content>logged in</content>\nMemory_Updated: {}",
    ]
    backend = ReplayBackend(script)
    with WebEnvironment.from_browser(browser, WebOptions(url=PAGE, wait_seconds=0)) as env:
        result = Agent(get_profile("glm-4.5v/web"), backend, env, AgentConfig(run_dir=tmp_path / "run"),
                       secrets=SecretStore({"PW": SECRET})).run("log in")
        typed = env.page.evaluate("[u.value, p.value, otp.value]")
    assert result.status == "complete", result.error
    assert typed == ["alice", SECRET, f"login {SECRET} now"]  # the page got the real value
    prompts = "\n".join(m.text() for request in backend.requests for m in request)
    assert '<input> "alice"' in prompts and '<input> "password"' in prompts and '<input> "code"' in prompts
    for piece in (SECRET, SECRET[:6], SECRET[-6:]):
        assert piece not in prompts
        for path in result.run_dir.rglob("*"):
            if path.is_file() and path.suffix in (".jsonl", ".json", ".html"):
                assert piece not in path.read_text(encoding="utf-8", errors="ignore"), path



def test_a_field_holding_a_secret_is_drawn_as_dots_in_the_screenshot(browser) -> None:  # noqa: ANN001
    """The field the secret went into looks exactly like a field of dots of the same length, and gets its own
    style back after the screenshot."""
    page = ("data:text/html,<style>input{font:20px monospace;width:300px;border:1px solid;display:block;margin:8px}"
            "</style><input id=a><input id=b style='-webkit-text-security:disc'><input id=c>")
    store = SecretStore({"PW": SECRET})
    with WebEnvironment.from_browser(browser, WebOptions(url=page, wait_seconds=0), secrets=store) as env:
        env.page.fill("#a", SECRET)
        env.page.fill("#b", "x" * len(SECRET))
        env.page.fill("#c", SECRET[:-1])  # not the secret: shown as it is
        boxes = [env.page.locator(f"#{name}").bounding_box() for name in "abc"]
        shot = env.observe().screenshot

        def crop(box: dict[str, float]):  # noqa: ANN202
            return shot.crop((round(box["x"]) + 2, round(box["y"]) + 2, round(box["x"]) + 200, round(box["y"]) + 20))

        assert crop(boxes[0]).tobytes() == crop(boxes[1]).tobytes()
        assert crop(boxes[2]).tobytes() != crop(boxes[1]).tobytes()
        assert env.page.evaluate("getComputedStyle(a).webkitTextSecurity") == "none"
        assert env.page.evaluate("a.hasAttribute('data-glmv-field') || c.hasAttribute('data-glmv-field')") is False
