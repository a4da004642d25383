"""The reviewers' report: static HTML generated from the machines, catalogue and variants.

Every page opens from disk with no server and no network: the CSS is inline, the diagrams
are SVG files beside the pages, there is no script and no external font. All text is
escaped. The report is built in a temporary directory beside ``--out`` and moved into place
only when complete, so a failure never leaves a half-written report.

Sources: verdicts and counterexamples from ``properties.explorer`` and
``properties.narrate``; diagrams from ``smi_spec.diagrams``; check E5 from ``model.dsp``;
diffs from ``smi_spec.diff``.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from model.catalogue import catalogue
from model.dsp import check_e5
from model.errors import InputError
from model.status_chart import STATUSES
from model.variant import Variant
from properties import safety
from properties.explorer import Exploration, why_stuck
from properties.ids import PROPERTY_IDS
from properties.narrate import action_label, story
from properties.recoverability import GOOD
from smi_spec import diagrams as dg
from smi_spec.diff import ALL_CONDITIONS, conditions, exploration, unexpected, variant_diff

MARKER: Final = ".smi-spec-report"
STATUS_NAMES: Final = {s: s.replace("_", " ") for s in STATUSES}
#: Check E5 table columns: Suspended first, the status the exception list is about.
E5_COLUMNS: Final = ("suspended", *(s for s in STATUSES if s != "suspended"))


def e(text: object) -> str:
    """Escape any value for HTML text or attribute content."""
    return html.escape("" if text is None else str(text), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "variant"


# ---------------------------------------------------------------------------------------
# Page frame


CSS: Final = """
:root { --ink:#1d2327; --muted:#50575e; --line:#d0d7de; --bg:#ffffff; --soft:#f6f8fa;
  --holds:#116329; --holds-bg:#dafbe1; --violated:#a40e26; --violated-bg:#ffebe9;
  --warn:#7d4e00; --warn-bg:#fff8c5; --accent:#0b5cad; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; color:var(--ink); background:var(--bg); line-height:1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; font-size: 1rem; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position:absolute; left:-999px; top:0; background:#fff; padding:.5rem; }
.skip:focus { left:.5rem; }
header { background:#0f2a3f; color:#fff; padding:.75rem 1rem; }
header a { color:#fff; }
.brand { margin:0 0 .25rem; font-weight:700; letter-spacing:.02em; }
nav ul { list-style:none; margin:0; padding:0; display:flex; flex-wrap:wrap; gap:.25rem 1rem; }
nav a[aria-current="page"] { font-weight:700; text-decoration-thickness:3px; }
main { max-width: 76rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.7rem; line-height:1.25; margin: .5rem 0 .75rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line);
  padding-bottom: .25rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
p.lead { font-size: 1.05rem; color: var(--muted); max-width: 60rem; }
dl.meta { display:grid; grid-template-columns: max-content 1fr; gap:.2rem 1rem; margin:0; }
dl.meta dt { font-weight:600; color: var(--muted); }
dl.meta dd { margin:0; overflow-wrap:anywhere; }
.scroll { overflow-x:auto; -webkit-overflow-scrolling: touch; margin: .5rem 0 1rem;
  border:1px solid var(--line); border-radius:6px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align:left; padding:.5rem .75rem; font-weight:600; color: var(--muted); }
th, td { padding: .4rem .65rem; border-top: 1px solid var(--line); text-align:left;
  vertical-align: top; }
thead th { background: var(--soft); border-top:none; white-space: nowrap; }
tbody th { font-weight: 600; overflow-wrap: anywhere; }
.says { display: block; min-width: 22rem; }
table.e5 tbody th { min-width: 15rem; }
table.e5 td:nth-child(2) { background: #fbf7ea; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius: 999px; font-weight:600;
  font-size:.85rem; white-space: nowrap; }
.holds { color: var(--holds); background: var(--holds-bg); }
.violated { color: var(--violated); background: var(--violated-bg); }
.unexpected { color: var(--warn); background: var(--warn-bg); border:1px solid #d4a72c; }
.accepted { color: var(--holds); }
.rejected { color: var(--violated); }
.conditional { color: var(--warn); }
.added { color: var(--holds); font-weight:600; }
.removed { color: var(--violated); font-weight:600; }
.tag { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size:.85rem; background: var(--soft); padding: 0 .3rem; border-radius:4px;
  white-space: nowrap; }
.star { color:#7d4e00; font-weight:700; }
figure { margin: 1rem 0 1.5rem; }
figure .frame { overflow-x:auto; border:1px solid var(--line); border-radius:6px;
  background:#fff; }
figure a.full { display:block; padding:.5rem; min-width: 44rem; }
figure img { display:block; width:100%; height:auto; }
figcaption { color: var(--muted); font-size:.92rem; margin-top:.4rem; }
details { margin:.5rem 0; }
summary { cursor:pointer; color: var(--accent); }
ol.story { list-style:none; padding:0; margin: .75rem 0; counter-reset: step; }
ol.story > li { border:1px solid var(--line); border-radius:8px; margin:.6rem 0;
  padding:.6rem .75rem; background:#fff; }
.step-no { font-weight:700; margin-right:.35rem; }
.lanes { display:grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap:.5rem;
  margin-top:.35rem; }
.lane { border-left: 4px solid var(--line); padding: .25rem .5rem; background: var(--soft);
  border-radius: 0 6px 6px 0; overflow-wrap:anywhere; }
.lane .who { display:block; font-size:.78rem; text-transform: uppercase;
  letter-spacing:.05em; color: var(--muted); font-weight:700; }
.lane.actor { border-color:#0b5cad; }
.lane.dsp { border-color:#8e3b8e; }
.lane.device { border-color:#116329; }
.lost { color:#fff; background: var(--violated); }
.why { border-left: 4px solid var(--violated); background: var(--violated-bg);
  padding:.5rem .75rem; border-radius: 0 6px 6px 0; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
  gap:.75rem; padding:0; list-style:none; }
.cards li { border:1px solid var(--line); border-radius:8px; padding:.75rem; }
footer { max-width: 76rem; margin: 2rem auto 0; padding: 1rem; color: var(--muted);
  font-size: .88rem; border-top:1px solid var(--line); }
@media (max-width: 40rem) {
  h1 { font-size: 1.35rem; }
  main { padding: .75rem; }
  .lanes { grid-template-columns: 1fr; }
  dl.meta { grid-template-columns: 1fr; }
  dl.meta dd { margin-bottom:.4rem; }
}
@media print { header nav, .skip { display:none; } a.full { border:none; } }
"""


def page(title: str, body: str, nav: Sequence[tuple[str, str]], current: str) -> str:
    """One complete HTML document."""
    links = "".join(
        f'<li><a href="{e(href)}"'
        + (' aria-current="page"' if href == current else "")
        + f">{e(text)}</a></li>"
        for href, text in nav
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{e(title)} · smi-spec report</title>\n<style>{CSS}</style>\n</head>\n"
        '<body>\n<a class="skip" href="#main">Skip to the content</a>\n'
        '<header><p class="brand">smi-spec: the DSP\'s Smart Metering Inventory rules</p>'
        f'<nav aria-label="Report pages"><ul>{links}</ul></nav></header>\n'
        f'<main id="main">\n<h1>{e(title)}</h1>\n{body}\n</main>\n'
        "<footer>Generated by <code>smi-spec report</code> from the status statechart, the "
        "join machine, the DUIS catalogue and the variant files: nothing here is drawn or "
        "typed by hand. Provenance tags: <span class=tag>seed:MP105</span>, "
        "<span class=tag>seed:MP178</span>, <span class=tag>duis</span>, "
        "<span class=tag>assumption</span>.</footer>\n</body>\n</html>\n"
    )


def table(
    caption: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_headers: bool = True,
    css_class: str = "",
) -> str:
    """A table whose cells are already HTML; the first cell of a row is its header."""
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = [
            f'<th scope="row">{cell}</th>' if n == 0 and row_headers else f"<td>{cell}</td>"
            for n, cell in enumerate(row)
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        return f"<p>{e(caption)}: none.</p>"
    return (
        f'<div class="scroll" role="region" aria-label="{e(caption)}" tabindex="0">'
        f'<table class="{e(css_class)}">'
        f"<caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def tag(source: str | None) -> str:
    return " ".join(f'<span class="tag">{e(t)}</span>' for t in (source or "").split(",") if t)


def verdict_badge(verdict: str, expected: str | None = None) -> str:
    badge = f'<span class="badge {e(verdict)}">{e(verdict)}</span>'
    if expected is not None and verdict != expected:
        badge += f' <span class="badge unexpected">unexpected: expected {e(expected)}</span>'
    return badge


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
# Diagrams


def figure(diagram: dg.Diagram | None, note: str = "") -> str:
    if diagram is None:
        return ""
    src = f"diagrams/{diagram.name}.svg"
    return (
        f'<figure><div class="frame"><a class="full" href="{e(src)}" '
        'title="Open the diagram full size">'
        f'<img src="{e(src)}" alt="{e(diagram.alt)}"></a></div>'
        f"<figcaption>{e(diagram.title)}{e(note)}. "
        f'<a href="{e(src)}">Full size SVG</a> · '
        f'<a href="diagrams/{e(diagram.name)}.dot">DOT source</a></figcaption></figure>'
    )


def edges_table(machine: str, variant: Variant) -> str:
    edges = dg.of_machine(dg.taken_edges(variant), machine)
    rows = [
        [
            e(f"{x.source} → {x.target}"),
            e(x.event.replace("_", " ")),
            e(x.cause),
            tag(x.provenance),
            "<br>".join(e(r) for r in x.rules),
        ]
        for x in edges
    ]
    return (
        f"<details><summary>The {e(dg.MACHINE_TITLES[machine])} transitions the "
        f"{e(variant.id)} DSP takes, as a table ({len(rows)})</summary>"
        + table(
            f"Transitions taken under {variant.id}",
            ["Transition", "Event", "Caused by", "Provenance", "Rules that decided it"],
            rows,
        )
        + "</details>"
    )


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


def _cell_html(text: str) -> str:
    kind = (
        "accepted"
        if text == "accepted"
        else "rejected"
        if text.startswith("rejected")
        else "conditional"
    )
    return f'<span class="{kind}">{e(text)}</span>'


def e5_table(variant: Variant) -> str:
    """Statuses × SRVs, SRVs with the same decision in every status grouped on one row;
    the exception list's entries marked ★ with their source."""
    exempt = {x.srv: x for x in variant.exceptions}
    groups: dict[tuple[Any, ...], list[str]] = {}
    for srv, request in catalogue().items():
        cells = tuple(_cell(variant, srv, status) for status in E5_COLUMNS)
        key = (srv in exempt, request.critical, cells)
        groups.setdefault(key, []).append(srv)
    rows = []
    for (is_exempt, critical, cells), srvs in groups.items():
        kind = "Critical" if critical else "Non-Critical"
        if len(srvs) <= 3:
            label = "<br>".join(e(catalogue()[s].label) for s in srvs)
        else:
            names = "".join(f"<li>{e(catalogue()[s].label)}</li>" for s in srvs)
            label = (
                f"{len(srvs)} {kind} SRVs<details><summary>which</summary>"
                f"<ul>{names}</ul></details>"
            )
        if is_exempt:
            marks = "".join(
                f'<br><span class="star">★ exception list</span>: {e(exempt[s].describe())} '
                f"{tag(exempt[s].source or variant.source_of('suspended.exceptions'))}"
                for s in srvs
            )
            label += marks
        else:
            label += f'<br><span class="tag">{e(kind)}</span>'
        rows.append([label, *(_cell_html(c) for c in cells)])
    return table(
        f"Check E5 under {variant.id}: each row is a set of SRVs with the same decision "
        "in every status",
        ["SRVs", *(STATUS_NAMES[s] for s in E5_COLUMNS)],
        rows,
        css_class="e5",
    )


# ---------------------------------------------------------------------------------------
# Counterexample stories


def _views(step: dict[str, Any]) -> str:
    devices = [
        [
            e(name),
            e(d["status"].replace("_", " "))
            + (f" (before: {e(d['prior_status'].replace('_', ' '))})" if d["prior_status"] else ""),
            e(d["smi_firmware"] or "—"),
            e(d["device_firmware"] or "—"),
        ]
        for name, d in step["devices"].items()
    ]
    joins = [
        [
            e(f"{j['target']} / {j['other']}"),
            "joined" if j["smi"] else "not joined",
            "joined" if j["device"] else "not joined",
            "in sync" if j["smi"] == j["device"] else "<strong>out of sync</strong>",
        ]
        for j in step["joins"]
    ]
    return (
        cpl_view(step)
        + table(
            "Devices: SMI and device views",
            ["Device", "SMI status", "SMI firmware", "Device runs"],
            devices,
        )
        + table("Joins", ["Pair", "SMI", "Device", "Agree?"], joins)
    )


def cpl_view(step: dict[str, Any]) -> str:
    """The CPL after a step, marked where the step changed it."""
    if "cpl" not in step:
        return ""
    changed = " (changed by this step)" if "cpl" in step.get("changes", ()) else ""
    return f"<p><strong>CPL:</strong> {{{e(', '.join(step['cpl']))}}}{changed}</p>"


def _lanes(step: dict[str, Any], label: str | None) -> str:
    text = step["text"]
    action, effects = (
        (label, text[len(label) + 2 :])
        if label is not None and text.startswith(f"{label}: ")
        else (text, "")
    )
    rule = step.get("rule")
    rule_html = (
        f"{e(rule['text'])} {tag(rule['source'])} <span class=tag>{e(rule['id'])}</span>"
        if rule
        else ""
    )
    if step.get("accepted") is True:
        dsp = f'<span class="accepted">accepted</span>: {rule_html}'
    elif step.get("accepted") is False:
        dsp = f'<span class="rejected">rejected {e(step["response_code"])}</span>: {rule_html}'
    else:
        dsp = rule_html or "—"
    if step.get("lost"):
        effects = "; ".join(p for p in effects.split("; ") if p != "response lost")
        device = (
            f'{e(effects)} <span class="badge lost">⚡ response lost</span>'
            " (the DSP never hears back)"
        )
    elif step.get("forwarded"):
        device = f"{e(effects)} (response {e(step['response_code'])})"
    else:
        device = e(effects) if step.get("accepted") is None else "not forwarded"
    return (
        f'<div class="lanes"><div class="lane actor"><span class="who">{e(step["actor"])}</span>'
        f'{e(action)}</div><div class="lane dsp"><span class="who">DSP</span>{dsp}</div>'
        f'<div class="lane device"><span class="who">Device</span>{device}</div></div>'
    )


def story_html(exploration_: Exploration, property_id: str) -> str:
    told = story(exploration_, property_id)
    if told is None:
        return ""
    result = exploration_.result(property_id)
    setup = exploration_.universe.setups[exploration_.decode(result.path[0])[0]]
    labels = [
        action_label(setup, exploration_.universe.actions[a]) if a >= 0 else None
        for a in result.actions
    ]
    items = []
    for step, label in zip(told["steps"], labels, strict=False):
        items.append(
            f'<li><span class="step-no">Step {step["step"]}.</span>'
            + _lanes(step, label)
            + "<details><summary>The SMI and the device after this step</summary>"
            + _views(step)
            + "</details></li>"
        )
    expected = "expected" if result.verdict == result.expected else "NOT expected"
    return (
        f'<h3 id="story-{e(property_id)}">{e(property_id)}: violated ({expected})</h3>'
        f"<p><strong>Start:</strong> {e(told['start'])}</p>"
        f'<ol class="story">{"".join(items)}</ol>'
        f'<p class="why"><strong>Why this breaks {e(property_id)}:</strong> '
        f"{e(told['why'])}</p>" + causes_html(exploration_, property_id)
    )


def causes_html(exploration_: Exploration, property_id: str) -> str:
    """Every distinct cause of the violation (``properties.causes``), shortest first, each
    with its label, its steps and the rule that decided each."""
    from properties.narrate import cause_stories

    told = cause_stories(exploration_, property_id, 4)
    if not told:
        return ""
    items = []
    for cause in told:
        steps = "".join(
            f"<li>{e(step['text'])}"
            + (
                f" — {e(step['rule']['id'])} {tag(step['rule']['source'])}"
                if step.get("rule")
                else ""
            )
            + "</li>"
            for step in cause["steps"]
        )
        items.append(
            f"<li>{tag(cause['tag'])} {e(cause['cause'])} ({cause['length']} step(s))"
            f"<ol>{steps}</ol></li>"
        )
    return (
        f"<h4>Every distinct cause of this violation, shortest first</h4>"
        f'<ol class="causes">{"".join(items)}</ol>'
    )


# ---------------------------------------------------------------------------------------
# Pages


def verdict_rows(exploration_: Exploration) -> list[list[str]]:
    return [
        [
            f'<span class="tag">{e(p.id)}</span>',
            verdict_badge(p.verdict, p.expected),
            e(p.expected),
            f'<span class="says">{e(property_text(p.id))}</span>',
            f'<a href="#story-{e(p.id)}">the story</a>' if p.verdict == "violated" else "",
        ]
        for p in exploration_.properties
    ]


def rules_rows(v: Variant) -> list[list[str]]:
    rows = [
        [
            e(f"suspended.exceptions[{n}]"),
            e(x.describe() + " accepted while Suspended"),
            tag(x.source or v.source_of("suspended.exceptions")),
        ]
        for n, x in enumerate(v.exceptions)
    ]
    rows += [
        [
            "suspended.allow_critical",
            e(str(v.allow_critical).lower()),
            tag(v.source_of("suspended.allow_critical")),
        ],
        ["suspended.reject_code", e(v.reject_code), tag(v.source_of("suspended.reject_code"))],
        [
            "firmware.update_smi_on",
            e(", ".join(str(r) for r in v.update_smi_on)),
            tag(v.source_of("firmware.update_smi_on")),
        ],
        [
            "joins.unjoin_requires_smi_join",
            e(str(v.unjoin_requires_smi_join).lower()),
            tag(v.source_of("joins.unjoin_requires_smi_join")),
        ],
        [
            "joins.unjoin_reject_code",
            e(v.unjoin_reject_code),
            tag(v.source_of("joins.unjoin_reject_code")),
        ],
        [
            "joins.reconcile_smi_from_8_9",
            e(str(v.reconcile_smi_from_8_9).lower()),
            tag(v.source_of("joins.reconcile_smi_from_8_9")),
        ],
    ]
    return rows


def variant_body(v: Variant, diagrams: Sequence[dg.Diagram], ids: dict[str, str]) -> str:
    x = exploration(v)
    meta = [
        ("Id", v.id),
        ("File", Path(v.path).name),
        ("Extends", v.extends or "—"),
        ("Effective", v.effective or "—"),
        ("Sources", ", ".join(v.sources) or "assumption"),
        ("Explored", f"{x.bounds.describe()}: {x.states:,} states, {x.transitions:,} transitions"),
    ]
    parts = [
        '<dl class="meta">'
        + "".join(f"<dt>{e(k)}</dt><dd>{e(val)}</dd>" for k, val in meta)
        + "</dl>",
        '<h2 id="verdicts">Verdicts</h2>',
        table(
            f"Property verdicts under {v.id}",
            ["Property", "Verdict", "Expected", "What it says", "Counterexample"],
            verdict_rows(x),
        ),
        '<h2 id="rules">Rules</h2>',
        table(
            f"The rules of {v.id}, each with its source", ["Key", "Value", "Source"], rules_rows(v)
        ),
        '<h2 id="diagrams">Diagrams</h2>',
        "<p>Each machine as this variant's DSP drives it: every edge is a transition the DSP "
        "takes in the explored closed system, labelled with what caused it; grey dotted "
        "edges are transitions of the machine that this variant never takes.</p>",
    ]
    for machine in (dg.STATUS, dg.JOIN):
        diagram = dg.diagram_for(diagrams, machine, v.id)
        note = ""
        if diagram is not None and diagram.variants[0] != v.id:
            note = f" (the same transitions as under {diagram.variants[0]})"
        parts.append(f"<h3>The {e(dg.MACHINE_TITLES[machine])} machine</h3>")
        parts.append(figure(diagram, note))
        parts.append(edges_table(machine, v))
    parts += [
        '<h2 id="check-e5">Check E5 decision table</h2>',
        "<p>What check E5 decides for a request whose Business Target is in each SMI status, "
        "over Command Variants 1–8 and SMETS1 and SMETS2. "
        '<span class="star">★</span> marks the exception list.</p>',
        e5_table(v),
        '<h2 id="counterexamples">Counterexamples</h2>',
    ]
    stories = [story_html(x, p.id) for p in x.properties if p.verdict == "violated"]
    parts += stories or ["<p>Every property holds: there is no counterexample.</p>"]
    parts.append(coverage_html(v))
    return "\n".join(parts)


def coverage_html(v: Variant) -> str:
    """Rule coverage at the default bounds (``smi-spec check --coverage``): by provenance
    tag, every row and transition exercised with its hits, and those never exercised."""
    from properties.coverage import Coverage
    from properties.coverage import report as coverage_report
    from properties.explorer import explore_all

    total = Coverage()
    for x in explore_all(v, coverage=True):
        if x.coverage is not None:
            total.merge(x.coverage)
    covered = coverage_report(total, v)
    by_tag = [
        [tag(t), f"{c['exercised']} of {c['rules']}"]
        for t, c in sorted(covered["by_provenance"].items())
    ]
    hit = [
        [e(r["id"]), e(r["kind"]), tag(r["provenance"]), f"{r['hits']:,}"]
        for r in covered["rules"]
        if r["hits"]
    ]
    never = ", ".join(e(i) for i in covered["never_exercised"])
    return (
        '<h2 id="coverage">Rule coverage</h2>'
        "<p>Which table rows and machine transitions the check exercised at the default "
        "bounds, every device type's system; a hit is one distinct local transition.</p>"
        + table("Rows and transitions exercised, by source", ["Source", "Exercised"], by_tag)
        + table("Exercised, with hits", ["Rule or transition", "Kind", "Source", "Hits"], hit)
        + f"<p><strong>Never exercised ({len(covered['never_exercised'])}):</strong> {never}</p>"
    )


def diff_body(d: dict[str, Any], diagrams: Sequence[dg.Diagram]) -> str:
    a, b = d["from"]["id"], d["to"]["id"]
    change = {"added": "added", "removed": "removed", "changed": "changed"}
    parts = [
        f"<p class=lead>What changes from <strong>{e(a)}</strong> ({e(d['from']['title'])}) to "
        f"<strong>{e(b)}</strong> ({e(d['to']['title'])}), each change with its source.</p>",
        '<h2 id="verdicts">Property verdicts</h2>',
        table(
            f"Verdicts that change ({d['bounds']})",
            ["Property", "From", "To", f"Expected by {b}"],
            [
                [
                    f'<span class="tag">{e(v["property"])}</span>',
                    verdict_badge(v["from"]),
                    verdict_badge(v["to"], v["expected"]),
                    e(v["expected"]),
                ]
                for v in d["verdicts"]
            ],
        ),
        '<h2 id="rules">Rules</h2>',
        table(
            "Rule changes",
            ["Key", "Change", "What", "Source"],
            [
                [
                    e(r["key"]),
                    f'<span class="{change[r["change"]]}">{e(r["change"])}</span>',
                    e(r["text"]),
                    tag(r["source"]),
                ]
                for r in d["rules"]
            ],
        ),
        '<h2 id="check-e5">Check E5 decisions</h2>',
        table(
            "Check E5 decisions that change",
            ["Request", "Status", "From", "To", "When", "Rule", "Source"],
            [
                [
                    e(f"SR{c['srv']} {c['name']}"),
                    e(STATUS_NAMES[c["status"]]),
                    _cell_html(c["from"]),
                    _cell_html(c["to"]),
                    e(c["conditions"]["text"]),
                    e(c["rule"]["text"]),
                    tag(c["source"]),
                ]
                for c in d["check_e5"]
            ],
        ),
        '<h2 id="transitions">Machine transitions</h2>',
        table(
            "Transitions the DSP takes that change",
            ["Transition", "Change", "Machine", "Event", "Caused by", "Provenance"],
            [
                [
                    e(f"{t['from_state']} → {t['to_state']}"),
                    f'<span class="{k}">{k}</span>',
                    e(t["machine"]),
                    e(t["event"].replace("_", " ")),
                    e(t["cause"]),
                    tag(t["provenance"]),
                ]
                for k in ("added", "removed")
                for t in d["transitions"][k]
            ],
        ),
    ]
    for machine in (dg.STATUS, dg.JOIN):
        diagram = dg.diff_diagram_for(diagrams, machine, a, b)
        if diagram is not None:
            parts.append(figure(diagram))
        else:
            parts.append(
                f"<p>The {e(dg.MACHINE_TITLES[machine])} machine: no transition changes.</p>"
            )
    return "\n".join(parts)


def index_body(
    variants: Sequence[Variant],
    ids: dict[str, str],
    diffs: Sequence[tuple[str, str, str]],
    diagrams: Sequence[dg.Diagram],
) -> str:
    explored = {v.id: exploration(v) for v in variants}
    header = ["Property", *(v.id for v in variants), "What it says"]
    rows = []
    for property_id in PROPERTY_IDS:
        row = [f'<span class="tag">{e(property_id)}</span>']
        for v in variants:
            p = explored[v.id].result(property_id)
            row.append(
                f'<a href="{e(ids[v.id])}#verdicts">{verdict_badge(p.verdict, p.expected)}</a>'
            )
        row.append(f'<span class="says">{e(property_text(property_id))}</span>')
        rows.append(row)
    cards = "".join(
        f'<li><h3><a href="{e(ids[v.id])}">{e(v.id)}</a></h3><p>{e(v.title)}</p>'
        f"<p>{e(v.effective or '')} {tag(','.join(v.sources))}</p></li>"
        for v in variants
    )
    diff_links = "".join(
        f'<li><a href="{e(href)}">{e(a)} → {e(b)}</a></li>' for href, a, b in diffs
    )
    bounds = explored[variants[0].id].bounds.describe() if variants else ""
    definition = [d for d in diagrams if d.kind == "definition"]
    return "\n".join(
        [
            "<p class=lead>An executable specification of how the DCC's Data Service Provider "
            "keeps the Smart Metering Inventory: device status, suspension on the Central "
            "Products List, firmware and joins. Each variant is a set of legal-text rules; "
            "the explorer checks every property in every state it can reach, and tells each "
            "violation as a story.</p>",
            '<h2 id="verdicts">Verdicts</h2>',
            table(f"Property verdicts by variant ({bounds})", header, rows),
            '<h2 id="variants">Variants</h2>',
            f'<ul class="cards">{cards}</ul>',
            '<h2 id="diffs">What each change does</h2>',
            f"<ul>{diff_links}</ul>" if diff_links else "<p>One variant: nothing to compare.</p>",
            '<h2 id="machines">The machines as defined</h2>',
            "<p>Edges styled by provenance. How to read them: <code>docs/reviewer.md</code>.</p>",
            *(figure(d) for d in definition),
        ]
    )


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
    ids = _page_names(variants)
    diffs = [(f"diff-{slug(a.id)}-{slug(b.id)}.html", a, b) for a, b in pairwise(variants)]
    nav = [("index.html", "Overview")]
    nav += [(ids[v.id], v.id) for v in variants]
    nav += [(href, f"{a.id} → {b.id}") for href, a, b in diffs]
    files: dict[str, str] = {}
    index = index_body(variants, ids, [(h, a.id, b.id) for h, a, b in diffs], diagrams)
    files["index.html"] = page("SMI rules: the reviewers' report", index, nav, "index.html")
    for v in variants:
        body = variant_body(v, diagrams, ids)
        files[ids[v.id]] = page(f"{v.id}: {v.title}", body, nav, ids[v.id])
    for href, a, b in diffs:
        body = diff_body(variant_diff(a, b), diagrams)
        files[href] = page(f"From {a.id} to {b.id}", body, nav, href)
    out = {name: text.encode("utf-8") for name, text in files.items()}
    for name, data in dg.files_of(diagrams).items():
        if name != dg.MANIFEST:
            out[f"diagrams/{name}"] = data
    out[MARKER] = b"generated by smi-spec report; this directory is replaced on every run\n"
    return out, unexpected(*variants)


def _check_out(out: Path) -> None:
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
    """Write ``files`` into a temporary directory beside ``out``, then swap it into place."""
    _check_out(out)
    parent = out.resolve().parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write beside it: {exc.strerror}") from None
    old: Path | None = None
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.chmod(staging, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.replace(out, old / "report")
        os.replace(staging, out)
    except OSError as exc:
        if old is not None and not out.exists():
            os.replace(old / "report", out)
        raise InputError(f"--out {out}: cannot write the report: {exc.strerror}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


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
