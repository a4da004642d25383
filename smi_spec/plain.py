"""User text on the terminal: always plain text, never rich markup, never raw control codes.

A variant id, title or note, a device id, a file name or a log's text is data. Printed
through rich, a ``[/bold]`` in it would be parsed as markup (a crash, or restyled output),
and an escape sequence in it would reach the terminal raw (a cleared screen, a forged line).
Everything the commands print that a user wrote goes through :func:`plain` or
:func:`styled`; error lines through :func:`error_line`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from rich.text import Text

#: Unicode categories shown escaped: controls (C0, DEL, C1, ESC), format characters (the
#: bidirectional overrides among them), lone surrogates, and line/paragraph separators.
_HIDDEN: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FIELDS: Final = re.compile(r"\{(\w+)\}")
_FIELD: Final = 0xE000  # the first private-use character: where a value goes


def _escaped(ch: str) -> str:
    """Python's own escape for the character: ``\\n``, ``\\x1b``, ``\\u202e``."""
    return repr(ch)[1:-1]


def visible(text: object) -> str:
    """``text`` with every control, format and separator character written as an escape
    (``\\x1b``, ``\\n``, ``\\u202e``), so it shows on one line as what it holds."""
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    return "".join(_escaped(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in value)


def plain(text: object, style: str = "") -> Text:
    """User text as a rich ``Text``: never parsed as markup, never auto-highlighted."""
    return Text(visible(text), style=style)


def styled(template: str, /, **values: object) -> Text:
    """The project's own markup ``template`` with user ``values`` put in as plain text:
    ``styled("[bold]{id}[/]: {n} states", id=variant.id, n=42)``.

    Each ``{field}`` stands in the markup as one private-use character, so a value never
    meets the markup parser (string escaping cannot be exact: a value's trailing backslash
    would escape the template's next tag); the value then takes that character's style."""
    names: list[str] = []

    def field(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return chr(_FIELD + len(names) - 1)

    text = Text.from_markup(_FIELDS.sub(field, template), emoji=False)
    spots = [i for i, ch in enumerate(text.plain) if _FIELD <= ord(ch) < _FIELD + len(names)]
    result = Text()
    for piece in text.divide(sorted({cut for i in spots for cut in (i, i + 1)})):
        if len(piece) == 1 and _FIELD <= ord(piece.plain) < _FIELD + len(names):
            value = plain(values[names[ord(piece.plain) - _FIELD]])
            for span in piece.spans:
                value.stylize(span.style, 0, len(value))
            piece = value
        result.append(piece)
    return result


def error_line(message: object) -> str:
    """``smi-spec: error: ...`` on one line, whatever a file name or message holds."""
    return f"smi-spec: error: {visible(message)}"
