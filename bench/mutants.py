"""The mutants of ``bench/mutation.py``: small meaningful edits to the rule code (model/),
the property code (properties/) and the rule data (model/variants/*.toml, model/data/*.json).

Every mutant is located robustly, never by a line number or a literal text pattern of a
whole line: code by the function (or class) that holds it and the AST node's own source
(``ast.unparse``, so formatting does not matter), data by its table, key and row id. A
mutant whose site is gone (the rule moved, was renamed or rewritten) is *not applicable*:
the bench reports it, and nothing fails.

Operators (docs/tester.md, "Mutation testing"):

- ``negate-if``: an ``if`` guard negated (flip a guard);
- ``drop-condition``: one operand of an ``and``/``or`` dropped (drop a condition);
- ``flip-compare``: ``==``/``!=``, ``in``/``not in``, ``is``/``is not`` swapped;
- ``quantifier``: ``all`` for ``any`` and back (weaken a quantifier);
- ``first-only``: a ``for`` loop over its first item only (judge one device only);
- ``drop-effect``: a ``yield``, ``append`` or ``extend`` statement dropped;
- ``return-const``: a returned condition replaced by True or False, a returned
  ``Violation`` by None;
- ``named``: the hand-written mutants of issue 26's survivor classes (swap a response
  code, forget a memo key's field, ...);
- ``drop-row``, ``flip-bool``, ``set-value``: a row of a variant or data file dropped, a
  boolean flipped, a value changed.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Edit = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Mutant:
    """One mutant: its name, whether it weakens a rule or a property, the file it edits and
    how (``edit`` returns the mutated text, or None where its site is not found)."""

    name: str
    kind: str  # "rule" or "property"
    path: str
    operator: str
    what: str
    edit: Edit


# --- locating code ---------------------------------------------------------------------------


def scopes(tree: ast.AST) -> dict[str, ast.AST]:
    """Every function and class by qualified name (``Class.method``, ``outer.inner``)."""
    found: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                found.setdefault(name, child)
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def same(source: str) -> str:
    """Source text normalised as ``ast.unparse`` writes it."""
    return ast.unparse(ast.parse(source.strip(), mode="exec").body[0])


def splice(text: str, node: ast.AST, new: str) -> str:
    """``text`` with ``node``'s source segment replaced by ``new`` (offsets are UTF-8)."""
    data = text.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    begin = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
    end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
    return (data[:begin] + new.encode("utf-8") + data[end:]).decode("utf-8")


def replace_in(
    scope: str,
    old: str,
    new: str,
    *,
    statement: bool = False,
    anchor: type | None = None,
    part: Callable[[ast.AST], ast.AST] = lambda node: node,
    occurrence: int | None = None,
) -> Edit:
    """An edit: in ``scope``, the node whose source is ``old`` becomes ``new``.

    With ``anchor`` (a node type) and ``part``, the node is ``part`` of an anchor of that
    type (the test of an ``if``); ``occurrence`` picks one of several equal sites in walk
    order. Without it the site must be the only one. None when there is no such site."""
    wanted = same(old)

    def edit(text: str) -> str | None:
        holder = scopes(ast.parse(text)).get(scope)
        if holder is None:
            return None
        kinds = anchor or (ast.stmt if statement else ast.expr)
        hits = [
            part(n)
            for n in ast.walk(holder)
            if isinstance(n, kinds) and n is not holder and _unparsed(part(n)) == wanted
        ]
        if (occurrence is None and len(hits) != 1) or len(hits) <= (occurrence or 0):
            return None
        return splice(text, hits[occurrence or 0], new if statement else f"({new})")

    return edit


def _unparsed(node: ast.AST) -> str:
    try:
        return same(ast.unparse(node))
    except SyntaxError:
        return ast.unparse(node)


# --- generic operators over a function -------------------------------------------------------

_FLIPS: dict[type, str] = {
    ast.Eq: "!=",
    ast.NotEq: "==",
    ast.In: "not in",
    ast.NotIn: "in",
    ast.Is: "is not",
    ast.IsNot: "is",
}


def _test(node: ast.AST) -> ast.AST:
    return node.test  # type: ignore[attr-defined,no-any-return]


def _iter(node: ast.AST) -> ast.AST:
    return node.iter  # type: ignore[attr-defined,no-any-return]


def _value(node: ast.AST) -> ast.AST:
    return node.value  # type: ignore[attr-defined,no-any-return]


Site = tuple[str, str, str, type, Callable[[ast.AST], ast.AST]]


def _sites(holder: ast.AST) -> Iterator[Site]:
    """(operator, the node's source, the replacement, anchor type, the anchor's part) for
    every generic site in a scope."""
    for node in ast.walk(holder):
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            yield "negate-if", test, f"not ({test})", ast.If, _test
        elif isinstance(node, ast.BoolOp) and len(node.values) >= 2:
            glue = " and " if isinstance(node.op, ast.And) else " or "
            for i in range(len(node.values)):
                rest = [ast.unparse(v) for j, v in enumerate(node.values) if j != i]
                new = glue.join(f"({r})" for r in rest)
                yield "drop-condition", ast.unparse(node), new, ast.BoolOp, _same
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIPS:
            left, right = ast.unparse(node.left), ast.unparse(node.comparators[0])
            new = f"{left} {_FLIPS[type(node.ops[0])]} {right}"
            yield "flip-compare", ast.unparse(node), new, ast.Compare, _same
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("all", "any")
        ):
            other = "any" if node.func.id == "all" else "all"
            yield "quantifier", ast.unparse(node), other + ast.unparse(node)[3:], ast.Call, _same
        elif isinstance(node, ast.For):
            source = ast.unparse(node.iter)
            yield "first-only", source, f"list({source})[:1]", ast.For, _iter
        elif isinstance(node, ast.Return) and node.value is not None:
            for old, new in _return_sites(node.value):
                yield "return-const", old, new, ast.Return, _value
        elif isinstance(node, ast.Expr) and _is_effect(node.value):
            yield "drop-effect", ast.unparse(node), "pass", ast.Expr, _same


def _same(node: ast.AST) -> ast.AST:
    return node


def _return_sites(value: ast.expr) -> Iterator[tuple[str, str]]:
    source = ast.unparse(value)
    if isinstance(value, (ast.Compare, ast.BoolOp)) or (
        isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)
    ):
        yield source, "True"
        yield source, "False"
    elif (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "Violation"
    ):
        yield source, "None"


def _is_effect(value: ast.expr) -> bool:
    if isinstance(value, (ast.Yield, ast.YieldFrom)):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("append", "extend")
    )


#: The order in which a capped scope takes its generic mutants: one of each operator in
#: turn, guards first.
PRIORITY = (
    "negate-if",
    "drop-condition",
    "return-const",
    "first-only",
    "quantifier",
    "flip-compare",
    "drop-effect",
)


def generated(path: str, text: str, scope: str, kind: str, cap: int | None = None) -> list[Mutant]:
    """The generic mutants of one scope, named ``module.scope:operator:site``; with ``cap``,
    at most that many, taken one operator at a time in ``PRIORITY`` order."""
    holder = scopes(ast.parse(text)).get(scope)
    if holder is None:
        return []
    module = path.removesuffix(".py").replace("/", ".")
    mutants: list[Mutant] = []
    seen: dict[tuple[str, str, type], int] = {}
    names: dict[str, int] = {}
    for operator, old, new, anchor, part in _sites(holder):
        occurrence = seen[(old, new, anchor)] = seen.get((old, new, anchor), -1) + 1
        site = " ".join(old.split())[:60].rstrip()
        after = "" if new == "pass" else " -> " + " ".join(new.split())[:40].rstrip()
        base = f"{module}.{scope}:{operator}:{site}{after}"
        count = names[base] = names.get(base, 0) + 1
        name = base if count == 1 else f"{base} #{count}"
        what = f"in {scope}: {' '.join(old.split())[:80]} -> {' '.join(new.split())[:80]}"
        edit = replace_in(
            scope,
            old,
            new,
            statement=operator == "drop-effect",
            anchor=anchor,
            part=part,
            occurrence=occurrence,
        )
        mutants.append(Mutant(name, kind, path, operator, what, edit))
    return mutants if cap is None else _capped(mutants, cap)


def _capped(mutants: list[Mutant], cap: int) -> list[Mutant]:
    queues = {op: [m for m in mutants if m.operator == op] for op in PRIORITY}
    taken: list[Mutant] = []
    while len(taken) < cap and any(queues.values()):
        for op in PRIORITY:
            if queues[op] and len(taken) < cap:
                taken.append(queues[op].pop(0))
    return taken


# --- data files ------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$")
_ARRAY_OPEN = re.compile(r"^\s*([A-Za-z0-9_\"\.-]+)\s*=\s*\[\s*(#.*)?$")


def _lines_of(text: str, section: str, array: str | None) -> Iterator[tuple[int, str]]:
    """The lines of ``[section]`` (of its multi-line array ``array`` if given)."""
    current, inside = None, None
    for number, line in enumerate(text.splitlines(keepends=True)):
        header = _HEADER.match(line)
        if header and inside is None:
            current = header.group(1).strip()
            continue
        opened = _ARRAY_OPEN.match(line)
        if opened and inside is None:
            inside = opened.group(1)
            continue
        if inside is not None and line.strip().startswith("]"):
            inside = None
            continue
        if current == section and inside == array:
            yield number, line


def toml_row(section: str, array: str, row: str, new_line: Callable[[str], str]) -> Edit:
    """An edit of the one row of ``[section] array = [...]`` whose text holds ``row``
    (``srv = "6.23"``): ``new_line`` gives its new text ("" drops it)."""

    def edit(text: str) -> str | None:
        hits = [(n, line) for n, line in _lines_of(text, section, array) if row in line]
        if len(hits) != 1:
            return None
        lines = text.splitlines(keepends=True)
        number, line = hits[0]
        lines[number] = new_line(line)
        return "".join(lines) if lines[number] != line or not line else None

    return edit


def toml_value(section: str, key: str, old: str, new: str) -> Edit:
    """An edit of ``key = old`` in ``[section]`` to ``key = new``."""
    pattern = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*){re.escape(old)}(?=\s|$|#)")

    def edit(text: str) -> str | None:
        hits = [(n, line) for n, line in _lines_of(text, section, None) if pattern.match(line)]
        if len(hits) != 1:
            return None
        lines = text.splitlines(keepends=True)
        number, line = hits[0]
        lines[number] = pattern.sub(lambda m: m.group(1) + new, line, count=1)
        return "".join(lines)

    return edit


def json_row(table: str, key: str, value: str, change: Callable[[dict], dict | None]) -> Edit:
    """An edit of the row of ``table`` (a list of objects) whose ``key`` is ``value``:
    ``change`` gives the new row, or None to drop it."""

    def edit(text: str) -> str | None:
        data = json.loads(text)
        rows = data.get(table) if isinstance(data, dict) else None
        if not isinstance(rows, list):
            return None
        hits = [i for i, r in enumerate(rows) if isinstance(r, dict) and r.get(key) == value]
        if len(hits) != 1:
            return None
        new = change(dict(rows[hits[0]]))
        if new == rows[hits[0]]:
            return None
        rows[hits[0] : hits[0] + 1] = [] if new is None else [new]
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    return edit
