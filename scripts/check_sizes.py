"""Size budgets: files under 400 lines, functions under 50 lines (ruff has no line-count rule)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOTS = ("glmv_agent", "environments", "local_backend", "benchmarks")
MAX_FILE, MAX_FUNCTION = 400, 50


def main() -> int:
    problems = []
    for root in ROOTS:
        for path in sorted(Path(root).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if source.count("\n") > MAX_FILE:
                problems.append(f"{path}: {source.count(chr(10))} lines (max {MAX_FILE})")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION:
                        problems.append(f"{path}:{node.lineno} {node.name}() is {length} lines (max {MAX_FUNCTION})")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
