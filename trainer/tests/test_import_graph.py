"""No import circle of more than 3 modules in the trainer (issue 9): every import counts,
function-local ones too, relative imports resolved; the strongly connected components come from
Tarjan's algorithm. A circle is untied by moving code down, never by hiding the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fact_rlhf"
LIMIT = 3


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name → file, for every .py under the package (a package is its __init__)."""
    root = package.parent
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _known(name: str, mods: dict[str, Path]) -> str | None:
    """The module `name` lives in: itself, or the nearest enclosing module that exists."""
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(package: Path) -> dict[str, set[str]]:
    """module → the package modules it imports, anywhere in its body."""
    mods = modules(package)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's package, one level up per extra dot
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # `from pkg import mod` imports the module; `from mod import name` the module itself.
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in mods else source for a in node.names]
            for target in targets:
                found = _known(target, mods)
                if found and found != name:
                    graph[name].add(found)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit); each component sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                components.append(sorted(component))
    return components


def too_large(package: Path, limit: int = LIMIT) -> list[list[str]]:
    return [c for c in strongly_connected(import_graph(package)) if len(c) > limit]


def assert_no_large_circle(package: Path) -> int:
    """Fails naming the members of every circle over the limit; returns the largest size."""
    components = strongly_connected(import_graph(package))
    big = [c for c in components if len(c) > LIMIT]
    assert not big, f"import circles of more than {LIMIT} modules: " + "; ".join(", ".join(c) for c in big)
    return max((len(c) for c in components), default=0)


def test_the_trainer_has_no_import_circle_of_more_than_three_modules() -> None:
    largest = assert_no_large_circle(PACKAGE)
    print(f"largest strongly connected import component in fact_rlhf: {largest} module(s)")


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_a_four_module_circle_is_found_and_named(tmp_path: Path) -> None:
    # a → b (relative) → c (absolute, inside a function) → sub.d (from-package form) → a
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "b.py": "from .c import thing\n",
            "c.py": "thing = 1\n\ndef later():\n    import pkg.sub.d\n",
            "sub/__init__.py": "",
            "sub/d.py": "from .. import a\n",
            "leaf.py": "from .a import b\n",
        },
    )
    assert too_large(pkg) == [["pkg.a", "pkg.b", "pkg.c", "pkg.sub.d"]]
    with pytest.raises(AssertionError, match=r"pkg\.a, pkg\.b, pkg\.c, pkg\.sub\.d"):
        assert_no_large_circle(pkg)
    # Cut one edge and no circle is left; three in a circle are within the limit.
    (pkg / "sub" / "d.py").write_text("", encoding="utf-8")
    assert too_large(pkg) == []
    (pkg / "c.py").write_text("from .a import b\n", encoding="utf-8")
    assert [len(c) for c in strongly_connected(import_graph(pkg)) if len(c) > 1] == [3]
    assert too_large(pkg) == []
