"""Time per agent step spent in the web environment (screenshot + labelling + action), against the floor of a
plain Playwright ``page.screenshot()``, at 1280x800 and 1920x1080.

    python benchmarks/bench_web.py [--steps 20]

Pages are generated locally and served on 127.0.0.1: "typical" (a search page with ~40 interactive elements) and
"busy" (~400 interactive elements, ~150 in the viewport). Each step is observe() then a click on a counter button
(no navigation), as in a real episode; medians over the steps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import sync_playwright

from glmv_agent.actions import PointerAction, WebClick
from glmv_agent.environments.web.browser import launch_browser
from glmv_agent.environments.web.environment import WebEnvironment
from glmv_agent.environments.web.js import MARK_ATTR, MARK_JS
from glmv_agent.environments.web.options import WebOptions
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "typical.html").write_text(_page(8), "utf-8")
        (root / "busy.html").write_text(_page(100), "utf-8")
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
            browser.close()


if __name__ == "__main__":
    main()
