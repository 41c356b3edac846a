"""Screenshot preparation cost and size: our pipeline (grid resize + encode) beside naive full-res PNG.

Usage: python benchmarks/bench_imaging.py   (uses Chromium screenshots when /usr/bin/chromium exists)
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

from PIL import Image, ImageDraw

from glmv_agent.imaging import encode_image, prepare_image

SIZES = {"phone 1080x2400": (360, 800, 3), "desktop 1920x1080": (1920, 1080, 1), "4k 3840x2160": (1920, 1080, 2)}
PAGE = """<html><body style='font-family:sans-serif;margin:0'>
<div style='background:#1a73e8;color:white;padding:14px;font-size:20px'>Dashboard <input placeholder='Search'></div>
<div style='display:flex'><div style='width:220px;background:#f1f3f4;padding:10px;line-height:2'>{menu}</div>
<div style='flex:1;padding:10px'><div style='height:180px;background:linear-gradient(90deg,#ff8a80,#82b1ff)'></div>
<p>Lorem ipsum dolor sit amet. 日本語のテキスト。Тест кириллицы.</p><table border=1 style='width:100%'>{rows}</table>
</div></div></body></html>"""


def screenshots() -> dict[str, Image.Image]:
    if not Path("/usr/bin/chromium").exists():
        return {name: _synthetic((w * dpr, h * dpr)) for name, (w, h, dpr) in SIZES.items()}
    from playwright.sync_api import sync_playwright

    html = PAGE.format(menu="".join(f"<div>Menu item {i}</div>" for i in range(30)),
                       rows="".join(f"<tr><td>{i}</td><td>Order #{1000 + i} Müller 订单</td><td>{i * 7.31:.2f} €</td>"
                                    f"<td><button>Edit</button></td></tr>" for i in range(60)))
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    shots = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for name, (w, h, dpr) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h}, device_scale_factor=dpr)
            page.set_content(html)
            shots[name] = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        browser.close()
    return shots


def _synthetic(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for row in range(0, size[1], 30):
        draw.text((10, row), f"row {row} settings, Wi-Fi, Bluetooth, display, battery", fill="black")
    return image


def median_ms(fn, runs: int = 7) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def main() -> None:
    for name, image in screenshots().items():
        image.load()

        def naive(img: Image.Image = image) -> bytes:
            buffer = io.BytesIO()
            img.save(buffer, format="PNG")
            return buffer.getvalue()

        naive_ms, naive_bytes = median_ms(naive, 3)
        prep_ms, prepared = median_ms(lambda img=image: prepare_image(img))
        print(f"{name} -> {prepared.size[0]}x{prepared.size[1]}: resize {prep_ms:.1f} ms | "
              f"baseline naive PNG {len(naive_bytes) / 1024:.0f} KiB in {naive_ms:.0f} ms")
        for fmt in ("jpeg", "png", "webp"):
            enc_ms, data = median_ms(lambda f=fmt, img=prepared: encode_image(img, f))
            print(f"   {fmt:5} encode {enc_ms:6.1f} ms  total {prep_ms + enc_ms:6.1f} ms  {len(data) / 1024:6.0f} KiB "
                  f"({len(data) / len(naive_bytes):.2f} x naive)")


if __name__ == "__main__":
    main()
