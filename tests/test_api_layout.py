"""Where the step API and the MCP server sit: front ends over the core, which never imports them, and which load
the platform drivers only when an agent is made."""

from __future__ import annotations

import subprocess
import sys

from test_layout import _graph

FRONT_ENDS = ("glmv_agent.api", "glmv_agent.mcp")


def test_the_core_does_not_import_the_front_ends() -> None:
    graph = _graph()
    core = [name for name in graph if not name.startswith(("glmv_agent.environments", "glmv_agent.local_backend",
                                                           *FRONT_ENDS)) and name != "glmv_agent"]
    leaks = [f"{name} -> {t}" for name in core for t in graph[name] if t.startswith(FRONT_ENDS)]
    assert leaks == []
    assert any(t.startswith("glmv_agent.api") for t in graph["glmv_agent.mcp.server"])  # edges are seen


def test_importing_the_package_loads_no_platform_driver() -> None:
    code = ("import sys, glmv_agent, glmv_agent.api; from glmv_agent import PageAgent, PhoneAgent; "
            "print(sorted(m for m in ('playwright', 'adb_shell', 'pyautogui', 'mss', 'mcp') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
