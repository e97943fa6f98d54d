"""The layout is the architecture: no module imports back up the layers, and each
module is short enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lo_sync"
# Longer than a sitting, each for a reason the README's Architecture section gives.
LONG_MODULES: dict[str, int] = {}
MAX_LINES = 450


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """Every lo_sync module `name` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_cycles() -> list[list[str]]:
    names = module_names()
    graph = {n: imported_modules(n, p, set(names)) for n, p in names.items()}
    cycles = []
    for start in sorted(graph):
        # A path back to `start` through modules after it in order: each cycle once.
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start:
                    cycles.append(path)
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return cycles


def test_no_module_of_lo_sync_imports_itself_back_through_others():
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "lo_sync"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from lo_sync.sub.leaf import x\n")
    (package / "sub" / "leaf.py").write_text("from lo_sync.sub import y\n")
    (package / "other.py").write_text("def f():\n    from . import sub\n")
    monkeypatch.setitem(globals(), "PACKAGE", package)

    assert import_cycles() == [["lo_sync.sub", "lo_sync.sub.leaf"]]


def test_every_module_reads_in_one_sitting():
    too_long = {
        name: lines
        for name, path in module_names().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines()))
        > LONG_MODULES.get(name, MAX_LINES)
    }
    assert too_long == {}
