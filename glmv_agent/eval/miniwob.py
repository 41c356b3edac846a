"""MiniWoB++ in Chromium: the task pages shipped by the ``miniwob`` package (Farama), one seeded episode per page
load, and the reward the page's own code computes.

The pages keep the episode in globals of ``core/core.js``: ``WOB_DONE_GLOBAL`` (the page ended the episode),
``WOB_RAW_REWARD_GLOBAL`` (its reward, -1..1), ``WOB_REWARD_GLOBAL`` (the same scaled down by the time taken) and
``WOB_REWARD_REASON``. The instruction is the text of ``#query`` (``core.getUtterance()``). An episode starts as the
page's START cover would start it (``core.startEpisodeReal()``) after ``Math.seedrandom(seed)``; its time limit is
``core.EPISODE_MAX_TIME``, whose expiry the page itself scores (-1, "timed out"). Only the page's presentation is
touched: the next-episode cover is disabled (a late click cannot start a second episode) and the reward panel
beside the task area is hidden, as a harness that crops to the task area would show it. Nothing here computes a
reward.

The task area is 160x210 CSS pixels. The browser's viewport is exactly that area and the device scale factor
(``scale``, default 3) multiplies its pixels: at 3 the model gets a 480x630 screenshot in which the 10 px text of the
pages is about 30 px tall, where 1 would give it 160x210 with letters about one image patch high.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from pydantic import BaseModel

from ..agent import EpisodeResult
from ..batch.verdicts import Verdict
from ..errors import ConfigError, DeviceError, UserAbort
from ..types import Observation, Outcome

log = logging.getLogger(__name__)

TASK_AREA = (160, 210)  # CSS pixels: #wrap of every MiniWoB++ task page
DEFAULT_SCALE = 3.0
READY_TIMEOUT_MS = 5000
# Tasks done with clicks, typing and the select list whose targets all get a set-of-marks label (checked with our
# labeller); drag, draw, hover and canvas tasks, and pages whose buttons are unlabelled icons, are left out.
DEFAULT_TASKS: tuple[str, ...] = (
    "choose-list", "click-button", "click-button-sequence", "click-checkboxes", "click-collapsible", "click-dialog",
    "click-dialog-2", "click-link", "click-option", "click-tab", "click-tab-2", "click-test", "click-test-2",
    "click-widget", "enter-password", "enter-text", "enter-text-2", "focus-text", "focus-text-2", "login-user",
    "navigate-tree", "search-engine", "use-autocomplete",
)

PAGE_READY_JS = "() => typeof core === 'object' && core.cover_div !== null && typeof genProblem === 'function'"
START_JS = """({seed, ms}) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = ms;
  core.startEpisodeReal();
  core.startEpisode = function () {};
  const panel = document.getElementById('reward-display');
  if (panel) panel.style.display = 'none';
  scrollTo(0, 0);
  return core.getUtterance();
}"""
TASK_READY_JS = "() => WOB_TASK_READY === true"
STATE_JS = """() => typeof WOB_DONE_GLOBAL === 'undefined' ? null : {
  done: !!WOB_DONE_GLOBAL, reward: +WOB_RAW_REWARD_GLOBAL, scaled_reward: +WOB_REWARD_GLOBAL,
  reason: WOB_REWARD_REASON == null ? null : String(WOB_REWARD_REASON)}"""


def pages_root() -> Path:
    """The ``html`` folder of the installed ``miniwob`` package (found without importing it, which would pull in
    gymnasium). ConfigError when the package is missing."""
    spec = importlib.util.find_spec("miniwob")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    root = Path(locations[0]) / "html" if locations else None
    if root is None or not (root / "miniwob").is_dir():
        raise ConfigError("MiniWoB++ needs the miniwob package's task pages: pip install 'glmv-agent[eval]'")
    return root


def miniwob_version() -> str:
    try:
        return version("miniwob")
    except PackageNotFoundError:
        return "unknown"


def available_tasks(root: Path) -> list[str]:
    """Names of the MiniWoB++ task pages under ``root`` (``html/miniwob/<name>.html``), sorted."""
    return sorted(path.stem for path in (root / "miniwob").glob("*.html"))


def select_tasks(patterns: list[str] | None, available: list[str]) -> list[str]:
    """Task names for ``--tasks`` (names or shell globs, comma-separated or repeated; default DEFAULT_TASKS), in the
    order given, each once. ConfigError naming the pattern (and close names) when one matches nothing."""
    wanted = [p.strip() for item in patterns or [] for p in item.split(",") if p.strip()] or list(DEFAULT_TASKS)
    chosen: list[str] = []
    for pattern in wanted:
        matches = fnmatch.filter(available, pattern)
        if not matches:
            close = difflib.get_close_matches(pattern, available, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"no MiniWoB++ task matches {pattern!r}{hint}; see `glmv-agent eval miniwob --list`")
        chosen += [name for name in matches if name not in chosen]
    return chosen


class PageResult(BaseModel):
    """The page's episode state: ``reward`` is its raw reward (-1..1; 0 until it ends the episode), ``scaled_reward``
    the time-scaled one; ``on_page`` is False when the browser left the task page."""

    done: bool = False
    reward: float = 0.0
    scaled_reward: float = 0.0
    reason: str | None = None
    on_page: bool = True


class TaskOver(UserAbort):
    """The task page ended the episode; the agent loop stops here (its status reads ``aborted``, this message
    its reason) and the page's reward is the verdict."""


class MiniWoBEpisode:
    """A web environment showing one MiniWoB++ episode: started with ``seed`` and ``time_limit_s`` when built,
    refusing to observe or act once the page has ended it. ``instruction`` is the page's own task text."""

    def __init__(self, environment: Any, seed: int, time_limit_s: float) -> None:
        self.inner = environment
        self.platform = environment.platform
        self.spaces = environment.spaces
        self._page = environment.page
        self._url = urldefrag(self._page.url).url
        self._final: PageResult | None = None
        try:
            self._page.wait_for_function(PAGE_READY_JS, timeout=READY_TIMEOUT_MS)
            self.instruction: str = self._page.evaluate(START_JS, {"seed": seed, "ms": round(time_limit_s * 1000)})
            self._page.wait_for_function(TASK_READY_JS, timeout=READY_TIMEOUT_MS)
        except Exception as exc:
            environment.close()
            raise DeviceError(f"the MiniWoB++ page {self._url} did not start an episode: {_first_line(exc)}") from None

    def result(self) -> PageResult:
        """The page's state now (frozen once it ended the episode)."""
        if self._final is not None:
            return self._final
        if self._page.is_closed() or urldefrag(self._page.url).url != self._url:  # in-page #anchors stay
            return PageResult(on_page=False)
        try:
            state = self._page.evaluate(STATE_JS)
        except Exception as exc:  # a crashed or vanished page: the loop's device error, not a bug
            raise DeviceError(f"could not read the task page's state: {_first_line(exc)}") from None
        page = PageResult(**state) if state else PageResult(on_page=False)
        if page.done:
            self._final = page
        return page

    def _stop_if_over(self) -> None:
        page = self.result()
        if page.done:
            reason = f", {page.reason}" if page.reason else ""
            raise TaskOver(f"the task page ended the episode: reward {page.reward:+.2f}{reason}")

    def observe(self) -> Observation:
        self._stop_if_over()
        return self.inner.observe()

    def execute(self, action: Any, observation: Observation) -> Outcome:
        self._stop_if_over()  # the page may have timed out while the model was thinking
        return self.inner.execute(action, observation)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> MiniWoBEpisode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0]


def judge_page(environment: MiniWoBEpisode, result: EpisodeResult) -> Verdict:
    """The page's verdict: a pass when it ended the episode with raw reward 1 (the benchmark's binary success, as
    ``miniwob.reward.get_binary_reward``), a fail otherwise; reward 0 when it never ended the episode."""
    page = environment.result()
    if not page.on_page:
        detail = "the browser left the task page before the page ended the episode"
    elif not page.done:
        detail = f"the page never ended the episode (the agent stopped: {result.status})"
    else:
        reason = f", {page.reason}" if page.reason else ""
        scaled = f"time-scaled {page.scaled_reward:+.2f}{reason}"
        detail = f"the page ended the episode: reward {page.reward:+.2f} ({scaled})"
    passed = page.done and page.reward >= 1.0
    return Verdict(result="pass" if passed else "fail", source="benchmark", detail=detail, reward=page.reward,
                   facts=page.model_dump())
