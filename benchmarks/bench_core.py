"""Per-step client overhead of the core: render + image preparation/encoding + parse, and bytes sent.

Ours: the profile's render, the screenshot resized on the client to the model's 28-pixel grid (smart_resize) and
encoded as OpenAIBackend does (WebP for self-hosted servers, JPEG for the hosted GLM API), then the text parsed.
Naive: the full-resolution PNG every step (what most agent scripts send). Also checks coordinate precision: the
largest distance, in original pixels, between the pixel we act on and the exact position the model's thousandths
name; client-side resizing adds nothing to it.

Run: python benchmarks/bench_core.py [--repeats N]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import time

from screens import ui_screenshot

from glmv_agent.backends.openai_backend import EndpointConfig, to_openai_messages
from glmv_agent.geometry import point_to_pixels
from glmv_agent.imaging import prepare_image
from glmv_agent.profiles import get_profile
from glmv_agent.types import HistoryItem, Observation, Platform

SIZES = {"phone 1080x2400": (1080, 2400), "desktop 1920x1080": (1920, 1080), "4K 3840x2160": (3840, 2160)}
KINDS = {"with photo": True, "flat UI": False}
OUTPUT = "I open the network settings.\n<|begin_of_box|>left_click(start_box='[512,233]', element_info='Wi-Fi')" \
         "<|end_of_box|>\nMemory:\n[]"


def naive_step(image, profile, observation) -> int:  # noqa: ANN001
    """Full-resolution PNG (Pillow defaults) every step, plus the same render and parse."""
    messages = profile.render("Turn on Wi-Fi", observation, [], [])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    profile.parse(OUTPUT)
    return len(url) + sum(len(m.text()) for m in messages)


def our_step(profile, observation, history, config) -> int:  # noqa: ANN001
    """What OpenAIBackend sends: rendered messages with every image on the grid and encoded (cached per image)."""
    messages = profile.render("Turn on Wi-Fi", observation, history, [])
    body = to_openai_messages(messages, config)
    profile.parse(OUTPUT)
    return len(json.dumps(body))


def timed(fn, image, repeats: int) -> tuple[float, int]:  # noqa: ANN001
    """Median time of ``fn(fresh_copy_of_image)``: a new screenshot every step, as on a real device."""
    times, size = [], 0
    for _ in range(repeats):
        fresh = image.copy()
        started = time.perf_counter()
        size = fn(fresh)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, size


def worst_mapping_error(size: tuple[int, int]) -> float:
    """Largest distance, in original pixels, between our integer pixel and the exact position m/1000*size."""
    worst = 0.0
    for m in range(0, 1001, 7):
        px, py = point_to_pixels((m, m), size)
        worst = max(worst, abs(px - m * size[0] / 1000), abs(py - m * size[1] / 1000))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    profile = get_profile("glm-4.5v/desktop")
    configs = {"self-hosted (WebP)": EndpointConfig(model="m"),
               "hosted API (JPEG)": EndpointConfig(base_url="https://open.bigmodel.cn/api/paas/v4", model="m")}
    print(f"{'screen':<31}{'sent as':<20}{'naive ms':>9}{'ours ms':>9}{'naive KB':>10}{'ours KB':>9}"
          f"{'bytes':>7}{'grid':>11}{'map err px':>12}")
    for (name, size), (kind, photo) in ((s, k) for s in SIZES.items() for k in KINDS.items()):
        image = ui_screenshot(*size, photo=photo)
        grid = prepare_image(image).size
        naive = timed(lambda img: naive_step(img, profile, _obs(img)), image, args.repeats)
        for label, config in configs.items():
            ours = timed(lambda img: our_step(profile, _obs(img), [], config), image, args.repeats)  # noqa: B023
            print(f"{name + ', ' + kind:<31}{label:<20}{naive[0]:>9.1f}{ours[0]:>9.1f}{naive[1] / 1024:>10.0f}"
                  f"{ours[1] / 1024:>9.0f}{100 * ours[1] / naive[1]:>6.0f}%{grid[0]:>6}x{grid[1]:<4}"
                  f"{worst_mapping_error(size):>12.2f}")
    decision = profile.parse(OUTPUT)
    history = [HistoryItem(decision=decision, screenshot=ui_screenshot(1920, 1080, seed=n)) for n in range(4)]
    ms, size = timed(lambda img: our_step(profile, _obs(img), history, configs["self-hosted (WebP)"]),
                     ui_screenshot(1920, 1080), args.repeats)
    print(f"\nGLM-4.5V desktop step with 4 half-size history screenshots (encoded once, then cached) at 1920x1080: "
          f"{ms:.1f} ms, {size / 1024:.0f} KB")


def _obs(image) -> Observation:  # noqa: ANN001
    return Observation(screenshot=image, platform=Platform.DESKTOP)


if __name__ == "__main__":
    main()
