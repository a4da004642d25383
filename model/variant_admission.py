"""Which requests a device admits, as a variant says it (docs/formats.md): check E5's row
for each SMI status (``[suspended]``, ``[e5.STATUS]``) and the device types each request
applies to (``[applicability."SRV"]``, whole or with ``add_device_types``).
"""

from __future__ import annotations

from typing import Any, Final

from model.catalogue import Applicability, applicability, normalise_srv
from model.rule_tables import (
    ADMITS,
    ApplicabilityRow,
    E5Row,
)
from model.status_chart import STATUSES
from model.variant_file import PARENT_ROW, Locator
from model.variant_row_checks import Rows, is_device_type

#: The keys of a row of check E5 for a status other than Suspended (``[e5.STATUS]``).
E5_ROW_KEYS: Final = frozenset(
    {"admits", "reject_code", "exceptions", "deny", "non_device", "source", "why"}
)
#: The keys of an ``[applicability."SRV"]`` row.
APPLICABILITY_ROW_KEYS: Final = ("device_types", "add_device_types", "source", "why")


def suspended_row(rows: Rows) -> E5Row:
    table = rows.m.tables["suspended"]
    where = rows.where
    for key in ("allow_critical", "reject_code", "exceptions"):
        if key not in table:
            raise where.error("suspended", key, "missing (and not inherited through extends)")
    return E5Row(
        "suspended",
        "critical" if table["allow_critical"] else "none",
        rows.code(table["reject_code"], where, "suspended", "reject_code"),
        rows.exemptions(table["exceptions"], rows.file_of("suspended.exceptions"), "suspended"),
        rows.non_device(table.get("non_device", []), where, "suspended"),
        rows.m.key_sources.get("suspended.allow_critical", "assumption"),
        "check E5 for a Suspended device (DP105)",
        rows.exemptions(table.get("deny", []), rows.file_of("suspended.deny"), "suspended", "deny"),
    )


def e5_rows(rows: Rows) -> dict[str, E5Row]:
    """Every SMI status's row: the Suspended row from ``[suspended]``, the others from
    ``[e5.STATUS]``. A status with no row admits everything (a warning says so)."""
    table = rows.m.tables.get("e5", {})
    result = {"suspended": suspended_row(rows)}
    for status, raw in table.items():
        where = rows.file_of(f"e5.{status}")
        name = f"e5.{status}"
        if status not in STATUSES or status == "suspended":
            why = "the Suspended row is [suspended]" if status == "suspended" else "unknown status"
            raise where.error("e5", status, f"{why} (statuses: {', '.join(STATUSES)})")
        known = E5_ROW_KEYS
        for key in raw:
            if key not in known:
                raise where.error(name, key, f"unknown key (known: {', '.join(sorted(known))})")
        admits = raw.get("admits")
        if admits not in ADMITS:
            raise where.error(name, "admits", f"must be one of {', '.join(ADMITS)}")
        result[status] = E5Row(
            status,
            admits,
            rows.code(
                raw.get("reject_code", result["suspended"].reject_code), where, name, "reject_code"
            ),
            rows.exemptions(raw.get("exceptions", []), where, name),
            rows.non_device(raw.get("non_device", []), where, name),
            rows.source(raw, rows.m.key_sources.get(f"e5.{status}", "assumption"), where, name),
            str(raw.get("why", "")),
            rows.exemptions(raw.get("deny", []), where, name, "deny"),
        )
    for status in STATUSES:
        if status not in result:
            result[status] = E5Row(
                status,
                "all",
                result["suspended"].reject_code,
                (),
                (),
                "assumption",
                "no [e5] row for this status: check E5 admits every request",
            )
    return result


def applicability_rows(
    rows: Rows,
) -> tuple[dict[str, ApplicabilityRow | Applicability], str]:
    table = rows.m.tables.get("applicability", {})
    result: dict[str, ApplicabilityRow | Applicability] = {}
    for srv, raw in table.items():
        if not isinstance(raw, dict):
            continue
        where = rows.file_of(f"applicability.{srv}")
        rows.srv(srv, where, "applicability", srv, None)
        result[srv] = applicability_row(rows, normalise_srv(srv), raw, where)
    code = table.get("reject_code", "DSP:NOT_FOR_DEVICE_TYPE")
    return result, rows.code(code, rows.where, "applicability", "reject_code")


def applicability_row(
    rows: Rows, srv: str, raw: dict[str, Any], where: Locator
) -> ApplicabilityRow | Applicability:
    """One ``[applicability."SRV"]`` row: the whole row (``device_types``), or the parent's
    row (else the DUIS reference data's) with ``add_device_types`` added."""
    name = f"applicability.{srv}"
    known = APPLICABILITY_ROW_KEYS
    for key in raw:
        if key not in (*known, PARENT_ROW):
            raise where.error(name, key, f"unknown key (known: {', '.join(known)})")
    if ("device_types" in raw) == ("add_device_types" in raw):
        raise where.error(
            name, "device_types", "give device_types or add_device_types, one of them"
        )
    key = "device_types" if "device_types" in raw else "add_device_types"
    types = raw[key]
    if not isinstance(types, list) or not all(is_device_type(t, rows.types) for t in types):
        raise where.error(name, key, f"must be a list of device types ({', '.join(rows.types)})")
    source = rows.source(
        raw, rows.m.key_sources.get(f"applicability.{srv}", "assumption"), where, name
    )
    why = str(raw.get("why", ""))
    if key == "device_types":
        return ApplicabilityRow(srv, frozenset(types), source, why)
    parent = raw.get(PARENT_ROW)
    base = (
        applicability_row(rows, srv, parent, where)
        if isinstance(parent, dict)
        else applicability().get(srv)
    )
    return added_types(srv, base, frozenset(types), source, why)


def added_types(
    srv: str,
    base: ApplicabilityRow | Applicability | None,
    added: frozenset[str],
    source: str,
    why: str,
) -> Applicability:
    """``base`` with ``added`` types (``add_device_types``): each type already there keeps
    its own evidence and tag, each added one cites this row's (docs/formats.md,
    ``[applicability]``)."""
    if base is None:
        base = Applicability(srv, frozenset(), "assumption", "")

    def shown(t: str) -> tuple[str, str, str]:
        if isinstance(base, Applicability):
            return (t, base.source_for(t), base.why_for(t))
        return (t, base.source, base.why)

    kept = tuple(shown(t) for t in sorted(base.device_types))
    new = tuple((t, source, why) for t in sorted(added - base.device_types))
    tags = ",".join(dict.fromkeys(t for _, s, _ in kept + new for t in s.split(",")))
    return Applicability(
        srv,
        base.device_types | added,
        tags or source,
        "; ".join(f"{t}: {w}" for t, _, w in kept + new if w),
        kept + new,
    )
