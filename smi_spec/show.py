"""Terminal views of reports (rich), kept apart from the commands that compute them."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


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
        happened = list(record["effects"])
        if record.get("rule"):
            rule = record["rule"]
            happened.append(f"rule {rule['id']} ({rule['source']})")
        if record.get("alerts"):
            happened.append("alerts: " + ", ".join(record["alerts"]))
        row = [str(number), describe_step(record["step"]), dsp, "; ".join(happened)]
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
