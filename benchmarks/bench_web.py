"""Time per agent step spent in the web environment (screenshot + labelling + action), against the floor of a
plain Playwright ``page.screenshot()``, at 1280x800 and 1920x1080; and our observation beside browser-use's state
extraction on the demo page and on a 500-element page.

    python benchmarks/bench_web.py [--steps 20] [--browser-use PYTHON] [--rounds 5]

Pages are generated locally and served on 127.0.0.1: "typical" (a search page with ~40 interactive elements) and
"busy" (~400 interactive elements, ~150 in the viewport). Each step is observe() then a click on a counter button
(no navigation), as in a real episode; medians over the steps.

browser-use (``BrowserSession.get_browser_state_summary(include_screenshot=True)``: a PNG screenshot and its DOM
extraction, what its agent reads each step) pins packages that clash with ours, so it runs from its own virtual
environment: ``--browser-use PATH/TO/venv/bin/python`` (``pip install browser-use`` there). Both sides drive the
same Chromium binary with the same flags at 1280x800, one browser each, interleaved round by round in one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import sync_playwright

from glmv_agent.actions import PointerAction, WebClick
from glmv_agent.environments.web.browser import launch_browser
from glmv_agent.environments.web.demo import SITE
from glmv_agent.environments.web.environment import WebEnvironment
from glmv_agent.environments.web.js import MARK_ATTR, MARK_JS
from glmv_agent.environments.web.options import LAUNCH_ARGS, WebOptions, resolve_executable
from glmv_agent.environments.web.server import StaticServer
from glmv_agent.geometry import pixel_to_model

HEAD = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 15px sans-serif; margin: 16px; } nav a { margin-right: 12px; } .card { display: inline-block;
width: 220px; margin: 6px; padding: 8px; border: 1px solid #ccc; vertical-align: top; } img { width: 60px;
height: 40px; background: #9ab; display: block; }</style></head><body>
<button id="counter" onclick="this.dataset.n = (+this.dataset.n || 0) + 1;
  this.textContent = 'clicks ' + this.dataset.n">clicks 0</button>
"""


def _page(cards: int) -> str:
    nav = "".join(f'<a href="#s{i}">Section {i}</a>' for i in range(12))
    form = '<form><input placeholder="Search"><select><option>All</option><option>Books</option></select>' \
           '<button type="button">Go</button></form>'
    body = "".join(
        f'<div class="card"><img alt=""><a href="#c{i}">Item {i}: a product title</a><p>Some description text '
        f'for item {i}, with a price of {i % 90 + 10} dollars.</p><button type="button">Add to cart</button>'
        f'<input type="checkbox" aria-label="compare {i}"></div>'
        for i in range(cards)
    )
    return f"{HEAD}<nav>{nav}</nav>{form}{body}</body></html>"


def _median_ms(action: Callable[[], object], steps: int) -> float:
    for _ in range(3):
        action()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _som_step(env: WebEnvironment) -> tuple[Callable[[], object], Callable[[], object]]:
    state: dict = {}

    def observe() -> None:
        state["obs"] = env.observe()

    def step() -> None:
        observation = env.observe()
        counter = next(e.label for e in observation.elements if e.text.startswith("clicks"))
        env.execute(WebClick(label=counter), observation)

    return observe, step


def _pixel_step(env: WebEnvironment) -> Callable[[], object]:
    def step() -> None:
        observation = env.observe()
        scale = observation.size[0] / env.page.viewport_size["width"]
        box = env.page.locator("#counter").bounding_box()
        point = pixel_to_model((box["x"] + 10) * scale, (box["y"] + 5) * scale, observation.size)
        env.execute(PointerAction(type="left_click", start_box=point), observation)

    return step


def measure(browser, url: str, viewport: tuple[int, int], steps: int) -> dict[str, float]:
    options = WebOptions(url=url, viewport=viewport, wait_seconds=0)
    row: dict[str, float] = {}
    with WebEnvironment.from_browser(browser, options) as env:
        row["floor"] = _median_ms(lambda: env.page.screenshot(type="png"), steps)
        args = {"attr": MARK_ATTR, "token": "bench", "max": options.max_elements}
        row["label_js"] = _median_ms(lambda: env.page.evaluate(MARK_JS, args), steps)
        observe, step = _som_step(env)
        row["observe"] = _median_ms(observe, steps)
        row["step"] = _median_ms(step, steps)
        row["elements"] = len(env.observe().elements)
    with WebEnvironment.from_browser(browser, options.model_copy(update={"mode": "pixel"})) as env:
        row["pixel_step"] = _median_ms(_pixel_step(env), steps)
    return row


BROWSER_USE = r"""
import asyncio, json, os, sys, time
os.environ.setdefault("ANONYMIZED_TELEMETRY", "false")
os.environ.setdefault("BROWSER_USE_LOGGING_LEVEL", "error")
from browser_use import BrowserProfile, BrowserSession

async def main():
    executable, args = sys.argv[1], json.loads(sys.argv[2])
    profile = BrowserProfile(executable_path=executable, headless=True, args=args, device_scale_factor=1.0,
                             viewport={"width": 1280, "height": 800}, window_size={"width": 1280, "height": 800})
    session = BrowserSession(browser_profile=profile)
    await session.start()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "open":
            await session.navigate_to(command["url"])
            await asyncio.sleep(0.5)
            print(json.dumps({"ok": True}), flush=True)
        elif command["do"] == "state":
            times = []
            for _ in range(command["n"]):
                started = time.perf_counter()
                state = await session.get_browser_state_summary(include_screenshot=True)
                times.append(time.perf_counter() - started)
            print(json.dumps({"ms": [t * 1000 for t in times], "elements": len(state.dom_state.selector_map)}),
                  flush=True)
        else:
            break
    await session.kill()

asyncio.run(main())
"""


class BrowserUse:
    """browser-use in its own interpreter, answering one JSON command per line."""

    def __init__(self, python: str, executable: str) -> None:
        self.process = subprocess.Popen([python, "-c", BROWSER_USE, executable, json.dumps(LAUNCH_ARGS)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"browser-use stopped (exit code {self.process.wait()})")

    def ask(self, **command: object) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.ask(do="quit")
        except (RuntimeError, BrokenPipeError):
            pass
        self.process.wait(30)


def versus_browser_use(playwright, browser, python: str, pages: dict[str, str], rounds: int,  # noqa: ANN001
                       steps: int) -> None:
    """Our observe() and browser-use's state extraction on each page, interleaved round by round."""
    bundled = playwright.chromium.executable_path
    theirs = BrowserUse(python, resolve_executable(None, bundled) or bundled)  # the binary launch_browser chose
    print(f"\n{'page (1280x800)':<24}{'our labels':>11}{'ours (SoM observe)':>20}{'their elements':>15}"
          f"{'browser-use state':>19}{'ours/theirs':>12}")
    try:
        for name, url in pages.items():
            theirs.ask(do="open", url=url)
            ours, their_ms, counts = [], [], {}
            with WebEnvironment.from_browser(browser, WebOptions(url=url, viewport=(1280, 800), wait_seconds=0)) as env:
                for _ in range(3):
                    env.observe()
                theirs.ask(do="state", n=3)  # warm-up
                for _ in range(rounds):
                    for _ in range(steps):
                        started = time.perf_counter()
                        observation = env.observe()
                        ours.append((time.perf_counter() - started) * 1000)
                    answer = theirs.ask(do="state", n=steps)
                    their_ms += answer["ms"]
                    counts = {"ours": len(observation.elements), "theirs": answer["elements"]}
            mine, other = statistics.median(ours), statistics.median(their_ms)
            print(f"{name:<24}{counts['ours']:>11}{mine:>17.1f} ms{counts['theirs']:>15}{other:>16.1f} ms"
                  f"{mine / other:>11.2f}x")
    finally:
        theirs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--browser-use", metavar="PYTHON", help="a Python that has browser-use installed")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds against browser-use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "typical.html").write_text(_page(8), "utf-8")
        (root / "busy.html").write_text(_page(100), "utf-8")
        (root / "busy500.html").write_text(_page(162), "utf-8")  # 502 interactive elements
        for item in SITE.iterdir():
            (root / item.name).write_bytes(item.read_bytes())
        with StaticServer(root) as server, sync_playwright() as playwright:
            browser = launch_browser(playwright, WebOptions())
            header = (f"{'viewport':<10} {'page':<8} {'labels':>6} {'floor: page.screenshot':>23} {'label JS':>9} "
                      f"{'SoM observe':>12} {'SoM step':>9} {'overhead':>9} {'pixel step':>11}")
            print(header)
            print("-" * len(header))
            for viewport in [(1280, 800), (1920, 1080)]:
                for page in ("typical", "busy"):
                    r = measure(browser, f"{server.url}{page}.html", viewport, args.steps)
                    print(f"{viewport[0]}x{viewport[1]:<5} {page:<8} {r['elements']:>6.0f} {r['floor']:>20.1f} ms "
                          f"{r['label_js']:>6.1f} ms {r['observe']:>9.1f} ms {r['step']:>6.1f} ms "
                          f"{r['step'] - r['floor']:>6.1f} ms {r['pixel_step']:>8.1f} ms")
            if args.browser_use:
                pages = {"demo page (index.html)": f"{server.url}index.html",
                         "500 elements": f"{server.url}busy500.html"}
                versus_browser_use(playwright, browser, args.browser_use, pages, args.rounds, args.steps)
            else:
                print("\n(browser-use comparison skipped: pass --browser-use PYTHON)", file=sys.stderr)
            browser.close()


if __name__ == "__main__":
    main()
