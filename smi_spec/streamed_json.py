"""A JSON document written while its longest list is still being produced.

The text is the same as ``json.dumps(document, indent=2, ensure_ascii=False)`` would give
for the whole document, but only one item of the list is held at a time: ``run`` and
``replay`` print their per-step records as they are computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any


def _dump(value: Any, indent: str) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + indent)


def write_streamed(
    out: IO[str],
    head: dict[str, Any],
    key: str,
    items: Iterable[Any],
    tail: Callable[[], dict[str, Any]],
) -> None:
    """Write ``{**head, key: [*items], **tail()}``; ``tail`` is called after the last item."""
    out.write("{\n")
    for name, value in head.items():
        out.write(f"  {json.dumps(name)}: {_dump(value, '  ')},\n")
    out.write(f"  {json.dumps(key)}: [")
    first = True
    for item in items:
        out.write(("\n" if first else ",\n") + "    " + _dump(item, "    "))
        first = False
    out.write("]" if first else "\n  ]")
    for name, value in tail().items():
        out.write(f",\n  {json.dumps(name)}: {_dump(value, '  ')}")
    out.write("\n}\n")
