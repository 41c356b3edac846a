"""The tree's rooms hold: no import cycles anywhere, and no platform package imports another.

Every module's imports are read with ``ast`` (module level, inside functions and under TYPE_CHECKING alike), so a
cycle hidden in a lazy import is still caught. Imports by string (``importlib.import_module``) are not edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"glmv_agent": "glmv_agent", "environments": "glmv_agent.environments",
           "local_backend": "glmv_agent.local_backend", "prompts": "glmv_agent.prompts"}
PLATFORMS = ("glmv_agent.environments.web", "glmv_agent.environments.desktop", "glmv_agent.environments.android")
# Applications built on the core and the platforms (a benchmark, the panel, the scripting API, the MCP server): they
# may import platform packages; the core (everything else under glmv_agent) may not.
APPLICATIONS = ("glmv_agent.eval", "glmv_agent.assistant", "glmv_agent.api", "glmv_agent.mcp")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in SOURCES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:  # `from pkg import submodule` is an edge to the submodule
                targets.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
    return {target for target in targets if target in known and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_walk_sees_the_whole_tree() -> None:
    graph = _graph()
    assert len(graph) > 60
    assert "glmv_agent.environments.android.sim.transport" in graph
    assert "glmv_agent.oversight.guard" in graph["glmv_agent.episode"]  # edges are read


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_platform_package_imports_another() -> None:
    crossings = []
    for name, targets in _graph().items():
        home = next((p for p in PLATFORMS if name == p or name.startswith(p + ".")), None)
        if home is None:
            continue
        for target in targets:
            other = next((p for p in PLATFORMS if target == p or target.startswith(p + ".")), None)
            if other is not None and other != home:
                crossings.append(f"{name} -> {target}")
    assert crossings == []


def test_no_core_module_imports_an_application() -> None:
    graph = _graph()
    leaks = [f"{name} -> {t}" for name in graph if not name.startswith(APPLICATIONS)
             for t in graph[name] if t.startswith(APPLICATIONS) and not name.startswith("glmv_agent.cli")]
    assert leaks == []


def test_core_does_not_import_platform_packages() -> None:
    outside = ("glmv_agent.environments", "glmv_agent.local_backend", *APPLICATIONS)
    core = [name for name in _graph() if not name.startswith(outside)]
    graph = _graph()
    leaks = [f"{name} -> {t}" for name in core for t in graph[name] if t.startswith(PLATFORMS)]
    assert leaks == []


def _readme_map() -> list[Path]:
    """Paths named by the README's tree map (the code block under "How it fits together"), nesting by indent."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## How it fits together", 1)[1].split("```", 2)[1]
    paths: list[Path] = []
    parents: list[Path] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        names = line.strip().split("  ")[0]
        parents = parents[:depth]
        for name in (n.strip() for n in names.split(",")):
            path = (parents[-1] if parents else Path()) / name.rstrip("/")
            paths.append(path)
            if name.endswith("/"):
                parents.append(path)
    return paths


def test_the_readme_map_matches_the_tree() -> None:
    listed = _readme_map()
    assert Path("environments/android/sim") in listed
    missing = [str(p) for p in listed if not (ROOT / p).exists()]
    assert missing == []
    packages = {p.parent.relative_to(ROOT) for folder in SOURCES for p in (ROOT / folder).rglob("__init__.py")}
    unlisted = sorted(str(p) for p in packages if p not in listed)
    assert unlisted == []


def test_the_python_names_in_the_docs_import() -> None:
    """Every ``from glmv_agent... import ...`` line in the README and docs/ names something that exists."""
    import importlib
    import re

    pattern = re.compile(r"^\s*from (glmv_agent[\w.]*) import ([\w, ]+)", re.MULTILINE)
    checked = 0
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for module, names in pattern.findall(page.read_text(encoding="utf-8")):
            loaded = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(loaded, name), f"{page.name}: {module} has no {name}"
                checked += 1
    assert checked > 10
