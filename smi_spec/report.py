"""The reviewers' report: static HTML generated from the machines, catalogue and variants.

Every page opens from disk with no server and no network: the CSS is inline, the diagrams
are inlined SVG (so their edge tooltips work) with the SVG and DOT files beside the pages,
there is no script and no external font. The pages come from the Jinja2 templates in
``smi_spec/templates`` with autoescaping on: this module passes them data, never HTML, and
the only markup it hands over is the SVG of the project's own diagram renderer, checked
before it is inlined. The report is built in a temporary directory beside ``--out`` and
moved into place only when complete, so a failure never leaves a half-written report.

Sources: verdicts and counterexamples from ``checker.explorer`` and
``checker.narrate``; diagrams from ``smi_spec.diagrams``; check E5 from ``model.dsp``;
diffs from ``smi_spec.diff``. This module builds the pages and writes them; the HTML
machinery is in ``smi_spec.report_html``, each section's data in ``smi_spec.report_sections``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.variant import Variant
from smi_spec import diagrams as dg
from smi_spec.diff import explorations, unexpected, variant_diff
from smi_spec.outputs import check_out_directory, replace_directory
from smi_spec.report_html import MIN_DIAGRAM_TEXT_PX as MIN_DIAGRAM_TEXT_PX
from smi_spec.report_html import environment as environment
from smi_spec.report_html import figure, inline_svg, property_text, render, slug
from smi_spec.report_impact import impact_section
from smi_spec.report_packs import pack_data
from smi_spec.report_sections import (
    STATUS_NAMES,
    coverage_data,
    decision,
    e5_table,
    edge_rows,
    rules_rows,
    sensitivity_data,
    step_data,
    story_data,
    verdict_rows,
)
from smi_spec.report_sections import story_html as story_html

MARKER: Final = ".smi-spec-report"


# ---------------------------------------------------------------------------------------
# Pages


def variant_page(v: Variant, diagrams: Sequence[dg.Diagram], svgs: dict[str, bytes]) -> dict:
    explored = explorations(v)
    x = explored[0]
    machines = []
    for machine in (dg.STATUS, dg.JOIN):
        diagram = dg.diagram_for(diagrams, machine, v.id)
        note = ""
        if diagram is not None and diagram.variants[0] != v.id:
            note = f" (the same transitions as under {diagram.variants[0]})"
        machines.append(
            {
                "title": dg.MACHINE_TITLES[machine],
                "figure": figure(diagram, svgs, note),
                "edges": edge_rows(machine, v),
            }
        )
    stories = [
        story_data(e, p.id) for e in explored for p in e.properties if p.verdict == "violated"
    ]
    return {
        "id": v.id,
        "meta": [
            ("Id", v.id),
            ("File", Path(v.path).name),
            ("Extends", v.extends or "—"),
            ("Effective", v.effective or "—"),
            ("Sources", ", ".join(v.sources) or "assumption"),
            (
                "Explored",
                f"{x.bounds.describe()}; "
                + "; ".join(
                    f"{e.system.describe()}: {e.states:,} states, {e.transitions:,} transitions"
                    for e in explored
                ),
            ),
        ],
        "verdicts": verdict_rows(explored),
        "rules": rules_rows(v),
        "machines": machines,
        "e5": e5_table(v),
        "stories": [s for s in stories if s is not None],
        "coverage": coverage_data(v),
        "sensitivity": sensitivity_data(v),
        "pack": pack_data(v, step_data),
    }


def diff_page(d: dict[str, Any], diagrams: Sequence[dg.Diagram], svgs: dict[str, bytes]) -> dict:
    a, b = d["from"]["id"], d["to"]["id"]
    return {
        "a": d["from"],
        "b": d["to"],
        "bounds": d["bounds"],
        "verdicts": d["verdicts"],
        "rules": d["rules"],
        "check_e5": [
            {
                "request": f"SR{c['srv']} {c['name']}",
                "status": STATUS_NAMES[c["status"]],
                "from": decision(c["from"]),
                "to": decision(c["to"]),
                "when": c["conditions"]["text"],
                "rule": c["rule"]["text"],
                "source": c["source"],
            }
            for c in d["check_e5"]
        ],
        "transitions": [
            {
                "transition": f"{t['from_state']} → {t['to_state']}",
                "change": k,
                "machine": t["machine"],
                "event": t["event"].replace("_", " "),
                "cause": t["cause"],
                "provenance": t["provenance"],
            }
            for k in ("added", "removed")
            for t in d["transitions"][k]
        ],
        "machines": [
            {
                "title": dg.MACHINE_TITLES[machine],
                "figure": figure(dg.diff_diagram_for(diagrams, machine, a, b), svgs),
            }
            for machine in (dg.STATUS, dg.JOIN)
        ],
    }


def index_page(
    variants: Sequence[Variant],
    ids: dict[str, str],
    diffs: Sequence[tuple[str, str, str]],
    diagrams: Sequence[dg.Diagram],
    svgs: dict[str, bytes],
) -> dict[str, Any]:
    explored = {v.id: explorations(v) for v in variants}
    verdicts = []
    for property_id in PROPERTY_IDS:
        cells = []
        for v in variants:
            found = [p for e in explored[v.id] for p in e.properties if p.id == property_id]
            violated = [p.subject or "" for p in found if p.verdict == "violated"]
            verdict = "violated" if violated else "holds"
            # Marked unexpected when any device type's verdict is not what [expect] says.
            surprise = any(p.verdict != p.expected for p in found)
            cells.append(
                {
                    "href": f"{ids[v.id]}#verdicts",
                    "verdict": verdict,
                    "expected": ("holds" if violated else "violated") if surprise else verdict,
                    "note": f"for {', '.join(violated)}" if 0 < len(violated) < len(found) else "",
                }
            )
        verdicts.append({"id": property_id, "cells": cells, "says": property_text(property_id)})
    first = next(iter(explored.values()), [])
    return {
        "variant_ids": [v.id for v in variants],
        "bounds": first[0].bounds.describe() if first else "",
        "verdicts": verdicts,
        "variants": [
            {
                "id": v.id,
                "href": ids[v.id],
                "title": v.title,
                "effective": v.effective or "",
                "sources": ",".join(v.sources),
            }
            for v in variants
        ],
        "diffs": [{"href": href, "a": a, "b": b} for href, a, b in diffs],
        "definitions": [figure(d, svgs) for d in diagrams if d.kind == "definition"],
        "impact": impact_section(variants, inline_svg),
    }


# ---------------------------------------------------------------------------------------
# Building and writing


def _page_names(variants: Sequence[Variant]) -> dict[str, str]:
    names: dict[str, str] = {}
    for v in variants:
        name = f"variant-{slug(v.id)}.html"
        n = 2
        while name in names.values():
            name = f"variant-{slug(v.id)}-{n}.html"
            n += 1
        names[v.id] = name
    return names


def render_pages(variants: Sequence[Variant]) -> tuple[dict[str, bytes], list[dict[str, str]]]:
    """Every file of the report (path relative to its root -> bytes), and the unexpected
    verdicts."""
    if not variants:
        raise InputError("the report needs at least one variant")
    if len({v.id for v in variants}) != len(variants):
        raise InputError("two variants share an id; give each variant file its own id")
    diagrams = dg.diagram_set(variants)
    svgs = {n: data for n, data in dg.files_of(diagrams).items() if n != dg.MANIFEST}
    ids = _page_names(variants)
    diffs = [(f"diff-{slug(a.id)}-{slug(b.id)}.html", a, b) for a, b in pairwise(variants)]
    nav = [("index.html", "Overview")]
    nav += [(ids[v.id], v.id) for v in variants]
    nav += [(href, f"{a.id} → {b.id}") for href, a, b in diffs]
    files: dict[str, str] = {}
    index = index_page(variants, ids, [(h, a.id, b.id) for h, a, b in diffs], diagrams, svgs)
    files["index.html"] = render(
        "index.html.j2",
        title="SMI rules: the reviewers' report",
        nav=nav,
        current="index.html",
        **index,
    )
    for v in variants:
        files[ids[v.id]] = render(
            "variant.html.j2",
            title=f"{v.id}: {v.title}",
            nav=nav,
            current=ids[v.id],
            **variant_page(v, diagrams, svgs),
        )
    for href, a, b in diffs:
        files[href] = render(
            "diff.html.j2",
            title=f"From {a.id} to {b.id}",
            nav=nav,
            current=href,
            **diff_page(variant_diff(a, b), diagrams, svgs),
        )
    out = {name: text.encode("utf-8") for name, text in files.items()}
    out.update({f"diagrams/{name}": data for name, data in svgs.items()})
    out[MARKER] = b"generated by smi-spec report; this directory is replaced on every run\n"
    return out, unexpected(*variants)


def _check_out(out: Path) -> None:
    check_out_directory(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InputError(
            f"--out {out}: a non-empty directory that is not a previous report; "
            "choose a new or empty directory"
        )
    parent = out.resolve().parent
    if not parent.is_dir():
        raise InputError(f"--out {out}: the directory {parent} does not exist")


def write_tree(out: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` beside ``out`` and swap them into place in one atomic step
    (``smi_spec.outputs``); leftovers of a killed run are cleaned up first."""
    _check_out(out)
    replace_directory(out, files)


def build_report(out: Path, variants: Sequence[Variant]) -> dict[str, Any]:
    """Generate the report into ``out`` (replacing a previous report there)."""
    _check_out(out)
    files, surprises = render_pages(variants)
    write_tree(out, files)
    return {
        "out": str(out),
        "index": str(out / "index.html"),
        "pages": sorted(n for n in files if n.endswith(".html")),
        "diagrams": sorted(n for n in files if n.startswith("diagrams/") and n.endswith(".svg")),
        "unexpected": surprises,
    }
