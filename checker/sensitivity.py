"""Assumption sensitivity (issue 19): flip each assumption-tagged rule that has an
alternative, one at a time, and report which verdicts change.

A reviewer learns which verdicts hold whatever the model assumed and which hinge on one
assumption. The rules flipped, each only where the variant tags it ``assumption``:

- each boolean rule key (``cpl.relisting_restores``, ``cpl.off_cpl_update_suspends``,
  ``joins.reconcile_smi_from_8_9``): true for false and back;
- ``suspended.critical_life_cycle``: its other value (``to-history`` / ``refuse``);
- ``cpl.removal_suspends``: only the status the seeds show suspended (Commissioned,
  seed:MP105) instead of the table's wider reading;
- each row of check E5 for a status other than Suspended: a row admitting every request
  admits only Critical ones (as the seeds' Suspended row does), a row admitting some or none
  admits every request;
- each Non-Device decision of the Suspended row (``suspended.non_device[n]``): gated for not
  gated and back.

Each flip is explored as ``check`` explores the variant (the same systems and bounds); the
verdict of every property for every subject is compared with the unflipped one's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from checker.compose import explore_systems
from checker.explorer import Bounds, default_systems
from model.property_ids import PROPERTY_IDS
from model.provenance import ASSUMPTION
from model.rule_tables import CRITICAL_LIFE_CYCLE, Admits
from model.status_chart import SUSPENDED
from model.variant import Variant

#: The statuses a CPL removal suspends by the seeds alone (DP105's meters in service).
SEED_REMOVAL_SUSPENDS = frozenset({"commissioned"})


@dataclass(frozen=True, slots=True)
class Flip:
    """One assumption-tagged rule and its alternative, as a whole variant."""

    rule: str
    was: str
    now: str
    variant: Variant


@dataclass(frozen=True, slots=True)
class Change:
    """A verdict that changes when one assumption is flipped."""

    property: str
    subject: str
    was: str
    now: str


def _assumed(variant: Variant, source: str) -> bool:
    return ASSUMPTION in source.split(",")


def _boolean_flips(v: Variant) -> Iterator[Flip]:
    cpl = v.cpl
    booleans: tuple[tuple[str, bool, Callable[[bool], Variant]], ...] = (
        (
            "cpl.relisting_restores",
            cpl.relisting_restores,
            lambda b: replace(v, cpl=replace(cpl, relisting_restores=b)),
        ),
        (
            "cpl.off_cpl_update_suspends",
            cpl.off_cpl_update_suspends,
            lambda b: replace(v, cpl=replace(cpl, off_cpl_update_suspends=b)),
        ),
        (
            "joins.reconcile_smi_from_8_9",
            v.reconcile_smi_from_8_9,
            lambda b: replace(v, reconcile_smi_from_8_9=b),
        ),
    )
    for key, value, flipped in booleans:
        if _assumed(v, v.source_of(key)):
            yield Flip(key, str(value).lower(), str(not value).lower(), flipped(not value))


def _table_flips(v: Variant) -> Iterator[Flip]:
    key = "suspended.critical_life_cycle"
    if _assumed(v, v.source_of(key)):
        for other in CRITICAL_LIFE_CYCLE:
            if other != v.critical_life_cycle:
                yield Flip(key, v.critical_life_cycle, other, replace(v, critical_life_cycle=other))
    key = "cpl.removal_suspends"
    if _assumed(v, v.source_of(key)) and v.cpl.removal_suspends != SEED_REMOVAL_SUSPENDS:
        narrower = replace(v.cpl, removal_suspends=SEED_REMOVAL_SUSPENDS)
        yield Flip(
            key,
            ", ".join(sorted(v.cpl.removal_suspends)),
            ", ".join(sorted(SEED_REMOVAL_SUSPENDS)),
            replace(v, cpl=narrower),
        )


def _e5_flips(v: Variant) -> Iterator[Flip]:
    for status, row in v.e5.items():
        if status != SUSPENDED and _assumed(v, row.source):
            other: Admits = "critical" if row.admits == "all" else "all"
            rows = {**v.e5, status: replace(row, admits=other)}
            yield Flip(f"e5.{status}.admits", row.admits, other, replace(v, e5=rows))
    suspended = v.e5[SUSPENDED]
    for number, decision in enumerate(suspended.non_device):
        if not _assumed(v, decision.source):
            continue
        flipped = (
            *suspended.non_device[:number],
            replace(decision, gated=not decision.gated),
            *suspended.non_device[number + 1 :],
        )
        rows = {**v.e5, SUSPENDED: replace(suspended, non_device=flipped)}
        yield Flip(
            f"suspended.non_device[{number}]",
            _gated(decision.srv, decision.gated),
            _gated(decision.srv, not decision.gated),
            replace(v, e5=rows),
        )


def _gated(srv: str, gated: bool) -> str:
    return f"SR{srv} {'gated' if gated else 'not gated'}"


def flips(variant: Variant) -> list[Flip]:
    """Every assumption-tagged rule of ``variant`` that has an alternative, flipped."""
    return [*_boolean_flips(variant), *_table_flips(variant), *_e5_flips(variant)]


def verdicts(variant: Variant, bounds: Bounds) -> dict[tuple[str, str], str]:
    """Every property's verdict for every subject, as ``check`` computes it."""
    found = {}
    systems = default_systems(variant)
    for e in explore_systems(variant, bounds, PROPERTY_IDS, systems):
        for p in e.properties:
            if p.subject is not None:
                found[(p.id, p.subject)] = p.verdict
    return found


def sensitivity(
    variant: Variant, bounds: Bounds | None = None
) -> tuple[dict[tuple[str, str], str], list[tuple[Flip, list[Change]]]]:
    """The variant's verdicts, and for each flipped assumption the verdicts that change."""
    bounds = bounds or Bounds()
    base = verdicts(variant, bounds)
    result = []
    for flip in flips(variant):
        now = verdicts(flip.variant, bounds)
        changes = [
            Change(prop, subject, verdict, now.get((prop, subject), "not checked"))
            for (prop, subject), verdict in sorted(base.items())
            if now.get((prop, subject), "not checked") != verdict
        ]
        result.append((flip, changes))
    return base, result


def hinging(
    base: dict[tuple[str, str], str], flipped: list[tuple[Flip, list[Change]]]
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """The verdicts that hold whatever was assumed, and those that hinge on some
    assumption (each with the rules it hinges on)."""
    hinges: dict[tuple[str, str], list[str]] = {}
    for flip, changes in flipped:
        for change in changes:
            hinges.setdefault((change.property, change.subject), []).append(flip.rule)
    steady = [key for key in sorted(base) if key not in hinges]
    return steady, hinges
