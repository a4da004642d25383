"""The data of the report's sections, for the templates: the transitions a variant's DSP
takes (``smi_spec.diagrams``), check E5's decision table (``model.dsp``), counterexample
stories and causes (``checker.narrate``, ``checker.explorer``), coverage, sensitivity,
verdicts and the variant's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from checker.explorer import Exploration
from checker.narrate import action_label, story
from model.catalogue import catalogue
from model.dsp import check_e5
from model.property_ids import PROPERTY_IDS
from model.status_chart import STATUSES
from model.variant import Variant
from smi_spec import diagrams as dg
from smi_spec.diff import ALL_CONDITIONS, conditions, explorations
from smi_spec.report_html import environment, property_text, slug

STATUS_NAMES: Final = {s: s.replace("_", " ") for s in STATUSES}
#: Check E5 table columns: Suspended first, the status the exception list is about.
E5_COLUMNS: Final = ("suspended", *(s for s in STATUSES if s != "suspended"))


def edge_rows(machine: str, variant: Variant) -> list[dict[str, Any]]:
    return [
        {
            "transition": f"{x.source} → {x.target}",
            "event": x.event.replace("_", " "),
            "cause": x.cause,
            "provenance": x.provenance,
            "rules": list(x.rules),
        }
        for x in dg.of_machine(dg.taken_edges(variant), machine)
    ]


# ---------------------------------------------------------------------------------------
# Check E5 decision table


def _cell(variant: Variant, srv: str, status: str) -> str:
    """Check E5's decision for one SRV and status, over Command Variants and SMETS."""
    accepted = frozenset(
        (cv, smets)
        for cv, smets in ALL_CONDITIONS
        if check_e5(variant, srv, status, cv, smets).accepted
    )
    if accepted == ALL_CONDITIONS:
        return "accepted"
    code = next(
        check_e5(variant, srv, status, cv, smets).response_code
        for cv, smets in sorted(ALL_CONDITIONS)
        if (cv, smets) not in accepted
    )
    if not accepted:
        return f"rejected {code}"
    return f"accepted for {conditions(accepted)['text']}; otherwise {code}"


def decision(text: str) -> dict[str, str]:
    """A check E5 decision with its kind (the CSS class that colours it)."""
    kind = (
        "accepted"
        if text == "accepted"
        else "rejected"
        if text.startswith("rejected")
        else "conditional"
    )
    return {"text": text, "kind": kind}


def e5_table(variant: Variant) -> dict[str, Any]:
    """Statuses × SRVs, SRVs with the same decision in every status grouped on one row;
    the exception list's entries marked ★ with their source."""
    exempt = {x.srv: x for x in variant.exceptions}
    groups: dict[tuple[Any, ...], list[str]] = {}
    for srv, request in catalogue().items():
        cells = tuple(_cell(variant, srv, status) for status in E5_COLUMNS)
        key = (srv in exempt, request.critical, cells)
        groups.setdefault(key, []).append(srv)
    rows = [
        {
            "srvs": [catalogue()[s].label for s in srvs],
            "kind": "Critical" if critical else "Non-Critical",
            "exempt": [
                {
                    "text": exempt[s].describe(),
                    "source": exempt[s].source or variant.source_of("suspended.exceptions"),
                }
                for s in srvs
            ]
            if is_exempt
            else [],
            "cells": [decision(c) for c in cells],
        }
        for (is_exempt, critical, cells), srvs in groups.items()
    ]
    return {"statuses": [STATUS_NAMES[s] for s in E5_COLUMNS], "rows": rows}


# ---------------------------------------------------------------------------------------
# Counterexample stories


def _status_text(device: dict[str, Any]) -> str:
    text = device["status"].replace("_", " ")
    if device["prior_status"]:
        text += f" (before: {device['prior_status'].replace('_', ' ')})"
    return text


def step_data(step: dict[str, Any], label: str | None) -> dict[str, Any]:
    """One step of a story in three lanes: who acts, what the DSP decides, what the device
    does; and the SMI and device views after it."""
    text = step["text"]
    action, effects = (
        (label, text[len(label) + 2 :])
        if label is not None and text.startswith(f"{label}: ")
        else (text, "")
    )
    if step.get("lost"):
        effects = "; ".join(p for p in effects.split("; ") if p != "response lost")
    return {
        "step": step["step"],
        "actor": step["actor"],
        "action": action,
        "effects": effects,
        "accepted": step.get("accepted"),
        "response_code": step.get("response_code"),
        "rule": step.get("rule"),
        "lost": bool(step.get("lost")),
        "forwarded": bool(step.get("forwarded")),
        "cpl": ", ".join(step.get("cpl", [])),
        "cpl_changed": "cpl" in step.get("changes", ()),
        "devices": [
            {
                "name": name,
                "status": _status_text(d),
                "smi_firmware": d["smi_firmware"] or "—",
                "device_firmware": d["device_firmware"] or "—",
            }
            for name, d in step["devices"].items()
        ],
        "joins": [
            {
                "pair": f"{j['target']} / {j['other']}",
                "smi": "joined" if j["smi"] else "not joined",
                "device": "joined" if j["device"] else "not joined",
                "agree": j["smi"] == j["device"],
            }
            for j in step["joins"]
        ],
    }


def story_data(exploration_: Exploration, property_id: str) -> dict[str, Any] | None:
    told = story(exploration_, property_id)
    if told is None:
        return None
    result = exploration_.result(property_id)
    setup = exploration_.universe.setups[exploration_.decode(result.path[0])[0]]
    labels = [
        action_label(setup, exploration_.universe.actions[a]) if a >= 0 else None
        for a in result.actions
    ]
    return {
        "id": property_id,
        "subject": result.subject or "",
        "anchor": f"{property_id}-{slug(result.subject or '')}",
        "expected": "expected" if result.verdict == result.expected else "NOT expected",
        "start": told["start"],
        "steps": [step_data(s, label) for s, label in zip(told["steps"], labels, strict=False)],
        "why": told["why"],
        "causes": causes_data(exploration_, property_id),
    }


_CAUSES: dict[tuple[int, str], Any] = {}


def story_html(exploration_: Exploration, property_id: str) -> str:
    """One counterexample as the report shows it (the story template alone)."""
    told = story_data(exploration_, property_id)
    if told is None:
        return ""
    page = environment().from_string(
        '{% import "macros.html.j2" as m %}{% include "story.html.j2" %}'
    )
    return page.render(s=told)


def causes_data(exploration_: Exploration, property_id: str) -> list[dict[str, Any]]:
    """Every distinct cause of the violation (``checker.causes``), seeds first, each
    with its label, its steps and the rule that decided each."""
    from checker.causes import causes
    from checker.narrate import cause_stories

    # A system told again from another's graph shares its lookup, and so its causes.
    key = (id(exploration_.lookup), property_id)
    if key not in _CAUSES:
        _CAUSES[key] = causes(exploration_, property_id, 4)
    return [
        {
            "tag": cause["tag"],
            "cause": cause["cause"],
            "needs_assumptions": cause["needs_assumptions"],
            "length": cause["length"],
            "steps": [{"text": step["text"], "rule": step.get("rule")} for step in cause["steps"]],
        }
        for cause in cause_stories(exploration_, property_id, 4, _CAUSES[key])
    ]


def coverage_data(v: Variant) -> dict[str, Any]:
    """Rule coverage at the default bounds (``smi-spec check --coverage``): by provenance
    tag, every row and transition exercised with its hits, and those never exercised."""
    from checker.coverage import Coverage
    from checker.coverage import report as coverage_report

    total = Coverage()
    for x in explorations(v):
        if x.coverage is not None:
            total.merge(x.coverage)
    covered = coverage_report(total, v)
    return {
        "by_tag": sorted(covered["by_provenance"].items()),
        "hit": [r for r in covered["rules"] if r["hits"]],
        "never": covered["never_exercised"],
    }


# ---------------------------------------------------------------------------------------
# Sensitivity, verdicts and the variant's rules, for its page


def sensitivity_data(v: Variant) -> dict[str, Any]:
    """Which verdicts hinge on which assumption (``smi-spec check --sensitivity``)."""
    from checker.explorer import Bounds
    from smi_spec.sensitivity_out import variant_sensitivity

    data = variant_sensitivity(v, Bounds())
    for row in data["assumptions"]:
        row["changes_text"] = "; ".join(
            f"{c['property']} for {c['subject']}: {c['was']} → {c['now']}" for c in row["changes"]
        )
    return data


def verdict_rows(explored: Sequence[Exploration]) -> list[dict[str, str]]:
    """One row per property and device type (or pair type), in property order."""
    rows = [
        {
            "id": p.id,
            "subject": p.subject or "",
            "anchor": f"{p.id}-{slug(p.subject or '')}",
            "verdict": p.verdict,
            "expected": p.expected,
            "says": property_text(p.id),
        }
        for e in explored
        for p in e.properties
    ]
    return sorted(rows, key=lambda r: PROPERTY_IDS.index(r["id"]))


_RULE_KEYS: Final = (
    ("suspended.allow_critical", lambda v: str(v.allow_critical).lower()),
    ("suspended.reject_code", lambda v: v.reject_code),
    ("firmware.update_smi_on", lambda v: ", ".join(str(r) for r in v.update_smi_on)),
    ("joins.unjoin_requires_smi_join", lambda v: str(v.unjoin_requires_smi_join).lower()),
    ("joins.unjoin_reject_code", lambda v: v.unjoin_reject_code),
    ("joins.reconcile_smi_from_8_9", lambda v: str(v.reconcile_smi_from_8_9).lower()),
)


def rules_rows(v: Variant) -> list[dict[str, str]]:
    rows = [
        {
            "key": f"suspended.exceptions[{n}]",
            "value": x.describe() + " accepted while Suspended",
            "source": x.source or v.source_of("suspended.exceptions"),
        }
        for n, x in enumerate(v.exceptions)
    ]
    rows += [{"key": k, "value": value(v), "source": v.source_of(k)} for k, value in _RULE_KEYS]
    return rows
