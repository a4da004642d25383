"""``smi-spec check``: run the explorer over variants and report verdicts and stories."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from model.errors import InputError
from model.variant import load_variants
from properties.explorer import Bounds, Exploration, explore
from properties.ids import PROPERTY_IDS
from properties.narrate import story, write_itf


def check(variant_ref: str, properties: list[str] | None, bounds: Bounds) -> list[Exploration]:
    """Explore each variant named by ``variant_ref`` (an id, a path, or ``all``)."""
    wanted = properties or list(PROPERTY_IDS)
    for property_id in wanted:
        if property_id not in PROPERTY_IDS:
            raise InputError(
                f"unknown property {property_id!r}; expected one of {', '.join(PROPERTY_IDS)}"
            )
    return [explore(v, bounds, wanted) for v in load_variants(variant_ref)]


def as_json(explorations: list[Exploration]) -> dict[str, Any]:
    """The JSON report: ``{"variants": [{"variant", "states", "transitions", "seconds",
    "properties": [{"id", "verdict", "expected", "trace"}]}]}`` plus the bounds and stories."""
    return {
        "bounds": explorations[0].bounds.describe() if explorations else None,
        "variants": [
            {
                "variant": e.variant.id,
                "path": e.variant.path,
                "states": e.states,
                "transitions": e.transitions,
                "seconds": round(e.seconds, 3),
                "as_expected": e.as_expected,
                "properties": [
                    {
                        "id": p.id,
                        "verdict": p.verdict,
                        "expected": p.expected,
                        "why": p.why,
                        "trace": (story(e, p.id) or {}).get("steps", []),
                        "start": (story(e, p.id) or {}).get("start"),
                    }
                    for p in e.properties
                ],
            }
            for e in explorations
        ],
    }


def show(console: Console, explorations: list[Exploration]) -> None:
    """The verdict table, then every counterexample as a numbered story."""
    table = Table(title=f"smi-spec check ({explorations[0].bounds.describe()})")
    table.add_column("Property")
    for e in explorations:
        table.add_column(e.variant.id)
    for index, result in enumerate(explorations[0].properties):
        row = [result.id]
        for e in explorations:
            p = e.properties[index]
            colour = "green" if p.verdict == "holds" else "red"
            mark = "" if p.verdict == p.expected else " [bold yellow](unexpected)[/]"
            row.append(f"[{colour}]{p.verdict}[/]{mark}")
        table.add_row(*row)
    table.add_row(
        "[dim]states / transitions[/]",
        *[f"[dim]{e.states:,} / {e.transitions:,}[/]" for e in explorations],
    )
    table.add_row("[dim]seconds[/]", *[f"[dim]{e.seconds:.2f}[/]" for e in explorations])
    console.print(table)
    for e in explorations:
        for p in e.properties:
            told = story(e, p.id)
            if told is None:
                continue
            expected = "expected" if p.verdict == p.expected else "NOT expected"
            console.print(f"\n[bold]{e.variant.id}: {p.id} violated[/] ({expected})")
            console.print(f"  start: {told['start']}")
            for step in told["steps"]:
                console.print(f"  {step['step']}. {step['text']}")
            console.print(f"  why: {p.why}")


def run_check(
    console: Console,
    variant_ref: str,
    properties: list[str] | None,
    bounds: Bounds,
    itf_dir: str | None,
    json_output: bool,
    emit_pytest: str | None = None,
) -> bool:
    explorations = check(variant_ref, properties, bounds)
    if emit_pytest is not None:
        from smi_spec import emit_pytest as emitter

        emitter.write(emit_pytest, "check", emitter.from_explorations(explorations))
    if itf_dir is not None:
        directory = Path(itf_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for e in explorations:
                write_itf(e, directory)
        except OSError as exc:
            raise InputError(f"cannot write ITF traces to {directory}: {exc}") from None
    if json_output:
        sys.stdout.write(json.dumps(as_json(explorations), indent=2, ensure_ascii=False) + "\n")
    else:
        show(console, explorations)
    return all(e.as_expected for e in explorations)
