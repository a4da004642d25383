"""``smi-spec classify`` and ``smi-spec replay``: real DUIS messages and message logs in.

Registered on the ``smi-spec`` app by one import at the end of ``smi_spec/cli.py``. Bad
input follows the CLI's conventions: one line on stderr (``smi-spec: error: FILE: problem``)
and exit code 2; ``classify`` reports every bad file on its own line and still classifies
the others.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from model.catalogue import lookup
from model.dsp import check_e5
from model.duis import DuisError, DuisMessage, DuisRequest, read_message
from model.errors import InputError
from model.status_chart import STATUSES
from model.variant import Variant, load_variant
from smi_spec.cli import Format, FormatOption, app, console, emit_json
from smi_spec.show import fits, indented


def error_line(message: str) -> str:
    """``smi-spec: error: ...`` on one line, whatever a file name or message holds."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
    return f"smi-spec: error: {text}"


# ---------------------------------------------------------------------------------------
# classify


def classify_message(
    file: str,
    message: DuisMessage,
    variant: Variant,
    statuses: tuple[str, ...],
    smets: int,
) -> dict[str, Any]:
    """One file's record: what it is and, for a request, check E5's decision per status."""
    if not isinstance(message, DuisRequest):
        entry = lookup(message.srv) if message.srv else None
        return {
            "file": file,
            "kind": "response",
            "srv": message.srv,
            "name": entry.name if entry else None,
            "critical": entry.critical if entry else None,
            "response_code": message.response_code,
            "success": message.success,
            "originator": message.request_id.originator,
            "target": message.target,
            "firmware_version": message.firmware_version,
        }
    entry = message.entry
    decisions = {}
    for status in statuses:
        decision = check_e5(variant, message.srv, status, message.command_variant, smets)
        decisions[status] = {
            "accepted": decision.accepted,
            "response_code": decision.response_code,
            "rule": decision.rule.text,
            "rule_id": decision.rule.id,
            "source": decision.rule.source,
        }
    return {
        "file": file,
        "kind": "request",
        "srv": message.srv,
        "name": entry.name,
        "critical": entry.critical,
        "non_device": entry.non_device,
        "command_variant": message.command_variant,
        "originator": message.originator,
        "target": message.target,
        "device_ids": list(message.device_ids),
        "other_device": message.other_device_id,
        "body": message.body,
        "decisions": decisions,
    }


def _classify_table(records: list[dict[str, Any]], variant: Variant, smets: int) -> Table:
    statuses = next((list(r["decisions"]) for r in records if r["kind"] == "request"), [])
    table = Table(
        title=f"check E5 under {variant.id} (SMETS{smets}): ok = accepted, else the code",
        show_lines=False,
    )
    for column in ("File", "SRV", "Name", "Crit", "CV", "Target"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        table.add_column(status.replace("_", " "), overflow="fold")
    for r in records:
        if r["kind"] == "response":
            cells = [f"response {r['response_code']}"] + [""] * (len(statuses) - 1)
            table.add_row(
                Path(r["file"]).name,
                r["srv"] or "",
                r["name"] or "",
                "",
                "",
                r["target"],
                *cells[: len(statuses)],
            )
            continue
        table.add_row(
            Path(r["file"]).name,
            r["srv"],
            r["name"],
            "yes" if r["critical"] else "no",
            str(r["command_variant"]),
            r["target"],
            *(
                "[green]ok[/]" if d["accepted"] else f"[red]{d['response_code']}[/]"
                for d in r["decisions"].values()
            ),
        )
    return table


def _decision_text(decision: dict[str, Any]) -> str:
    return "ok" if decision["accepted"] else str(decision["response_code"])


def _show_classified(records: list[dict[str, Any]], variant: Variant, smets: int) -> None:
    """The classify table where it fits the terminal; else one block per message, its
    decisions on indented lines that wrap under themselves."""
    statuses = next((list(r["decisions"]) for r in records if r["kind"] == "request"), [])
    header = ["File", "SRV", "Name", "Crit", "CV", "Target", *statuses]
    cells = [
        [
            Path(r["file"]).name,
            r["srv"] or "",
            r["name"] or "",
            "",
            "",
            r["target"] or "",
            *(_decision_text(d) for d in r.get("decisions", {}).values()),
        ]
        for r in records
    ]
    if fits(console, header, cells):
        console.print(_classify_table(records, variant, smets))
        return
    console.print(Text(f"check E5 under {variant.id} (SMETS{smets}): ok = accepted, else the code"))
    for r in records:
        console.print()
        console.print(Text(Path(r["file"]).name, style="bold"))
        if r["kind"] == "response":
            what = f"response {r['response_code']} to SR{r['srv'] or '?'} {r['name'] or ''}"
            console.print(indented(f"{what.rstrip()}, target {r['target']}"))
            continue
        critical = "Critical" if r["critical"] else "Non-Critical"
        console.print(
            indented(
                f"SR{r['srv']} {r['name']} ({critical}, Command Variant "
                f"{r['command_variant']}) to {r['target']}"
            )
        )
        decisions = Text()
        for n, (status, d) in enumerate(r["decisions"].items()):
            decisions.append("; " if n else "")
            decisions.append(f"{status.replace('_', ' ')}: ")
            decisions.append(_decision_text(d), style="green" if d["accepted"] else "red")
        console.print(indented(decisions))


def classify_command(
    files: Annotated[list[str], typer.Argument(help="DUIS request or response files")],
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    status: Annotated[
        str | None, typer.Option(help="one SMI status (default: every status)")
    ] = None,
    smets: Annotated[int, typer.Option(min=1, max=2, help="SMETS version of the device")] = 2,
    format: FormatOption = Format.text,
) -> None:
    """What each DUIS message is, and the DSP's check E5 decision for a device in each SMI
    status. Responses are reported as responses (kind "response"), without decisions."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    rules = load_variant(variant)
    statuses = (status,) if status else STATUSES
    records = []
    failed = 0
    for file in files:
        try:
            message = read_message(file)
        except DuisError as exc:
            failed += 1
            print(error_line(str(exc)), file=sys.stderr)
            continue
        records.append(classify_message(file, message, rules, statuses, smets))
    if format is Format.json:
        emit_json(records)
    elif records:
        _show_classified(records, rules, smets)
    if failed:
        raise typer.Exit(2)


app.command("classify")(classify_command)


# ---------------------------------------------------------------------------------------
# replay


def _describe_event(record: dict[str, Any]) -> str:
    raw, kind = record["event"], record["kind"]
    if kind in ("request", "inline"):
        text = f"SR{record['srv']} {lookup(record['srv']).name} → {record['device']}"
        if record.get("other"):
            text += f", {record['other']}"
        if record.get("image"):
            text += f" (image {record['image']})"
        return text
    if kind in ("response", "response_lost"):
        return f"{kind.replace('_', ' ')} (outcome of line {record['paired_with']})"
    if kind in ("cpl_remove", "cpl_add"):
        return f"CPL {'removes' if kind == 'cpl_remove' else 'adds'} {raw[kind]}"
    if kind == "manual_smi_fix":
        fix = raw[kind]
        return f"manual SMI fix {fix.get('target')} → {fix.get('other')}"
    return f"event {raw.get('event')} {raw.get('target')}"


def _model_cell(record: dict[str, Any]) -> str:
    model = record.get("model")
    if model is None or model["accepted"] is None:
        return ""
    if not model["accepted"]:
        return f"[red]rejected {model['response_code']}[/]"
    code = model["response_code"] or "response lost"
    return f"accepted, {code}"


def _logged_cell(record: dict[str, Any]) -> str:
    logged = record.get("logged")
    if logged is None:
        return ""
    text = "accepted" if logged["accepted"] else "rejected"
    if "response_code" in logged:
        text += f", {logged['response_code'] or 'response lost'}"
    if logged.get("firmware_version"):
        text += f", {logged['firmware_version']}"
    return text


def _notes_cell(record: dict[str, Any]) -> str:
    notes = []
    if record.get("agrees") is False:
        notes.append(f"[red]disagrees: {record['disagreement']}[/]")
    notes += [f"[red]{v['property']} violated: {v['why']}[/]" for v in record.get("violations", [])]
    notes += [
        f"[bold red]point of no return: {prop}[/]" for prop in record.get("point_of_no_return", [])
    ]
    return "\n".join(notes)


def show_replay(report: dict[str, Any]) -> None:
    table = Table(title=f"replay of {report['log']} under {report['variant']}")
    for column in ("Line", "Event", "Model", "Logged", "Notes"):
        table.add_column(column, overflow="fold")
    for record in report["events"]:
        table.add_row(
            str(record["line"]),
            _describe_event(record),
            _model_cell(record),
            _logged_cell(record),
            _notes_cell(record),
        )
    console.print(table)
    for prop, line in report["points_of_no_return"].items():
        console.print(
            f"[bold red]{prop}[/]: after line {line} the device and the SMI part ways and, "
            "with no further faults and no manual correction, never meet again"
        )
    for item in report["violated"]:
        said = " (as the variant's \\[expect] table says)"
        expected = said if item["expected_by_variant"] else ""
        console.print(f"violated: {item['property']}, first at line {item['first_line']}{expected}")
    count = len(report["disagreements"])
    if count:
        console.print(f"[red]{count} logged outcome(s) the model disagrees with[/]")
    console.print(
        "[green]the log replays clean[/]"
        if report["clean"]
        else "[red]the log does not replay clean[/]"
    )


def replay_command(
    log: Annotated[str, typer.Argument(help="message log (JSON Lines, docs/replay.md)")],
    variant: Annotated[str | None, typer.Option(help="override the inventory's variant")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Replay a DUIS message log against the model: does the model agree with each logged
    outcome, which properties break, and where the device and the SMI part ways for good.

    Exit code 0 when the log replays clean, 1 otherwise, 2 for bad input."""
    from model.message_log import load_log
    from properties.replay import replay

    loaded = load_log(log)
    report = replay(loaded, loaded.variant(variant))
    if format is Format.json:
        emit_json(report)
    else:
        show_replay(report)
    raise typer.Exit(0 if report["clean"] else 1)


app.command("replay")(replay_command)
