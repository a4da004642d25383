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
diffs from ``smi_spec.diff``.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Sequence
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree as XmlTree

from defusedxml import ElementTree
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from checker.explorer import Exploration, why_stuck
from checker.narrate import action_label, story
from model.catalogue import catalogue
from model.dsp import check_e5
from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.status_chart import STATUSES
from model.variant import Variant
from properties import safety
from properties.recoverability import GOOD
from smi_spec import diagrams as dg
from smi_spec.diff import ALL_CONDITIONS, conditions, explorations, unexpected, variant_diff
from smi_spec.outputs import check_out_directory, replace_directory
from smi_spec.report_impact import impact_section
from smi_spec.report_packs import pack_data

MARKER: Final = ".smi-spec-report"
STATUS_NAMES: Final = {s: s.replace("_", " ") for s in STATUSES}
#: Check E5 table columns: Suspended first, the status the exception list is about.
E5_COLUMNS: Final = ("suspended", *(s for s in STATUSES if s != "suspended"))
#: The smallest text a diagram may show at desktop width, in CSS pixels.
MIN_DIAGRAM_TEXT_PX: Final = 11.0


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "variant"


@cache
def environment() -> Environment:
    """The report's templates, autoescaping every value they are given."""
    return Environment(
        loader=PackageLoader("smi_spec", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **data: Any) -> str:
    return environment().get_template(template).render(**data)


# ---------------------------------------------------------------------------------------
# What each property says, read from the properties' own docstrings


def property_text(property_id: str) -> str:
    """The one-line statement of a property, from the docstring of its check."""
    if property_id in GOOD:
        # The explorer's own account of a violation, turned round into what must hold.
        stuck = why_stuck(property_id)
        found = re.fullmatch(r"no way back: from here, (.*), no state is reachable (.*)", stuck)
        if found:
            with_, where = found.groups()
            return f"From every reachable state, {with_}, a state is reachable {where}."
        return inspect.getdoc(GOOD[property_id]) or ""
    for _, function in inspect.getmembers(safety, inspect.isfunction):
        doc = inspect.getdoc(function) or ""
        if doc.startswith(f"{property_id}:"):
            text = " ".join(doc.split(":", 1)[1].split())
            return text[:1].upper() + text[1:]
    return ""


# ---------------------------------------------------------------------------------------
# Diagrams, inlined

_SVG_NS: Final = "http://www.w3.org/2000/svg"
_XLINK_NS: Final = "http://www.w3.org/1999/xlink"
# Serialised SVG keeps SVG as its default namespace and xlink:title as HTML parses it.
XmlTree.register_namespace("", _SVG_NS)
XmlTree.register_namespace("xlink", _XLINK_NS)
_ACTIVE: Final = frozenset({"script", "foreignObject", "iframe", "object", "embed", "handler"})
_SAFE_HREF: Final = re.compile(r"(#|diagrams/|[A-Za-z0-9_.-]+\.(svg|dot|html)(#|$))")


def inline_svg(name: str, data: bytes) -> Markup:
    """A diagram's SVG for inlining in a page, sized so its smallest text is at least
    ``MIN_DIAGRAM_TEXT_PX`` pixels; ids prefixed with the diagram's name (one page holds
    several diagrams).

    Only SVG from the project's own renderer comes here, and it is checked, not trusted:
    well-formed XML with no DTD (defusedxml), no script or foreign content, no event
    handler, no link outside the report. Anything else is refused, never inlined.
    """
    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml's and expat's errors alike
        raise InputError(f"diagram {name}: not safe SVG to inline ({exc})") from None
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise InputError(f"diagram {name}: not safe SVG to inline (no SVG root element)")
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in _ACTIVE:
            raise InputError(f"diagram {name}: refused to inline a <{local}> element")
        for attribute, value in element.attrib.items():
            key = attribute.rsplit("}", 1)[-1]
            if key.lower().startswith("on"):
                raise InputError(f"diagram {name}: refused to inline an {key} attribute")
            if key == "href" and not _SAFE_HREF.match(value.strip()):
                raise InputError(f"diagram {name}: refused to inline a link to {value!r}")
    for element in root.iter():
        if "id" in element.attrib:
            element.set("id", f"{name}-{element.attrib['id']}")
    _scale(root)
    # Ids prefixed and size set on the parsed tree, serialised anew (no XML prologue, DTD or
    # comment), every text and attribute XML-escaped by ElementTree's serialiser.
    text = XmlTree.tostring(root, encoding="unicode")
    return Markup(text)  # checked above


def _scale(root: Any) -> None:
    """Size the root ``<svg>`` (given in pt) in CSS px so its smallest text is at least
    ``MIN_DIAGRAM_TEXT_PX``: 1pt is 4/3 px, scaled up further when the smallest text would
    be under the floor."""
    width, height = (root.get(key, "") for key in ("width", "height"))
    if not (width.endswith("pt") and height.endswith("pt")):
        return
    sizes = []
    for element in root.iter():
        try:
            sizes.append(float(element.get("font-size", "")))
        except ValueError:
            continue
    scale = max(4 / 3, MIN_DIAGRAM_TEXT_PX / min(sizes, default=MIN_DIAGRAM_TEXT_PX))
    root.set("width", str(math.ceil(float(width[:-2]) * scale)))
    root.set("height", str(math.ceil(float(height[:-2]) * scale)))


def figure(diagram: dg.Diagram | None, svgs: dict[str, bytes], note: str = "") -> Any:
    if diagram is None:
        return None
    return {
        "name": diagram.name,
        "title": diagram.title,
        "alt": diagram.alt,
        "note": note,
        "svg": inline_svg(diagram.name, svgs[f"{diagram.name}.svg"]),
    }


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


def _step(step: dict[str, Any], label: str | None) -> dict[str, Any]:
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
        "steps": [_step(s, label) for s, label in zip(told["steps"], labels, strict=False)],
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
# Pages


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
        "pack": pack_data(v, _step),
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
