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

from model.access import authorise
from model.catalogue import lookup
from model.duis import DuisError, DuisMessage, DuisRequest, read_message
from model.errors import InputError
from model.status_chart import STATUSES
from model.variant import Variant, load_variant
from model.world import DEVICE_TYPES
from smi_spec.cli import Format, FormatOption, app, console, emit_json
from smi_spec.plain import error_line, plain

# ---------------------------------------------------------------------------------------
# classify


def classify_message(
    file: str,
    message: DuisMessage,
    variant: Variant,
    statuses: tuple[str, ...],
    smets: int,
    device_type: str | None = None,
) -> dict[str, Any]:
    """One file's record: what it is and, for a request, the DSP's decision per status
    (applicability to ``device_type`` where given, then check E5), naming the row."""
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
        decision = authorise(
            variant, message.srv, status, device_type, message.command_variant, smets
        )
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
        "device_type": device_type,
        "decisions": decisions,
    }


def _classify_table(records: list[dict[str, Any]], variant: Variant, smets: int) -> Table:
    statuses = next((list(r["decisions"]) for r in records if r["kind"] == "request"), [])
    table = Table(
        title=plain(f"check E5 under {variant.id} (SMETS{smets}): ok = accepted, else the code"),
        show_lines=False,
    )
    for column in ("File", "SRV", "Name", "Crit", "CV", "Target"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        table.add_column(status.replace("_", " "), overflow="fold")
    for r in records:
        if r["kind"] == "response":
            cells = [f"response {r['response_code']}"] + [""] * (len(statuses) - 1)
            texts = (Path(r["file"]).name, r["srv"] or "", r["name"] or "", "", "", r["target"])
            table.add_row(*(plain(t) for t in (*texts, *cells[: len(statuses)])))
            continue
        texts = (
            Path(r["file"]).name,
            r["srv"],
            r["name"],
            "yes" if r["critical"] else "no",
            str(r["command_variant"]),
            r["target"],
        )
        table.add_row(
            *(plain(t) for t in texts),
            *(
                plain("ok", "green") if d["accepted"] else plain(d["response_code"], "red")
                for d in r["decisions"].values()
            ),
        )
    return table


def classify_command(
    files: Annotated[list[str], typer.Argument(help="DUIS request or response files")],
    variant: Annotated[str, typer.Option(help="variant id or path to a .toml file")] = "baseline",
    status: Annotated[
        str | None, typer.Option(help="one SMI status (default: every status)")
    ] = None,
    smets: Annotated[int, typer.Option(min=1, max=2, help="SMETS version of the device")] = 2,
    device_type: Annotated[
        str | None,
        typer.Option("--device-type", help="device type of the target, e.g. PPMID"),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """What each DUIS message is, and the DSP's decision for a device in each SMI status:
    applicability to --device-type where given, then check E5, each naming its table row.
    Responses are reported as responses (kind "response"), without decisions."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if device_type is not None and device_type not in DEVICE_TYPES:
        raise InputError(
            f"unknown device type {device_type!r}; expected one of {', '.join(DEVICE_TYPES)}"
        )
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
        records.append(classify_message(file, message, rules, statuses, smets, device_type))
    if format is Format.json:
        emit_json(records)
    elif records:
        console.print(_classify_table(records, rules, smets))
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


def _model_cell(record: dict[str, Any]) -> Text:
    model = record.get("model")
    if model is None or model["accepted"] is None:
        return plain("")
    if not model["accepted"]:
        return plain(f"rejected {model['response_code']}", "red")
    code = model["response_code"] or "response lost"
    return plain(f"accepted, {code}")


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


def _notes_cell(record: dict[str, Any]) -> Text:
    notes = []
    if record.get("agrees") is False:
        notes.append(plain(f"disagrees: {record['disagreement']}", "red"))
    notes += [
        plain(f"{v['property']} violated: {v['why']}", "red") for v in record.get("violations", [])
    ]
    notes += [
        plain(f"point of no return: {prop}", "bold red")
        for prop in record.get("point_of_no_return", [])
    ]
    return Text("\n").join(notes)


def show_replay(report: dict[str, Any]) -> None:
    table = Table(title=plain(f"replay of {report['log']} under {report['variant']}"))
    for column in ("Line", "Event", "Model", "Logged", "Notes"):
        table.add_column(column, overflow="fold")
    for record in report["events"]:
        table.add_row(
            plain(record["line"]),
            plain(_describe_event(record)),
            _model_cell(record),
            plain(_logged_cell(record)),
            _notes_cell(record),
        )
    console.print(table)
    for prop, line in report["points_of_no_return"].items():
        console.print(
            plain(prop, "bold red")
            + plain(
                f": after line {line} the device and the SMI part ways and, "
                "with no further faults and no manual correction, never meet again"
            )
        )
    for item in report["violated"]:
        said = " (as the variant's [expect] table says)"
        expected = said if item["expected_by_variant"] else ""
        console.print(
            plain(f"violated: {item['property']}, first at line {item['first_line']}{expected}")
        )
    count = len(report["disagreements"])
    if count:
        console.print(plain(f"{count} logged outcome(s) the model disagrees with", "red"))
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
