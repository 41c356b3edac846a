"""Measuring task success with benchmarks whose own code gives the verdict: ``glmv-agent eval miniwob`` runs the
MiniWoB++ task pages in Chromium and scores every episode with the reward the page computes.

This package may use the web platform (it is a web benchmark); the core never imports it.
"""

from .miniwob import DEFAULT_TASKS, MiniWoBEpisode, PageResult, TaskOver, available_tasks, pages_root, select_tasks
from .results import EvalOutcome, EvalSummary, TaskScore, summarize
from .runner import EvalSettings, run_miniwob

__all__ = [
    "DEFAULT_TASKS", "EvalOutcome", "EvalSettings", "EvalSummary", "MiniWoBEpisode", "PageResult", "TaskOver",
    "TaskScore", "available_tasks", "pages_root", "run_miniwob", "select_tasks", "summarize",
]
