"""Terminal views of reports (rich), kept apart from the commands that compute them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from smi_spec.plain import plain


def fits(console: Console, header: Sequence[str], rows: Iterable[Sequence[str]]) -> bool:
    """Whether a boxed table of these cells fits the terminal with no word broken: each
    column as wide as its longest word, plus rich's padding (2) and borders (1 each)."""
    widths = [max((len(w) for w in str(h).split()), default=1) for h in header]
    for row in rows:
        for n, cell in enumerate(row):
            widths[n] = max(widths[n], max((len(w) for w in str(cell).split()), default=0))
    return sum(w + 3 for w in widths) + 1 <= console.width


def indented(text: str | Text, indent: int = 2) -> RenderableType:
    """Plain text (never markup) whose wrapped lines keep the indent of its first."""
    return Padding(text if isinstance(text, Text) else plain(text), (0, 0, 0, indent), expand=False)


def hanging(label: str, text: object, indent: int = 2) -> RenderableType:
    """``label text``, the text's wrapped lines aligned under its first word; text that is
    not rich Text is printed as plain text."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(label), text if isinstance(text, Text) else plain(str(text)))
    return Padding(grid, (0, 0, 0, indent), expand=False)


def show_rules(console: Console, rows: list[dict[str, Any]]) -> None:
    """Every rule and table row: a table where it fits, else one block per rule."""
    title = "Rules of the two machines and the variant's tables, with their sources"
    header = ("Rule", "Says", "Source", "Why")
    cells = [
        [
            r["rule"],
            r.get("says") or f"{r['event']}: {r['source']} -> {r['target']}",
            r["provenance"],
            r["why"],
        ]
        for r in rows
    ]
    if fits(console, header, cells):
        table = Table(title=title)
        for column in header:
            table.add_column(column, overflow="fold")
        for row in cells:
            table.add_row(*(plain(c) for c in row))
        console.print(table)
        return
    console.print(Text(title, style="italic"))
    for rule, says, source, why in cells:
        console.print()
        console.print(plain(f"{rule}  ({source})", "bold"))
        console.print(indented(says))
        if why:
            console.print(indented(why))


def describe_step(step: dict[str, Any]) -> str:
    """A scenario step in a reviewer's words."""
    if "sr" in step:
        from model.catalogue import lookup

        text = f"{lookup(step['sr']).label} to {step['target']}"
        if "other" in step:
            text += f" (other device {step['other']})"
        if "image" in step:
            text += f", image {step['image']}"
        if step.get("command_variant", 1) != 1:
            text += f", Command Variant {step['command_variant']}"
        if step.get("lose_response"):
            text += " (response will be lost)"
        if step.get("lose_alert"):
            text += " (alert will be lost)"
        return text
    if "cpl_remove" in step:
        return f"DCC removes {step['cpl_remove']} from the CPL"
    if "cpl_add" in step:
        return f"DCC adds {step['cpl_add']} to the CPL"
    if "manual_smi_fix" in step:
        fix = step["manual_smi_fix"]
        return f"DCC corrects the SMI by hand for {fix['target']} / {fix['other']}"
    if "event" in step:
        return f"{step['event']} for {step['target']}"
    return str(step)


def _device_cell(view: dict[str, Any]) -> Text:
    status = view["status"]
    if view["prior_status"]:
        status += f" (prior {view['prior_status']})"
    cell = plain(status)
    if view["smi_firmware"] or view["device_firmware"]:
        firmware = f" SMI {view['smi_firmware']} / device {view['device_firmware']}"
        mismatch = view["smi_firmware"] != view["device_firmware"]
        cell += plain(firmware, "bold red" if mismatch else "")
    return cell


def _joins_cell(joins: list[dict[str, Any]]) -> Text:
    cell = Text()
    for number, j in enumerate(joins):
        if number:
            cell += "\n"
        smi, device = "yes" if j["smi"] else "no", "yes" if j["device"] else "no"
        cell += plain(f"{j['target']}-{j['other']}: {smi} / {device}")
        if j["smi"] != j["device"]:
            cell += plain(" out of sync", "bold red")
    return cell


def show_run(console: Console, report: dict[str, Any]) -> None:
    """The step-by-step table of ``smi-spec run``; user text (ids, names, notes) plain."""
    table = Table(title=plain(f"{report['scenario']} under {report['variant']}"), show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Step")
    table.add_column("DSP")
    table.add_column("What happened")
    devices = list(report["start"]["devices"])
    for device in devices:
        table.add_column(plain(device))
    if report["start"]["joins"]:
        table.add_column("Joins (SMI / device)")
    for number, record in enumerate(report["steps"], 1):
        if record["accepted"] is None:
            dsp = plain("")
        elif record["accepted"]:
            dsp = plain(f"accepted, {record['response_code'] or 'response lost'}")
        else:
            dsp = plain(f"rejected {record['response_code']}", "red")
        happened = list(record["effects"])
        if record.get("rule"):
            rule = record["rule"]
            happened.append(f"rule {rule['id']} ({rule['source']})")
        if record.get("alerts"):
            happened.append("alerts: " + ", ".join(record["alerts"]))
        row = [plain(number), plain(describe_step(record["step"])), dsp]
        row.append(plain("; ".join(happened)))
        row += [_device_cell(record["devices"][d]) for d in devices]
        if report["start"]["joins"]:
            row.append(_joins_cell(record["joins"]))
        table.add_row(*row)
    console.print(table)
    console.print(
        plain(
            f"Manual SMI corrections: {report['manual_fixes']} "
            f"(about £{report['manual_fix_cost_gbp']:,})"
        )
    )
