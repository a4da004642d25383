"""The expression language of a properties file (docs/formats.md, "Properties files").

A small, safe language: parsed here by recursive descent into a tree of tuples and
evaluated over a dictionary of names; never Python's ``eval``. Grammar::

    expr    := implies
    implies := or ("implies" or)*          right-associative
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := value (("==" | "!=" | "in" | "not in") value)?
    value   := NAME | STRING | NUMBER | "true" | "false" | "none"
             | "(" expr ")" | "{" [value ("," value)*] "}"

NAME is a name the scope defines (``status``, ``smi_firmware``, ``cpl``, ...); STRING is in
single or double quotes; ``{...}`` is a set; ``in`` tests membership in a set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<op>==|!=|[(){},])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "implies", "true", "false", "none"})
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "none": None}

Node = tuple[Any, ...]


class ExpressionError(ValueError):
    """A syntax error or an unknown name, with the column (1-based) where it is."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, op, name, keyword, end
    text: str
    column: int


def tokens(text: str) -> list[_Token]:
    found, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            column = at + len(text[at:]) - len(text[at:].lstrip()) + 1
            raise ExpressionError(f"unexpected character {text[column - 1]!r}", column)
        kind = match.lastgroup or "op"
        value = match.group(kind)
        column = match.start(kind) + 1
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        found.append(_Token(kind, value, column))
        at = match.end()
    found.append(_Token("end", "", len(text) + 1))
    return found


class _Parser:
    def __init__(self, text: str, names: frozenset[str]) -> None:
        self.tokens = tokens(text)
        self.at = 0
        self.names = names

    @property
    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self, text: str | None = None) -> _Token:
        token = self.peek
        if text is not None and token.text != text:
            said = token.text or "the end"
            raise ExpressionError(f"expected {text!r}, found {said!r}", token.column)
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek.text == text and self.peek.kind in ("keyword", "op"):
            self.at += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.implies()
        if self.peek.kind != "end":
            raise ExpressionError(f"unexpected {self.peek.text!r}", self.peek.column)
        return node

    def implies(self) -> Node:
        left = self.disjunction()
        if self.accept("implies"):
            return ("implies", left, self.implies())
        return left

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.accept("or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.accept("and"):
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.accept("not"):
            return ("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.value()
        token = self.peek
        if token.text in ("==", "!=") and token.kind == "op":
            self.at += 1
            return (token.text, left, self.value())
        if self.accept("in"):
            return ("in", left, self.value())
        if token.text == "not" and self.tokens[self.at + 1].text == "in":
            self.at += 2
            return ("not", ("in", left, self.value()))
        return left

    def value(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return ("const", int(token.text))
        if token.kind == "str":
            return ("const", token.text[1:-1])
        if token.kind == "keyword" and token.text in _CONSTANTS:
            return ("const", _CONSTANTS[token.text])
        if token.kind == "name":
            if token.text not in self.names:
                known = ", ".join(sorted(self.names))
                raise ExpressionError(f"unknown name {token.text!r} (known: {known})", token.column)
            return ("name", token.text)
        if token.text == "(":
            node = self.implies()
            self.take(")")
            return node
        if token.text == "{":
            items: list[Node] = []
            if self.peek.text != "}":
                items.append(self.value())
                while self.accept(","):
                    items.append(self.value())
            self.take("}")
            return ("set", *items)
        said = token.text or "the end"
        raise ExpressionError(f"expected a value, found {said!r}", token.column)


def parse(text: str, names: frozenset[str]) -> Node:
    """The expression's tree; an :class:`ExpressionError` names what is wrong and where."""
    return _Parser(text, names).parse()


def evaluate(node: Node, scope: Mapping[str, Any]) -> Any:
    """The value of a parsed expression over ``scope`` (a name -> value mapping)."""
    op = node[0]
    if op == "const":
        return node[1]
    if op == "name":
        return scope[node[1]]
    if op == "set":
        return frozenset(evaluate(n, scope) for n in node[1:])
    if op == "not":
        return not evaluate(node[1], scope)
    if op == "and":
        return bool(evaluate(node[1], scope)) and bool(evaluate(node[2], scope))
    if op == "or":
        return bool(evaluate(node[1], scope)) or bool(evaluate(node[2], scope))
    if op == "implies":
        return (not evaluate(node[1], scope)) or bool(evaluate(node[2], scope))
    left, right = evaluate(node[1], scope), evaluate(node[2], scope)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "in":
        return isinstance(right, (frozenset, set, tuple, list)) and left in right
    raise AssertionError(f"unknown node {op!r}")
