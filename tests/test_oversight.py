"""Policy rules, confirmation, secrets, no-effect detection and caller hooks, on replayed episodes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from glmv_agent.agent import Agent, AgentConfig, AgentHooks
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.errors import ConfigError
from glmv_agent.oversight.guard import Guard
from glmv_agent.oversight.policy import Policy
from glmv_agent.oversight.secrets import SecretStore
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Observation, Outcome, Platform

SECRET = "hunter2-Sekret!"


def mobile(action: str) -> str:
    return f"Memory: None\nReason: r\nAction: {action}"


OPEN_STORE = mobile('{"action_type": "open_app", "app_name": "Play Store"}')
TYPE_PW = mobile('{"action_type": "input_text", "text": "<secret>PASSWORD</secret>", "box_2d": [[1,2,3,4]], '
                 '"override": true}')
DONE = mobile('{"action_type": "status", "goal_status": "complete"}')


class ChangingScreen(FakeEnvironment):
    """Fake screen that logs and echoes typed text (as careless drivers do) and changes after each action."""

    def execute(self, action: Any, observation: Observation) -> Outcome:
        text = getattr(action, "text", None)
        if text:
            logging.getLogger("driver").info("typing %s", text)
        outcome = super().execute(action, observation)
        return outcome.model_copy(update={"detail": f"typed {text}" if text else outcome.detail})


def write_policy(tmp_path: Path, body: str) -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(body, encoding="utf-8")
    return Policy.load(path)


def agent_run(tmp_path: Path, responses: list[str], env: FakeEnvironment | None = None, **kwargs: Any):
    env = env or ChangingScreen()
    backend = ReplayBackend(responses)
    agent = Agent(get_profile("glm-4.5v/mobile"), backend, env, AgentConfig(run_dir=tmp_path / "run"), **kwargs)
    return agent.run("install something"), env, backend


def test_policy_denies_and_the_denial_reaches_the_model(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, 'default = "allow"\n[[rule]]\ndecision = "deny"\nactions = ["open_app"]\n'
                                    'app = "(?i)play store"\nreason = "no app installs"\n')
    result, env, backend = agent_run(tmp_path, [OPEN_STORE, DONE], guard=Guard(policy))
    # The only action was refused, so the model's "complete" is not taken as success.
    assert env.executed == [] and result.status == "failed" and "1 were refused" in (result.error or "")
    assert "blocked by the user's safety policy (policy rule 1 (deny: no app installs))" in backend.requests[1][0].text()
    first = json.loads((result.run_dir / "steps.jsonl").read_text().splitlines()[0])
    assert first["error_kind"] == "blocked" and first["audit"] == ["policy rule 1 (deny: no app installs)"]


def test_policy_confirm_asks_and_follows_the_answer(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, '[[rule]]\ndecision = "confirm"\nplatform = "mobile"\ntext = "(?i)secret"\n')
    asked: list[str] = []

    def ask(text: str) -> str:
        asked.append(text)
        return "yes"

    result, env, _ = agent_run(tmp_path, [TYPE_PW, DONE], guard=Guard(policy, ask=ask),
                               secrets=SecretStore({"PASSWORD": SECRET}))
    assert len(asked) == 1 and asked[0].startswith("input_text ") and SECRET not in asked[0]
    assert [e[0] for e in env.executed] == ["input_text"]
    assert env.executed[0][2]["text"] == SECRET  # the environment typed the real value


def test_confirm_stop_aborts_and_no_means_not_executed(tmp_path: Path) -> None:
    result, env, _ = agent_run(tmp_path, [OPEN_STORE, DONE], guard=Guard(confirm_all=True, ask=lambda _: "stop"))
    assert result.status == "aborted" and env.executed == []
    result, env, backend = agent_run(tmp_path / "b", [OPEN_STORE, DONE], guard=Guard(confirm_all=True,
                                                                                  ask=lambda _: "no"))
    assert env.executed == [] and "The user declined this action" in backend.requests[1][0].text()


def test_confirm_without_a_terminal_does_not_run_the_action(tmp_path: Path) -> None:
    _, env, backend = agent_run(tmp_path, [OPEN_STORE, DONE], guard=Guard(confirm_all=True, ask=None))
    assert env.executed == [] and "confirmation, which is not available" in backend.requests[1][0].text()


def test_policy_domain_and_default(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, 'default = "deny"\n[[rule]]\ndecision = "allow"\ndomain = "example.com"\n')
    action = get_profile("glm-4.5v/web").parse("Thought: t\nAction: Click [1]\nMemory_Updated: {}").action
    page = Observation(screenshot=ChangingScreen().observe().screenshot, platform=Platform.WEB,
                       url="https://shop.example.com/cart")
    assert policy.decide(action, page)[0] == "allow"
    assert policy.decide(action, page.model_copy(update={"url": "https://example.org/"}))[0] == "deny"
    with pytest.raises(ConfigError, match="bad regular expression"):
        write_policy(tmp_path, '[[rule]]\ndecision = "deny"\ntext = "("\n')


def test_secret_never_reaches_prompts_records_reports_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger().addHandler(caplog.handler)
    result, env, backend = agent_run(tmp_path, [TYPE_PW, DONE], secrets=SecretStore({"PASSWORD": SECRET}))
    assert result.status == "complete" and env.executed[0][2]["text"] == SECRET
    prompts = "\n".join(m.text() for request in backend.requests for m in request)
    assert "<secret>PASSWORD</secret>" in prompts and SECRET not in prompts
    for path in result.run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "typing <secret>PASSWORD</secret>" in caplog.text and SECRET not in caplog.text


def test_unknown_secret_is_a_step_error_told_to_the_model(tmp_path: Path) -> None:
    bad = TYPE_PW.replace("PASSWORD", "PIN")
    _, env, backend = agent_run(tmp_path, [bad, DONE], secrets=SecretStore({"PASSWORD": SECRET}))
    assert env.executed == [] and "unknown secret 'PIN'" in backend.requests[1][0].text()


def test_secret_sources(tmp_path: Path) -> None:
    file = tmp_path / "secrets.env"
    file.write_text("# comment\nPIN=1234\n", encoding="utf-8")
    store = SecretStore.from_sources(["TOKEN=a=b"], file, environ={"GLMV_SECRET_USER": "bob"})
    assert store.values == {"USER": "bob", "PIN": "1234", "TOKEN": "a=b"}
    with pytest.raises(ConfigError):
        SecretStore.from_sources(["novalue"], environ={})


def test_no_effect_is_reported_then_repetition_ends_the_run(tmp_path: Path) -> None:
    class FrozenScreen(FakeEnvironment):
        def observe(self) -> Observation:
            obs = super().observe()
            obs.screenshot.paste((250, 250, 250), (0, 0, 400, 60))  # hide the action counter: nothing changes
            return obs

    click = mobile('{"action_type": "click", "box_2d": [[1,2,3,4]]}')
    result, env, backend = agent_run(tmp_path, [click] * 5, env=FrozenScreen())
    assert "The screen did not change after your last action" in backend.requests[1][0].text()
    assert result.status == "looping" and len(env.executed) == 3
    assert "repeated click 3 times" in (result.error or "")


def test_changing_screen_is_not_flagged(tmp_path: Path) -> None:
    click = mobile('{"action_type": "click", "box_2d": [[1,2,3,4]]}')
    _, _, backend = agent_run(tmp_path, [click, click, DONE])
    assert all("did not change" not in m.text() for request in backend.requests for m in request)


def test_hooks_see_steps_and_can_veto(tmp_path: Path) -> None:
    seen: list[int] = []
    phases: list[str] = []
    hooks = AgentHooks(on_step=lambda r: seen.append(r.index), before_action=lambda a, o: a.type != "open_app",
                       on_phase=lambda i, p: phases.append(p))
    result, env, backend = agent_run(tmp_path, [OPEN_STORE, DONE], hooks=hooks)
    assert env.executed == [] and seen == [0, 1] and phases[:3] == ["observe", "generate", "execute"]
    assert "blocked by the caller" in backend.requests[1][0].text()


def test_a_sensitive_autoglm_tap_needs_a_persons_yes(tmp_path: Path) -> None:
    pay = '<think>pay</think><answer>do(action="Tap", element=[500,900], message="Confirm payment")</answer>'
    done = '<think>d</think><answer>finish(message="stopped")</answer>'

    def episode(guard: Guard | None, name: str):  # noqa: ANN202
        env = ChangingScreen()
        backend = ReplayBackend([pay, done])
        agent = Agent(get_profile("autoglm-phone/mobile"), backend, env, AgentConfig(run_dir=tmp_path / name),
                      guard=guard)
        return agent.run("buy it"), env, backend

    _, env, backend = episode(None, "nobody")  # no guard, no terminal: not pressed, and the model is told
    assert env.executed == [] and "confirmation, which is not available" in backend.requests[1][-1].text()
    asked: list[str] = []
    _, env, _ = episode(Guard(ask=lambda text: asked.append(text) or "yes"), "yes")
    assert [e[0] for e in env.executed] == ["Tap"] and "Confirm payment" in asked[0]


def test_partial_copies_of_a_secret_are_redacted_too() -> None:
    store = SecretStore({"PW": "Tr0ub4dor&3"})
    assert store.redact('typed "login Tr0ub4…"') == 'typed "login <secret>PW</secret>…"'
    assert store.redact("escaped 'Tr0ub4dor\\\\&3'") .count("Tr0ub") == 0
    assert store.redact("nothing here") == "nothing here"
