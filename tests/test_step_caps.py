"""One step cap everywhere: every command's --max-steps (and mcp's --act-steps), a batch task line's max_steps and
the Python API's max_steps accept a whole number from 1 to 1000 (glmv_agent.agent.MAX_STEPS) and refuse anything
else in one line, naming it, before anything runs; None (the API) means the default."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from glmv_agent.api import AsyncStepAgent, StepAgent, StepOptions
from glmv_agent.api.options import step_options
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.batch import load_tasks
from glmv_agent.errors import ConfigError
from glmv_agent.profiles import get_profile
from glmv_agent.testing import FakeEnvironment

COMMANDS = {  # program name in the usage line -> the command line before the flag
    "glmv-agent run": ["run", "t", "--platform", "mobile", "--fake-screen"],
    "glmv-agent mcp": ["mcp", "--platform", "mobile", "--fake-screen"],
    "glmv-agent batch": ["batch", "tasks.jsonl", "--fake-screen"],
    "glmv-agent assistant": ["assistant", "--platform", "web", "--fake-screen", "--no-browser"],
    "glmv-agent eval miniwob": ["eval", "miniwob"],
}
WAIT = 'Memory: None\nReason: wait\nAction: {"action_type": "wait"}'


@pytest.mark.parametrize("bad", ["0", "-1", "1000000000"])
@pytest.mark.parametrize(("prog", "flag"), [*((prog, "--max-steps") for prog in COMMANDS),
                                            ("glmv-agent mcp", "--act-steps")])
def test_every_step_cap_flag_refuses_a_bad_value_in_one_line_with_exit_2(prog: str, flag: str, bad: str,
                                                                         tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "glmv_agent.cli", *COMMANDS[prog], flag, bad], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == f"{prog}: error: argument {flag}: must be a whole number from 1 to 1000 " \
                          f"(got '{bad}')\n"  # one line: no usage block


def _agent(tmp_path: Path, answers: list[str], **options: object) -> tuple[StepAgent, FakeEnvironment, ReplayBackend]:
    env, backend = FakeEnvironment(), ReplayBackend(answers)
    settings = StepOptions(run_dir=tmp_path / "run", write_report=False, **options)  # type: ignore[arg-type]
    return StepAgent(env, get_profile("glm-4.5v/mobile"), backend, settings), env, backend


@pytest.mark.parametrize("bad", [0, -1, 1001, 2.5, True])
def test_the_api_refuses_a_bad_max_steps_in_one_line_and_runs_nothing(bad: object, tmp_path: Path) -> None:
    agent, env, backend = _agent(tmp_path, [WAIT])
    message = f"max_steps must be a whole number from 1 to 1000 (got {bad!r})"
    for call in (agent.run, agent.act):
        with pytest.raises(ConfigError) as info:
            call("wait a little", max_steps=bad)  # type: ignore[arg-type]
        assert str(info.value) == message
    async_agent = AsyncStepAgent(env, get_profile("glm-4.5v/mobile"), backend, agent.options)
    with pytest.raises(ConfigError, match=r"^max_steps must be a whole number from 1 to 1000 \(got "):
        asyncio.run(async_agent.run("wait a little", max_steps=bad))  # type: ignore[arg-type]
    assert backend.requests == [] and env.executed == []
    agent.close()


def test_the_api_max_steps_none_is_the_option_and_a_number_is_that_cap(tmp_path: Path) -> None:
    agent, env, _ = _agent(tmp_path, [WAIT] * 5, max_steps=2)
    assert agent.run("wait", max_steps=None).status == "max_steps" and len(env.executed) == 2
    assert agent.run("wait", max_steps=1).status == "max_steps" and len(env.executed) == 3
    agent.close()
    with pytest.raises(ConfigError, match="max_steps"):
        step_options({"max_steps": 1001})


def test_a_task_line_with_a_bad_max_steps_is_refused_at_load_naming_it(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    for bad in (0, -1, 10**9):
        tasks.write_text(json.dumps({"id": "a", "task": "t", "max_steps": bad}) + "\n", encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_tasks(tasks)
        assert str(info.value) == (f"{tasks}:1: not a valid task line (max_steps: Value error, must be a whole number "
                                   f"from 1 to 1000 (got {bad}))")
    tasks.write_text(json.dumps({"id": "a", "task": "t", "max_steps": 7}) + "\n", encoding="utf-8")
    assert load_tasks(tasks)[0].max_steps == 7


@pytest.mark.parametrize("bad", ["7", "7.0", True, 2.5, [7]])
def test_a_task_line_max_steps_that_is_no_integer_is_refused_as_mcp_refuses_it(bad: object, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "a", "task": "t"}) + "\n" + json.dumps({"id": "b", "task": "t", "max_steps": bad})
                     + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_tasks(tasks)
    assert str(info.value) == (f"{tasks}:2: not a valid task line (max_steps: Value error, must be a whole number "
                               f"from 1 to 1000 (got {bad!r}))")
    tasks.write_text(json.dumps({"id": "a", "task": "t", "max_steps": 7.0}) + "\n", encoding="utf-8")
    assert load_tasks(tasks)[0].max_steps == 7  # an integral JSON number, as step_cap reads it everywhere


@pytest.mark.parametrize("bad", ["7", True, 2.5, 0, 1001])
def test_the_settings_models_refuse_what_the_cli_refuses(bad: object) -> None:
    """AgentConfig, StepOptions (both caps) and EvalSettings, built from Python, read a step cap as step_cap does:
    pydantic's lax int would have taken "7" as 7 and True as 1."""
    from pydantic import ValidationError

    from glmv_agent.agent import AgentConfig
    from glmv_agent.eval.runner import EvalSettings

    builders = [lambda v: AgentConfig(max_steps=v), lambda v: StepOptions(max_steps=v),
                lambda v: StepOptions(act_steps=v), lambda v: EvalSettings(tasks=["click-test"], max_steps=v)]
    for build in builders:
        with pytest.raises(ValidationError, match="must be a whole number from 1 to 1000"):
            build(bad)
        assert build(7.0) is not None
    assert AgentConfig(max_steps=7.0).max_steps == 7 and EvalSettings(tasks=["click-test"], max_steps=1000).max_steps == 1000


def test_any_integer_type_is_a_whole_number() -> None:
    """numpy's integers (a sweep script's np.arange) are whole numbers; numpy's bool is not."""
    numpy = pytest.importorskip("numpy")
    from glmv_agent.agent import AgentConfig

    assert AgentConfig(max_steps=numpy.int64(7)).max_steps == 7 and StepOptions(act_steps=numpy.int32(3)).act_steps == 3
    with pytest.raises(ValueError, match="must be a whole number"):
        AgentConfig(max_steps=numpy.bool_(True))
