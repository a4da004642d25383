"""The Central Products List as entries: a device type and model, a firmware version and a
GBCS version, with the DCC's listing events (listed; removed, for a reason).

The listing events and the removal reasons are data (``model/data/cpl.json``, each row with
its source: the reasons are DUIS's CPLStatus values). What a removal for a reason does, and
to whom, is a variant's ``[cpl.reasons.NAME]`` row (``model/rule_tables.py``). A scenario
may give its CPL as entries (docs/formats.md); the closed system keeps the versions whose
latest event is ``listed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from model.data_files import read_data
from model.errors import ScenarioError

LISTED: Final = "listed"
REMOVED: Final = "removed"
#: What a scenario's CPL entry may say, and what each must be.
ENTRY_KEYS: Final = {
    "version": str,
    "device_type": str,
    "model": str,
    "gbcs_version": str,
    "events": list,
}


@dataclass(frozen=True, slots=True)
class CplRow:
    """A listing event or a removal reason of ``model/data/cpl.json``, with its source."""

    name: str
    cpl_status: str | None
    source: str
    why: str


@cache
def _document() -> dict[str, Any]:
    return dict(read_data("cpl.json"))


@cache
def listing_events() -> dict[str, CplRow]:
    """The DCC's listing events by name (``listed``, ``removed``)."""
    return {
        r["event"]: CplRow(r["event"], r["cpl_status"], r["source"], r["why"])
        for r in _document()["events"]
    }


@cache
def removal_reasons() -> dict[str, CplRow]:
    """The reasons a removal may name, by name (DUIS CPLStatus: withdrawn, expired, ...)."""
    return {
        r["reason"]: CplRow(r["reason"], r["cpl_status"], r["source"], r["why"])
        for r in _document()["reasons"]
    }


@dataclass(frozen=True, slots=True)
class CplEntry:
    """One CPL entry and its listing history, oldest first (``(event, reason)`` pairs)."""

    version: str
    device_type: str
    model: str | None
    gbcs_version: str | None
    events: tuple[tuple[str, str | None], ...]

    @property
    def listed(self) -> bool:
        """On the CPL: its latest listing event is ``listed``."""
        return self.events[-1][0] == LISTED


def parse_entry(raw: Any, device_types: Mapping[str, object], reasons: set[str]) -> CplEntry:
    """A scenario's CPL entry; ``reasons``: the names a removal may give (the data file's
    and the variant's own). Raises ScenarioError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ScenarioError("a CPL entry must be a version string or an object")
    for key, value in raw.items():
        if key not in ENTRY_KEYS:
            raise ScenarioError(f"unknown key {key!r} (known: {', '.join(ENTRY_KEYS)})")
        if not isinstance(value, ENTRY_KEYS[key]):
            raise ScenarioError(f"{key} must be a {ENTRY_KEYS[key].__name__}")
    if "version" not in raw or "device_type" not in raw:
        raise ScenarioError("a CPL entry needs a version and a device_type")
    if raw["device_type"] not in device_types:
        raise ScenarioError(f"unknown device type {raw['device_type']!r}")
    events = tuple(_event(e, reasons) for e in raw.get("events", [{"event": LISTED}]))
    if not events:
        raise ScenarioError("events must list at least one listing event")
    return CplEntry(
        raw["version"], raw["device_type"], raw.get("model"), raw.get("gbcs_version"), events
    )


def _event(raw: Any, reasons: set[str]) -> tuple[str, str | None]:
    if not isinstance(raw, dict) or set(raw) - {"event", "reason"}:
        raise ScenarioError('a listing event must be {"event": ..., "reason": ...}')
    event, reason = raw.get("event"), raw.get("reason")
    if event not in listing_events():
        raise ScenarioError(f"event must be one of {', '.join(listing_events())}")
    if reason is not None and (event != REMOVED or reason not in reasons):
        known = ", ".join(sorted(reasons))
        raise ScenarioError(f"reason {reason!r}: only a removal names one ({known})")
    return event, reason
