"""Per-step client overhead of the core: render + image preparation/encoding + parse, and bytes sent.

Ours: the profile's render, the screenshot resized on the client to the model's 28-pixel grid (smart_resize) and
encoded as configured (JPEG by default), then the model text parsed. Naive: the full-resolution PNG every step (what
most agent scripts send). Also checks coordinate precision: the largest distance, in original pixels, between the pixel we act on
and the exact position the model's thousandths name; client-side resizing adds nothing to it.

Run: python benchmarks/bench_core.py [--repeats N]
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import time

from screens import ui_screenshot

from glmv_agent.geometry import point_to_pixels
from glmv_agent.imaging import encode_data_url, prepare_image
from glmv_agent.profiles import get_profile
from glmv_agent.types import HistoryItem, Observation, Platform

SIZES = {"phone 1080x2400": (1080, 2400), "desktop 1920x1080": (1920, 1080), "4K 3840x2160": (3840, 2160)}
KINDS = {"with photo": True, "flat UI": False}
OUTPUT = "I open the network settings.\n<|begin_of_box|>left_click(start_box='[512,233]', element_info='Wi-Fi')" \
         "<|end_of_box|>\nMemory:\n[]"


def naive_step(image, profile, observation) -> int:  # noqa: ANN001
    messages = profile.render("Turn on Wi-Fi", observation, [], [])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    profile.parse(OUTPUT)
    return len(url) + sum(len(m.text()) for m in messages)


def our_step(profile, observation, history) -> int:  # noqa: ANN001
    messages = profile.render("Turn on Wi-Fi", observation, history, [])
    total = 0
    for message in messages:
        total += len(message.text())
        for image in message.images():
            total += len(encode_data_url(prepare_image(image)))
    profile.parse(OUTPUT)
    return total


def timed(fn, repeats: int) -> tuple[float, int]:  # noqa: ANN001
    times, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        size = fn()
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
    print(f"{'screen':<31}{'naive ms':>10}{'ours ms':>10}{'naive KB':>10}{'ours KB':>10}{'bytes %':>9}"
          f"{'grid':>11}{'map err px':>12}")
    for (name, size), (kind, photo) in ((s, k) for s in SIZES.items() for k in KINDS.items()):
        image = ui_screenshot(*size, photo=photo)
        observation = Observation(screenshot=image, platform=Platform.DESKTOP)
        naive_ms, naive_bytes = timed(lambda: naive_step(image, profile, observation), args.repeats)  # noqa: B023
        ours_ms, ours_bytes = timed(lambda: our_step(profile, observation, []), args.repeats)  # noqa: B023
        grid = prepare_image(image).size
        print(f"{name + ', ' + kind:<31}{naive_ms:>10.1f}{ours_ms:>10.1f}{naive_bytes / 1024:>10.0f}{ours_bytes / 1024:>10.0f}"
              f"{100 * ours_bytes / naive_bytes:>8.0f}%{grid[0]:>6}x{grid[1]:<4}{worst_mapping_error(size):>12.2f}")
    decision = profile.parse(OUTPUT)
    history = [HistoryItem(decision=decision, screenshot=ui_screenshot(1920, 1080, seed=n)) for n in range(4)]
    observation = Observation(screenshot=ui_screenshot(1920, 1080), platform=Platform.DESKTOP)
    ms, size = timed(lambda: our_step(profile, observation, history), args.repeats)
    print(f"\nGLM-4.5V desktop step with 4 half-size history screenshots at 1920x1080: {ms:.1f} ms, "
          f"{size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
