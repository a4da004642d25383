"""``smi-spec catalogue``, ``variants``, ``rules``, ``explain`` and ``run``: the rulebook
read one question at a time (docs/tester.md, docs/spec-author.md)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from model.access import authorise
from model.catalogue import catalogue as load_catalogue
from model.catalogue import lookup
from model.errors import InputError
from model.pipeline import Asked, join_validation, trace
from model.property_ids import PROPERTY_IDS
from model.provenance import TAGS
from model.scenario import load_scenario, run_streamed
from model.status_chart import STATUSES
from model.variant import BUILTIN, Variant, load_variant
from model.variant_rows import ROLE_CODES
from smi_spec.app import Format, FormatOption, StreamFormat, app, console, emit_json
from smi_spec.plain import plain, styled
from smi_spec.show import hanging


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
    for column in ("Id", "Title", "Extends", "Effective"):
        table.add_column(column)
    # One property id a line, never cut: the column is as wide as the longest id.
    widest = max(len(p) for p in PROPERTY_IDS)
    table.add_column("Expected violations", min_width=widest, no_wrap=True)
    for v in variants:
        lines = []
        for p, verdict in v.expect.items():
            if verdict == "violated":
                lines.append(p)
            elif isinstance(verdict, dict) and "violated" in verdict.values():
                types = ", ".join(t for t, said in verdict.items() if said == "violated")
                lines += [p, f"  ({types})"]
        cells = (v.id, v.title, v.extends or "", v.effective or "")
        table.add_row(*(plain(cell) for cell in cells), Text("\n").join(map(plain, lines)))
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
    from smi_spec.show import show_rules

    show_rules(console, rows)


def _srv_argument(text: str) -> str:
    """The SRV an argument names, either spelling; a variant id gets a pointer to --variant."""
    try:
        return lookup(text).srv
    except InputError as exc:
        if text.lower() in BUILTIN:
            raise InputError(f"{exc}; {text} is a variant: --variant {text.lower()}") from None
        raise


def later_checks(variant: Variant, srv: str) -> list[dict[str, str]]:
    """The checks after check E5 that can still reject ``srv``, read from the variant's
    [joins] table (seed:MP178): check E5 does not decide them."""
    found = join_validation(variant, srv)
    if found["result"] == "does not apply":
        return []
    return [{k: found[k] for k in ("rule_id", "text", "source")}]


# The arguments and options of ``explain``, in the order ``--help`` lists them.
_Srv = Annotated[str, typer.Argument(help="Service Reference Variant, e.g. 11.2 or SR11.2")]
_Variant = Annotated[str, typer.Option(help="variant id or path to a .toml file")]
_Status = Annotated[str, typer.Option(help="SMI status of the Business Target")]
_DeviceType = Annotated[
    str | None,
    typer.Option("--device-type", help="device type of the Business Target, e.g. PPMID"),
]
_CommandVariant = Annotated[int, typer.Option(min=1, max=8, help="DUIS Command Variant")]
_Smets = Annotated[int, typer.Option(min=1, max=2, help="SMETS version of the device")]
_Role = Annotated[
    str | None, typer.Option("--role", help="the sender's Service User role, e.g. IS")
]
_ImageOnCpl = Annotated[
    bool | None,
    typer.Option(
        "--image-on-cpl/--image-off-cpl",
        help="the request delivers a firmware image on (off) the CPL",
    ),
]
_Responsible = Annotated[
    bool | None,
    typer.Option(
        "--responsible/--not-responsible",
        help="the sender is (is not) the device's responsible supplier",
    ),
]


@app.command("explain")
def explain_command(
    srv: _Srv,
    variant: _Variant = "baseline",
    status: _Status = "suspended",
    device_type: _DeviceType = None,
    command_variant: _CommandVariant = 1,
    smets: _Smets = 2,
    role: _Role = None,
    image_on_cpl: _ImageOnCpl = None,
    responsible: _Responsible = None,
    format: FormatOption = Format.text,
) -> None:
    """The DSP's access decision for one SR: every check of the variant's pipeline in order
    (applicability to the device type, the sender's role, check E5 for a device in one
    status, the Unjoin validation), with its row, source and result. The answer names the
    row that decided it."""
    if status not in STATUSES:
        raise InputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    rules = load_variant(variant)
    _check_device_type(rules, device_type)
    srv = _srv_argument(srv)
    check_role_code(role)
    listed = image_on_cpl if rules.checks_images else None
    sender = responsible if rules.checks_suppliers else None
    decision = authorise(
        rules, srv, status, device_type, command_variant, smets, role, listed, sender
    )
    later = later_checks(rules, srv)
    asked = Asked(srv, status, device_type, command_variant, smets, role, image_on_cpl, sender)
    checks = trace(rules, asked)
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
        "later_checks": later,
        "role": role,
        "checks": checks,
    }
    if format is Format.json:
        emit_json(document)
        return
    _show_explained(document)


def _check_device_type(rules: Variant, device_type: str | None) -> None:
    """``--device-type`` names a device type of the variant, and one with an SMI status."""
    if device_type is not None and device_type not in rules.device_types:
        known = ", ".join(rules.device_types)
        raise InputError(f"unknown device type {device_type!r}; expected one of {known}")
    if device_type is not None and rules.device_types[device_type].type_2:
        # A Type 2 Device has no SMI status for check E5 to read (device-type declarations).
        raise InputError(
            f"{device_type} is a Type 2 Device: it has no SMI status, so check E5 has nothing "
            "to decide (--status); the DSP refuses a request that would give it a status or "
            "firmware (model/type_2.py)"
        )


def _show_explained(document: dict[str, Any]) -> None:
    """``explain``'s answer for people: the verdict, the row that decided it and its
    source, the checks an accepted request meets later, then every check in order."""
    accepted = document["accepted"]
    verdict = "[green]accepted[/]" if accepted else "[red]rejected {code}[/]"
    console.print(
        styled(
            "SR{srv} to a {status} {type} (Command Variant {cv}, SMETS{smets}) under {id}: "
            + verdict,
            srv=document["srv"],
            status=document["status"],
            type=document["device_type"] or "device",
            cv=document["command_variant"],
            smets=document["smets"],
            id=document["variant"],
            code=document["response_code"],
        )
    )
    console.print(hanging("rule  ", plain(f"{document['rule_id']}: {document['rule']}")))
    console.print(hanging("source", plain(document["source"])))
    if accepted:
        for check in document["later_checks"]:
            console.print(
                hanging("then", plain(f"{check['text']} ({check['rule_id']}, {check['source']})"))
            )
    show_checks(document["checks"])


def check_role_code(role: str | None) -> None:
    if role is not None and role not in ROLE_CODES:
        known = ", ".join(sorted(ROLE_CODES))
        raise InputError(f"unknown role {role!r}; expected one of the catalogue's codes: {known}")


def show_checks(checks: list[dict[str, Any]]) -> None:
    """The pipeline, one line per check: its order, name, result, the row it read and that
    row's source (``pipeline.checks[N]`` is the check's own row, with its own source)."""
    console.print("checks")
    for row in checks:
        line = f"{row['order']}. {row['check']}: {row['result']}"
        if row["rule_id"]:
            line += f"; row {row['rule_id']}, source {row['source'] or row['row_source']}"
        elif row["text"]:
            line += f"; {row['text']}"
        console.print(hanging("  ", plain(line)))


@app.command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="scenario file (.json or .toml)")],
    variant: Annotated[str | None, typer.Option(help="override the scenario's variant")] = None,
    format: Annotated[
        StreamFormat,
        typer.Option(
            "--format", help="text for people; json: one report; jsonl: one record a line as run"
        ),
    ] = StreamFormat.text,
) -> None:
    """Run a scenario step by step and show the SMI and device views after each step."""
    from checker.run_verdicts import verdicts

    loaded = load_scenario(scenario)
    rules = load_variant(variant or loaded.variant_ref)
    head, steps, tail = run_streamed(loaded, rules)
    if format is StreamFormat.json:
        from smi_spec.streamed_json import write_streamed

        write_streamed(sys.stdout, head, "steps", steps, lambda: tail | verdicts(loaded, rules))
        return
    if format is StreamFormat.jsonl:
        from smi_spec.streamed_json import write_lines

        write_lines(sys.stdout, head, steps, lambda: tail | verdicts(loaded, rules))
        return
    # steps: consumed once, one at a time; the verdicts are judged after them
    report = {**head, "steps": steps, **tail, "after": lambda: verdicts(loaded, rules)}
    from smi_spec.show import show_run

    show_run(console, report)
