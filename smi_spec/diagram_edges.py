"""The transitions a variant's DSP takes, for its diagrams: every reachable state of the
explorer's closed system (``checker.explorer``, DCC events included) is put through
``model.dsp.step`` with every action, over a recording wrapper of the compiled machines;
each event the DSP sends that moves a machine is an edge, labelled with what caused it
(the SRV, and for an SMI firmware update the variant's ``update_smi_on`` rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final

from checker.explorer import Bounds, cascades, explore
from checker.machine_tables import compiled
from model import join_machine, status_chart
from model.dsp import READ_DEVICE_LOG, Outcome, StepNotAllowed, step
from model.status_chart import HISTORY, DeviceStatusChart, StatusState
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World

STATUS: Final = "status"
JOIN: Final = "join"
MACHINE_TITLES: Final = {STATUS: "SMI device status", JOIN: "join relationship"}


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    """One transition of a machine as a variant's DSP takes it, and what caused it."""

    machine: str
    event: str
    source: str
    target: str
    cause: str
    provenance: str = field(compare=False)
    why: str = field(compare=False)
    rules: tuple[str, ...] = field(compare=False, default=())

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.machine, self.event, self.source, self.target, self.cause)

    def describe(self) -> str:
        return f"{self.source} → {self.target} on {self.event} ({self.cause})"

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "event": self.event,
            "from_state": self.source,
            "to_state": self.target,
            "cause": self.cause,
            "provenance": self.provenance,
            "why": self.why,
            "rules": list(self.rules),
        }


class RecordingMachines:
    """The two methods of :class:`model.machines.Machines`, over the compiled tables, recording
    every (machine, state, event, result) the DSP asks for."""

    def __init__(self) -> None:
        self.inner = compiled()
        self.calls: list[tuple[str, Any, str, Any]] = []

    def status(self, state: StatusState, event: str, version_on_cpl: bool = False) -> StatusState:
        after = self.inner.status(state, event, version_on_cpl)
        self.calls.append((STATUS, state, event, after))
        return after

    def join(self, state: str, event: str) -> str:
        after = self.inner.join(state, event)
        self.calls.append((JOIN, state, event, after))
        return after


@cache
def _status_rows() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The chart's transitions by (event, source)."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in status_chart.describe_transitions():
        rows.setdefault((row["event"], row["source"]), []).append(row)
    return rows


@cache
def _join_rows() -> dict[tuple[str, str, str], dict[str, Any]]:
    """The join machine's transitions by (event, source, target)."""
    return {(r["event"], r["source"], r["target"]): r for r in join_machine.describe_transitions()}


@cache
def _scopes(status: str) -> tuple[str, ...]:
    """The status and the compound states around it, innermost first."""
    scopes = [status]
    parent = DeviceStatusChart.states_map[status].parent
    while parent is not None:
        scopes.append(parent.id)
        parent = parent.parent
    return tuple(scopes)


def _status_row(state: StatusState, event: str, after: StatusState) -> dict[str, Any] | None:
    """The chart transition that took ``state`` to ``after`` on ``event`` (None: no move)."""
    if after == state:
        return None
    rows = _status_rows()
    for scope in _scopes(state[0]):
        for row in rows.get((event, scope), ()):
            if row["target"] == after[0] or (row["target"] == HISTORY and after[0] == state[1]):
                return row
    raise AssertionError(f"no chart transition takes {state} to {after} on {event}")


def _join_row(state: str, event: str, after: str) -> dict[str, Any] | None:
    """The join transition taken (None: an event the machine ignores in this state)."""
    return _join_rows().get((event, state, after))


def _cause(action: Action) -> str:
    if isinstance(action, Request):
        return f"SR{action.srv}"
    if isinstance(action, CplChange):
        return "DCC adds a version to the CPL" if action.listed else "CPL removal"
    if isinstance(action, DccEvent):
        return status_chart.provenance_of(action.event).trigger
    assert isinstance(action, ManualFix)
    return "manual SMI correction by the DCC"


_TAKEN: dict[tuple[str, str], tuple[Edge, ...]] = {}


def _reads(setup: Setup, world: World, action: Action, cascading: bool = False) -> tuple[Any, ...]:
    """The part of the world the DSP reads for ``action`` (the signatures of ``model.dsp``'s
    handlers, as the explorer's memo uses them): equal parts give equal machine calls. An
    action a ``[cascades]`` row follows (``cascading``) reads every join too."""
    if cascading:
        return (world.cpl, world.devices[getattr(action, "target", 0)], world.joins)
    if isinstance(action, CplChange):
        return (world.cpl, world.devices)
    if isinstance(action, ManualFix):
        return (world.joins[action.pair],)
    if isinstance(action, DccEvent):
        return (world.devices[action.target],)
    device = world.devices[action.target]
    if action.other is not None:
        return (device, world.joins[setup.pair_index(action.target, action.other)])
    if action.srv == READ_DEVICE_LOG:
        return (device, tuple(world.joins[i] for i in setup.pairs_of(action.target)))
    return (device, world.cpl)


def _edge(
    variant: Variant, machine: str, call: tuple[Any, str, Any], action: Action, outcome: Outcome
) -> tuple[Edge, str | None] | None:
    """The edge one recorded machine call took, and the rule behind it (None: no move)."""
    state, event, after = call
    row = _status_row(state, event, after) if machine == STATUS else _join_row(state, event, after)
    if row is None:
        return None
    cause = _cause(action)
    rule = None if outcome.rule is None else f"{outcome.rule.id} ({outcome.rule.source})"
    if machine == STATUS and row["trigger"].startswith("SMI firmware"):
        # Moved by an SMI firmware update: name the variant's rule that made it.
        assert isinstance(action, Request)
        update = outcome.smi_update
        source = (update and update.source) or variant.source_of("firmware.update_smi_on")
        message = f"alert {update.message}" if update and update.kind == "alert" else "response"
        cause = f"SR{action.srv} {message} ({update})"
        rule = f"firmware.update_smi_on {update} ({source})"
        if row["event"] == "suspend_on_off_cpl_update":
            # The update only set the version; the suspension is the [cpl] rule's doing.
            off_cpl = variant.source_of("cpl.off_cpl_update_suspends")
            rule = f"cpl.off_cpl_update_suspends ({off_cpl}), after {rule}"
    edge = Edge(
        machine, row["event"], row["source"], row["target"], cause, row["provenance"], row["why"]
    )
    return edge, rule


def taken_edges(variant: Variant) -> tuple[Edge, ...]:
    """Every transition of both machines the variant's DSP takes in the explorer's universe
    (default bounds plus DCC withdrawal and recovery), each with its cause; sorted."""
    key = variant.fingerprint
    if key in _TAKEN:
        return _TAKEN[key]
    exploration = explore(variant, Bounds(dcc_events=True), properties=())
    recorder = RecordingMachines()
    found: dict[tuple[str, ...], Edge] = {}
    rules: dict[tuple[str, ...], set[str]] = {}
    done: set[tuple[Any, ...]] = set()
    for n in range(exploration.states):
        setup_index, world, _ = exploration.decode(n)
        setup = exploration.universe.setups[setup_index]
        for action in exploration.universe.actions:
            local = (setup_index, action, _reads(setup, world, action, cascades(variant, action)))
            if local in done:
                continue
            done.add(local)
            recorder.calls.clear()
            try:
                _, outcome = step(setup, world, action, variant, recorder)
            except StepNotAllowed:
                continue
            for machine, *call in recorder.calls:
                taken = _edge(variant, machine, tuple(call), action, outcome)  # type: ignore[arg-type]
                if taken is not None:
                    edge, rule = taken
                    found.setdefault(edge.key, edge)
                    rules.setdefault(edge.key, set()).update([rule] if rule else [])
    edges = tuple(sorted(replace(edge, rules=tuple(sorted(rules[k]))) for k, edge in found.items()))
    _TAKEN[key] = edges
    return edges


def of_machine(edges: Iterable[Edge], machine: str) -> tuple[Edge, ...]:
    return tuple(e for e in edges if e.machine == machine)


def edge_diff(a: Iterable[Edge], b: Iterable[Edge]) -> dict[str, tuple[Edge, ...]]:
    """Edges only ``b`` takes (added), only ``a`` takes (removed), and both (unchanged)."""
    left = {e.key: e for e in a}
    right = {e.key: e for e in b}
    return {
        "added": tuple(sorted(e for k, e in right.items() if k not in left)),
        "removed": tuple(sorted(e for k, e in left.items() if k not in right)),
        "unchanged": tuple(sorted(e for k, e in right.items() if k in left)),
    }
