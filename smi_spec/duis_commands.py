"""``smi-spec classify`` and ``smi-spec replay``: real DUIS messages and message logs in.

Registered on the ``smi-spec`` app by one import in ``smi_spec/cli.py``. Bad
input follows the CLI's conventions: one line on stderr (``smi-spec: error: FILE: problem``)
and exit code 2; ``classify`` reports every bad file on its own line and still classifies
the others.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from smi_spec.app import Format, FormatOption, StreamFormat, app, console, emit_json
from smi_spec.plain import error_line, plain
from smi_spec.show import fits, indented
from smi_spec.streamed_json import write_lines, write_streamed

if TYPE_CHECKING:
    from checker.replay import Replay


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


def _model_cell(record: dict[str, Any]) -> Text:
    model = record.get("model")
    if model is None:
        return plain("")
    alerts = f"; alerts: {', '.join(model['alerts'])}" if model.get("alerts") else ""
    if model["accepted"] is None:
        return plain(alerts.removeprefix("; "))
    if not model["accepted"]:
        return plain(f"rejected {model['response_code']}", "red")
    code = model["response_code"] or "response lost"
    return plain(f"accepted, {code}{alerts}")


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


def _notes(record: dict[str, Any]) -> list[Text]:
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
    return notes


def _event_line(record: dict[str, Any]) -> Text:
    """One event as one line (then its notes, indented), printed as soon as it is replayed.
    User text is plain text, never markup, control characters shown escaped."""
    line = plain(f"line {record['line']}: ")
    line.append(plain(_describe_event(record)))
    model = _model_cell(record)
    if model:
        line.append("; model: ")
        line.append(model)
    logged = _logged_cell(record)
    if logged:
        line.append(plain(f"; logged: {logged}"))
    for note in _notes(record):
        line.append("\n    ")
        line.append(note)
    return line


def show_summary(run: Replay, summary: dict[str, Any]) -> None:
    for prop, line in summary["points_of_no_return"].items():
        text = plain(prop, "bold red")
        text.append(
            f": after line {line} the device and the SMI part ways and, "
            "with no further faults and no manual correction, never meet again"
        )
        console.print(text)
    for item in summary["violated"]:
        said = " (as the variant's [expect] table says)" if item["expected_by_variant"] else ""
        console.print(
            plain(f"violated: {item['property']}, first at line {item['first_line']}{said}")
        )
    if run.disagreement_count:
        console.print(
            plain(f"{run.disagreement_count} logged outcome(s) the model disagrees with", "red")
        )
    console.print(
        Text("the log replays clean", "green")
        if summary["clean"]
        else Text("the log does not replay clean", "red")
    )


def _line_summary(run: Replay) -> dict[str, Any]:
    """The summary of ``replay --format jsonl``: the JSON document's tail, with the number of
    disagreements in place of their list."""
    return {**run.summary(), "disagreements": run.disagreement_count}


def replay_command(
    logs: Annotated[
        list[str], typer.Argument(metavar="LOG...", help="message log (JSON Lines, docs/replay.md)")
    ],
    variant: Annotated[str | None, typer.Option(help="override the inventory's variant")] = None,
    format: Annotated[
        StreamFormat,
        typer.Option(
            "--format",
            help="text for people; json: one report; jsonl: one record a line as replayed",
        ),
    ] = StreamFormat.text,
    workers: Annotated[
        int | None, typer.Option(help="fleet logs: replay on a Dask cluster of N workers")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="fleet logs: a Dask scheduler address (many machines)")
    ] = None,
) -> None:
    """Replay a DUIS message log against the model: does the model agree with each logged
    outcome, which properties break, and where the device and the SMI part ways for good.
    The log is read and reported one event at a time.

    Exit code 0 when every verdict is as the variant's \\[expect] table says (the model
    agrees with every logged outcome and only expected properties are violated), 1
    otherwise, 2 for bad input."""
    from checker.replay import Replay
    from model.message_log import load_log

    if workers is not None or scheduler is not None:
        from smi_spec.fleet_commands import replay_fleet_command

        replay_fleet_command(logs, variant, workers, scheduler, format is StreamFormat.text)
        return
    if len(logs) != 1:
        raise InputError("replay takes one log; several fleet logs take --workers N")
    loaded = load_log(logs[0])
    run = Replay(loaded, loaded.variant(variant), full_views=format is not StreamFormat.jsonl)
    if format is StreamFormat.json:
        head = {"log": loaded.path, "variant": run.variant.id, "start": run.start()}
        write_streamed(sys.stdout, head, "events", run.records(), run.summary)
    elif format is StreamFormat.jsonl:
        start = {"log": loaded.path, "variant": run.variant.id, "start": run.start()}
        write_lines(sys.stdout, start, run.records(), lambda: _line_summary(run))
    else:
        console.print(Text(f"replay of {loaded.path} under {run.variant.id}", style="bold"))
        for record in run.records():
            console.print(_event_line(record))
        show_summary(run, run.summary())
    raise typer.Exit(0 if run.as_expected() else 1)


app.command("replay")(replay_command)
