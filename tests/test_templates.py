"""Prompt templates: task text reaches the model byte for byte, and a bad template fails when the profile loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from jinja2 import nodes
from PIL import Image

from glmv_agent.errors import ConfigError
from glmv_agent.profiles import get_profile, profile_keys
from glmv_agent.profiles.templates import load_template
from glmv_agent.types import Observation, Platform, WebElement

TRICKY = 'Copy "{{apps}}" and {% if x %}y{% endif %} then {{ task }} {#no#} to $HOME/${USER} }} {{'
SENTINEL = "TASK-SENTINEL-7f3a"


def observation(key: str) -> Observation:
    platform = Platform(key.split("/")[1])
    elements = [WebElement(label=0, tag="a", text="Home", box=(0, 0, 10, 10))] if platform is Platform.WEB else []
    return Observation(screenshot=Image.new("RGB", (1280, 800)), platform=platform, elements=elements,
                       url="http://127.0.0.1/x" if platform is Platform.WEB else None)


def rendered(key: str, task: str, prompt_dir: Path | None = None) -> str:
    messages = get_profile(key, prompt_dir=prompt_dir).render(task, observation(key), [], ["note"])
    return "\n".join(m.text() for m in messages)


@pytest.mark.parametrize("key", profile_keys())
def test_task_text_reaches_the_prompt_unchanged(key: str) -> None:
    plain = rendered(key, SENTINEL)
    assert SENTINEL in plain and TRICKY not in plain
    assert rendered(key, TRICKY) == plain.replace(SENTINEL, TRICKY)


def test_user_template_gets_each_value_once_and_verbatim(tmp_path: Path) -> None:
    (tmp_path / "glm45v_mobile.txt").write_text("A {{ task }}|{{apps}}|B\n", encoding="utf-8")
    profile = get_profile("glm-4.5v/mobile", prompt_dir=tmp_path)
    text = profile.render(TRICKY, observation("glm-4.5v/mobile"), [], []).pop().text()
    assert text == f"A {TRICKY}|{profile.apps}|B\n"


def test_misspelled_placeholder_fails_when_the_profile_loads(tmp_path: Path) -> None:
    path = tmp_path / "glm45v_mobile.txt"
    path.write_text("Task: {{taks}}\n{{history}}", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        get_profile("glm-4.5v/mobile", prompt_dir=tmp_path)
    assert str(path) in str(error.value) and "{{taks}}" in str(error.value)
    assert "\n" not in str(error.value)


TASK_TEMPLATES = sorted({(name, key) for key in profile_keys()
                         for name, names in get_profile(key).templates.items() if "task" in names})


def test_every_prompting_profile_puts_the_task_in_some_template() -> None:
    assert {key for _, key in TASK_TEMPLATES} == set(profile_keys()) - {"autoglm-phone/mobile"}  # task: user turn


@pytest.mark.parametrize(("name", "key"), TASK_TEMPLATES)
def test_template_without_the_task_fails_when_the_profile_loads(tmp_path: Path, name: str, key: str) -> None:
    others = sorted(get_profile(key).templates[name] - {"task"})
    path = tmp_path / name
    path.write_text("Do it.\n" + "".join(f"{{{{ {n} }}}}\n" for n in others), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        get_profile(key, prompt_dir=tmp_path)
    assert str(error.value).startswith(f"prompt template {path}: missing placeholder {{{{task}}}},")
    assert "\n" not in str(error.value)


def test_a_template_not_filled_with_the_task_may_leave_it_out(tmp_path: Path) -> None:
    (tmp_path / "glm45v_desktop_tail.txt").write_text("{{memory}}", encoding="utf-8")
    (tmp_path / "autoglm_system_en.txt").write_text("Be careful.", encoding="utf-8")
    assert get_profile("glm-4.5v/desktop", prompt_dir=tmp_path).fill("glm45v_desktop_tail.txt", memory="m",
                                                                      notes="n") == "m"
    assert get_profile("autoglm-phone/mobile", prompt_dir=tmp_path, lang="en")


def test_a_name_another_profile_fills_is_still_unknown_here(tmp_path: Path) -> None:
    (tmp_path / "glm45v_desktop_tail.txt").write_text("{{memory}} {{apps}} {{notes}}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"glm45v_desktop_tail\.txt: unknown placeholder \{\{apps\}\}"):
        get_profile("glm-4.5v/desktop", prompt_dir=tmp_path)


def test_template_that_is_not_valid_jinja_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "glm41v_web.txt"
    path.write_text("{{task}}\nsee {% if %} here\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        get_profile("glm-4.1v/web", prompt_dir=tmp_path)
    assert str(error.value).startswith(f"prompt template {path}, line 2:")


def test_packaged_templates_hold_only_text_and_plain_placeholders() -> None:
    """Prose and JSON examples in prompts/ must not contain Jinja syntax by accident (a stray {% or {#)."""
    for file in resources.files("glmv_agent.prompts").iterdir():
        if not file.name.endswith(".txt"):
            continue
        template = load_template(file.name, None, frozenset({"task", "apps", "history", "notes", "memory", "site",
                                                             "time", "elements", "date", "action_space"}))
        tree = template.template.environment.parse(file.read_text(encoding="utf-8"))
        body = [node for output in tree.body for node in getattr(output, "nodes", [output])]
        assert all(isinstance(node, (nodes.TemplateData, nodes.Name)) for node in body), file.name


def run_with_mobile_template(tmp_path: Path, template: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``glmv-agent run`` (GLM-4.5V mobile, fake screen, one scripted answer) with ``template`` as the user's
    glm45v_mobile.txt in a --prompt-dir; (that folder, the finished process)."""
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "glm45v_mobile.txt").write_text(template, encoding="utf-8")
    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps({"content": 'Memory: None\nReason: r\nAction: {"action_type": "status", '
                                             '"goal_status": "complete"}'}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "glmv_agent.cli", "run", "t", "--platform", "mobile", "--model", "glm-4.5v",
         "--prompt-dir", str(prompts), "--fake-screen", "--replay", str(script), "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120,
    )
    return prompts, done


def test_cli_run_with_bad_prompt_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    prompts, done = run_with_mobile_template(tmp_path, "{{taks}}")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"error: prompt template {prompts / 'glm45v_mobile.txt'}: unknown placeholder {{{{taks}}}} "
                           "(this template is filled with: apps, history, notes, task)\n")
    assert not (tmp_path / "run").exists()


def test_cli_run_with_a_template_missing_the_task_exits_2_with_one_line(tmp_path: Path) -> None:
    prompts, done = run_with_mobile_template(tmp_path, "Apps: {{apps}}\n{{history}}\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"error: prompt template {prompts / 'glm45v_mobile.txt'}: missing placeholder "
                                  "{{task}},")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()
