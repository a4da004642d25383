"""A JSON document written while its longest list is still being produced, and the same
data as JSON Lines.

The text is the same as ``json.dumps(document, indent=2, ensure_ascii=False)`` would give
for the whole document, but only one item of the list is held at a time: ``run`` and
``replay`` print their per-step records as they are computed.

Bad input met mid-stream (a log line the replay cannot accept, a scenario step the model
cannot run: an ``InputError``) comes after the output has begun. The output is then ended
so that it is still whole JSON, never a truncated document a tool could half-read: the list
is closed and an ``"error"`` member (``{"message", ...where}``, where ``line`` or ``step``
says where it stopped) takes the place of the tail; in JSON Lines the last line is
``{"error": {...}}``. The error is raised again, so the command ends as bad input always
does: one line on stderr and exit code 2 (``smi_spec.exits``; docs/formats.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any

from model.errors import InputError


def _dump(value: Any, indent: str) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


def stopped_at(error: InputError) -> dict[str, Any]:
    """The ``"error"`` member that ends output cut short by ``error``: its message, and where
    in the input it stopped when the error says (``model.errors.InputError.where``)."""
    return {"message": str(error), **(error.where or {})}


def write_streamed(
    out: IO[str],
    head: dict[str, Any],
    key: str,
    items: Iterable[Any],
    tail: Callable[[], dict[str, Any]],
) -> None:
    """Write ``{**head, key: [*items], **tail()}``; ``tail`` is called after the last item.
    An InputError from ``items`` or ``tail`` ends it ``{**head, key: [...items so far],
    "error": {...}}`` and is raised again."""
    out.write("{\n")
    for name, value in head.items():
        out.write(f"  {json.dumps(name)}: {_dump(value, '  ')},\n")
    out.write(f"  {json.dumps(key)}: [")
    first = True
    try:
        for item in items:
            out.write(("\n" if first else ",\n") + "    " + _dump(item, "    "))
            first = False
        ending = tail()
    except InputError as error:
        out.write("]" if first else "\n  ]")
        out.write(f',\n  "error": {_dump(stopped_at(error), "  ")}\n}}\n')
        raise
    out.write("]" if first else "\n  ]")
    for name, value in ending.items():
        out.write(f",\n  {json.dumps(name)}: {_dump(value, '  ')}")
    out.write("\n}\n")


def write_lines(
    out: IO[str],
    head: dict[str, Any],
    items: Iterable[Any],
    tail: Callable[[], dict[str, Any]],
) -> None:
    """JSON Lines: ``head`` on the first line, one item a line, then ``{"summary":
    tail()}``. An InputError from ``items`` or ``tail`` ends it with ``{"error": {...}}`` in
    place of the summary and is raised again."""

    def line(value: Any) -> None:
        out.write(json.dumps(value, ensure_ascii=False) + "\n")

    line(head)
    try:
        for item in items:
            line(item)
        summary = tail()
    except InputError as error:
        line({"error": stopped_at(error)})
        raise
    line({"summary": summary})
