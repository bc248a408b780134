"""The layout shows the architecture: imports point one way and never form a circle.

models (the domain) imports nothing from the engine or calibration; the engine (welfare_sim.sim)
imports nothing from calibration; the experiments and the reports import nothing from the CLI;
and no chain of imports, at module level or inside a function, comes back to where it started.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "welfare_sim"
FOLDERS = ("models", "sim", "calibration")


def module_files(root: Path = ROOT, package: str = PACKAGE, folders: tuple[str, ...] = FOLDERS) -> dict[str, Path]:
    """Module name -> file, as installed: the repository root is the package `welfare_sim`."""
    files = {f"{package}.{p.stem}" if p.stem != "__init__" else package: p for p in root.glob("*.py")}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that runs: module level and inside functions, not under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            for child in node.orelse:  # type: ignore[attr-defined]
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that module `name` (file `path`) imports, relative or absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            # `from a import b` imports the module a.b if there is one, else a name of a
            candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for candidate in candidates:
            # `import a.b.c` (no module a.b.c in the tree, e.g. a name of it): the longest known prefix
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    modules = set(files)
    return {name: imported_modules(name, path, modules) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


GRAPH = import_graph(module_files())


def _under(prefix: str) -> dict[str, set[str]]:
    return {m: deps for m, deps in GRAPH.items() if m == prefix or m.startswith(prefix + ".")}


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("welfare_sim.models", ("welfare_sim.sim", "welfare_sim.calibration")),
        ("welfare_sim.sim", ("welfare_sim.calibration",)),
        ("welfare_sim.sim.experiments", ("welfare_sim.sim.cli",)),
        ("welfare_sim.sim.report", ("welfare_sim.sim.cli",)),
    ],
)
def test_imports_point_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    modules = _under(layer)
    assert modules, f"no module under {layer}"
    offenders = {
        m: sorted(d for d in deps if any(d == f or d.startswith(f + ".") for f in forbidden))
        for m, deps in modules.items()
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def test_no_module_imports_a_generic_top_level_name() -> None:
    """`import sim` or `from calibration import ...` would pick up whatever a user has by that name."""
    for name, path in module_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree):
            roots = (
                [a.name.split(".")[0] for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module.split(".")[0]] if node.level == 0 and node.module else [])
            )
            assert not set(roots) & {"sim", "models", "calibration"}, f"{name} imports {roots}"


def test_no_import_circles() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_graph_sees_function_level_relative_and_absolute_imports(tmp_path: Path) -> None:
    """The cycle finder on a package built for it: a -> b at module level (absolute), b -> c inside
    a function (relative), c -> a (from-import of a module); the circle is found and printed in
    order, and breaking one edge removes it."""
    pkg = tmp_path / "sub"
    pkg.mkdir()
    (tmp_path / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n    return c\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nfrom pkg.sub.a import x\nif TYPE_CHECKING:\n    import pkg\n"
    )
    graph = import_graph(module_files(tmp_path, "pkg", ("sub",)))
    assert graph["pkg.sub.b"] == {"pkg.sub.c"} and graph["pkg.sub.c"] == {"pkg.sub.a"}
    assert find_cycle(graph) == ["pkg.sub.a", "pkg.sub.b", "pkg.sub.c", "pkg.sub.a"]
    (pkg / "c.py").write_text("if TYPE_CHECKING:\n    from pkg.sub.a import x\n")
    assert find_cycle(import_graph(module_files(tmp_path, "pkg", ("sub",)))) is None


def test_the_real_graph_has_the_edges_it_should() -> None:
    """The builder reads this repository: the CLI's command modules reach their libraries (inside
    their functions), and a package's __init__ is its own node."""
    assert "welfare_sim.sim.experiments.compare" in GRAPH["welfare_sim.sim.cli.compare"]
    assert "welfare_sim.sim.experiments.sweep" in GRAPH["welfare_sim.sim.experiments.sensitivity"]
    assert "welfare_sim.sim.report.data" in GRAPH["welfare_sim.sim.report"]
    assert "welfare_sim.sim.cli" in GRAPH["welfare_sim.sim.cli.report"]


def test_models_use_no_global_randomness() -> None:
    for path in sorted((ROOT / "models").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for banned in ("np.random.", "import random", "from random", "default_rng"):
            assert banned not in text, f"{path.name} uses {banned}"
