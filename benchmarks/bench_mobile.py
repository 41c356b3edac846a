"""Time per step of the phone environment against the simulated phone, next to the same commands through
Debian's `adb` client (one process per command, as shell-based agents run them).

    python benchmarks/bench_mobile.py [--steps 30] [--size 1080x2400]

The simulated phone runs as a separate process (`glmv-agent sim-device`) so its rendering does not share the
benchmark's interpreter. A step is: foreground query (dumpsys window), screenshot (screencap -p, PNG over
exec:, decoded), one tap. Figures are milliseconds: median and 90th percentile.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/test_mobile_support.py picks free ports

from PIL import Image  # noqa: E402

from glmv_agent.actions import Click  # noqa: E402
from glmv_agent.environments.android.connection import ConnectionOptions  # noqa: E402
from glmv_agent.environments.android.environment import MobileConfig, MobileEnvironment  # noqa: E402
from glmv_agent.environments.android.keys import create_key  # noqa: E402
from tests.test_mobile_support import free_port  # noqa: E402

WINDOW_QUERY = "dumpsys window | grep -E 'mCurrentFocus|mFocusedApp|mCurrentRotation|mRotation='"


def measure(label: str, steps: int, call: Callable[[], object]) -> tuple[str, float, float]:
    call()  # warm up
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return label, statistics.median(times), times[int(len(times) * 0.9) - 1 if len(times) >= 10 else -1]


def start_simulator(port: int, size: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "glmv_agent.cli", "sim-device", "--port", str(port), "--size", size],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "simulated phone listening on ..."
    return process


def ours(serial: str, key: Path, steps: int) -> list[tuple[str, float, float]]:
    config = MobileConfig(device=serial, adb_key=key, connection=ConnectionOptions())
    with MobileEnvironment(config) as env:
        observation = env.observe()
        click = Click(box_2d=(450, 450, 550, 550))
        return [
            measure("shell command (input tap)", steps, lambda: env.client.run("input tap 540 1200")),
            measure("screenshot (screencap -p)", steps, lambda: env.client.data("screencap -p")),
            measure("observe()", steps, env.observe),
            measure("step: observe() + execute(click)", steps, lambda: env.execute(click, env.observe())),
            measure("execute(click) alone", steps, lambda: env.execute(click, observation)),
        ]


def reference(serial: str, steps: int, home: Path) -> list[tuple[str, float, float]]:
    adb = shutil.which("adb")
    if adb is None:
        return []
    env = {**os.environ, "HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(free_port())}

    def call(*args: str) -> bytes:
        return subprocess.run([adb, "-s", serial, *args], env=env, capture_output=True, check=True).stdout

    subprocess.run([adb, "connect", serial], env=env, capture_output=True, check=True)
    try:
        def step() -> None:
            call("shell", WINDOW_QUERY)
            Image.open(io.BytesIO(call("exec-out", "screencap", "-p"))).load()  # an agent must decode it too
            call("shell", "input", "tap", "540", "1200")

        return [
            measure("shell command (input tap)", steps, lambda: call("shell", "input", "tap", "540", "1200")),
            measure("screenshot (screencap -p)", steps, lambda: call("exec-out", "screencap", "-p")),
            measure("step: window + screencap + decode + tap", steps, step),
        ]
    finally:
        subprocess.run([adb, "kill-server"], env=env, capture_output=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", default="1080x2400")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        key = Path(scratch) / "adbkey"
        create_key(key)
        port = free_port()
        simulator = start_simulator(port, args.size)
        try:
            serial = f"127.0.0.1:{port}"
            mine = ours(serial, key, args.steps)
            theirs = reference(serial, args.steps, Path(scratch))
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)
    print(f"simulated phone {args.size}, {args.steps} runs each; milliseconds (median / p90)")
    print(f"{'glmv-agent (adb-shell, one connection)':<44}{'median':>10}{'p90':>10}")
    for label, median, p90 in mine:
        print(f"  {label:<42}{median:>10.1f}{p90:>10.1f}")
    if theirs:
        print(f"{'reference: adb client, one process per command':<44}{'median':>10}{'p90':>10}")
        for label, median, p90 in theirs:
            print(f"  {label:<42}{median:>10.1f}{p90:>10.1f}")
    else:
        print("reference skipped: the adb client is not installed (apt-get install adb)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
