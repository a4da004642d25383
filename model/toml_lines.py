"""The line of each table, key and array item of a TOML text, so a variant file's errors and
warnings can name it (docs/formats.md: "Errors name the file, the key and the line").

The text is parsed with tree-sitter's TOML grammar, which knows every node's position: a
dotted key (``a.b.c = 1``, ``"y".z = 2`` under ``[x]``), a key inside an inline table
(``k = { a = 1, bad = 2 }``) and an item of a multi-line array each have their own line,
which no search line by line can tell (issue 24, item 5). Values are still read by
``tomllib`` (model/inputs.py); this module only says where things are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from functools import cache
from typing import Final

import tree_sitter
import tree_sitter_toml

from model.errors import VariantError

#: The nodes that hold a value, as opposed to punctuation and comments, in an array.
_PUNCTUATION: Final = frozenset({"[", "]", ",", "comment", "ERROR"})
_HEADERS: Final = frozenset({"table", "table_array_element"})
_KEYS: Final = frozenset({"bare_key", "quoted_key", "dotted_key"})


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))


#: A dotted name (``suspended.exceptions``) -> the first line that defines it, and the
#: lines of its array's items when its value is an array.
Index = tuple[dict[str, int], dict[str, list[int]]]


class Locator:
    """Finds the line of a table or key in a TOML text, so errors can name it.

    The text is parsed once, on first use, and every name's line indexed, so naming the line
    of each of many warnings costs the same whatever the file's size (issue 25)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._index: Index | None = None

    def _indexed(self) -> Index:
        if self._index is None:
            tree = _parser().parse(self.text.encode("utf-8"))
            lines: dict[str, int] = {}
            items: dict[str, list[int]] = {}
            _index_body(tree.root_node, (), lines, items)
            self._index = (lines, items)
        return self._index

    def line_of(self, table: str | None, key: str, item: int | None = None) -> int:
        """The line of ``table.key`` (a header or a key, whichever comes first), or of its
        array's ``item``-th entry (from 0); line 1 for a name the text does not have."""
        lines, items = self._indexed()
        name = f"{table}.{key}" if table is not None else key
        line = lines.get(name)
        if line is None:
            return 1
        entries = items.get(name, [])
        if item is not None and 0 <= item < len(entries):
            return entries[item]
        return line

    def error(
        self, table: str | None, key: str, message: str, item: int | None = None
    ) -> VariantError:
        return VariantError(self.where(table, key, item) + f": {message}")

    def where(self, table: str | None, key: str, item: int | None = None) -> str:
        name = f"{table}.{key}" if table else key
        return f"{self.path}:{self.line_of(table, key, item)}: {name}"


def _index_body(
    node: tree_sitter.Node,
    prefix: tuple[str, ...],
    lines: dict[str, int],
    items: dict[str, list[int]],
) -> None:
    """Index the pairs under ``node`` (the document, a table or an inline table), and the
    headers of the document's tables."""
    for child in node.children:
        if child.type in _HEADERS:
            header = _key_of(child)
            _define(header, child, lines)
            _index_body(child, header, lines, items)
        elif child.type == "pair":
            _index_pair(child, prefix, lines, items)


def _index_pair(
    pair: tree_sitter.Node,
    prefix: tuple[str, ...],
    lines: dict[str, int],
    items: dict[str, list[int]],
) -> None:
    path = (*prefix, *_key_of(pair))
    _define(path, pair, lines)
    value = pair.children[-1]
    if value.type == "inline_table":
        _index_body(value, path, lines, items)
    elif value.type == "array":
        entries = [c.start_point.row + 1 for c in value.children if c.type not in _PUNCTUATION]
        items.setdefault(".".join(path), entries)


def _define(path: tuple[str, ...], node: tree_sitter.Node, lines: dict[str, int]) -> None:
    """``path`` and every table it implies (``a`` and ``a.b`` for ``a.b.c``) are defined at
    ``node``'s line, unless an earlier line already defined them."""
    for end in range(1, len(path) + 1):
        lines.setdefault(".".join(path[:end]), node.start_point.row + 1)


def _key_of(node: tree_sitter.Node) -> tuple[str, ...]:
    """The parts of the key of a pair or of a table's header, unquoted."""
    key = next((c for c in node.children if c.type in _KEYS), None)
    return tuple(_parts(key)) if key is not None else ()


def _parts(key: tree_sitter.Node) -> Iterator[str]:
    if key.type == "dotted_key":
        for child in key.children:
            if child.type in _KEYS:
                yield from _parts(child)
    elif key.type == "quoted_key":
        yield _unquoted(key.text.decode("utf-8") if key.text is not None else '""')
    elif key.text is not None:
        yield key.text.decode("utf-8")


def _unquoted(quoted: str) -> str:
    """A quoted key's name, its escapes read as TOML reads them."""
    try:
        return next(iter(tomllib.loads(f"{quoted} = 0")))
    except tomllib.TOMLDecodeError:
        return quoted.strip("\"'")
