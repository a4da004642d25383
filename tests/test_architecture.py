"""The layout shows the architecture (docs/design.md, "Layers"): imports run one way,
model → properties → checker → smi_spec, and no module imports itself back through
others. Every import counts, a late one inside a function too: a late import only hides
a circle from Python, not from a reader."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("model", "properties", "checker", "smi_spec")


def source_modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, known: Iterable[str]) -> set[str]:
    """The project modules ``path`` imports, anywhere in it."""
    known = set(known)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


@functools.cache
def _import_graph() -> dict[str, frozenset[str]]:
    modules = source_modules()
    return {name: frozenset(imports_of(path, modules) - {name}) for name, path in modules.items()}


def import_graph() -> dict[str, set[str]]:
    """Who imports whom among the source modules (a fresh copy, safe to change)."""
    return {name: set(targets) for name, targets in _import_graph().items()}


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import from a lower layer into a higher one."""
    return sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if layer(target) > layer(source)
    )


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_import_runs_down_the_layers() -> None:
    assert upward_imports(import_graph()) == []


def test_no_module_imports_itself_back() -> None:
    assert circles(import_graph()) == []


def test_the_checks_see_a_late_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from properties.safety import SAFETY\n")
    assert imports_of(module, {"properties.safety"}) == {"properties.safety"}


def test_an_upward_import_is_named() -> None:
    graph = import_graph()
    graph["model.variant"] = graph["model.variant"] | {"properties.safety"}
    assert upward_imports(graph) == ["model.variant imports properties.safety"]


@given(st.lists(st.sampled_from(sorted(_import_graph())), min_size=2, max_size=5, unique=True))
def test_any_circle_added_to_the_graph_is_found(ring: list[str]) -> None:
    graph = import_graph()
    for source, target in zip(ring, ring[1:] + ring[:1], strict=True):
        graph[source].add(target)
    assert any(set(ring) <= set(component) for component in circles(graph))


#: A newcomer reads a function whole and a module in one sitting (docs/design.md, "Layers").
LONGEST_FUNCTION = 80
LONGEST_MODULE = 500


def too_long(name: str, text: str) -> list[str]:
    """The module itself if it is over the limit, and each function in it that is."""
    found = []
    lines = len(text.splitlines())
    if lines > LONGEST_MODULE:
        found.append(f"{name}: module of {lines} lines")
    for node in ast.walk(ast.parse(text, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > LONGEST_FUNCTION:
                found.append(f"{name}:{node.lineno}: function {node.name} of {length} lines")
    return found


def test_no_source_function_over_80_lines_and_no_module_over_500() -> None:
    problems = [
        problem
        for path in source_modules().values()
        for problem in too_long(str(path.relative_to(ROOT)), path.read_text())
    ]
    assert problems == []


@given(st.integers(1, 200), st.integers(0, 700))
def test_a_long_function_or_module_is_named(body: int, padding: int) -> None:
    source = "def f():\n" + "    x = 1\n" * body + "\n" * padding
    found = too_long("m.py", source)
    function_lines, module_lines = body + 1, body + 1 + padding
    assert (f"m.py:1: function f of {function_lines} lines" in found) == (
        function_lines > LONGEST_FUNCTION
    )
    assert (f"m.py: module of {module_lines} lines" in found) == (module_lines > LONGEST_MODULE)
