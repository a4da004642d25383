"""Rule coverage: which table rows and machine transitions a check exercised, how often.

A row is exercised by a transition when it acted in it (``checker.decisive``), when it
decided a request's applicability, or, for a firmware route and a device type, when a
request on that route or to that type was served. A machine transition is exercised when the
DSP fired it. Hit counts are numbers of distinct local transitions of the explored system
(the explorer evaluates each once, memoised on the part of the state it reads), so they
compare rules with one another at the same bounds, not runs of the system.

Row ids are those of ``model.rulebook`` (``smi-spec rules``); transition ids are
``device status: EVENT SOURCE -> TARGET`` and ``join: ...`` as ``smi-spec rules`` prints them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from checker.decisive import applied_rules
from model import join_machine, status_chart
from model.dsp import Outcome, asked_of
from model.machines import Machines
from model.messages import does
from model.pipeline import trace
from model.rulebook import table_rules
from model.status_chart import OPERATIONAL, StatusState
from model.variant import Variant
from model.world import Action, Request, Setup, World

STATUS, JOIN = "device status", "join"
#: Decision ids that name a row of check E5 by one of its columns.
_E5_COLUMN = re.compile(r"^(suspended|e5\.[a-z_]+)\.(admits|allow_critical|reject_code)$")


def transition_id(machine: str, event: str, source: str, target: str) -> str:
    return f"{machine}: {event} {source} -> {target}"


def machine_rows() -> list[dict[str, Any]]:
    """Every transition of both machines, with its provenance (as ``smi-spec rules``)."""
    rows = []
    for machine, described in (
        (STATUS, status_chart.describe_transitions()),
        (JOIN, join_machine.describe_transitions()),
    ):
        for r in described:
            rule = transition_id(machine, r["event"], r["source"], r["target"])
            rows.append({"rule": rule, "provenance": r["provenance"], "table": machine, **r})
    return rows


@cache
def _status_transitions() -> tuple[dict[str, Any], ...]:
    """The chart's transitions, read once (building them reads the live chart)."""
    return tuple(status_chart.describe_transitions())


@cache
def _join_rows() -> dict[tuple[str, str], str]:
    """(event, source) -> the join machine transition's id, read once from the machine."""
    rows: dict[tuple[str, str], str] = {}
    for r in join_machine.describe_transitions():  # the first transition wins, as it fires
        key = (r["event"], r["source"])
        rows.setdefault(key, transition_id(JOIN, r["event"], r["source"], r["target"]))
    return rows


def _status_row(state: StatusState, event: str) -> str | None:
    for r in _status_transitions():
        if r["event"] != event:
            continue
        if r["source"] == state[0] or (r["source"] == "operational" and state[0] in OPERATIONAL):
            return transition_id(STATUS, event, r["source"], r["target"])
    return None


def _join_row(state: str, event: str) -> str | None:
    return _join_rows().get((event, state))


class CountingMachines:
    """A :class:`model.machines.Machines` that notes every transition the DSP fires."""

    def __init__(self, inner: Machines) -> None:
        self.inner = inner
        self.fired: list[str] = []

    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        after = self.inner.status(state, event, version_on_cpl)
        if after != state:
            found = _status_row(state, event)
            if found is not None:
                self.fired.append(found)
        return after

    def join(self, state: str, event: str) -> str:
        after = self.inner.join(state, event)
        found = _join_row(state, event)
        if found is not None:
            self.fired.append(found)
        return after


@dataclass
class Coverage:
    """Hit counts of rule ids and transition ids."""

    hits: Counter[str] = field(default_factory=Counter)

    def record(
        self,
        setup: Setup,
        before: World,
        action: Action,
        after: World,
        outcome: Outcome,
        variant: Variant,
        fired: list[str],
    ) -> None:
        """Count what one local transition exercised (each id once)."""
        ids = {_row_id(r.id) for r in applied_rules(setup, before, action, after, outcome, variant)}
        ids.update(fired)
        if isinstance(action, Request):
            spec = setup.devices[action.target]
            ids.add(f"device_types.{spec.type}")
            if action.other is not None:
                ids.add(f"device_types.{setup.devices[action.other].type}")
            if outcome.accepted is not None:
                ids.add(f"applicability[{action.srv}]")
            route = variant.route(spec.type)
            on_route = route is not None and action.srv in (route.deliver, route.activate)
            if outcome.accepted and route is not None and route.exists and on_route:
                ids.add(f"firmware.routes.{spec.type}")
            if does(variant.messages, action.srv) == "read-device-log" and outcome.accepted:
                ids.add("joins.reconcile_smi_from_8_9")
            if action.srv in variant.messages:
                ids.add(f"messages[{action.srv}]")
            ids.update(_checks_run(variant, setup, before, action))
        self.hits.update(ids)

    def merge(self, other: Coverage) -> None:
        self.hits.update(other.hits)


def _checks_run(variant: Variant, setup: Setup, before: World, request: Request) -> set[str]:
    """The pipeline rows (``pipeline.checks[N]``) that judged this request: each check that
    passed it or refused it, as ``smi-spec explain`` traces them; a check that did not apply
    (no image, not an Unjoin) or was not reached is not exercised; the join validation,
    which reads the SMI join and so is "decided later", is exercised by every Unjoin."""
    spec = setup.devices[request.target]
    asked = asked_of(variant, spec, before.devices[request.target], request, before.cpl)
    return {
        row["row"]
        for row in trace(variant, asked)
        if row["result"] in ("passed", "decided later") or row["result"].startswith("rejected")
    }


def _row_id(rule_id: str) -> str:
    """The rulebook row a decision's rule id names (``e5.commissioned.admits`` is a column of
    the row ``e5.commissioned``)."""
    found = _E5_COLUMN.match(rule_id)
    return found.group(1) if found else rule_id


def report(coverage: Coverage, variant: Variant) -> dict[str, Any]:
    """Every table row and machine transition with its hit count, by provenance tag, and
    the ones never exercised."""
    rows = [
        {"id": r["rule"], "kind": "table row", "table": r["table"], "provenance": r["provenance"]}
        for r in table_rules(variant)
    ]
    rows += [
        {"id": r["rule"], "kind": "transition", "table": r["table"], "provenance": r["provenance"]}
        for r in machine_rows()
    ]
    known = {r["id"] for r in rows}
    rows += [
        {"id": rule_id, "kind": "other rule", "table": "", "provenance": ""}
        for rule_id in sorted(coverage.hits)
        if rule_id not in known
    ]
    for r in rows:
        r["hits"] = coverage.hits.get(r["id"], 0)
    by_tag: dict[str, dict[str, int]] = {}
    for r in rows:
        for tag in (r["provenance"] or "unknown").split(","):
            entry = by_tag.setdefault(tag, {"rules": 0, "exercised": 0})
            entry["rules"] += 1
            entry["exercised"] += r["hits"] > 0
    return {
        "rules": rows,
        "by_provenance": by_tag,
        "never_exercised": [r["id"] for r in rows if r["hits"] == 0],
    }
