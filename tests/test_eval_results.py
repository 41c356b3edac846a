"""The eval's bookkeeping without a browser: choosing tasks, scoring episodes, the resume guard, the HTML summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from glmv_agent.batch import Verdict
from glmv_agent.errors import ConfigError
from glmv_agent.eval import (
    DEFAULT_TASKS,
    EvalOutcome,
    EvalSettings,
    available_tasks,
    pages_root,
    select_tasks,
    summarize,
)
from glmv_agent.eval.results import write_html
from glmv_agent.eval.runner import check_resume, plan


def test_the_pages_and_the_default_set_are_there() -> None:
    names = available_tasks(pages_root())
    assert len(names) == 130 and set(DEFAULT_TASKS) <= set(names)


def test_tasks_by_name_glob_and_comma_in_order_once() -> None:
    names = available_tasks(pages_root())
    chosen = select_tasks(["enter-text,click-button", "click-button*", "enter-text"], names)
    assert chosen[:2] == ["enter-text", "click-button"] and chosen[2:] == ["click-button-sequence"]
    assert select_tasks(None, names) == list(DEFAULT_TASKS)
    with pytest.raises(ConfigError, match="did you mean enter-text"):
        select_tasks(["entr-text"], names)
    with pytest.raises(ConfigError, match="no MiniWoB\\+\\+ task matches 'zzz-\\*'"):
        select_tasks(["zzz-*"], names)


def test_plan_gives_each_task_its_seeds() -> None:
    settings = EvalSettings(tasks=["a", "b"], episodes=2, seed=7)
    assert plan(settings) == {"a-seed7": ("a", 7), "a-seed8": ("a", 8), "b-seed7": ("b", 7), "b-seed8": ("b", 8)}


def _outcome(task: str, seed: int, reward: float, status: str = "aborted", **extra: object) -> EvalOutcome:
    result = "pass" if reward == 1.0 else "fail"
    return EvalOutcome(id=f"{task}-seed{seed}", status=status, success=result == "pass", task=task, seed=seed,
                       reward=reward, done=status == "aborted", steps=2, seconds=3.0, verdict=Verdict(
                           result=result, source="benchmark", detail="<b>page</b>", reward=reward), **extra)


def test_scores_per_task_overall_and_the_mean_of_tasks(tmp_path: Path) -> None:
    outcomes = [_outcome("a", 0, 1.0), _outcome("a", 1, 1.0), _outcome("a", 2, -1.0), _outcome("b", 0, 0.0, "complete")]
    summary = summarize(outcomes, {"model": "glm-4.5v"})
    assert summary.tasks["a"].success_rate == pytest.approx(2 / 3, abs=1e-4)
    assert summary.tasks["a"].mean_reward == pytest.approx(1 / 3, abs=1e-4)
    assert (summary.tasks["b"].successes, summary.tasks["b"].mean_reward) == (0, 0.0)
    assert summary.overall.success_rate == 0.5  # 2 of 4 episodes
    assert summary.mean_task_success_rate == pytest.approx(1 / 3, abs=1e-4)  # (2/3 + 0) / 2
    crashed = EvalOutcome(id="b-seed1", status="error", success=False, task="b", seed=1,
                          verdict=Verdict(detail="did not run"))
    assert summarize([*outcomes, crashed]).tasks["b"].errors == 1
    run_dir = tmp_path / "episodes" / "a-seed0"
    outcomes[0].run_dir = str(run_dir)
    page = write_html(summary, outcomes, tmp_path).read_text()
    assert 'href="episodes/a-seed0/report.html"' in page and "<b>page</b>" not in page and "&lt;b&gt;" in page


def test_a_resumed_run_must_measure_the_same_way(tmp_path: Path) -> None:
    first = EvalSettings(tasks=["a"], model="glm-4.5v", endpoint="m at http://x/v1")
    check_resume(first, tmp_path)
    check_resume(first.model_copy(update={"tasks": ["a", "b"], "episodes": 20}), tmp_path)  # more of the same: fine
    with pytest.raises(ConfigError, match="model 'glm-4.5v' -> 'glm-4.1v'.*use another --out"):
        check_resume(first.model_copy(update={"model": "glm-4.1v"}), tmp_path)
    with pytest.raises(ConfigError, match="thinking None -> True"):
        check_resume(first.model_copy(update={"thinking": True}), tmp_path)
