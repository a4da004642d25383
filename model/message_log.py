"""DUIS message logs (JSON Lines, format in docs/replay.md): reading, streamed.

Line 1 is the starting inventory, a scenario document without steps plus an optional
``eui64`` map from EUI-64 to device id. Each later line is one event: a DUIS request (a file
read with :mod:`model.duis`, or inline), a response or a lost response paired with an
earlier request, a CPL change, a manual SMI fix or a DCC status event.

The log is read one line at a time through the input boundary (:mod:`model.inputs`): a
regular file only, each line capped, bounded in depth, integers and text. The inventory is
validated by the scenario loader's own functions, so the two formats cannot drift apart.
Responses find their request through an index (linear time), and only the events after the
oldest request still waiting for its outcome are held: memory grows with the requests in
flight, never with the length of the log. Every problem is an InputError naming the log file
and the line.

This module reads the lines and the inventory; each later line is parsed by
:mod:`model.log_lines` into the events of :mod:`model.log_event`, and paired with its
request by :mod:`model.log_pairing`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from model import inputs
from model.errors import InputError
from model.log_event import Event, LogError, line_error
from model.log_lines import parse_event
from model.log_pairing import Pairing
from model.scenario_start import Start, parse_start
from model.variant import Variant, load_variant

_INVENTORY_KEYS: Final = frozenset({"variant", "title", "description", "cpl", "devices", "joins"})
_EUI64: Final = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}")


@dataclass
class MessageLog:
    """A log whose inventory has been read: its setup and start, and the lines still to read
    (consumed once, by :func:`events`)."""

    path: str
    base: Path
    inventory: Start
    eui64: dict[str, str]
    lines: Iterator[tuple[int, str]]
    inventory_line: int = 1

    @property
    def variant_ref(self) -> str:
        return self.inventory.variant_ref

    def variant(self, override: str | None = None) -> Variant:
        """The variant to replay under: ``override``, else the inventory's."""
        if override is not None:
            return load_variant(override)
        try:
            return load_variant(self.variant_ref)
        except InputError as exc:
            raise line_error(self.path, self.inventory_line, f"inventory: variant: {exc}") from None


def read_lines(file: str) -> Iterator[tuple[int, str]]:
    """The log's non-blank lines with their numbers, read one at a time (each at most
    :data:`model.inputs.MAX_LOG_LINE_BYTES`); the file is a regular file or refused."""
    cap = inputs.MAX_LOG_LINE_BYTES
    with inputs.open_regular(file) as handle:
        for number, data in enumerate(iter(lambda: handle.readline(cap + 1), b""), 1):
            if len(data) > cap and not data.endswith(b"\n"):
                raise line_error(file, number, f"longer than {cap} bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise line_error(file, number, "not UTF-8 text") from None
            if text.strip():
                yield number, text


def load_log(file: str) -> MessageLog:
    """Open a log and read its inventory; the events are read as they are replayed."""
    return open_log(file, Path(file).parent, read_lines(file))


def open_log(name: str, base: Path, lines: Iterable[tuple[int, str]]) -> MessageLog:
    """A log from numbered lines (a file, a pipe, a generator); reads only the inventory.
    Relative paths in the log (variant, DUIS files) are relative to ``base``."""
    source = iter(lines)
    first = next(source, None)
    if first is None:
        raise LogError(f'{name}: empty log: line 1 must be {{"inventory": {{...}}}}')
    first_line, text = first
    document = _json(name, first_line, text)
    if set(document) - {"note"} != {"inventory"} or not isinstance(document["inventory"], dict):
        raise line_error(name, first_line, 'the first line must be {"inventory": {...}}')
    inventory = dict(document["inventory"])
    if "steps" in inventory:
        raise line_error(name, first_line, "inventory: has no steps; events follow, one a line")
    raw_eui64 = inventory.pop("eui64", {})
    try:  # the devices first: an eui64 value is checked against their (valid) ids
        start = parse_start(name, inventory, base, _INVENTORY_KEYS)
    except InputError as exc:
        rest = str(exc).removeprefix(f"{name}: ")
        raise line_error(name, first_line, f"inventory: {rest}") from None
    eui64 = _eui64_map(name, first_line, raw_eui64, inventory)
    return MessageLog(name, base, start, eui64, source, first_line)


def _json(path: str, line: int, text: str) -> dict[str, Any]:
    try:
        value = inputs.parse_json(text, f"{path}: line {line}")
    except InputError as exc:
        raise exc.located(line=line) from None
    if not isinstance(value, dict):
        raise line_error(path, line, "not a JSON object")
    return value


def events(log: MessageLog) -> Iterator[Event]:
    """Each event after the inventory, validated, in log order, once its request's outcome
    is known (see :class:`model.log_pairing.Pairing`)."""
    pairing = Pairing(log.path)
    for number, text in log.lines:
        event = parse_event(log.path, log.base, number, _json(log.path, number, text), log.eui64)
        yield from pairing.add(event)
    yield from pairing.finish()


def _eui64_map(path: str, line: int, raw: Any, inventory: dict[str, Any]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise line_error(
            path, line, 'inventory: eui64 must map EUI-64s to device ids {"00-DB-…": "esme1"}'
        )
    devices = inventory.get("devices")
    ids = (  # only text ids: a list or table where an id belongs is refused later, in place
        {d.get("id") for d in devices if isinstance(d, dict) and isinstance(d.get("id"), str)}
        if isinstance(devices, list)
        else set()
    )
    mapping = {}
    for key, value in raw.items():
        if not _EUI64.fullmatch(key):
            raise line_error(
                path, line, f"inventory: eui64: {key!r} is not an EUI-64 (90-B3-D5-1F-30-01-00-00)"
            )
        if not isinstance(value, str):
            kind = inputs.kind_of(value)
            raise line_error(
                path, line, f"inventory: eui64: {key}: {kind} where a device id belongs"
            )
        if value not in ids:
            raise line_error(
                path, line, f"inventory: eui64: {key} names no device of the inventory ({value!r})"
            )
        if key.upper() in mapping:
            raise line_error(
                path, line, f"inventory: eui64: {key} is given twice (EUI-64s ignore letter case)"
            )
        mapping[key.upper()] = value
    return mapping
