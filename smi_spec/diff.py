"""What changes from one variant to another, each change with its source.

Four kinds of change, all computed, none retyped:

- **rules**: the variant files' keys (``[suspended]`` exception list and codes, ``[firmware]``
  update rules, ``[joins]`` validation), with ``Variant.source_of`` and ``Exemption.source``;
- **check E5**: the decision of ``model.dsp.check_e5`` for every SMI status, every SRV of the
  DUIS catalogue, Command Variants 1 to 8 and SMETS 1 and 2, grouped with their conditions;
- **transitions**: the machine transitions one variant's DSP takes and the other's does not
  (``smi_spec.diagram_edges.taken_edges``);
- **verdicts**: the properties whose verdict changes, from ``checker.explorer.explore`` at
  the default bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Final

from checker.compose import explore_systems
from checker.explorer import Bounds, Exploration, default_systems, explore
from model.catalogue import catalogue
from model.dsp import Decision, check_e5
from model.property_ids import PROPERTY_IDS
from model.rule_tables import UpdateRule
from model.rulebook import table_rules
from model.status_chart import STATUSES
from model.variant import Exemption, Variant
from smi_spec.diagram_edges import JOIN, STATUS, edge_diff, of_machine, taken_edges

COMMAND_VARIANTS: Final = tuple(range(1, 9))
SMETS: Final = (1, 2)
ALL_CONDITIONS: Final = frozenset(product(COMMAND_VARIANTS, SMETS))

#: By ``Variant.fingerprint``: the same rules are explored once in a process.
_EXPLORED: dict[tuple[str, str], Exploration] = {}
_EXPLORED_ALL: dict[tuple[str, str], list[Exploration]] = {}


def exploration(variant: Variant) -> Exploration:
    """The variant explored at the default bounds (cached for this process)."""
    key = variant.fingerprint
    if key not in _EXPLORED:
        _EXPLORED[key] = explore(variant, Bounds())
    return _EXPLORED[key]


def explorations(variant: Variant) -> list[Exploration]:
    """The variant explored in every default closed system, rule coverage counted (cached
    for this process: the report reads verdicts, stories and coverage from one search)."""
    key = variant.fingerprint
    if key not in _EXPLORED_ALL:
        _EXPLORED_ALL[key] = explore_systems(
            variant, Bounds(), PROPERTY_IDS, default_systems(variant), coverage=True
        )
    return _EXPLORED_ALL[key]


# ---------------------------------------------------------------------------------------
# Rules


_SCALARS: Final = {
    "suspended.allow_critical": (
        "allow_critical",
        "a Critical SR is accepted for a Suspended device",
    ),
    "suspended.reject_code": ("reject_code", "check E5's rejection code for a Suspended device"),
    "joins.unjoin_requires_smi_join": (
        "unjoin_requires_smi_join",
        "the DSP validates an Unjoin against the SMI's join record",
    ),
    "joins.unjoin_reject_code": ("unjoin_reject_code", "the code of that Unjoin validation"),
    "joins.reconcile_smi_from_8_9": (
        "reconcile_smi_from_8_9",
        "the DSP sets the SMI's joins from an SR8.9 Read Device Log response",
    ),
}


def _exemption_key(e: Exemption) -> tuple[str, int | None, int | None]:
    return (e.srv, e.command_variant, e.smets)


def rule_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """The keys of the variant files that differ, each with the source of the change: the
    exception list, the SMI firmware update rules, the scalar rules, then the rule tables
    row by row."""
    return [
        *_exception_changes(a, b),
        *_update_smi_changes(a, b),
        *_scalar_changes(a, b),
        *table_row_changes(a, b),
    ]


def _exception_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """Entries of check E5's exception list (``suspended.exceptions``) only ``b`` has, then
    those only ``a`` has."""
    key = "suspended.exceptions"
    before = {_exemption_key(e): e for e in a.exceptions}
    after = {_exemption_key(e): e for e in b.exceptions}
    added = [
        {
            "key": key,
            "change": "added",
            "from": None,
            "to": entry.describe(),
            "text": f"{entry.describe()} joins the exception list: accepted while Suspended",
            "source": entry.source or b.source_of(key),
        }
        for k, entry in after.items()
        if k not in before
    ]
    removed = [
        {
            "key": key,
            "change": "removed",
            "from": entry.describe(),
            "to": None,
            "text": f"{entry.describe()} leaves the exception list: rejected with "
            f"{b.reject_code} while Suspended",
            "source": b.source_of(key),
            "entry_source": entry.source or a.source_of(key),
        }
        for k, entry in before.items()
        if k not in after
    ]
    return added + removed


def _update_smi_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """The ``firmware.update_smi_on`` rules only ``b`` has, then those only ``a`` has."""
    key = "firmware.update_smi_on"
    old_rules = {str(r): r for r in a.update_smi_on}
    new_rules = {str(r): r for r in b.update_smi_on}
    added = [
        {
            "key": key,
            "change": "added",
            "from": None,
            "to": text,
            "text": f"the DSP updates the SMI firmware version from {_rule_text(rule)}",
            "source": rule.source or b.source_of(key),
        }
        for text, rule in new_rules.items()
        if text not in old_rules
    ]
    removed = [
        {
            "key": key,
            "change": "removed",
            "from": text,
            "to": None,
            "text": f"the DSP no longer updates the SMI firmware version from {_rule_text(rule)}",
            "source": b.source_of(key),
        }
        for text, rule in old_rules.items()
        if text not in new_rules
    ]
    return added + removed


def _scalar_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """The scalar rules (``_SCALARS``) that differ: a switch turned on or off, or a value."""
    changes: list[dict[str, Any]] = []
    for key, (attribute, meaning) in _SCALARS.items():
        old, new = getattr(a, attribute), getattr(b, attribute)
        if old == new:
            continue
        if isinstance(new, bool):
            change = "added" if new else "removed"
            text = f"{'now' if new else 'no longer'}: {meaning}"
            if attribute == "unjoin_requires_smi_join":
                text += f" ({b.unjoin_reject_code if new else a.unjoin_reject_code})"
        else:
            change, text = "changed", f"{meaning}: {old} → {new}"
        changes.append(
            {
                "key": key,
                "change": change,
                "from": old,
                "to": new,
                "text": text,
                "source": b.source_of(key),
            }
        )
    return changes


#: Rule tables compared row by row through ``model.rulebook`` (the keys above are compared
#: with their own wording).
_ROW_TABLES: Final = (
    "applicability",
    "firmware.routes",
    "cpl.",
    "e5.",
    "suspended.non_device",
    "suspended.critical_life_cycle",
    "suspended.deny",
    "pipeline.",
    "roles[",
    "requests[",
    "messages[",
    "cascades.",
    "events.",
    "alerts.",
    "device_types.",
)


def table_row_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """Rows of the newer tables (applicability, routes, CPL, other E5 rows, Non-Device
    gating) that differ, each with the source of the row that now stands."""
    before = {r["rule"]: r for r in table_rules(a) if r["rule"].startswith(_ROW_TABLES)}
    after = {r["rule"]: r for r in table_rules(b) if r["rule"].startswith(_ROW_TABLES)}
    changes = []
    for rule in dict.fromkeys([*before, *after]):
        old, new = before.get(rule), after.get(rule)
        if old is not None and new is not None and old["says"] == new["says"]:
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        text = (
            f"{old['says']} → {new['says']}"
            if old is not None and new is not None
            else (new or old or {})["says"]
        )
        changes.append(
            {
                "key": rule,
                "change": change,
                "from": old and old["says"],
                "to": new and new["says"],
                "text": text,
                "source": (new or old or {})["provenance"],
            }
        )
    return changes


def _rule_text(rule: UpdateRule) -> str:
    if rule.kind == "alert":
        who = "a DCC alert" if rule.dcc else "a device alert"
        text = f"{who} {rule.message} carrying a firmware version"
    elif rule.kind == "success":
        text = f"an SR{rule.message} response reporting success"
    else:
        text = f"any SR{rule.message} response carrying a firmware version"
    if rule.statuses is not None:
        text += " while " + " or ".join(sorted(rule.statuses))
    if rule.device_types is not None:
        text += " for " + ", ".join(sorted(rule.device_types))
    if rule.outcome is not None:
        text += f" on {rule.outcome}"
    return text


# ---------------------------------------------------------------------------------------
# Check E5


def _outcome(decision: Decision) -> str:
    return "accepted" if decision.accepted else f"rejected {decision.response_code}"


@dataclass(frozen=True, slots=True)
class _E5Change:
    status: str
    srv: str
    before: str
    after: str


def conditions(combos: frozenset[tuple[int, int]]) -> dict[str, Any]:
    """(Command Variant, SMETS) pairs said compactly: ``{"all", "rectangles", "text"}``."""
    if combos == ALL_CONDITIONS:
        return {"all": True, "rectangles": [], "text": "any Command Variant, any SMETS"}
    by_smets = {s: tuple(sorted(cv for cv, sm in combos if sm == s)) for s in SMETS}
    if by_smets[1] == by_smets[2]:
        rectangles = [{"command_variants": list(by_smets[1]), "smets": [1, 2]}]
    else:
        rectangles = [
            {"command_variants": list(cvs), "smets": [s]} for s, cvs in by_smets.items() if cvs
        ]
    parts = []
    for r in rectangles:
        cvs = r["command_variants"]
        cv_text = (
            "any Command Variant"
            if tuple(cvs) == COMMAND_VARIANTS
            else f"Command Variant {', '.join(map(str, cvs))}"
        )
        smets_text = "any SMETS" if r["smets"] == [1, 2] else f"SMETS{r['smets'][0]} only"
        parts.append(f"{cv_text}, {smets_text}")
    return {"all": False, "rectangles": rectangles, "text": "; ".join(parts)}


def e5_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """Every (status, SRV) whose check E5 decision differs, by the conditions it differs for."""
    found: dict[_E5Change, set[tuple[int, int]]] = {}
    rules: dict[_E5Change, dict[str, str]] = {}
    for status in STATUSES:
        for srv in catalogue():
            for cv, smets in sorted(ALL_CONDITIONS):
                before = check_e5(a, srv, status, cv, smets)
                after = check_e5(b, srv, status, cv, smets)
                if (before.accepted, before.response_code) == (after.accepted, after.response_code):
                    continue
                change = _E5Change(status, srv, _outcome(before), _outcome(after))
                found.setdefault(change, set()).add((cv, smets))
                rules.setdefault(
                    change,
                    {"id": after.rule.id, "text": after.rule.text, "source": after.rule.source},
                )
    items = []
    for change, combos in found.items():
        request = catalogue()[change.srv]
        when = conditions(frozenset(combos))
        items.append(
            {
                "status": change.status,
                "srv": change.srv,
                "name": request.name,
                "from": change.before,
                "to": change.after,
                "conditions": when,
                "text": f"{request.label} to a {change.status} device: {change.before} → "
                f"{change.after} ({when['text']})",
                "rule": rules[change],
                "source": rules[change]["source"],
            }
        )
    return items


# ---------------------------------------------------------------------------------------
# Transitions and verdicts


def transition_changes(a: Variant, b: Variant) -> dict[str, list[dict[str, Any]]]:
    """Machine transitions only ``b``'s DSP takes (added) and only ``a``'s (removed)."""
    result: dict[str, list[dict[str, Any]]] = {"added": [], "removed": []}
    for machine in (STATUS, JOIN):
        changes = edge_diff(
            of_machine(taken_edges(a), machine), of_machine(taken_edges(b), machine)
        )
        for kind in ("added", "removed"):
            for edge in changes[kind]:
                item = edge.as_json()
                item["text"] = edge.describe()
                item["source"] = edge.provenance
                result[kind].append(item)
    return result


def _results(v: Variant) -> dict[tuple[str, str], Any]:
    return {(p.id, p.subject or ""): p for e in explorations(v) for p in e.properties}


def verdict_changes(a: Variant, b: Variant) -> list[dict[str, Any]]:
    """Properties whose verdict differs, per device type or pair type, with what ``b``
    expects."""
    before, after = _results(a), _results(b)
    items = []
    for (property_id, subject), result in after.items():
        old = before.get((property_id, subject))
        if old is not None and old.verdict == result.verdict:
            continue
        was = old.verdict if old is not None else "not explored"
        items.append(
            {
                "property": result.id,
                "subject": subject,
                "from": was,
                "to": result.verdict,
                "expected": result.expected,
                "as_expected": result.verdict == result.expected,
                "why": result.why,
                "text": f"{result.id} for {subject}: {was} → {result.verdict}",
                "source": ",".join(b.sources) or "assumption",
            }
        )
    return items


def unexpected(*variants: Variant) -> list[dict[str, str]]:
    """Verdicts not as the variants' ``[expect]`` tables say (exit code 1)."""
    return [
        {
            "variant": v.id,
            "property": p.id,
            "subject": p.subject or "",
            "verdict": p.verdict,
            "expected": p.expected,
        }
        for v in variants
        for p in _results(v).values()
        if p.verdict != p.expected
    ]


def variant_diff(a: Variant, b: Variant) -> dict[str, Any]:
    """Everything that changes from ``a`` to ``b`` (the JSON of ``smi-spec diff``)."""
    return {
        "from": _summary(a),
        "to": _summary(b),
        "bounds": Bounds().describe(),
        "rules": rule_changes(a, b),
        "check_e5": e5_changes(a, b),
        "transitions": transition_changes(a, b),
        "verdicts": verdict_changes(a, b),
        "unexpected": unexpected(a, b),
    }


def _summary(v: Variant) -> dict[str, Any]:
    return {
        "id": v.id,
        "title": v.title,
        "path": v.path,
        "extends": v.extends,
        "sources": list(v.sources),
    }
