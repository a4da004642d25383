"""``smi-spec check --sensitivity``: which verdicts hinge on which assumption
(``checker.sensitivity``), as text for people and JSON for tools."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from checker.explorer import Bounds
from checker.sensitivity import Change, hinging, sensitivity
from model.variant import Variant, load_variants
from smi_spec.show import say
from smi_spec.strict_json import dumps


def _change(c: Change) -> dict[str, str]:
    return {"property": c.property, "subject": c.subject, "was": c.was, "now": c.now}


def variant_sensitivity(v: Variant, bounds: Bounds) -> dict[str, Any]:
    """One variant's sensitivity, as data (the JSON of ``check --sensitivity``)."""
    base, flipped = sensitivity(v, bounds)
    steady, hinges = hinging(base, flipped)
    return {
        "variant": v.id,
        "assumptions": [
            {
                "rule": flip.rule,
                "was": flip.was,
                "flipped_to": flip.now,
                "changes": [_change(c) for c in changes],
            }
            for flip, changes in flipped
        ],
        "hold_whatever_assumed": [
            {"property": p, "subject": s, "verdict": base[(p, s)]} for p, s in steady
        ],
        "hinge_on": [
            {"property": p, "subject": s, "verdict": base[(p, s)], "assumptions": rules}
            for (p, s), rules in sorted(hinges.items())
        ],
    }


def _text(console: Console, data: dict[str, Any]) -> None:
    say(console, f"{data['variant']}: each assumption flipped, one at a time")
    for row in data["assumptions"]:
        head = f"  {row['rule']}: {row['was']} → {row['flipped_to']}"
        if not row["changes"]:
            say(console, f"{head}: no verdict changes")
            continue
        say(console, f"{head}:")
        for c in row["changes"]:
            say(console, f"      {c['property']} for {c['subject']}: {c['was']} → {c['now']}")
    hinge = data["hinge_on"]
    steady = data["hold_whatever_assumed"]
    say(console, f"  these {len(steady)} verdicts hold whatever we assumed;")
    if not hinge:
        say(console, "  none hinges on an assumption")
    for row in hinge:
        say(
            console,
            f"  {row['property']} for {row['subject']} ({row['verdict']}) hinges on "
            + ", ".join(row["assumptions"]),
        )


def run_sensitivity(console: Console, ref: str, bounds: Bounds, json_output: bool) -> None:
    """Print the sensitivity of every variant ``ref`` names."""
    found = [variant_sensitivity(v, bounds) for v in load_variants(ref)]
    if json_output:
        console.file.write(dumps({"bounds": bounds.describe(), "variants": found}) + "\n")
        return
    say(console, f"Assumption sensitivity ({bounds.describe()})")
    for data in found:
        _text(console, data)
