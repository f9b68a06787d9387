"""advisor/ is plain Python in layers: no module imports one that imports it back (issue 16)."""

from __future__ import annotations

import ast
from typing import Dict, List, Set

from runtime import paths

ADVISOR = paths.ROOT / "advisor"


def advisor_imports() -> Dict[str, Set[str]]:
    """Module → the advisor modules it imports, at any depth of its code (lazy imports too)."""
    graph: Dict[str, Set[str]] = {}
    for path in ADVISOR.glob("*.py"):
        found: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "advisor":
                    found.update(alias.name for alias in node.names)
                elif node.module.startswith("advisor."):
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("advisor."))
        graph[path.stem] = found - {path.stem}
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found, state = [], {}

    def visit(module: str, stack: List[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                found.append(stack[stack.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported, stack + [imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_no_import_circle_in_advisor() -> None:
    graph = advisor_imports()
    assert {"facts", "parsing", "engine"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
