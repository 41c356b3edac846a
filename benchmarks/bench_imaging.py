"""Encoders for the model image and for the trajectory, side by side: CPU time, bytes against a naive PNG, fidelity.

Screens: real pages rendered by headless Chromium (when /usr/bin/chromium or Playwright's browser exists) and
synthetic ones (a UI with a photo-like banner, and one of flat colours and text only). Each encoder runs on the
image it gets in the toolkit: the model image on the GLM-V grid, the trajectory image at full resolution. Times are
the median CPU time of the encoding thread (``time.thread_time``, robust on a loaded machine), encoders interleaved.

Usage: python benchmarks/bench_imaging.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screens import ui_screenshot  # noqa: E402

from glmv_agent.imaging import encode_image, prepare_image  # noqa: E402

SIZES = {"phone 1080x2400": (360, 800, 3), "desktop 1920x1080": (1920, 1080, 1)}
PAGE = """<html><body style='font-family:sans-serif;margin:0'>
<div style='background:#1a73e8;color:white;padding:14px;font-size:20px'>Dashboard <input placeholder='Search'></div>
<div style='display:flex'><div style='width:220px;background:#f1f3f4;padding:10px;line-height:2'>{menu}</div>
<div style='flex:1;padding:10px'><div style='height:180px;background:linear-gradient(90deg,#ff8a80,#82b1ff)'></div>
<p>Lorem ipsum dolor sit amet. 日本語のテキスト。Тест кириллицы.</p><table border=1 style='width:100%'>{rows}</table>
</div></div></body></html>"""


def save(**options: object) -> Callable[[Image.Image], bytes]:
    def encode(image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, **options)
        return buffer.getvalue()

    return encode


# name -> (encoder, on the grid-resized image?)
MODEL = {"JPEG q90 4:4:4 (hosted API)": (lambda i: encode_image(i, "jpeg"), True),
         "WebP q90, method 0": (lambda i: encode_image(i, "webp"), True),
         "smallest WebP (auto)": (lambda i: encode_image(i, "webp-smallest"), True),
         "smallest WebP, ahead (settle wait)": (lambda i: encode_image(i, "webp-smallest", ahead=True), True),
         "lossless WebP, method 0 (option)": (lambda i: encode_image(i, "webp-lossless"), True)}
TRAJECTORY = {"PNG level 1 (chosen)": (save(format="PNG", compress_level=1), False),
              "lossless WebP, method 0, effort 0": (save(format="WEBP", lossless=True, method=0, quality=0), False)}


def chromium_screens() -> dict[str, Image.Image]:
    try:
        from playwright.sync_api import sync_playwright

        from glmv_agent.environments.web.browser import launch_browser
        from glmv_agent.environments.web.options import WebOptions
    except ImportError:
        return {}
    html = PAGE.format(menu="".join(f"<div>Menu item {i}</div>" for i in range(30)),
                       rows="".join(f"<tr><td>{i}</td><td>Order #{1000 + i} Müller 订单</td><td>{i * 7.31:.2f} €</td>"
                                    f"<td><button>Edit</button></td></tr>" for i in range(60)))
    shots = {}
    with sync_playwright() as playwright:
        try:
            browser = launch_browser(playwright, WebOptions())
        except Exception:  # noqa: BLE001 - no browser here: synthetic screens only
            return {}
        for name, (w, h, dpr) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h}, device_scale_factor=dpr)
            page.set_content(html)
            shots[f"Chromium page, {name}"] = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        browser.close()
    return shots


def psnr(reference: Image.Image, data: bytes) -> float:
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    mse = sum(v * v for v in ImageStat.Stat(ImageChops.difference(reference, decoded)).rms) / 3
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def measure(image: Image.Image, encoders: dict, runs: int) -> dict[str, tuple[float, bytes]]:
    grid = prepare_image(image)
    times: dict[str, list[float]] = {name: [] for name in encoders}
    out: dict[str, bytes] = {}
    for _ in range(runs):
        for name, (encode, on_grid) in encoders.items():
            started = time.thread_time()
            out[name] = encode(grid if on_grid else image)
            times[name].append(time.thread_time() - started)
    return {name: (statistics.median(times[name]) * 1000, out[name]) for name in encoders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    screens = {**chromium_screens(), "synthetic 1920x1080, with photo": ui_screenshot(1920, 1080),
               "synthetic 1920x1080, flat UI": ui_screenshot(1920, 1080, photo=False),
               "synthetic 1080x2400, with photo": ui_screenshot(1080, 2400)}
    for name, image in screens.items():
        naive = save(format="PNG")(image)
        print(f"\n{name}: naive full-resolution PNG (Pillow defaults) {len(naive) / 1024:.0f} KiB")
        for title, encoders in (("model image", MODEL), ("trajectory", TRAJECTORY)):
            for encoder, (ms, data) in measure(image, encoders, args.runs).items():
                reference = prepare_image(image) if encoders[encoder][1] else image
                quality = psnr(reference, data)
                fidelity = "lossless" if math.isinf(quality) else f"{quality:.1f} dB"
                print(f"  {title:<12}{encoder:<36}{ms:>7.1f} ms CPU {len(data) / 1024:>7.0f} KiB "
                      f"{len(data) / len(naive):>5.2f}x naive  {fidelity}")


if __name__ == "__main__":
    main()
