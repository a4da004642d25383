"""The ``smi-spec`` command line (typer + rich).

Exit codes (design.md): 0 all verdicts as expected; 1 a verdict not as expected; 2 bad
input or usage. Bad input is one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from model.access import authorise
from model.catalogue import catalogue as load_catalogue
from model.catalogue import lookup
from model.errors import InputError
from model.scenario import load_scenario, run
from model.status_chart import STATUSES
from model.variant import BUILTIN, load_variant
from model.world import DEVICE_TYPES

app = typer.Typer(
    help="An executable, checkable specification of the DSP's Smart Metering Inventory rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for tools")]


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@app.command("catalogue")
def catalogue_command(format: FormatOption = Format.text) -> None:
    """List the 129 DUIS Service Reference Variants (source: duis)."""
    rows = list(load_catalogue().values())
    if format is Format.json:
        emit_json(
            [
                {
                    "srv": r.srv,
                    "name": r.name,
                    "critical": r.critical,
                    "non_device": r.non_device,
                    "roles": list(r.roles),
                }
                for r in rows
            ]
        )
        return
    table = Table(title=f"DUIS Service Reference Variants ({len(rows)}, source: duis)")
    for column in ("SRV", "Name", "Critical", "Non-Device", "Roles"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.srv,
            r.name,
            "yes" if r.critical else "no",
            "yes" if r.non_device else "no",
            " ".join(r.roles),
        )
    console.print(table)


@app.command("variants")
def variants_command(format: FormatOption = Format.text) -> None:
    """List the built-in rule variants."""
    variants = [load_variant(v) for v in BUILTIN]
    if format is Format.json:
        emit_json(
            [
                {
                    "id": v.id,
                    "title": v.title,
                    "extends": v.extends,
                    "effective": v.effective,
                    "sources": list(v.sources),
                    "expect": dict(v.expect),
                }
                for v in variants
            ]
        )
        return
    table = Table(title="Built-in rule variants")
    for column in ("Id", "Title", "Extends", "Effective", "Expected violations"):
        table.add_column(column)
    for v in variants:
        violated = ", ".join(p for p, verdict in v.expect.items() if verdict == "violated")
        table.add_row(v.id, v.title, v.extends or "", v.effective or "", violated)
    console.print(table)


@app.command("rules")
def rules_command(
    source: Annotated[
        str | None, typer.Option(help="only rules with this provenance, e.g. assumption")
    ] = None,
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    format: FormatOption = Format.text,
) -> None:
    """Every rule with its provenance: each transition of both machines, read from the
    machines, and every row of every table of the variant."""
    from model import join_machine, status_chart
    from model.provenance import TAGS
    from model.rulebook import table_rules

    if source is not None and source not in TAGS:
        raise InputError(f"unknown provenance tag {source!r}; expected one of {', '.join(TAGS)}")
    machine_rows = [{"machine": "device status", **r} for r in status_chart.describe_transitions()]
    machine_rows += [{"machine": "join", **r} for r in join_machine.describe_transitions()]
    for r in machine_rows:
        r["rule"] = f"{r['machine']}: {r['event']} {r['source']} -> {r['target']}"
    rows = machine_rows + table_rules(load_variant(variant))
    if source is not None:
        rows = [r for r in rows if source in r["provenance"].split(",")]
    if format is Format.json:
        emit_json(rows)
        return
    table = Table(title="Rules of the two machines and the variant's tables, with their sources")
    for column in ("Rule", "Says", "Source", "Why"):
        table.add_column(column, overflow="fold")
    for r in rows:
        says = r.get("says") or f"{r['event']}: {r['source']} -> {r['target']}"
        table.add_row(r["rule"], says, r["provenance"], r["why"])
    console.print(table)


@app.command("explain")
def explain_command(
    srv: Annotated[str, typer.Argument(help="Service Reference Variant, e.g. 11.2")],
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    status: Annotated[str, typer.Option(help="SMI status of the Business Target")] = "suspended",
    device_type: Annotated[
        str | None,
        typer.Option("--device-type", help="device type of the Business Target, e.g. PPMID"),
    ] = None,
    command_variant: Annotated[int, typer.Option(min=1, max=8, help="DUIS Command Variant")] = 1,
    smets: Annotated[int, typer.Option(min=1, max=2, help="SMETS version of the device")] = 2,
    format: FormatOption = Format.text,
) -> None:
    """The DSP's access decision for one SR: applicability to the device type, then check
    E5 for a device in one status. The answer names the table row that decided it."""
    if status not in STATUSES:
        raise InputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if device_type is not None and device_type not in DEVICE_TYPES:
        raise InputError(
            f"unknown device type {device_type!r}; expected one of {', '.join(DEVICE_TYPES)}"
        )
    rules = load_variant(variant)
    lookup(srv)
    decision = authorise(rules, srv, status, device_type, command_variant, smets)
    document = {
        "srv": srv,
        "status": status,
        "device_type": device_type,
        "variant": rules.id,
        "command_variant": command_variant,
        "smets": smets,
        "accepted": decision.accepted,
        "response_code": decision.response_code,
        "rule": decision.rule.text,
        "rule_id": decision.rule.id,
        "source": decision.rule.source,
    }
    if format is Format.json:
        emit_json(document)
        return
    verdict = (
        "[green]accepted[/]" if decision.accepted else f"[red]rejected {decision.response_code}[/]"
    )
    target = f"a {status} {device_type}" if device_type else f"a {status} device"
    console.print(
        f"SR{srv} to {target} (Command Variant {command_variant}, SMETS{smets}) "
        f"under {rules.id}: {verdict}"
    )
    console.print(f"  rule   {decision.rule.id}: {decision.rule.text}")
    console.print(f"  source {decision.rule.source}")


@app.command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="scenario file (.json or .toml)")],
    variant: Annotated[str | None, typer.Option(help="override the scenario's variant")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Run a scenario step by step and show the SMI and device views after each step."""
    loaded = load_scenario(scenario)
    report = run(loaded, load_variant(variant or loaded.variant_ref))
    if format is Format.json:
        emit_json(report)
        return
    from smi_spec.show import show_run

    show_run(console, report)


import smi_spec.duis_commands  # noqa: E402  (registers classify, replay)


@app.command("check")
def check_command(
    variant: Annotated[str, typer.Option(help="variant id, path to a .toml file, or all")] = "all",
    property: Annotated[
        list[str] | None, typer.Option("--property", help="check only this property (repeatable)")
    ] = None,
    max_lost: Annotated[int, typer.Option(min=0, max=4, help="responses the network may lose")] = 1,
    meters: Annotated[int, typer.Option(min=1, max=3, help="meters (ESME), compliant or not")] = 1,
    cads: Annotated[int, typer.Option(min=0, max=3, help="CADs joined to every meter")] = 1,
    versions: Annotated[int, typer.Option(min=1, max=4, help="firmware versions F1..Fn")] = 2,
    dcc_events: Annotated[
        bool, typer.Option("--dcc-events/--no-dcc-events", help="also DCC withdrawal and recovery")
    ] = False,
    itf: Annotated[
        str | None, typer.Option(help="write each counterexample as ITF JSON here")
    ] = None,
    traces: Annotated[
        int, typer.Option(min=1, max=20, help="distinct causes shown per violated property")
    ] = 4,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="also report the rules and transitions exercised")
    ] = False,
    format: FormatOption = Format.text,
) -> None:
    """Exhaustive check: every property of every variant, with the shortest counterexample
    of each distinct cause of a violation.

    Exit code 0 when every verdict is as the variant's [expect] table says, 1 otherwise.
    """
    from properties.explorer import Bounds
    from smi_spec.checking import run_check

    bounds = Bounds(meters, cads, versions, max_lost, dcc_events)
    ok = run_check(
        console,
        variant,
        property,
        bounds,
        itf,
        json_output=format is Format.json,
        traces=traces,
        coverage=coverage,
    )
    raise typer.Exit(0 if ok else 1)


@app.command("fuzz")
def fuzz_command(
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    max_examples: Annotated[int, typer.Option(min=1, help="Hypothesis examples per run")] = 200,
    steps: Annotated[int, typer.Option(min=1, max=200, help="steps per example")] = 20,
    seed: Annotated[
        int | None, typer.Option(help="random seed: the same seed repeats the run exactly")
    ] = None,
    database: Annotated[
        str, typer.Option(help="Hypothesis example database directory ('' for none)")
    ] = ".hypothesis/smi-spec-fuzz",
    format: FormatOption = Format.text,
) -> None:
    """Hypothesis stateful fuzzing of the live machines; shrunk counterexamples.

    Exit code 0 when every property the variant expects violated is found and no other is.
    """
    from pathlib import Path

    from smi_spec.fuzzing import run_fuzz

    ok = run_fuzz(
        console,
        variant,
        max_examples,
        steps,
        seed,
        Path(database) if database else None,
        json_output=format is Format.json,
    )
    raise typer.Exit(0 if ok else 1)


import smi_spec.report_commands  # noqa: E402,F401  (registers diagrams, diff, report)


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2."""
    try:
        app()
    except InputError as exc:
        print(f"smi-spec: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
