"""Platform flags in the help of the commands that take them: `mcp --platform P --help` shows P's flags only (as
`run` does) and refuses another platform's; without --platform, each flag is listed under a group titled by its
platform, and a flag several platforms share says so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "glmv_agent.cli"]
TITLES = {"web": "web (--platform web)", "desktop": "desktop (--platform desktop)",
          "mobile": "mobile (--platform mobile)"}
OWN = {"web": ("--url", "--web-mode", "--allowed-domains"), "desktop": ("--monitor", "--dry-run", "--no-failsafe"),
       "mobile": ("--device", "--adb-key", "--hide-keyboard")}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLMV_", "OPENAI_"))}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**env, "COLUMNS": "120"})


def groups(help_text: str) -> dict[str, str]:
    """Group title -> the group's lines, from argparse's help (groups are separated by blank lines)."""
    blocks = [block.strip("\n") for block in help_text.split("\n\n")]
    return {block.splitlines()[0][:-1]: block for block in blocks if block and block.splitlines()[0].endswith(":")}


def flags_of(block: str) -> set[str]:
    return {line.split()[0].rstrip(",") for line in block.splitlines()[1:] if line.lstrip().startswith("--")}


@pytest.mark.parametrize("platform", ["web", "desktop", "mobile"])
def test_mcp_help_with_a_platform_shows_that_platform_only(platform: str) -> None:
    done = cli("mcp", "--platform", platform, "--help")
    assert done.returncode == 0
    shown = groups(done.stdout)
    assert TITLES[platform] in shown
    assert set(OWN[platform]) <= flags_of(shown[TITLES[platform]])
    others = [title for name, title in TITLES.items() if name != platform]
    assert not any(title in shown for title in others), sorted(shown)
    usage = done.stdout.split("\n\n", 1)[0].replace("[", " ").replace("]", " ").split()
    assert not any(flag in usage for name, own in OWN.items() if name != platform for flag in own)


def test_mcp_refuses_another_platforms_flag_as_run_does() -> None:
    for command in (["run", "t"], ["mcp"]):
        done = cli(*command, "--platform", "web", "--monitor", "1", "--replay", "x")
        assert done.returncode == 2 and "unrecognized arguments: --monitor 1" in done.stderr, (command, done.stderr)


@pytest.mark.parametrize("command", ["mcp", "run"])
def test_help_without_a_platform_groups_flags_by_platform_and_names_shared_ones(command: str) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0
    shown = groups(done.stdout)
    for platform, title in TITLES.items():
        assert set(OWN[platform]) <= flags_of(shown[title]), (platform, shown.get(title))
    platform_flags = set().union(*(flags_of(shown[title]) for title in TITLES.values()))
    assert not platform_flags & flags_of(shown["options"])  # no platform flag among the general options
    web, desktop = (" ".join(shown[TITLES[name]].split()) for name in ("web", "desktop"))
    assert "--wait-seconds S how long the model's Wait sleeps (also --platform desktop) (default: 5.0)" in web
    assert "at most this long (0: do not wait) (also --platform mobile) (default: 1.0)" in desktop
