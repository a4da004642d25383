"""``smi-spec diagrams``, ``smi-spec diff`` and ``smi-spec report``: what reviewers read.

Registered on the ``smi-spec`` app by one import in ``smi_spec/cli.py``. Conventions of the
CLI (docs/design.md): ``--format json`` for tools; bad input is one line on stderr and exit code
2; exit code 1 when a verdict the command reports is not as its variant's ``[expect]`` says.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from model.variant import BUILTIN, Variant, load_variant
from smi_spec.app import Format, FormatOption, app, console, emit_json
from smi_spec.plain import plain, styled
from smi_spec.progress_bars import shown_progress

VariantsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--variant",
        help="variant id or path to a .toml file (repeatable; default: every built-in variant)",
    ),
]


def _variants(refs: list[str] | None) -> list[Variant]:
    return [load_variant(ref) for ref in (refs or BUILTIN)]


# ---------------------------------------------------------------------------------------
# diagrams


def diagrams_command(
    out: Annotated[str, typer.Option(help="directory to write DOT and SVG into")] = "diagrams",
    variant: VariantsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Write every diagram (DOT and SVG), generated from the machines and the variants."""
    from smi_spec.diagrams import diagram_set, write_diagrams

    started = time.perf_counter()
    with shown_progress("diagrams", enabled=format is Format.text):
        records = write_diagrams(Path(out), diagram_set(_variants(variant)))
    if format is Format.json:
        emit_json({"out": out, "files": records})
        return
    changed = [r for r in records if r["changed"]]
    for r in records:
        mark = "removed" if r.get("removed") else ("written" if r["changed"] else "unchanged")
        console.print(plain(f"  {mark:9} {r['file']}"))
    console.print(
        plain(
            f"{len(records)} files in {out}, {len(changed)} changed "
            f"({time.perf_counter() - started:.1f} s)"
        )
    )


# ---------------------------------------------------------------------------------------
# diff


def diff_command(
    a: Annotated[str, typer.Argument(help="the variant to compare from (id or .toml path)")],
    b: Annotated[str, typer.Argument(help="the variant to compare to (id or .toml path)")],
    format: FormatOption = Format.text,
) -> None:
    """What changes from variant A to variant B: rules, check E5 decisions, machine
    transitions and property verdicts, each with its source.

    Exit code 0 when every verdict of both is as their [expect] tables say, 1 otherwise.
    """
    from smi_spec.diff import variant_diff

    with shown_progress("diff", enabled=format is Format.text):
        document = variant_diff(load_variant(a), load_variant(b))
    if format is Format.json:
        emit_json(document)
    else:
        show_diff(document)
    raise typer.Exit(1 if document["unexpected"] else 0)


#: Columns of identifiers kept whole (a property id is never broken mid-word); the
#: prose columns beside them wrap at spaces.
WHOLE_COLUMNS = frozenset({"Property", "Type"})


def _table(title: str, columns: list[str], rows: list[list[str | Text]]) -> Table:
    """A table whose text cells are plain text (user text is never markup)."""
    table = Table(title=plain(title), title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(plain(column), overflow="fold", no_wrap=column in WHOLE_COLUMNS)
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else plain(cell) for cell in row))
    return table


def show_diff(d: dict[str, Any]) -> None:
    """The diff for people: one table per kind of change."""
    a, b = d["from"]["id"], d["to"]["id"]
    console.print(styled("[bold]{a} → {b}[/]  ({title})", a=a, b=b, title=d["to"]["title"]))
    sections: list[tuple[str, list[str], list[list[str | Text]]]] = [
        (
            "Rules",
            ["Key", "Change", "What", "Source"],
            [[r["key"], r["change"], r["text"], r["source"]] for r in d["rules"]],
        ),
        (
            "Check E5 decisions",
            ["Status", "SRV", "Change", "When", "Rule", "Source"],
            [
                [
                    c["status"],
                    f"SR{c['srv']} {c['name']}",
                    f"{c['from']} → {c['to']}",
                    c["conditions"]["text"],
                    c["rule"]["id"],
                    c["source"],
                ]
                for c in d["check_e5"]
            ],
        ),
        (
            "Machine transitions",
            ["Change", "Machine", "Transition", "Cause", "Provenance"],
            [
                [
                    kind,
                    t["machine"],
                    f"{t['from_state']} → {t['to_state']} ({t['event']})",
                    t["cause"],
                    t["provenance"],
                ]
                for kind in ("added", "removed")
                for t in d["transitions"][kind]
            ],
        ),
        (
            f"Property verdicts ({d['bounds']})",
            ["Property", "Type", "Verdict", f"Expected by {b}", "Source"],
            [
                [
                    v["property"],
                    v["subject"],
                    f"{v['from']} → {v['to']}",
                    plain(v["expected"])
                    + plain("" if v["as_expected"] else " (unexpected)", "bold yellow"),
                    v["source"],
                ]
                for v in d["verdicts"]
            ],
        ),
    ]
    for title, columns, rows in sections:
        if rows:
            console.print(_table(title, columns, rows))
        else:
            console.print(plain(f"{title}: no change", "dim"))
    shown: set[str] = set()
    for u in d["unexpected"]:
        line = unexpected_line(u)
        if line.plain not in shown:  # one line each, even where both variants are one file
            shown.add(line.plain)
            console.print(line)


def unexpected_line(u: dict[str, Any]) -> Text:
    subject = f" for {u['subject']}" if u.get("subject") else ""
    return plain("unexpected:", "bold yellow") + plain(
        f" {u['variant']}: {u['property']}{subject} {u['verdict']} (expected {u['expected']})"
    )


# ---------------------------------------------------------------------------------------
# report


def report_command(
    out: Annotated[str, typer.Option(help="directory to write the HTML report into")] = "report",
    variant: VariantsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Write the static HTML report: verdicts, diagrams, check E5 decision tables,
    counterexample stories and diffs; it opens from disk, with no server and no network.

    Exit code 1 when a verdict in it is not as its variant's [expect] table says.
    """
    from smi_spec.report import build_report

    started = time.perf_counter()
    with shown_progress("report", enabled=format is Format.text):
        result = build_report(Path(out), _variants(variant))
    seconds = time.perf_counter() - started
    if format is Format.json:
        emit_json({**result, "seconds": round(seconds, 2)})
    else:
        console.print(
            plain(
                f"Report written to {result['index']} ({len(result['pages'])} pages, "
                f"{len(result['diagrams'])} diagrams, {seconds:.1f} s)"
            )
        )
        for u in result["unexpected"]:
            console.print(unexpected_line(u))
    raise typer.Exit(1 if result["unexpected"] else 0)


app.command("diagrams")(diagrams_command)
app.command("diff")(diff_command)
app.command("report")(report_command)
