"""The DUIS Service Request catalogue: all 129 Service Reference Variants (source: duis).

Kept as the project's own data file, ``model/data/catalogue.json``, rebuilt from the DUIS
matrix by ``scripts/import_catalogue.py`` and loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from model.data_files import read_data
from model.errors import InputError


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """One DUIS Service Reference Variant (source: duis)."""

    srv: str
    service_reference: str
    name: str
    critical: bool
    non_device: bool
    on_demand: bool
    future_dated_response: str
    dcc_scheduled: bool
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        """'SR11.2 Read Firmware Version', as a reviewer reads it."""
        return f"SR{self.srv} {self.name}"


@cache
def catalogue() -> dict[str, ServiceRequest]:
    """All Service Reference Variants by SRV, in DUIS order."""
    rows = read_data("catalogue.json")["requests"]
    return {
        row["srv"]: ServiceRequest(
            srv=row["srv"],
            service_reference=row["service_reference"],
            name=row["name"],
            critical=row["critical"],
            non_device=row["non_device"],
            on_demand=row["on_demand"],
            future_dated_response=row["future_dated_response"],
            dcc_scheduled=row["dcc_scheduled"],
            roles=tuple(row["roles"]),
        )
        for row in rows
    }


def normalise_srv(text: str) -> str:
    """The catalogue's spelling of an SRV: ``SR11.2``, ``sr11.2`` and ``11.2`` are one SRV.

    The tool prints SRVs as ``SR11.2``; DUIS and the variant files write ``11.2``. Text that
    is no SRV is returned unchanged (``lookup`` names it).
    """
    stripped = text.strip()
    if stripped[:2].upper() == "SR":
        stripped = stripped[2:].lstrip()
    return stripped


#: Service Requests a loaded variant declares (``[requests."SRV"]``), by SRV: found by
#: :func:`lookup` wherever that variant's requests travel (the DSP, the explorer, ``run``).
#: Never iterated as the catalogue: each variant lists its own (``Variant.requests``).
_DECLARED: dict[str, ServiceRequest] = {}


def declare(request: ServiceRequest) -> ServiceRequest | None:
    """Make a variant's new request known to :func:`lookup`; returns the different request
    another loaded variant declared under the same SRV (the caller refuses it), else None."""
    known = _DECLARED.setdefault(request.srv, request)
    return None if known == request else known


def lookup(srv: str) -> ServiceRequest:
    """The catalogue entry for ``srv`` (either spelling), or the request a loaded variant
    declares under it, or an InputError naming it."""
    name = normalise_srv(srv)
    try:
        return catalogue()[name] if name in catalogue() else _DECLARED[name]
    except KeyError:
        raise InputError(
            f"unknown SRV {srv!r}: expected a DUIS Service Reference Variant such as 11.2 "
            "or SR11.2 (smi-spec catalogue lists them)"
        ) from None


#: Provenance tags from strongest to weakest: a type's own source is its best evidence's.
_STRENGTH = ("seed:MP105", "seed:MP178", "duis", "assumption")


@dataclass(frozen=True, slots=True)
class Applicability:
    """The device types one SRV applies to, where that was read from, and why; and for each
    type its own source and evidence (``model/data/applicability.json``: the reference
    templates addressed to a device of the type, the use cases whose titles name it, a
    seed's words, or an assumption with why)."""

    srv: str
    device_types: frozenset[str]
    source: str
    why: str
    #: (device type, its source, what shows it), one per type of ``device_types``.
    evidence: tuple[tuple[str, str, str], ...] = ()

    def source_for(self, device_type: str) -> str:
        """The source of this type's place in the row (the row's own where none is kept)."""
        return next((s for t, s, _ in self.evidence if t == device_type), self.source)

    def why_for(self, device_type: str) -> str:
        """What shows this type's place in the row (the row's why where none is kept)."""
        return next((w for t, _, w in self.evidence if t == device_type), self.why)


def _shown_by(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """A type's best source and one line naming its evidence of that source."""
    best = min(entries, key=lambda e: _STRENGTH.index(e["source"]))["source"]
    parts = []
    for entry in (e for e in entries if e["source"] == best):
        templates = entry.get("templates", [])
        if templates:
            more = f" and {len(templates) - 2} more" if len(templates) > 2 else ""
            parts.append("reference template " + ", ".join(templates[:2]) + more)
        if entry.get("titles"):
            parts.append("GBCS " + ", ".join(entry["titles"]) + " (its title names the type)")
        if entry.get("why"):
            parts.append(entry["why"])
    return best, "; ".join(parts)


@cache
def applicability() -> dict[str, Applicability]:
    """Device types per SRV, from ``model/data/applicability.json``, each type with its
    evidence (scripts/import_applicability.py derives the file from the reference data)."""
    rows = {}
    for row in read_data("applicability.json")["requests"]:
        evidence = tuple((t, *_shown_by(entries)) for t, entries in row.get("evidence", {}).items())
        rows[row["srv"]] = Applicability(
            row["srv"], frozenset(row["device_types"]), row["source"], row["why"], evidence
        )
    return rows
