"""JSON output: strict JSON (RFC 8259) or an input error, never ``NaN`` or ``Infinity``.

Python's ``json`` reads ``NaN`` and ``Infinity`` and, by default, writes them back, which no
strict JSON reader accepts. An input can carry them (a note in a scenario or a log, a TOML
``nan``); the output refuses them with the project's one-line input error. TOML dates and
times (a note such as ``note = 2024-01-01``) are written as their ISO text.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from model.errors import InputError


def _iso(value: object) -> str:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(document: Any, indent: int | None = 2) -> str:
    """``document`` as strict JSON text (UTF-8 characters kept)."""
    try:
        return json.dumps(
            document, indent=indent, ensure_ascii=False, allow_nan=False, default=_iso
        )
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        raise InputError(
            "the input holds NaN or Infinity, which JSON output cannot carry; "
            "use a finite number or a string"
        ) from None
