"""The device status statechart as DOT, built with ``graphviz.Digraph`` from
``DeviceStatusChart``'s public class API (``states``, ``history``, ``initial``, ``final``,
``name``); no class of python-statemachine is extended. The layout is the one
python-statemachine's own renderer gave: the compound state ``operational`` a cluster,
entered and left through an invisible anchor node; states grouped in an unlabelled cluster
per level; a black dot for each initial state; H for the HistoryState.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Final

import graphviz
from statemachine import HistoryType, State

from model.status_chart import DeviceStatusChart
from smi_spec.diagram_drawn import FONT, Drawn, _lines, _text

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
