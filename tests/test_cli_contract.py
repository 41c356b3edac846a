"""The CLI's scripting contract (docs/api.md): run --json, one exit code per outcome, one-line errors, -v anywhere,
help without empty defaults and scoped to the chosen platform, batch exit codes and its oversight/generation flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import FakeOpenAIServer

CLI = [sys.executable, "-m", "glmv_agent.cli"]
GLM = 'Memory: None\nReason: r\nAction: {{"action_type": {action}}}'
CLICK = 'Memory: None\nReason: tap\nAction: {"action_type": "click", "box_2d": [[100,200,300,400]]}'
TYPE_SECRET = ('Memory: None\nReason: type\nAction: {"action_type": "input_text", "text": "<secret>PIN</secret>", '
               '"box_2d": [[100,200,300,400]]}')
DONE = 'Memory: None\nReason: done\nAction: {"action_type": "status", "goal_status": "complete"}'
INFEASIBLE = 'Memory: None\nReason: no\nAction: {"action_type": "status", "goal_status": "infeasible"}'
ANSWER = 'Memory: None\nReason: say\nAction: {"action_type": "answer", "text": "HomeNet"}'


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GLMV_BASE_URL", "OPENAI_BASE_URL")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**base, "PYTHONIOENCODING": "utf-8", **(env or {})})


def replay(tmp_path: Path, *answers: str) -> str:
    path = tmp_path / f"replay-{len(list(tmp_path.glob('replay-*')))}.jsonl"
    path.write_text("".join(json.dumps({"content": a}) + "\n" for a in answers), encoding="utf-8")
    return str(path)


def run(tmp_path: Path, *answers: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    out = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    return cli("run", "Tell me the Wi-Fi name", "--platform", "mobile", "--fake-screen", "--no-report",
               "--replay", replay(tmp_path, *answers), "--out", str(out), "--max-reasks", "0", *extra)


def test_json_prints_one_object_and_nothing_else(tmp_path: Path) -> None:
    done = run(tmp_path, CLICK, ANSWER, DONE, extra=("--json",))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert result == {"status": "complete", "answer": "HomeNet", "error": None, "steps": 3,
                      "run_dir": str(tmp_path / "run-0"), "actions": {"executed": 2, "refused": 0, "failed": 0}}
    assert "step  0" in done.stderr  # the live progress went to stderr


@pytest.mark.parametrize(("answers", "code", "status"), [
    ((CLICK, DONE), 0, "complete"),
    ((INFEASIBLE,), 3, "infeasible"),
    (("no idea",), 4, "failed"),
    ((CLICK,), 5, "error"),  # the replay runs dry: the endpoint failed
])
def test_each_outcome_has_its_exit_code(tmp_path: Path, answers: tuple[str, ...], code: int, status: str) -> None:
    done = run(tmp_path, *answers, extra=("--json",))
    assert done.returncode == code, done.stderr
    assert json.loads(done.stdout)["status"] == status


def test_max_steps_exits_4_and_an_unreachable_endpoint_5(tmp_path: Path) -> None:
    assert run(tmp_path, CLICK, CLICK, extra=("--max-steps", "2")).returncode == 4
    done = cli("run", "t", "--platform", "mobile", "--fake-screen", "--no-report", "--out", str(tmp_path / "r"),
               "--base-url", "http://127.0.0.1:9/v1", "--api-model", "m", "--retries", "0", "--timeout", "5", "--json")
    assert done.returncode == 5 and json.loads(done.stdout)["status"] == "error"


def test_no_endpoint_is_one_line_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    done = cli("run", "t", "--platform", "mobile", "--fake-screen", "--out", str(tmp_path / "r"))
    assert time.monotonic() - started < 15  # no connection attempts to a default address
    assert done.returncode == 2 and done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and all(word in line for word in ("--base-url", "GLMV_BASE_URL", "--replay"))
    assert not (tmp_path / "r").exists()


def test_parse_on_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = cli("parse", "--model", "glm-4.5v", "--platform", "web", str(tmp_path / "nope.txt"))
    assert done.returncode == 2 and done.stderr.strip() == f"error: cannot read {tmp_path / 'nope.txt'}: " \
                                                           "No such file or directory"


def test_verbose_before_or_after_the_subcommand(tmp_path: Path) -> None:
    for args in (("-v",), ()):
        done = cli(*args, "run", "t", "--platform", "mobile", "--fake-screen", "--no-report", "--out",
                   str(tmp_path / f"v{len(args)}"), "--replay", replay(tmp_path, DONE), *(() if args else ("-v",)))
        assert done.returncode == 0, done.stderr
        assert "INFO glmv_agent.agent: step 0: status" in done.stderr


def test_help_shows_no_empty_defaults_and_only_the_chosen_platform() -> None:
    for command in (("run",), ("batch",), ("sim-device",), ("mcp",)):
        done = cli(*command, "--help")
        assert done.returncode == 0 and "(default: None)" not in done.stdout, command
        assert "(default: False)" not in done.stdout
    web = cli("run", "--platform", "web", "--help").stdout
    assert "--url" in web and "--web-mode" in web and "--device HOST" not in web and "--monitor" not in web
    mobile = cli("run", "--platform=mobile", "--help").stdout
    assert "--device HOST" in mobile and "--url" not in mobile and "--monitor" not in mobile
    assert "errors (default: 3)" in web  # real defaults still shown


def test_a_flag_of_another_platform_is_refused() -> None:
    done = cli("run", "t", "--platform", "mobile", "--url", "example.com", "--replay", "x")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--url" in done.stderr  # one line, no usage


def test_piped_output_keeps_each_step_on_one_line(tmp_path: Path) -> None:
    long_answer = GLM.format(action='"answer", "text": "' + "the network is called HomeNet-5G " * 6 + '"')
    done = run(tmp_path, CLICK, long_answer, DONE)
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stdout.splitlines() if line.startswith("step")]
    assert len(steps) == 3 and all("tokens" in line for line in steps), done.stdout  # not wrapped at 80 columns
    assert max(len(line) for line in steps) > 100


def _tasks(tmp_path: Path, *scripts: list[str]) -> Path:
    lines = [{"id": f"t{i}", "task": f"task {i}", "platform": "mobile", "model": "glm-4.5v",
              **({"replay": replay(tmp_path, *script)} if script else {})} for i, script in enumerate(scripts)]
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_batch_exits_4_when_an_episode_did_not_complete(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, [CLICK, DONE], ["nonsense", "nonsense", "nonsense"])
    done = cli("batch", str(tasks), "--fake-screen", "--out", str(tmp_path / "b1"))
    assert done.returncode == 4, done.stdout + done.stderr
    allowed = cli("batch", str(tasks), "--fake-screen", "--out", str(tmp_path / "b2"), "--allow-failures")
    assert allowed.returncode == 0, allowed.stderr
    good = _tasks(tmp_path, [CLICK, DONE])
    assert cli("batch", str(good), "--fake-screen", "--out", str(tmp_path / "b3")).returncode == 0


def test_batch_exits_4_when_a_completed_episode_fails_its_check(tmp_path: Path) -> None:
    path = _tasks(tmp_path, [CLICK, DONE])
    line = json.loads(path.read_text(encoding="utf-8"))
    line["check"] = {"answer": "(?i)never said"}  # the model completes, the check says otherwise
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    done = cli("batch", str(path), "--fake-screen", "--out", str(tmp_path / "b"))
    assert done.returncode == 4 and "failed their check" in done.stdout, done.stdout + done.stderr


def test_batch_takes_the_generation_and_oversight_flags(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rule]]\ndecision = "deny"\nactions = ["click"]\nreason = "no taps"\n', encoding="utf-8")
    tasks = _tasks(tmp_path, [])
    with FakeOpenAIServer([CLICK, TYPE_SECRET, DONE]) as server:
        done = cli("batch", str(tasks), "--fake-screen", "--out", str(tmp_path / "b"), "--base-url", server.base_url,
                   "--api-model", "m", "--temperature", "0.5", "--thinking", "off", "--max-tokens", "321",
                   "--policy", str(policy), "--secret", "PIN=4321")
        bodies = [request.body for request in server.chat_requests]
    assert done.returncode == 0, done.stdout + done.stderr
    assert {b["temperature"] for b in bodies} == {0.5} and {b["max_tokens"] for b in bodies} == {321}
    assert all(b["chat_template_kwargs"] == {"enable_thinking": False} for b in bodies)
    steps = [json.loads(line) for line in (tmp_path / "b" / "episodes" / "t0" / "steps.jsonl").read_text().splitlines()]
    assert steps[0]["error_kind"] == "blocked" and "no taps" in steps[0]["error"]
    assert steps[1]["error"] is None and "4321" not in json.dumps(steps)  # typed, never written down
    assert "4321" not in json.dumps(bodies)  # nor shown to the model


def test_batch_refuses_confirm_and_needs_an_endpoint(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, [])
    done = cli("batch", str(tasks), "--fake-screen", "--out", str(tmp_path / "b"))
    assert done.returncode == 2 and "--base-url" in done.stderr
    done = cli("batch", str(tasks), "--fake-screen", "--out", str(tmp_path / "b"), "--confirm", "--replay", "x")
    assert done.returncode == 2 and "--confirm needs a person" in done.stderr
