"""What an evaluation writes: one results.jsonl line per episode, summary.json (per task and overall) and
summary.html (the same numbers, each episode linked to its report)."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..batch import EpisodeOutcome


class EvalOutcome(EpisodeOutcome):
    """A results.jsonl line: the batch outcome (status, verdict, steps...) plus the benchmark's own numbers.

    ``reward`` is the page's raw reward (-1..1, 0 when the page never ended the episode), ``scaled_reward`` the
    page's time-scaled one, ``done`` whether the page ended the episode, ``reason`` the page's reason; ``seconds`` is
    the episode's wall time, browser start included."""

    task: str
    seed: int
    reward: float = 0.0
    scaled_reward: float = 0.0
    done: bool = False
    reason: str | None = None
    seconds: float = 0.0


class TaskScore(BaseModel):
    """Numbers over a set of episodes; rates and means are over all of them (an episode that could not run counts as
    a failure with reward 0, and is also counted in ``errors``)."""

    episodes: int = 0
    successes: int = 0
    success_rate: float = 0.0
    mean_reward: float = 0.0
    mean_steps: float = 0.0
    mean_seconds: float = 0.0
    errors: int = 0


class EvalSummary(BaseModel):
    benchmark: str = "miniwob"
    settings: dict[str, Any] = Field(default_factory=dict)
    overall: TaskScore = Field(default_factory=TaskScore)
    mean_task_success_rate: float = 0.0  # the mean of the per-task rates (each task weighs the same)
    tasks: dict[str, TaskScore] = Field(default_factory=dict)


def score(outcomes: list[EvalOutcome]) -> TaskScore:
    if not outcomes:
        return TaskScore()
    count = len(outcomes)
    successes = sum(o.success for o in outcomes)
    return TaskScore(
        episodes=count, successes=successes, success_rate=round(successes / count, 4),
        mean_reward=round(sum(o.reward for o in outcomes) / count, 4),
        mean_steps=round(sum(o.steps for o in outcomes) / count, 2),
        mean_seconds=round(sum(o.seconds for o in outcomes) / count, 2),
        errors=sum(o.status == "error" or o.verdict.result == "unverified" for o in outcomes),
    )


def summarize(outcomes: list[EvalOutcome], settings: dict[str, Any] | None = None) -> EvalSummary:
    """Per-task and overall scores of the episodes (tasks in first-seen order)."""
    by_task: dict[str, list[EvalOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_task[outcome.task].append(outcome)
    tasks = {name: score(items) for name, items in by_task.items()}
    macro = sum(t.success_rate for t in tasks.values()) / len(tasks) if tasks else 0.0
    return EvalSummary(settings=settings or {}, overall=score(outcomes), mean_task_success_rate=round(macro, 4),
                       tasks=tasks)


def _cell(value: Any) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def _score_row(name: str, s: TaskScore) -> str:
    cells = [name, s.episodes, f"{s.success_rate:.0%}", f"{s.mean_reward:+.2f}", f"{s.mean_steps:.1f}",
             f"{s.mean_seconds:.1f}", s.errors]
    return "<tr>" + "".join(_cell(c) for c in cells) + "</tr>"


def _episode_row(o: EvalOutcome, out_dir: Path) -> str:
    report = Path(o.run_dir) / "report.html" if o.run_dir else None
    link = html.escape(report.relative_to(out_dir).as_posix()) if report and report.is_relative_to(out_dir) else ""
    name = f'<a href="{link}">{html.escape(o.id)}</a>' if link else html.escape(o.id)
    verdict = f'<td class="{o.verdict.result}">{html.escape(o.verdict.result)}</td>'
    status = "stopped: the page ended it" if o.done and o.status == "aborted" else o.status
    cells = "".join(_cell(c) for c in [o.seed, f"{o.reward:+.2f}", o.reason or "", o.steps, f"{o.seconds:.1f}",
                                       status])
    return f"<tr><td>{name}</td>{verdict}{cells}<td>{html.escape(o.verdict.detail)}</td></tr>"


def write_html(summary: EvalSummary, outcomes: list[EvalOutcome], out_dir: Path) -> Path:
    """summary.html in ``out_dir``: settings, the score table and every episode linked to its report.html."""
    head = "<tr><th>task</th><th>episodes</th><th>success</th><th>mean reward</th><th>mean steps</th>" \
           "<th>s / episode</th><th>could not run</th></tr>"
    rows = [_score_row(name, s) for name, s in summary.tasks.items()]
    rows.append(_score_row("all episodes", summary.overall))
    settings = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in summary.settings.items())
    episodes = "".join(_episode_row(o, out_dir) for o in sorted(outcomes, key=lambda o: (o.task, o.seed)))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>MiniWoB++ evaluation</title><style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }} .pass {{ color: #070; }}
.fail {{ color: #b00; }} .unverified {{ color: #a60; }}</style></head><body>
<h1>MiniWoB++ evaluation</h1><ul>{settings}</ul>
<p>Success: the task page ended the episode with reward 1. Rewards are the page's own raw rewards (-1..1).
Mean of the per-task success rates: {summary.mean_task_success_rate:.1%}.</p>
<table>{head}{"".join(rows)}</table>
<h2>Episodes</h2><table><tr><th>episode (report)</th><th>verdict</th><th>seed</th><th>reward</th><th>page's reason</th>
<th>steps</th><th>seconds</th><th>agent status</th><th>detail</th></tr>{episodes}</table></body></html>
"""
    path = out_dir / "summary.html"
    path.write_text(page, encoding="utf-8")
    return path
