"""Terminal views of reports (rich), kept apart from the commands that compute them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text


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
    return Padding(text if isinstance(text, Text) else Text(text), (0, 0, 0, indent), expand=False)


def hanging(label: str, text: object, indent: int = 2) -> RenderableType:
    """``label text``, the text's wrapped lines aligned under its first word; text that is
    not rich Text is printed as plain text."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(label), text if isinstance(text, Text) else Text(str(text)))
    return Padding(grid, (0, 0, 0, indent), expand=False)


def show_rules(console: Console, rows: list[dict[str, Any]]) -> None:
    """The rules of both machines: a table where it fits, else one block per rule."""
    header = ("Machine", "Event", "From", "To", "Source", "Why")
    cells = [
        [r[k] for k in ("machine", "event", "source", "target", "provenance", "why")] for r in rows
    ]
    if fits(console, header, cells):
        table = Table(title="Rules of the two machines, with their sources")
        for column in header:
            table.add_column(column, overflow="fold")
        for row in cells:
            table.add_row(*(Text(c) for c in row))
        console.print(table)
        return
    console.print(Text("Rules of the two machines, with their sources", style="italic"))
    for r in rows:
        console.print()
        console.print(Text(f"{r['event']}  ({r['machine']}, {r['provenance']})", style="bold"))
        console.print(indented(f"{r['source']} → {r['target']}"))
        console.print(indented(r["why"]))


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
            text += " [response will be lost]"
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


def _device_cell(view: dict[str, Any]) -> str:
    status = view["status"]
    if view["prior_status"]:
        status += f" (prior {view['prior_status']})"
    firmware = ""
    if view["smi_firmware"] or view["device_firmware"]:
        firmware = f" SMI {view['smi_firmware']} / device {view['device_firmware']}"
        if view["smi_firmware"] != view["device_firmware"]:
            firmware = f"[bold red]{firmware}[/]"
    return status + firmware


def show_run(console: Console, report: dict[str, Any]) -> None:
    """The step-by-step table of ``smi-spec run``."""
    table = Table(title=f"{report['scenario']} under {report['variant']}", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Step")
    table.add_column("DSP")
    table.add_column("What happened")
    devices = list(report["start"]["devices"])
    for device in devices:
        table.add_column(device)
    if report["start"]["joins"]:
        table.add_column("Joins (SMI / device)")
    for number, record in enumerate(report["steps"], 1):
        if record["accepted"] is None:
            dsp = ""
        elif record["accepted"]:
            dsp = f"accepted, {record['response_code'] or 'response lost'}"
        else:
            dsp = f"[red]rejected {record['response_code']}[/]"
        row = [str(number), describe_step(record["step"]), dsp, "; ".join(record["effects"])]
        row += [_device_cell(record["devices"][d]) for d in devices]
        if report["start"]["joins"]:
            row.append(
                "\n".join(
                    f"{j['target']}-{j['other']}: {'yes' if j['smi'] else 'no'} / "
                    f"{'yes' if j['device'] else 'no'}"
                    + ("" if j["smi"] == j["device"] else " [bold red]out of sync[/]")
                    for j in record["joins"]
                )
            )
        table.add_row(*row)
    console.print(table)
    console.print(
        f"Manual SMI corrections: {report['manual_fixes']} "
        f"(about £{report['manual_fix_cost_gbp']:,})"
    )
