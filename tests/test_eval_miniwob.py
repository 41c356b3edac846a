"""MiniWoB++ evaluation in real Chromium: rule-based models over a real OpenAI-compatible HTTP server drive the real
agent loop, and every verdict is the reward the task page's own code computed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from glmv_agent.backends.openai_async import AsyncOpenAIBackend
from glmv_agent.backends.openai_backend import EndpointConfig
from glmv_agent.environments.web.options import resolve_executable
from glmv_agent.errors import ConfigError
from glmv_agent.eval import EvalSettings, EvalSummary, run_miniwob
from glmv_agent.eval.runner import read_eval_results
from tests.support import FakeOpenAIServer
from tests.support.miniwob_policy import first_label_then_done, solver

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    try:
        resolve_executable(None, None)
    except ConfigError as exc:
        pytest.skip(f"no Chromium here: {exc}")


def evaluate(policy: Callable[..., str], settings: EvalSettings, out: Path, latency_s: float = 0.0,
             on_done: Callable[[Any], None] | None = None) -> EvalSummary:
    """Run the evaluation against a rule-based model behind a real OpenAI-compatible HTTP server."""
    with FakeOpenAIServer(policy=policy, latency_s=latency_s) as server:
        client = AsyncOpenAIBackend(EndpointConfig(base_url=server.base_url, api_key="k", model="fake-glm"))

        async def main() -> EvalSummary:
            try:
                return await run_miniwob(settings, out, lambda: client, on_done=on_done)
            finally:
                await client.aclose()

        return asyncio.run(main())


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, EvalSummary, list[tuple[float, float]]]]:
    """Three tasks x three seeds solved by the rule-based model, three episodes in flight."""
    out = tmp_path_factory.mktemp("solved")
    spans: list[tuple[float, float]] = []

    def done(outcome: Any) -> None:
        spans.append((time.monotonic() - outcome.duration_s, time.monotonic()))

    settings = EvalSettings(tasks=["click-button", "click-link", "enter-text"], episodes=3, concurrency=3,
                            max_steps=5, time_limit_s=120)
    yield out, evaluate(solver, settings, out, on_done=done), spans


def test_a_policy_that_solves_gets_reward_1_from_the_pages(solved: Any) -> None:
    out, summary, spans = solved
    outcomes = read_eval_results(out)
    assert sorted(o.id for o in outcomes) == sorted(f"{t}-seed{s}" for t in ("click-button", "click-link",
                                                                              "enter-text") for s in range(3))
    assert summary.overall.episodes == 9 and summary.overall.successes >= 8, [o.verdict.detail for o in outcomes]
    for outcome in outcomes:
        assert outcome.verdict.source == "benchmark" and outcome.success == (outcome.reward == 1.0)
        if outcome.success:  # the page ended it; the model never said "done"
            assert outcome.done and outcome.status == "aborted" and "task page ended" in (outcome.error or "")
            assert outcome.steps == (2 if outcome.task == "enter-text" else 1)  # type, then click Submit
        episode = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
        assert episode["task"].startswith(("Click on the", "Enter ")), episode["task"]  # the page's own instruction
        assert (Path(outcome.run_dir) / "report.html").is_file()
    overlap = max(sum(a < end and start < b for a, b in spans) for start, end in spans)
    assert overlap >= 2, spans  # episodes really ran side by side
    page = (out / "summary.html").read_text()
    assert 'href="episodes/click-link-seed1/report.html"' in page and "mean reward" in page
    saved = json.loads((out / "summary.json").read_text())
    assert saved["tasks"]["enter-text"]["episodes"] == 3 and saved["settings"]["miniwob"] == "1.1.0"


def test_resume_runs_only_new_episodes_and_keeps_the_settings(solved: Any) -> None:
    out, _, _ = solved
    ran: list[str] = []
    more = EvalSettings(tasks=["click-button", "click-link", "enter-text"], episodes=4, concurrency=3, max_steps=5,
                        time_limit_s=120)
    summary = evaluate(solver, more, out, on_done=lambda o: ran.append(o.id))
    assert sorted(ran) == ["click-button-seed3", "click-link-seed3", "enter-text-seed3"]
    assert summary.overall.episodes == 12 and len({o.id for o in read_eval_results(out)}) == 12
    with pytest.raises(ConfigError, match="max_steps 5 -> 9"):
        evaluate(solver, more.model_copy(update={"max_steps": 9}), out)


def test_a_wrong_policy_claims_success_and_the_pages_say_no(tmp_path: Path) -> None:
    settings = EvalSettings(tasks=["click-link", "enter-text", "login-user"], episodes=2, concurrency=3,
                            max_steps=5, time_limit_s=120)
    summary = evaluate(first_label_then_done, settings, tmp_path)
    outcomes = read_eval_results(tmp_path)
    claimed = [o for o in outcomes if o.status == "complete"]
    assert len(claimed) >= 4  # the model declared success on these...
    assert all(not o.success and o.reward == 0.0 and not o.done for o in claimed)  # ...the pages never ended them
    assert summary.overall.successes == 0 and summary.overall.success_rate == 0.0
    assert all(o.reward <= 0 for o in outcomes)


def test_the_page_keeps_time_and_a_late_action_is_never_performed(tmp_path: Path) -> None:
    settings = EvalSettings(tasks=["click-button"], episodes=1, concurrency=1, time_limit_s=3.0)
    evaluate(solver, settings, tmp_path, latency_s=6.0)  # the model answers after the page's time is up
    (outcome,) = read_eval_results(tmp_path)
    assert (outcome.reward, outcome.reason, outcome.success) == (-1.0, "timed out", False)
    assert outcome.status == "aborted" and "timed out" in outcome.verdict.detail
    steps = [json.loads(line) for line in (Path(outcome.run_dir) / "steps.jsonl").read_text().splitlines()]
    assert len(steps) <= 1  # none at all only when a loaded machine took the page's 3 s for the first screenshot
    for step in steps:
        assert step["action"]["type"] == "Click" and step["error_kind"] == "UserAbort"  # refused, not clicked


def test_pixel_mode_clicks_where_the_page_put_the_button(tmp_path: Path) -> None:
    from glmv_agent.cli import make_environment
    from glmv_agent.environments.web.server import StaticServer
    from glmv_agent.eval.miniwob import MiniWoBEpisode, pages_root
    from glmv_agent.eval.runner import _web_args

    settings = EvalSettings(tasks=["click-test"], episodes=1, seed=5, mode="pixel", concurrency=1, time_limit_s=120)
    with StaticServer(pages_root()) as server:  # the same seed lays the page out the same way
        with MiniWoBEpisode(make_environment(_web_args(server.url + "miniwob/click-test.html", settings)), 5, 60) as ep:
            box = ep.inner.page.evaluate("() => { const r = subbtn.getBoundingClientRect(); "
                                         "return [r.left + r.width / 2, r.top + r.height / 2]; }")
    x, y = round(box[0] / 160 * 1000), round(box[1] / 210 * 1000)
    answers = iter([f"The button.\nleft_click(start_box='[{x},{y}]')\nMemory:\n[]", "DONE()"])
    evaluate(lambda request: next(answers), settings, tmp_path)
    (outcome,) = read_eval_results(tmp_path)
    assert outcome.success and outcome.reward == 1.0, outcome.verdict.detail
    episode = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
    assert episode["profile"] == "glm-4.5v/desktop"


def _first_line_height(image: Any) -> int:
    """Height in pixels of the first run of rows with dark (text) pixels in the yellow instruction box."""
    rgb = image.convert("RGB")
    box = round(rgb.height * 50 / 210)  # #query is the top 50 CSS px
    rows = [y for y in range(box) if any(sum(rgb.getpixel((x, y))) < 200 for x in range(rgb.width))]
    end = rows[0]
    while end + 1 in rows:
        end += 1
    return end - rows[0] + 1


def test_the_scaled_task_area_gives_legible_text(tmp_path: Path) -> None:
    from glmv_agent.cli import make_environment
    from glmv_agent.environments.web.server import StaticServer
    from glmv_agent.eval.miniwob import MiniWoBEpisode, pages_root
    from glmv_agent.eval.runner import _web_args
    from glmv_agent.imaging import prepare_image

    heights = {}
    with StaticServer(pages_root()) as server:
        for scale in (1.0, 3.0):
            settings = EvalSettings(tasks=["click-button"], scale=scale)
            args = _web_args(server.url + "miniwob/click-button.html", settings)
            with MiniWoBEpisode(make_environment(args), 1, 60) as episode:
                shot = episode.observe().screenshot
            sent = prepare_image(shot)  # what goes to the model (GLM-V's 28-px grid)
            heights[scale] = (shot.size, sent.size, _first_line_height(sent))
    assert heights[1.0][0] == (160, 210) and heights[3.0][0] == (480, 630)
    # measured: 9 px at x1 (a third of GLM-V's 28-px image token), 22 px at x3
    assert heights[1.0][2] <= 12 and heights[3.0][2] >= 2 * heights[1.0][2] and heights[3.0][2] >= 20, heights


def test_cli_eval_with_replay(tmp_path: Path) -> None:
    script = tmp_path / "replay.jsonl"
    answers = ["Thought: t\nAction: Click [0]\nMemory_Updated: {}", "Thought: t\nAction: ANSWER; <content>done"
               "</content>\nMemory_Updated: {}"]
    script.write_text("\n".join(json.dumps({"content": a}) for a in answers), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "glmv_agent.cli", "eval", "miniwob", "--tasks", "click-button",
                           "--episodes", "3", "--replay", str(script), "--out", str(out), "--concurrency", "3"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == ["click-button-seed0", "click-button-seed1", "click-button-seed2"]
    assert all(set(line) >= {"task", "seed", "reward", "success", "steps", "seconds", "run_dir"} for line in lines)
    assert all(line["success"] == (line["reward"] == 1.0) for line in lines)
    assert "all episodes" in done.stdout and "summary.html" in done.stdout
    assert (out / "summary.html").is_file() and json.loads((out / "summary.json").read_text())["overall"]["episodes"] == 3
    bad = subprocess.run([sys.executable, "-m", "glmv_agent.cli", "eval", "miniwob", "--tasks", "click-buton",
                          "--replay", str(script), "--out", str(tmp_path / "x")], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and "did you mean click-button" in bad.stderr and len(bad.stderr.splitlines()) == 1
