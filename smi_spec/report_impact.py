"""The report's fleet impact: per variant, the expected stranded devices and £ a year for the
rates' fleet, the rates with their sources, and the cost against the loss rate as an SVG
plot (matplotlib) inlined in the overview page (docs/fleet.md)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, Final

from markupsafe import Markup

from checker.impact import TypeImpact, impacts
from model.rates import Rates, default_rates
from model.variant import Variant

#: The loss probabilities the plot is drawn at (a response and an alert alike).
LOSSES: Final = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)

_CACHE: dict[tuple[object, ...], list[list[TypeImpact]]] = {}


def _sweep(variants: Sequence[Variant], rates: Rates) -> list[list[TypeImpact]]:
    """Each variant at the rates' loss, then at each of :data:`LOSSES` (one Storm run)."""
    key = (tuple(v.fingerprint for v in variants), rates.path)
    found = _CACHE.get(key)
    if found is None:
        cases = [
            (v, rates if loss is None else rates.with_loss(response=loss, alert=loss))
            for v in variants
            for loss in (None, *LOSSES)
        ]
        found = _CACHE[key] = impacts(cases, int(rates.figure("fleet")))
    return found


def cost_plot(curves: dict[str, list[float]]) -> bytes:
    """Cost a year against the loss probability, one line a variant, as SVG. Text stays
    text (no glyph outlines), labels are never parsed as TeX, and the file is the same on
    every run (no date, fixed ids)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "smi-spec", "text.parse_math": False}
    ):
        figure = Figure(figsize=(7, 4))
        axes = figure.add_subplot()
        for label, costs in curves.items():
            axes.plot(LOSSES, [max(c, 1.0) for c in costs], marker="o", label=label)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("probability that a response or alert is lost")
        axes.set_ylabel("expected £ of manual corrections a year")
        axes.grid(True, which="major", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _self_contained(out.getvalue().decode("utf-8")).encode("utf-8")


def _self_contained(svg: str) -> str:
    """matplotlib's SVG as the report inlines it: no clip paths (every point lies inside the
    axes; the report refuses ``url(`` references), no RDF metadata, and a role and title
    for screen readers."""
    svg = re.sub(r' clip-path="url\(#[^)"]*\)"', "", svg)
    svg = re.sub(r"<clipPath .*?</clipPath>", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(
        r"<svg ([^>]*)>",
        r'<svg \1 role="img" aria-label="Cost against loss rate">'
        "<title>Expected cost of manual corrections a year against the loss rate</title>",
        svg,
        count=1,
    )


def impact_section(variants: Sequence[Variant], inline: Any) -> dict[str, Any]:
    """The data of the overview's impact section; ``inline`` checks and inlines an SVG."""
    rates = default_rates()
    found = _sweep(variants, rates)
    per = len(LOSSES) + 1
    rows = []
    for n, v in enumerate(variants):
        for t in found[n * per]:
            low, high = t.interval()
            rows.append(
                {
                    "variant": v.id,
                    "type": t.system.describe(),
                    "probability": f"{t.probability:.3g}",
                    "stranded": f"{t.expected:,.1f}",
                    "interval": f"{low:,}–{high:,}",
                    "cost": f"£{t.cost:,.0f}",
                }
            )
    curves = {
        v.id: [sum(t.cost for t in found[n * per + 1 + k]) for k in range(len(LOSSES))]
        for n, v in enumerate(variants)
    }
    plot: Markup = inline("impact-cost-against-loss", cost_plot(curves))
    return {
        "fleet": f"{int(rates.figure('fleet')):,}",
        "loss": f"{rates.loss['response'].value:g}",
        "rows": rows,
        "rates": [{k: str(v) for k, v in row.items()} for row in rates.rows()],
        "plot": plot,
    }
