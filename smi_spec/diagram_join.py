"""The join relationship machine as DOT, built with ``graphviz.Digraph`` from the very
tables ``model.join_machine`` builds its machine from (``STATES``, ``TRANSITIONS``); one
edge per transition, a self-loop routed through a point of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

import graphviz

from model import join_machine
from smi_spec.diagram_drawn import FONT, Drawn, _lines, _text

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
