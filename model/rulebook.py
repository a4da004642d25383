"""Every row of every rule table of a variant, with its source, for ``smi-spec rules``.

The rulebook's newer tables (the pipeline of checks, roles, message declarations, CPL
removal reasons, cascades) are listed by :func:`rulebook_rows`.

Derived from the loaded variant and the data files, never written again: check E5's rows
(``[suspended]`` and ``[e5.STATUS]``), the applicability rows (the variant's own, then the
DUIS reference data's), the firmware routes, the SMI update rules, the CPL rules, the Unjoin
validation, and the device type facts.
"""

from __future__ import annotations

from typing import Any

from model.alerts import device_alerts
from model.catalogue import applicability
from model.variant import Variant


def _row(table: str, rule: str, says: str, source: str, why: str = "") -> dict[str, Any]:
    return {"table": table, "rule": rule, "says": says, "provenance": source, "why": why}


def e5_rows(v: Variant) -> list[dict[str, Any]]:
    rows = []
    for status, row in v.e5.items():
        table = "suspended" if status == "suspended" else f"e5.{status}"
        says = f"admits {row.admits}; rejects with {row.reject_code}"
        rows.append(_row("check E5", table, says, row.source, row.why))
        for n, entry in enumerate(row.exceptions):
            source = entry.source or v.source_of(f"{table}.exceptions")
            rows.append(_row("check E5", f"{table}.exceptions[{n}]", entry.describe(), source))
        for n, entry in enumerate(row.deny):
            source = entry.source or row.source
            says = f"{entry.describe()} rejected with {row.reject_code}"
            rows.append(_row("check E5", f"{table}.deny[{n}]", says, source))
        for n, rule in enumerate(row.non_device):
            says = f"SR{rule.srv} {'gated' if rule.gated else 'not gated'}"
            rows.append(_row("check E5", f"{table}.non_device[{n}]", says, rule.source, rule.why))
    return rows


def applicability_rows(v: Variant) -> list[dict[str, Any]]:
    rows = []
    data = applicability()
    for srv in (*data, *(s for s in v.applicability if s not in data)):
        own = v.applicability.get(srv)
        row = own or data[srv]
        says = f"SR{srv} applies to {', '.join(sorted(row.device_types)) or 'no device type'}"
        where = "variant" if own else "DUIS reference data"
        rows.append(
            _row(f"applicability ({where})", f"applicability[{srv}]", says, row.source, row.why)
        )
    return rows


def firmware_rows(v: Variant) -> list[dict[str, Any]]:
    rows = [
        _row("firmware", f"firmware.routes.{t}", r.describe(), r.source, r.why)
        for t, r in v.routes.items()
    ]
    rows += [
        _row(
            "firmware",
            f"firmware.update_smi_on[{n}]",
            f"the SMI firmware follows {rule}",
            rule.source or v.source_of("firmware.update_smi_on"),
        )
        for n, rule in enumerate(v.update_smi_on)
    ]
    return rows


def other_rows(v: Variant) -> list[dict[str, Any]]:
    cpl = v.cpl
    rows = [
        _row(
            "cpl",
            "cpl.removal_suspends",
            "a removal suspends " + ", ".join(sorted(cpl.removal_suspends)),
            v.source_of("cpl.removal_suspends"),
            v.why_of("cpl.removal_suspends"),
        ),
        _row(
            "cpl",
            "cpl.relisting_restores",
            f"re-listing restores: {str(cpl.relisting_restores).lower()}",
            v.source_of("cpl.relisting_restores"),
            v.why_of("cpl.relisting_restores"),
        ),
        _row(
            "cpl",
            "cpl.off_cpl_update_suspends",
            f"an SMI update off the CPL suspends: {str(cpl.off_cpl_update_suspends).lower()}",
            v.source_of("cpl.off_cpl_update_suspends"),
            v.why_of("cpl.off_cpl_update_suspends"),
        ),
        _row(
            "suspended",
            "suspended.critical_life_cycle",
            v.critical_life_cycle,
            v.source_of("suspended.critical_life_cycle"),
            v.why_of("suspended.critical_life_cycle"),
        ),
        _row(
            "joins",
            "joins.unjoin_requires_smi_join",
            f"{str(v.unjoin_requires_smi_join).lower()} ({v.unjoin_reject_code})",
            v.source_of("joins.unjoin_requires_smi_join"),
            v.why_of("joins.unjoin_requires_smi_join"),
        ),
        _row(
            "joins",
            "joins.reconcile_smi_from_8_9",
            str(v.reconcile_smi_from_8_9).lower(),
            v.source_of("joins.reconcile_smi_from_8_9"),
            v.why_of("joins.reconcile_smi_from_8_9"),
        ),
    ]
    rows += [
        _row(
            "device types",
            f"device_types.{t}",
            f"{'on the CPL' if d.cpl_listed else 'not on the CPL'}"
            + ("; Type 2: no SMI status or firmware" if d.type_2 else ""),
            d.source,
            d.why,
        )
        for t, d in v.device_types.items()
    ]
    return rows


def rulebook_rows(v: Variant) -> list[dict[str, Any]]:
    """The pipeline of checks, Eligible User Roles the variant sets, message declarations,
    CPL removal reasons and cascades: each row with its own source."""
    rows = [
        _row("pipeline", f"pipeline.checks[{n}]", f"{n + 1}. {c.check}", c.source, c.why)
        for n, c in enumerate(v.pipeline)
    ]
    rows += [
        _row("requests", f"requests[{srv}]", r.describe(), r.source, r.why)
        for srv, r in v.requests.items()
    ]
    rows += [
        _row(
            "roles", f"roles[{srv}]", f"SR{srv} from {', '.join(sorted(r.roles))}", r.source, r.why
        )
        for srv, r in v.roles.items()
    ]
    rows += [
        _row("messages", f"messages[{srv}]", m.describe(), m.source, m.why)
        for srv, m in v.messages.items()
    ]
    rows += [
        _row(
            "cpl",
            f"cpl.reasons.{r.reason}",
            r.describe(),
            r.source,
            r.why,
        )
        for r in v.cpl.reasons
    ]
    rows += [
        _row("cascades", f"cascades.{event}", c.describe(), c.source, c.why)
        for event, c in v.cascades.items()
    ]
    rows += [
        _row("events", f"events.{event}", e.describe(), e.source, e.why)
        for event, e in v.events.items()
    ]
    rows += [
        _row(
            "alerts",
            f"alerts.{name}",
            f"{a.kind} alert {a.name}, carrying a firmware version"
            + (f" ({', '.join(a.outcomes.values())})" if a.outcomes else ""),
            a.source,
            a.why,
        )
        for name, a in v.alerts.items()
        if name not in device_alerts()
    ]
    return rows


def table_rules(v: Variant) -> list[dict[str, Any]]:
    """Every row of every table of ``v``, with its provenance."""
    return e5_rows(v) + applicability_rows(v) + firmware_rows(v) + other_rows(v) + rulebook_rows(v)
