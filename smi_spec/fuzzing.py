"""``smi-spec fuzz``: Hypothesis stateful fuzzing per variant, with a progress bar.

One run per property the variant expects to be violated (it must be found), and one run
for all the properties it expects to hold (none may be found).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from model.variant import load_variant
from properties.fuzz import FuzzResult, fuzz
from properties.ids import PROPERTY_IDS
from smi_spec.show import hanging


def plan(expect: dict[str, str]) -> list[tuple[str, ...]]:
    violated = [p for p in PROPERTY_IDS if expect.get(p) == "violated"]
    holding = tuple(p for p in PROPERTY_IDS if p not in violated)
    return [(p,) for p in violated] + ([holding] if holding else [])


def run_fuzz(
    console: Console,
    variant_ref: str,
    max_examples: int,
    steps: int,
    seed: int | None,
    database: Path | None,
    json_output: bool,
) -> bool:
    variant = load_variant(variant_ref)
    results: list[FuzzResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False),
        transient=True,
        disable=json_output,
    ) as progress:
        for properties in plan(dict(variant.expect)):
            label = properties[0] if len(properties) == 1 else f"{len(properties)} properties"
            task = progress.add_task(f"{variant.id}: {label}", total=max_examples)

            def advance(examples: int, task: TaskID = task) -> None:
                progress.update(task, completed=min(examples, max_examples))

            results.append(
                fuzz(variant, properties, max_examples, steps, seed, database, on_example=advance)
            )
            progress.update(task, completed=max_examples)
    ok = all(
        (r.found is not None)
        == (len(r.properties) == 1 and variant.expected(r.properties[0]) == "violated")
        for r in results
    )
    if json_output:
        sys.stdout.write(
            json.dumps(
                {"variant": variant.id, "as_expected": ok, "runs": [r.as_json() for r in results]},
                indent=2,
            )
            + "\n"
        )
        return ok
    for r in results:
        target = ", ".join(r.properties)
        rate = f"{r.steps / r.seconds:,.0f} steps/s" if r.seconds else ""
        console.print(
            f"[bold]{variant.id}[/] fuzzing {target}: {r.examples} examples, "
            f"{r.steps} steps, {r.seconds:.1f}s ({rate})"
        )
        if r.found is None:
            console.print("  [green]no counterexample found[/] within the budget")
            continue
        expected = variant.expected(r.found) == "violated"
        console.print(
            f"  [red]{r.found} violated[/] ({'expected' if expected else 'NOT expected'}); "
            "shrunk counterexample:"
        )
        console.print(hanging("start:", r.start))
        for number, line in enumerate(r.trace, 1):
            console.print(hanging(f"{number}.", line))
        console.print(hanging("why:", r.why))
        if r.seed is not None:
            console.print(
                f"  reproduce: smi-spec fuzz --variant {variant_ref} --seed {r.seed} "
                f"--max-examples {max_examples} --steps {steps}"
            )
        if database is not None and seed is None:
            console.print(f"  the example database in {database} replays it first on the next run")
    return ok
