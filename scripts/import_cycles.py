"""No import circle between Kessai's modules: every cycle in ``checkout``'s import graph
(function-local imports included), found with grimp (the graph import-linter checks). Exits 1
when there is one. Run by ``make lint`` and tests/test_architecture.py.

import-linter's layers contract keeps the direction between layers; this keeps the modules of
one layer, which may import each other, from going round in a circle."""

from __future__ import annotations

import sys

import grimp


def cycles(package: str = "checkout") -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = grimp.build_graph(package, cache_dir=None)
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in on_stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def main() -> int:
    found = cycles()
    for group in found:
        print("import circle:", " -> ".join(group))  # noqa: T201
    if not found:
        print("no import circle in checkout")  # noqa: T201
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
