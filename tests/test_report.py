"""The run report end to end: real Agent runs (replay backend, in-memory screens), the annotated PNGs read back
with PIL, and the page checked in a real headless Chromium (loads offline, images decoded, markers placed, model text
escaped)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw

from glmv_agent.agent import Agent, AgentConfig, EpisodeResult
from glmv_agent.backends.replay import ReplayBackend
from glmv_agent.profiles import get_profile
from glmv_agent.recording import StepRecord
from glmv_agent.report.draw import ARROW, BOX, MARKER, STRIP_ERROR, STRIP_TYPED, annotate
from glmv_agent.report.writer import load_run, write_report
from glmv_agent.testing import FakeEnvironment
from glmv_agent.types import Observation, Outcome, Platform, WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]
BACKGROUND = (250, 250, 250)  # FakeEnvironment's screen colour
HOSTILE = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def mobile(action: str, reason: str = "because") -> str:
    return f"Memory: None\nReason: {reason}\nAction: {action}"


def run(tmp_path: Path, key: str, responses: list[str], env: Any, **config: Any) -> EpisodeResult:
    agent = Agent(get_profile(key), ReplayBackend(responses), env, AgentConfig(run_dir=tmp_path / "run", **config))
    return agent.run("find the <b>Wi-Fi</b> name")


def colour_bbox(image: Image.Image, colour: tuple[int, int, int], region: tuple[int, int, int, int] | None = None):
    """Bounding box of the pixels of exactly ``colour`` (inside ``region``), or None."""
    part = image.convert("RGB").crop(region or (0, 0, *image.size))
    bands = [band.point(lambda v, c=c: 255 if v == c else 0) for band, c in zip(part.split(), colour, strict=True)]
    mask = ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])
    box = mask.getbbox()
    if box is None or region is None:
        return box
    return box[0] + region[0], box[1] + region[1], box[2] + region[0], box[3] + region[1]


@pytest.fixture(scope="module")
def mobile_run(tmp_path_factory: pytest.TempPathFactory) -> EpisodeResult:
    """Click, an unusable reply then a typed text, a swipe, a failing open_app, the answer, done."""
    env = FakeEnvironment(size=(1080, 2400), fail_on=frozenset({"open_app"}))
    return run(tmp_path_factory.mktemp("mobile"), "glm-4.5v/mobile", [
        mobile('{"action_type": "click", "box_2d": [[100,200,300,400]]}', reason=f"tap it {HOSTILE}"),
        f"I am not sure {HOSTILE}",
        mobile('{"action_type": "input_text", "text": "héllo 你好 <script>window.__pwned=3</script>", '
               '"box_2d": [[200,500,800,560]], "override": true}'),
        mobile('{"action_type": "swipe", "direction": "up", "box_2d": [[400,600,600,800]]}'),
        mobile('{"action_type": "open_app", "app_name": "Nowhere"}'),
        mobile('{"action_type": "answer", "text": "HomeNet"}'),
        mobile('{"action_type": "status", "goal_status": "complete"}'),
    ], env)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, page_path: Path) -> tuple[Any, list[str]]:
    """Open the report from disk (as a person would), collecting failed requests and page errors."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    return page, problems


# --- annotated images, read back with PIL ---------------------------------------------------------------------


def test_click_marker_sits_at_the_executed_pixel_inside_the_model_box(mobile_run: EpisodeResult) -> None:
    run_dir = mobile_run.run_dir
    first = mobile_run.steps[0]
    assert first.pixels == [(216, 720)]  # box centre (200, 300) thousandths of 1080x2400
    image = Image.open(run_dir / "report" / "step_000.png").convert("RGB")
    assert image.width == 1080 and image.height > 2400  # the screenshot keeps its size; a caption strip is added
    assert image.getpixel((216, 720)) == MARKER
    left, top, right, bottom = colour_bbox(image, MARKER)
    assert ((left + right - 1) / 2, (top + bottom - 1) / 2) == (216, 720)  # the marker is centred on the pixel
    assert right - left < 160 and bottom - top < 160  # and small: nothing red far away from it
    # the model's box [100,200,300,400] -> pixels (108, 480)-(324, 960), drawn inward from its edges
    assert image.getpixel((108, 720)) == BOX and image.getpixel((323, 720)) == BOX
    assert image.getpixel((216, 480)) == BOX and image.getpixel((216, 959)) == BOX
    assert image.getpixel((107, 720)) != BOX and image.getpixel((150, 600)) == BACKGROUND


def test_typed_text_swipe_and_error_are_drawn(mobile_run: EpisodeResult) -> None:
    report = mobile_run.run_dir / "report"
    by_kind = {(s.action or {}).get("type"): s for s in mobile_run.steps if s.action}
    typed = Image.open(report / f"step_{by_kind['input_text'].index:03d}_retry1.png").convert("RGB")
    strip = (0, 2400, typed.width, typed.height)
    assert colour_bbox(typed, STRIP_TYPED, strip) is not None  # the caption line with the typed text
    assert colour_bbox(typed, STRIP_ERROR, strip) is None
    swipe = by_kind["swipe"]
    assert swipe.pixels == [(540, 1680)]
    image = Image.open(report / f"step_{swipe.index:03d}.png").convert("RGB")
    arrow = colour_bbox(image, ARROW, (0, 0, 1080, 2400))
    assert arrow is not None and arrow[3] <= 1680 + 20 and arrow[1] < 1680 - 200  # pointing up from the point
    failed = by_kind["open_app"]
    assert failed.error_kind == "StepError"
    image = Image.open(report / f"step_{failed.index:03d}.png").convert("RGB")
    assert colour_bbox(image, STRIP_ERROR, (0, 2400, image.width, image.height)) is not None


def test_drag_draws_an_arrow_between_the_executed_points(tmp_path: Path) -> None:
    env = FakeEnvironment(platform=Platform.DESKTOP, size=(1280, 800))
    result = run(tmp_path, "glm-4.1v/desktop", [
        "drag it\n<|begin_of_box|>left_drag(start_box='[100,100]', end_box='[500,600]')<|end_of_box|>\nMemory:\n[]",
        "DONE()",
    ], env)
    drag = result.steps[0]
    assert drag.pixels == [(128, 80), (640, 480)]
    image = Image.open(result.run_dir / "report" / "step_000.png").convert("RGB")
    assert image.size[0] == 1280
    assert image.getpixel((128 + 60, 80 + 47)) == ARROW  # on the line between the points (slope 400/512)
    assert image.getpixel((640, 480)) == ARROW and image.getpixel((300, 80)) == BACKGROUND
    assert colour_bbox(image, MARKER) is None  # a drag is not drawn as a click


def test_annotate_is_pure_and_draws_where_the_model_pointed_when_nothing_ran() -> None:
    screen = Image.new("RGB", (400, 300), BACKGROUND)
    before = screen.tobytes()
    record = StepRecord(index=4, action={"space": "desktop", "type": "left_click", "start_box": [500, 500]},
                        error="blocked by policy", error_kind="blocked", screen_size=(400, 300))
    out = annotate(screen, record)
    assert screen.tobytes() == before and out is not screen
    assert out.getpixel((200, 150)) != BACKGROUND and colour_bbox(out, MARKER) is None  # planned, not executed
    assert colour_bbox(out, STRIP_ERROR, (0, 300, out.width, out.height)) is not None


class MarkedWebScreen(FakeEnvironment):
    """A web page with two set-of-marks elements; Click/Type resolve labels against the observation."""

    ELEMENTS = [WebElement(label=0, tag="a", text="Home", box=(40, 40, 200, 80)),
                WebElement(label=1, tag="input", text="", box=(400, 300, 900, 340), input_type="text")]

    def __init__(self) -> None:
        super().__init__(platform=Platform.WEB, size=(1280, 800))

    def observe(self) -> Observation:
        plain = super().observe()
        marked = plain.screenshot.copy()
        draw = ImageDraw.Draw(marked)
        for element in self.ELEMENTS:
            draw.rectangle(element.box, outline=(0, 200, 0), width=2)
        return plain.model_copy(update={"marked_screenshot": marked, "elements": self.ELEMENTS,
                                        "url": "http://127.0.0.1/<script>x</script>"})

    def execute(self, action: Any, observation: Observation) -> Outcome:
        if getattr(action, "label", None) is None:
            return super().execute(action, observation)
        x1, y1, x2, y2 = observation.elements[action.label].box
        self.executed.append((action.type, [], action.wire()))
        return Outcome(pixels=[(int((x1 + x2) / 2), int((y1 + y2) / 2))], detail=f"{action.type} [{action.label}]")


def test_web_label_actions_are_drawn_on_the_marked_screenshot(tmp_path: Path) -> None:
    result = run(tmp_path, "glm-4.5v/web", [
        "Thought: type the query\nAction: Type [1]; [hello]\nMemory_Updated: {}",
        "Thought: done\nAction: ANSWER; <content>ok</content>\nMemory_Updated: {}",
    ], MarkedWebScreen())
    step = result.steps[0]
    assert step.pixels == [(650, 320)] and step.marked_screenshot
    image = Image.open(result.run_dir / "report" / "step_000.png").convert("RGB")
    assert image.getpixel((650, 320)) == MARKER
    assert image.getpixel((40, 60)) == (0, 200, 0)  # the set-of-marks overlay is the base
    badge = colour_bbox(image, (255, 230, 0), (650, 200, 900, 320))  # "[1]" label badge beside the marker
    assert badge is not None
    final = Image.open(result.run_dir / "report" / "step_001.png").convert("RGB")
    assert final.getpixel((40, 60)) == BACKGROUND  # non-label steps draw on the plain screenshot


# --- the page in a real browser -------------------------------------------------------------------------------


@pytest.mark.browser
def test_page_loads_offline_with_every_image_and_markers_in_place(mobile_run: EpisodeResult, browser: Any) -> None:
    page_path = write_report(mobile_run.run_dir)
    assert page_path == mobile_run.run_dir / "report.html"
    page, problems = open_page(browser, page_path)
    try:
        assert page.evaluate("typeof window.__pwned") == "undefined"  # no model text ran as script
        raw = page.eval_on_selector_all("details.raw pre", "els => els.map(e => e.textContent)")
        assert f"I am not sure {HOSTILE}" in raw  # shown as text, byte for byte
        images = page.eval_on_selector_all("section.step img", """imgs => imgs.map(img => {
            const r = img.getBoundingClientRect();
            return {src: img.getAttribute('src'), complete: img.complete, nw: img.naturalWidth, nh: img.naturalHeight,
                    w: +img.dataset.width, h: +img.dataset.height, left: r.left, top: r.top, rw: r.width, rh: r.height,
                    points: JSON.parse(img.dataset.points),
                    pins: [...img.parentElement.querySelectorAll('.pin')].map(p => {
                        const b = p.getBoundingClientRect();
                        return [b.left + b.width / 2, b.top + b.height / 2]; })};
        })""")
        assert len(images) == len(mobile_run.steps) == 7
        for image in images:
            assert image["src"].startswith("report/step_") and image["complete"] and image["nw"] > 0
            assert (image["nw"], image["nh"]) == (image["w"], image["h"])
            assert image["rw"] > 0 and abs(image["rh"] / image["rw"] - image["h"] / image["w"]) < 0.01
            for (x, y), (px, py) in zip(image["points"], image["pins"], strict=True):
                # the pin's rendered centre, mapped back to image pixels, is the executed pixel's centre
                assert abs((px - image["left"]) * image["nw"] / image["rw"] - (x + 0.5)) < 0.5
                assert abs((py - image["top"]) * image["nh"] / image["rh"] - (y + 0.5)) < 0.5
        assert images[0]["points"] == [[216, 720]] and len(images[0]["pins"]) == 1
        assert page.inner_text("#task") == "find the <b>Wi-Fi</b> name"
        assert page.inner_text("#status") == "complete"
        errors = page.eval_on_selector_all("section.err", "els => els.map(e => e.id)")
        assert errors == ["step-1", "step-3"]  # the unusable reply and the failed open_app
        assert "StepError: open_app failed on the fake screen" in page.inner_text("#step-3 .error")
        assert "héllo 你好 <script>" in page.inner_text("#step-1-retry1 dd")
    finally:
        page.close()
    assert problems == []


@pytest.mark.browser
def test_partial_run_still_reports(tmp_path: Path, browser: Any) -> None:
    result = run(tmp_path, "glm-4.5v/mobile", [mobile('{"action_type": "navigate_back"}')],
                 FakeEnvironment(size=(720, 1600)), max_steps=5)
    assert result.status == "error"  # the replay script ran out: step 1 is an error-only record
    run_dir = result.run_dir
    (run_dir / "screenshots" / "step_000.png").unlink()
    (run_dir / "summary.json").unlink()
    with (run_dir / "steps.jsonl").open("a", encoding="utf-8") as steps:
        steps.write('{"index": 2, "raw_te')  # a run killed mid-write
    summary, records = load_run(run_dir)
    assert len(records) == 2 and summary.model_calls == 2 and summary.status == "unknown"
    page, problems = open_page(browser, write_report(run_dir))
    try:
        assert page.inner_text("#step-0 .missing") == "screenshot missing"
        assert page.eval_on_selector("#step-1 img", "img => img.naturalWidth") == 720
        assert "replay script exhausted" in page.inner_text("#step-1 .error")
    finally:
        page.close()
    assert problems == []
    with Image.open(run_dir / "report.gif") as gif:
        assert gif.n_frames == 1  # only step 1 still has its screenshot


def test_gif_has_one_frame_per_step(mobile_run: EpisodeResult) -> None:
    indices = sorted({s.index for s in mobile_run.steps})
    assert indices == [0, 1, 2, 3, 4, 5]
    with Image.open(mobile_run.run_dir / "report.gif") as gif:
        assert gif.n_frames == len(indices) and gif.info["loop"] == 0
        assert max(gif.size) <= 720
        durations = []
        for number in range(gif.n_frames):
            gif.seek(number)
            durations.append(gif.info["duration"])
    assert durations[:-1] == [1000] * (len(indices) - 1) and durations[-1] >= 1000


# --- command line ----------------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "glmv_agent.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_report_command(mobile_run: EpisodeResult, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(mobile_run.run_dir, copy, ignore=shutil.ignore_patterns("report*"))
    done = cli("report", str(copy))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{copy / 'report.html'}\n"
    assert len(list((copy / "report").glob("step_*.png"))) == 7 and (copy / "report.gif").is_file()
    assert json.loads((copy / "summary.json").read_text())["status"] == "complete"
    (copy / "report.gif").unlink()
    again = cli("report", "--no-gif", str(copy))
    assert again.returncode == 0 and (copy / "report.html").is_file() and not (copy / "report.gif").exists()
    missing = cli("report", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1 and "steps.jsonl" in missing.stderr
