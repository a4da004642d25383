"""Terminal views of reports (rich), kept apart from the commands that compute them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from smi_spec.plain import plain, visible


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

        target = step["target"] if "target" in step else ", ".join(step["targets"])
        text = f"{lookup(step['sr']).label} to {target}"
        if "role" in step or "sender" in step:
            sender = " ".join(str(step[k]) for k in ("sender", "role") if k in step)
            text += f" from {sender}"
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
        reason = f" ({step['reason']})" if "reason" in step else ""
        return f"DCC removes {step['cpl_remove']} from the CPL{reason}"
    if "change_of_supplier" in step:
        incoming = f" to {step['to']}" if "to" in step else ""
        return f"change of supplier for {step['change_of_supplier']}{incoming}"
    if "cpl_add" in step:
        return f"DCC adds {step['cpl_add']} to the CPL"
    if "manual_smi_fix" in step:
        fix = step["manual_smi_fix"]
        return f"DCC corrects the SMI by hand for {fix['target']} / {fix['other']}"
    if "event" in step:
        return f"{step['event']} for {step['target']}"
    return str(step)


CHANGED = "*"
DISAGREE = "≠"
LEGEND = f"({CHANGED} changed by this step; {DISAGREE} the SMI and the device disagree)"


def _mark(text: str, changed: bool) -> str:
    return text + (CHANGED if changed else "")


def state_lines(view: dict[str, Any], changed: set[str]) -> list[str]:
    """The SMI and device views of every device and pair, and the CPL, after a step, as
    plain lines: what the step changed marked ``*``, disagreements flagged ``≠``."""
    lines = []
    if "cpl" in view:
        lines.append(_mark("CPL {" + ", ".join(view["cpl"]) + "}", "cpl" in changed))
    for device, d in view["devices"].items():
        status = _mark(d["status"], f"{device}.status" in changed)
        if d["prior_status"]:
            status += " (prior " + _mark(d["prior_status"], f"{device}.prior_status" in changed)
            status += ")"
        text = f"{device}: {status}"
        if d["smi_firmware"] or d["device_firmware"]:
            smi = _mark(str(d["smi_firmware"]), f"{device}.smi_firmware" in changed)
            runs = _mark(str(d["device_firmware"]), f"{device}.device_firmware" in changed)
            text += f", SMI firmware {smi} / device runs {runs}"
            if d["smi_firmware"] != d["device_firmware"]:
                text += f" {DISAGREE}"
        if "supplier" in d:
            text += ", supplier " + _mark(d["supplier"], f"{device}.supplier" in changed)
        lines.append(text)
    for j in view["joins"]:
        pair = f"{j['target']}-{j['other']}"
        smi = _mark("joined" if j["smi"] else "not joined", f"{pair}.smi" in changed)
        device = _mark("joined" if j["device"] else "not joined", f"{pair}.device" in changed)
        lines.append(
            f"{pair}: SMI {smi} / device {device}"
            + (f" {DISAGREE}" if j["smi"] != j["device"] else "")
        )
    return lines


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    from checker.narrate import changes

    return set(changes(before, after))


def _rule_line(rule: dict[str, Any] | None) -> str | None:
    if not rule:
        return None
    return f"rule {rule['id']} [{rule['source']}]: {rule['text']}"


_LABEL = re.compile(r"\d+\.|start:|why:|note:")


def say(console: Console, text: str) -> None:
    """Print user text as data (no rich markup, no highlighting, control characters shown
    escaped): its wrapped lines keep its indent, and after a label ("1.", "start:") they
    line up under the text."""
    stripped = text.lstrip(" ")
    indent = len(text) - len(stripped)
    label, _, rest = stripped.partition(" ")
    labelled = bool(rest) and _LABEL.fullmatch(label) is not None
    line = _one_line(console, indent, label, rest) if labelled else None
    if line is None and not labelled:
        line = _one_line(console, indent, "", stripped)
    if line is not None:
        console.out(line, highlight=False)
    elif labelled:
        console.print(hanging(label, plain(rest), indent))
    else:
        console.print(indented(plain(stripped), indent))


def _one_line(console: Console, indent: int, label: str, text: str) -> str | None:
    """What ``hanging`` (with a label) or ``indented`` prints for ``text`` where that is
    one line with nothing to style: on a console with no colours (not a terminal) and
    text that fits its width unwrapped. Else None, for rich to lay out (issue 23: rich's
    tables cost about 1 ms a line, and ``check`` says hundreds)."""
    if console.color_system is not None or console.record:
        return None
    shown = visible(text)
    if not shown or shown != shown.strip() or "  " in shown or cell_len(shown) != len(shown):
        return None
    line = " " * indent + (f"{label} {shown}" if label else shown)
    return line if len(line) <= console.width else None


_say = say


def show_states(console: Console, initial: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    """A story step by step, TLC-style: each step, the rule that decided it with its source,
    then the whole state after it with changes marked."""
    _say(console, f"  state at the start {LEGEND}")
    for line in state_lines(initial, set()):
        _say(console, f"      {line}")
    previous = initial
    for step in steps:
        _say(console, f"  {step['step']}. {step['text']}")
        for rule in step.get("rules") or [step.get("rule")]:
            said = _rule_line(rule)
            if said:
                _say(console, f"      {said}")
        for line in state_lines(step, _changed(previous, step)):
            _say(console, f"      {line}")
        previous = step


def entry_line(entry: dict[str, Any]) -> str:
    """A CPL entry in a reviewer's words: what it lists and its listing events."""
    what = " ".join(str(entry[k]) for k in ("device_type", "model") if entry.get(k))
    gbcs = f", GBCS {entry['gbcs_version']}" if entry.get("gbcs_version") else ""
    events = ", ".join(
        e["event"] + (f" ({e['reason']})" if e.get("reason") else "") for e in entry["events"]
    )
    on = "on the CPL" if entry["listed"] else "off the CPL"
    return f"{entry['version']} for {what}{gbcs}: {events}; {on}"


def show_run(console: Console, report: dict[str, Any]) -> None:
    """``smi-spec run``: each step with the DSP's decision, what happened, the rule and its
    source, the scenario's note, and the whole state after it with changes marked."""
    _say(console, f"{report['scenario']} under {report['variant']}")
    for entry in report.get("cpl_entries", []):
        _say(console, f"  CPL entry {entry_line(entry)}")
    _say(console, f"  state at the start {LEGEND}")
    for line in state_lines(report["start"], set()):
        _say(console, f"      {line}")
    previous = report["start"]
    for number, record in enumerate(report["steps"], 1):
        if record["accepted"] is None:
            dsp = ""
        elif record["accepted"]:
            dsp = f" → accepted, {record['response_code'] or 'response lost'}"
        else:
            dsp = f" → rejected {record['response_code']}"
        _say(console, f"  {number}. {describe_step(record['step'])}{dsp}")
        note = record["step"].get("note") if isinstance(record["step"], dict) else None
        if note:
            _say(console, f"      note: {note}")
        happened = list(record["effects"])
        if record.get("alerts"):
            happened.append("alerts: " + ", ".join(record["alerts"]))
        if happened:
            _say(console, f"      {'; '.join(happened)}")
        rule = _rule_line(record.get("rule"))
        if rule:
            _say(console, f"      {rule}")
        for line in state_lines(record, _changed(previous, record)):
            _say(console, f"      {line}")
        previous = record
    _say(
        console,
        f"Manual SMI corrections made: {report['manual_fixes']} "
        f"(about £{report['manual_fix_cost_gbp']:,})",
    )
    after = report.get("after")
    if after is not None:
        show_run_verdicts(console, after())


def show_run_verdicts(console: Console, judged: dict[str, Any]) -> None:
    """The verdicts on the scenario's path, the points of no return and the manual SMI
    corrections still needed (checker.run_verdicts)."""
    _say(console, "Verdicts on this path:")
    for row in judged["verdicts"]:
        if row["verdict"] == "holds":
            _say(console, f"  {row['property']}: holds on this path")
            continue
        mark = "" if row["expected"] == "violated" else " (not expected by the variant)"
        where = "the start" if row["first_step"] == 0 else f"step {row['first_step']}"
        kind = (
            "point of no return after"
            if row["property"] in judged["points_of_no_return"]
            else "first broken at"
        )
        _say(console, f"  {row['property']}: violated{mark}; {kind} {where}")
    needed = judged["manual_fixes_needed"]
    who = f": {', '.join(judged['needing_correction'])}" if needed else ""
    _say(
        console,
        f"Manual SMI corrections needed: {needed} (about "
        f"£{judged['manual_fixes_needed_cost_gbp']:,} at £{judged['cost_per_correction_gbp']:,} "
        f"each, {judged['cost_source']}){who}",
    )
