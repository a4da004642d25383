"""``smi-spec testpack`` and ``smi-spec conform``: test packs for assurance testers.

Registered on the ``smi-spec`` app by one import in ``smi_spec/cli.py``. Conventions of the
CLI (docs/design.md): ``--format json`` for tools; bad input is one line on stderr and exit code
2, and never a partial pack (a pack is written beside its place and swapped in whole);
``conform`` exits 1 when a step of the system under test differs from the pack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.variant import load_variant
from smi_spec.app import Format, FormatOption, app, console, emit_json
from smi_spec.outputs import replace_directory
from smi_spec.plain import plain
from smi_spec.progress_bars import shown_progress


def _check_out(out: Path) -> None:
    """A new or empty directory, or a previous pack: never someone's other files."""
    from smi_spec.testpack import INDEX, MANIFEST

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    previous = (out / MANIFEST).is_file() and (out / INDEX).is_file()
    if out.is_dir() and any(out.iterdir()) and not previous:
        raise InputError(
            f"--out {out}: a non-empty directory that is not a previous test pack; "
            "choose a new or empty directory"
        )


@app.command("testpack")
def testpack_command(
    out: Annotated[str, typer.Option(help="directory to write the pack into")],
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    cases: Annotated[
        int | None, typer.Option(min=1, help="at most this many cases (most coverage first)")
    ] = None,
    property: Annotated[
        str | None,
        typer.Option("--property", help="only the cases that witness or refute this property"),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="the DUIS reference data (default: ../shared/reference)"),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Write a test pack: DUIS requests with the responses and SMI states the rules require,
    covering every status and join transition and every rule-table row reachable at the
    default bounds, as short cases from named starts."""
    from model.duis_write import reference_dir
    from smi_spec.testpack import build

    if property is not None and property not in PROPERTY_IDS:
        raise InputError(
            f"--property {property!r}: unknown property (known: {', '.join(PROPERTY_IDS)})"
        )
    chosen = load_variant(variant)
    where = reference_dir(reference)
    target = Path(out)
    _check_out(target)
    with shown_progress("testpack", enabled=format is Format.text):
        pack = build(chosen, where, cases, property)
    replace_directory(target, pack.files)
    if format is Format.json:
        emit_json({"out": out, "manifest": pack.manifest})
        return
    show_pack(out, pack.manifest)


def show_pack(out: str, manifest: dict[str, Any]) -> None:
    """The coverage table, then what no case exercises, grouped by why."""
    from rich.table import Table

    cov = manifest["coverage"]
    console.print(
        plain(
            f"{manifest['cases']} cases, {manifest['steps']} steps written to {out} "
            f"(variant {manifest['variant']['id']}, fingerprint "
            f"{manifest['variant']['fingerprint'][:16]})"
        )
    )
    table = Table(title=plain("Coverage"), title_justify="left")
    for column in ("Table", "Rows", "Exercised", "Cases"):
        table.add_column(plain(column))
    by_table: dict[str, list[dict[str, Any]]] = {}
    for row in cov["table"]:
        by_table.setdefault(row["table"] or row["kind"], []).append(row)
    for name, rows in by_table.items():
        used = [r for r in rows if r["cases"]]
        cases = sorted({c for r in rows for c in r["cases"]})
        table.add_row(plain(name), str(len(rows)), str(len(used)), plain(_span(cases)))
    console.print(table)
    console.print(plain(f"exercised: {cov['covered']} of {cov['rows']}"))
    grouped: dict[str, list[str]] = {}
    for row in cov["unreached"]:
        grouped.setdefault(row["why"], []).append(row["id"])
    if grouped:
        console.print(plain(f"not exercised ({len(cov['unreached'])}):"))
    for why, ids in grouped.items():
        console.print(plain(f"  {', '.join(ids)}: {why}"))


def _span(cases: list[str]) -> str:
    return ", ".join(cases) if len(cases) <= 4 else f"{', '.join(cases[:3])}, … ({len(cases)})"


@app.command("conform")
def conform_command(
    pack: Annotated[str, typer.Argument(help="a directory written by smi-spec testpack")],
    adapter: Annotated[str, typer.Option(help="MODULE:FUNCTION that drives the system under test")],
    format: FormatOption = Format.text,
) -> None:
    """Drive a system under test through a test pack; report each case's first step whose
    response code or SMI state differs. Exit code 0 when every case passes, 1 otherwise."""
    from smi_spec.conform import describe, resolve_adapter, run

    function = resolve_adapter(adapter)
    result = run(Path(pack), function)
    if format is Format.json:
        emit_json(result)
    else:
        for case in result["cases"]:
            if case["passed"]:
                console.print(plain(f"  pass  {case['case']} ({case['steps_run']} steps)"))
                continue
            console.print(
                plain(f"  FAIL  {case['case']} step {case['step']}: {case['text']}"), style="red"
            )
            for difference in case["differences"]:
                console.print(plain(f"          {describe(difference)}"))
        console.print(
            plain(
                f"{result['passed']} of {result['passed'] + result['failed']} cases pass "
                f"(pack for {json.dumps(result['variant']['id'])})"
            )
        )
    raise typer.Exit(1 if result["failed"] else 0)
