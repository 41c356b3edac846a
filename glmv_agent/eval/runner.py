"""A MiniWoB++ evaluation on the batch runner: one batch task per (task, seed), the pages served on 127.0.0.1, each
episode in its own Chromium, the page's instruction as the task text and the page's reward as the verdict.

Results accumulate in ``OUT/results.jsonl`` (resumable like ``glmv-agent batch``: episodes already there are not
run again); ``OUT/eval.json`` holds the settings that must match for a resumed run to add to the same numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..agent import AgentConfig, StepCap
from ..batch import BatchRunner, BatchTask, EpisodeOutcome, EpisodeParts
from ..errors import ConfigError
from ..profiles import get_profile
from .miniwob import DEFAULT_SCALE, TASK_AREA, MiniWoBEpisode, PageResult, judge_page, miniwob_version, pages_root
from .results import EvalOutcome, EvalSummary, summarize, write_html

# Settings that change what is measured: a resumed run must keep them.
IDENTITY = ("model", "mode", "scale", "max_steps", "time_limit_s", "endpoint", "thinking", "temperature")


class EvalSettings(BaseModel):
    """One evaluation: which tasks, how many seeded episodes each, and everything that shapes the agent."""

    model_config = ConfigDict(extra="forbid")
    tasks: list[str]
    episodes: int = Field(default=10, ge=1)  # per task; seeds seed, seed+1, ...
    seed: int = 0
    model: str = "glm-4.5v"
    mode: Literal["som", "pixel"] = "som"
    scale: float = Field(default=DEFAULT_SCALE, ge=1.0, le=4.0)  # device pixels per CSS pixel of the task area
    max_steps: StepCap = 15
    time_limit_s: float = Field(default=300.0, gt=0)  # the page's own episode timer
    concurrency: int = Field(default=4, ge=1)
    endpoint: str = ""  # what answered (endpoint URL and model, or the replay file), for the record
    thinking: bool | None = None
    temperature: float = 0.0
    browser_executable: str | None = None
    headed: bool = False

    def identity(self) -> dict[str, Any]:
        return self.model_dump(include=set(IDENTITY))


def episode_id(task: str, seed: int) -> str:
    return f"{task}-seed{seed}"


def plan(settings: EvalSettings) -> dict[str, tuple[str, int]]:
    """Episode id -> (task, seed), tasks in the given order."""
    return {episode_id(task, seed): (task, seed) for task in settings.tasks
            for seed in range(settings.seed, settings.seed + settings.episodes)}


def read_eval_results(out_dir: Path) -> list[EvalOutcome]:
    """The evaluation's finished episodes (lines cut off by a kill are skipped)."""
    path = out_dir / "results.jsonl"
    outcomes = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            outcomes.append(EvalOutcome.model_validate_json(line))
        except ValidationError:
            continue
    return outcomes


def check_resume(settings: EvalSettings, out_dir: Path) -> None:
    """ConfigError when ``out_dir`` holds results measured with other settings; else record these settings."""
    record = out_dir / "eval.json"
    if record.is_file():
        before = EvalSettings.model_validate_json(record.read_text(encoding="utf-8")).identity()
        changed = {k: (before[k], v) for k, v in settings.identity().items() if before[k] != v}
        if changed:
            what = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
            raise ConfigError(f"{out_dir} holds results measured with other settings ({what}); use another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(settings.model_dump_json(indent=2), encoding="utf-8")


def _web_args(url: str, settings: EvalSettings) -> argparse.Namespace:
    """The web platform's flags for one task page: the viewport is the task area, scaled by the device factor."""
    return argparse.Namespace(
        platform="web", fake_screen=False, url=url, web_mode=settings.mode, viewport=f"{TASK_AREA[0]}x{TASK_AREA[1]}",
        device_scale_factor=settings.scale, headed=settings.headed, browser_executable=settings.browser_executable,
        allowed_domains="127.0.0.1",
    )


def _static_server(root: Path) -> Any:
    """The web platform's static file server; ConfigError when the web extra is missing."""
    try:
        from ..environments.web.server import StaticServer
    except ModuleNotFoundError:
        raise ConfigError("MiniWoB++ runs in the browser: pip install 'glmv-agent[web,eval]'") from None
    return StaticServer(root)


_PAGES: dict[str, Any] = {}  # this process's own pages server (each Ray actor serves its node's copy)


def _pages_url() -> str:
    if "server" not in _PAGES:
        _PAGES["server"] = _static_server(pages_root())
    return _PAGES["server"].url


def _builder(settings: EvalSettings, base_url: str | None, backend: Callable[[], Any]) -> Any:
    from ..cli import make_environment, profile_key

    key = profile_key(settings.model, "web", settings.mode)
    episodes = plan(settings)

    def build(task: BatchTask, slot: str | None) -> EpisodeParts:
        name, seed = episodes[task.id]
        args = _web_args(f"{base_url or _pages_url()}miniwob/{name}.html", settings)

        def make() -> MiniWoBEpisode:
            return MiniWoBEpisode(make_environment(args), seed, settings.time_limit_s)

        # the profile is made where the episode runs (a Ray actor gets the builder, not loaded templates)
        return EpisodeParts(profile=_profile(key), backend=backend(), make_environment=make,
                            instruction=lambda env: env.instruction, judge=judge_page)

    return build, _profile(key)


@functools.lru_cache(maxsize=4)
def _profile(key: str) -> Any:
    return get_profile(key)


def _line(episodes: dict[str, tuple[str, int]]) -> Callable[[BatchTask, EpisodeOutcome], EpisodeOutcome]:
    def make_line(task: BatchTask, outcome: EpisodeOutcome) -> EpisodeOutcome:
        name, seed = episodes[task.id]
        page = PageResult.model_validate(outcome.verdict.facts) if outcome.verdict.facts else PageResult()
        return EvalOutcome(**outcome.model_dump(), task=name, seed=seed, reward=page.reward,
                           scaled_reward=page.scaled_reward, done=page.done, reason=page.reason,
                           seconds=outcome.duration_s)

    return make_line


async def run_miniwob(
    settings: EvalSettings, out_dir: Path, backend: Callable[[], Any],
    on_done: Callable[[EpisodeOutcome], None] | None = None, ray: str | None = None,
) -> EvalSummary:
    """Run the episodes not yet in ``out_dir``, then write summary.json and summary.html over all of them.

    ``backend()`` gives each episode its model backend (the same shared client, or a fresh replay). ``ray``: run
    the episodes on Ray at that address (``local``: a Ray instance here), each actor serving its node's pages.
    Raises ConfigError for missing pages, a missing browser or settings that differ from the results already there.
    """
    root = pages_root()
    check_resume(settings, out_dir)
    episodes = plan(settings)
    tasks = [BatchTask(id=key, task=f"MiniWoB++ {name} (the page states the task)", platform="web")
             for key, (name, _) in episodes.items()]
    with contextlib.ExitStack() as stack:
        base_url = None if ray else stack.enter_context(_static_server(root)).url
        build, profile = _builder(settings, base_url, backend)
        params = profile.generation_defaults().model_copy(update={"temperature": settings.temperature})
        if settings.thinking is not None:
            params = params.model_copy(update={"thinking": settings.thinking})
        config = AgentConfig(max_steps=settings.max_steps, params=params, write_report=True)
        options: dict[str, Any] = {"on_done": on_done, "make_line": _line(episodes)}
        if ray:
            from ..batch.ray_runner import RayBatchRunner

            runner = RayBatchRunner(build, out_dir, settings.concurrency, address=ray, **options)
        else:
            runner = BatchRunner(build, out_dir, settings.concurrency, **options)
        await runner.arun(tasks, config)
    outcomes = read_eval_results(out_dir)
    summary = summarize(outcomes, {**settings.model_dump(), "miniwob": miniwob_version()})
    (out_dir / "summary.json").write_text(json.dumps(summary.model_dump(), indent=2), encoding="utf-8")
    write_html(summary, outcomes, out_dir)
    return summary
