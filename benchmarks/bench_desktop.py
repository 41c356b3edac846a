"""Desktop environment time per step under Xvfb: capture + encode + action, next to a bare mss grab (the floor).

For each screen size the script starts its own Xvfb, shows a realistic UI screenshot full-screen in a Tk window, and
measures in a child process bound to that display:

- mss grab: ``mss.MSS().grab(monitor)`` alone, the least any capture can cost (the floor);
- ImageGrab: Pillow's own X11 capture (``PIL.ImageGrab.grab()``), the usual alternative; ``pyautogui.screenshot``
  cannot run here at all (on Linux it needs gnome-screenshot);
- observe: our capture (mss grab + conversion to a PIL image);
- encode: the model image as the OpenAI backend sends it (resize to the GLM-V grid, JPEG data URL);
- click: ``left_click`` executed through pyautogui (PAUSE=0, as the environment sets it; pyautogui's default PAUSE
  adds 100 ms per call), without the wait for the screen to settle (``--settle``), which depends on the application;
- step: observe + encode + click, measured together.

Each size runs twice: with Pillow's default memory settings (PILLOW_BLOCKS_MAX=0: every full-screen image faults in
fresh pages) and as the environment runs by default (it lets Pillow keep 8 freed 16 MB blocks for reuse).

Run: python benchmarks/bench_desktop.py [--repeats N]   (needs Xvfb; Linux)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = ((1920, 1080), (3840, 2160))
SHOW = (
    "import sys, tkinter as tk\n"
    "root = tk.Tk(); root.overrideredirect(True); root.geometry('+0+0')\n"
    "image = tk.PhotoImage(file=sys.argv[1]); tk.Label(root, image=image, bd=0).pack()\n"
    "root.after(200, lambda: print('shown', flush=True)); root.mainloop()\n"
)


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(repeats: int) -> dict[str, float | None]:
    """Runs inside the child, whose DISPLAY is the Xvfb of one size."""
    import mss
    import pyautogui
    from PIL import ImageGrab

    from glmv_agent.actions import PointerAction
    from glmv_agent.environments.desktop.environment import DesktopConfig, DesktopEnvironment
    from glmv_agent.imaging import encode_data_url, prepare_image

    pyautogui.PAUSE = 0
    sct = mss.MSS()
    env = DesktopEnvironment(DesktopConfig(settle_seconds=0))  # a static picture never changes: settling is the cap
    monitor = sct.monitors[1]
    observation = env.observe()
    low, high = observation.screenshot.convert("L").getextrema()
    if low == high:
        raise SystemExit("the screen is blank: the UI picture was not shown, figures would be meaningless")
    click = PointerAction(type="left_click", start_box=(420, 610))

    def step() -> None:
        seen = env.observe()
        encode_data_url(prepare_image(seen.screenshot))
        env.execute(click, seen)

    try:
        naive: float | None = median_ms(ImageGrab.grab, repeats)
    except OSError:  # Pillow built without XCB support
        naive = None
    return {
        "grab": median_ms(lambda: sct.grab(monitor), repeats),
        "imagegrab": naive,
        "observe": median_ms(env.observe, repeats),
        "encode": median_ms(lambda: encode_data_url(prepare_image(observation.screenshot)), repeats),
        "click": median_ms(lambda: env.execute(click, observation), repeats),
        "step": median_ms(step, repeats),
    }


def run_size(width: int, height: int, repeats: int, workdir: Path, block_cache: bool) -> dict[str, float | None]:
    sys.path.insert(0, str(Path(__file__).parent))
    from screens import ui_screenshot

    picture = workdir / f"ui-{width}x{height}.png"
    ui_screenshot(width, height).save(picture)
    auth = workdir / "Xauthority"
    auth.touch()
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-noreset", "-auth", str(auth)], pass_fds=(write_fd,), stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = ":" + pipe.readline().strip()
    env = {**os.environ, "DISPLAY": display, "XAUTHORITY": str(auth)}
    env.pop("PILLOW_BLOCKS_MAX", None)
    if not block_cache:
        env["PILLOW_BLOCKS_MAX"] = "0"  # Pillow's own default; the environment then leaves it alone
    shower = subprocess.Popen([sys.executable, "-c", SHOW, str(picture)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert shower.stdout is not None and shower.stdout.readline().strip() == "shown"
        done = subprocess.run([sys.executable, __file__, "--child", "--repeats", str(repeats)], env=env,
                              capture_output=True, text=True, check=True, timeout=600)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shower.terminate()
        xvfb.terminate()
        shower.wait(10)
        xvfb.wait(10)


def cell(value: float | None) -> str:
    return f"{value:>10.1f}" if value is not None else f"{'n/a':>10}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.repeats)))
        return
    if shutil.which("Xvfb") is None:
        sys.exit("bench_desktop needs Xvfb (apt-get install xvfb)")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"median of {args.repeats} runs, ms")
    columns = ("mss grab", "ImageGrab", "observe", "encode", "click", "step")
    print(f"{'screen':<26}" + "".join(f"{c:>10}" for c in columns) + f"{'step-floor':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for (width, height), block_cache in ((size, cache) for size in SIZES for cache in (False, True)):
            r = run_size(width, height, args.repeats, Path(tmp), block_cache)
            keys = ("grab", "imagegrab", "observe", "encode", "click", "step")
            overhead = (r["step"] or 0) - (r["grab"] or 0)
            name = f"{width}x{height} " + ("ours" if block_cache else "Pillow default")
            print(f"{name:<26}" + "".join(cell(r[k]) for k in keys) + f"{overhead:>12.1f}")


if __name__ == "__main__":
    main()
