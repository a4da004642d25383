"""``smi-spec fuzz``: Hypothesis stateful fuzzing per variant, with a progress bar.

One run per property the variant expects to be violated (it must be found), and one run
for all the properties it expects to hold (none may be found).
"""

from __future__ import annotations

import sys
import tempfile
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

from model.errors import InputError
from model.variant import load_variant
from properties.explorer import DEFAULT_SYSTEM, subject_of
from properties.fuzz import FuzzResult, fuzz
from properties.ids import PROPERTY_IDS
from smi_spec.jsonout import dumps
from smi_spec.plain import plain, styled, visible
from smi_spec.show import hanging


def plan(expect: dict[str, str]) -> list[tuple[str, ...]]:
    violated = [p for p in PROPERTY_IDS if expect.get(p) == "violated"]
    holding = tuple(p for p in PROPERTY_IDS if p not in violated)
    return [(p,) for p in violated] + ([holding] if holding else [])


def check_database(database: Path) -> None:
    """The example database must be a directory smi-spec can write (created if missing):
    otherwise the promise that a failure replays first next time would be false."""
    if database.exists() and not database.is_dir():
        raise InputError(f"--database {database}: exists and is not a directory")
    try:
        database.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=database):
            pass
    except OSError as exc:
        raise InputError(f"--database {database}: cannot write there: {exc.strerror}") from None


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
    # The fuzzer drives the default closed system (an ESME with a CAD): what [expect] says
    # for that system's device type and pair type.
    expect = {p: variant.expected(p, subject_of(DEFAULT_SYSTEM, p)) for p in PROPERTY_IDS}
    if database is not None:
        check_database(database)
    results: list[FuzzResult] = []
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False),
        transient=True,
        disable=json_output,
    ) as progress:
        for properties in plan(expect):
            label = properties[0] if len(properties) == 1 else f"{len(properties)} properties"
            task = progress.add_task(visible(f"{variant.id}: {label}"), total=max_examples)

            def advance(examples: int, task: TaskID = task) -> None:
                progress.update(task, completed=min(examples, max_examples))

            results.append(
                fuzz(variant, properties, max_examples, steps, seed, database, on_example=advance)
            )
            progress.update(task, completed=max_examples)
    ok = all(
        (r.found is not None) == (len(r.properties) == 1 and expect[r.properties[0]] == "violated")
        for r in results
    )
    if json_output:
        sys.stdout.write(
            dumps(
                {"variant": variant.id, "as_expected": ok, "runs": [r.as_json() for r in results]}
            )
            + "\n"
        )
        return ok
    for r in results:
        target = ", ".join(r.properties)
        rate = f"{r.steps / r.seconds:,.0f} steps/s" if r.seconds else ""
        console.print(
            styled("[bold]{id}[/] ", id=variant.id)
            + plain(f"fuzzing {target}: {r.examples} examples, {r.steps} steps, ")
            + plain(f"{r.seconds:.1f}s ({rate})")
        )
        if r.found is None:
            console.print("  [green]no counterexample found[/] within the budget")
            continue
        expected = expect[r.found] == "violated"
        console.print(
            f"  [red]{r.found} violated[/] ({'expected' if expected else 'NOT expected'}); "
            "shrunk counterexample:"
        )
        console.print(hanging("start:", plain(r.start)))
        for number, line in enumerate(r.trace, 1):
            console.print(hanging(f"{number}.", plain(line)))
        console.print(hanging("why:", plain(r.why or "")))
        if r.seed is not None:
            console.print(
                plain(
                    f"  reproduce: smi-spec fuzz --variant {variant_ref} --seed {r.seed} "
                    f"--max-examples {max_examples} --steps {steps}"
                )
            )
        if database is not None and seed is None:
            console.print(
                plain(f"  the example database in {database} replays it first on the next run")
            )
    return ok
