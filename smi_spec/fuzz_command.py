"""``smi-spec fuzz``: Hypothesis stateful fuzzing per variant, with a progress bar.

One run per property the variant's ``[expect]`` table says is violated (it must be found),
and one run for all the properties it expects to hold (none may be found). Each run keeps
its failures in the example database under its own key. Exit code as ``check``: 0 every
verdict as expected, 1 not (a missed expected violation, an unexpected one, or too little
coverage with ``--min-coverage``), 2 bad input.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import configuration
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from checker.custom import CustomProperty, load_properties
from checker.explorer import (
    DEFAULT_BOUNDS,
    DEFAULT_SYSTEM,
    PAIR_PROPERTIES,
    System,
    default_systems,
    subject_of,
    universe,
)
from checker.fuzz import FuzzResult, fuzz
from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.status_chart import SUSPENDED
from model.variant import Variant, load_variant
from smi_spec import emit_pytest
from smi_spec.outputs import check_out_directory, writable_directory
from smi_spec.redact import mask_in, masked_url
from smi_spec.strict_json import dumps


def plan(
    expect: dict[str, str],
    system: System = DEFAULT_SYSTEM,
    custom: tuple[CustomProperty, ...] = (),
) -> list[tuple[str, ...]]:
    """One run per property expected violated, one for those expected to hold; a system
    with no Other Device has no join pair, so no join property is fuzzed there. A
    properties file's come after the built-in ones."""
    judged = [p for p in PROPERTY_IDS if system.other or p not in PAIR_PROPERTIES]
    judged += [p.id for p in custom if system.other or p.over == "device"]
    violated = [p for p in judged if expect.get(p) == "violated"]
    holding = tuple(p for p in judged if p not in violated)
    return [(p,) for p in violated] + ([holding] if holding else [])


def expected(
    variant: Variant,
    property_id: str,
    system: System = DEFAULT_SYSTEM,
    custom: tuple[CustomProperty, ...] = (),
) -> str:
    """What [expect] says for the fuzzed closed system: its device type's verdict, or its
    pair type's (for a property of a file, the file's [expect])."""
    for p in custom:
        if p.id == property_id:
            return p.expected(p.subject(system))
    return variant.expected(property_id, subject_of(system, property_id))


def open_database(spec: str) -> ExampleDatabase | None:
    """'' for none; ``redis://HOST:PORT/N`` for a Redis store shared by many workers
    (Hypothesis's RedisExampleDatabase); anything else is a directory, which must be one
    smi-spec can write (created if missing): otherwise the promise that a failure replays
    first next time would be false."""
    if not spec:
        return None
    if not spec.startswith(("redis://", "rediss://", "unix://")):
        check_out_directory(Path(spec), "--database")
        writable_directory(Path(spec), f"--database {spec}: cannot write there", create=True)
        return DirectoryBasedExampleDatabase(spec)
    redis = redis_client(spec)
    from hypothesis.extra.redis import RedisExampleDatabase

    try:
        client = redis.Redis.from_url(spec)
        client.ping()
    except (ValueError, redis.RedisError) as exc:
        reason = mask_in(str(exc), spec)
        raise InputError(f"cannot use the Redis database {masked_url(spec)}: {reason}") from None
    return RedisExampleDatabase(client)


#: What ``fuzz --database redis://...`` says when the optional Redis client is missing.
REDIS_MISSING = (
    "--database {url}: a Redis example store needs the Redis client, which is optional: "
    "pip install 'smi-spec[redis]'"
)


def redis_client(spec: str) -> ModuleType:
    """The ``redis`` package, an optional dependency (the ``redis`` extra): only a Redis
    example store needs it."""
    try:
        import redis
    except ImportError:
        raise InputError(REDIS_MISSING.format(url=masked_url(spec))) from None
    return redis


def expected_violated(
    variant: Variant, result: FuzzResult, custom: tuple[CustomProperty, ...] = ()
) -> bool:
    return (
        len(result.properties) == 1
        and expected(variant, result.properties[0], result.system, custom) == "violated"
    )


def as_expected(
    variant: Variant,
    result: FuzzResult,
    min_coverage: bool,
    custom: tuple[CustomProperty, ...] = (),
) -> bool:
    if (result.found is not None) != expected_violated(variant, result, custom):
        return False
    return not (min_coverage and result.found is None and not result.reached_min_coverage())


def run_fuzz(
    console: Console,
    variant_ref: str,
    max_examples: int,
    steps: int,
    seed: int | None,
    database: str,
    json_output: bool,
    emit: str | None = None,
    min_coverage: bool = False,
    only: list[str] | None = None,
    properties_file: str | None = None,
) -> bool:
    variant = load_variant(variant_ref)
    systems = chosen_systems(variant, only)
    custom = tuple(load_properties(properties_file)) if properties_file else ()
    store = open_database(database)
    if seed is not None:  # a seeded run repeats exactly: Hypothesis keeps no database for it
        database, store = "", None
    database = masked_url(database)  # as shown from here on: never a password
    if emit is not None:
        emit_pytest.check_target(emit)
    with hypothesis_home():
        results = _runs(variant, systems, max_examples, steps, seed, store, json_output, custom)
    ok = all(as_expected(variant, r, min_coverage, custom) for r in results)
    if emit is not None:
        cases = [_counterexample(variant, r) for r in results if r.final is not None]
        if cases:
            emit_pytest.write(emit, "fuzz", cases)
    if json_output:
        document = {
            "variant": variant.id,
            "systems": [s.describe() for s in systems],
            "as_expected": ok,
            "database": database or None,
            "runs": [
                {
                    **r.as_json(),
                    "expected": "violated" if expected_violated(variant, r, custom) else "holds",
                    "as_expected": as_expected(variant, r, min_coverage, custom),
                    "min_coverage": r.reached_min_coverage(),
                }
                for r in results
            ],
        }
        sys.stdout.write(dumps(document) + "\n")
        return ok
    for r in results:
        _show(
            console,
            variant,
            variant_ref,
            r,
            max_examples,
            steps,
            database,
            min_coverage,
            custom,
            properties_file,
        )
    driven = "; ".join(s.describe() for s in systems)
    left = [s.describe() for s in default_systems(variant) if s not in systems]
    say(console, f"systems driven: {escape(driven)}")
    if left:
        say(
            console, f"systems check explores but this run did not drive: {escape('; '.join(left))}"
        )
    if emit is not None:
        console.print(
            f"regression tests written to {escape(emit)}"
            if any(r.final for r in results)
            else f"no counterexample: {escape(emit)} not written"
        )
    return ok


@contextmanager
def hypothesis_home() -> Iterator[None]:
    """Hypothesis keeps caches (``constants/``, ``unicode_data/``) in ``.hypothesis/`` in the
    working directory; a fuzz run writes nothing there unless ``--database`` names it, so
    those caches live in a temporary directory removed after the run (issue 25)."""
    saved = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="smi-spec-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(saved)


def chosen_systems(variant: Variant, only: list[str] | None) -> tuple[System, ...]:
    """The systems to drive: every one ``check`` explores, or those whose device type (or
    description) ``only`` names; an unknown name is bad input."""
    every = default_systems(variant)
    if not only:
        return every
    names = {n.lower() for n in only}
    chosen = tuple(
        s
        for s in every
        if {s.target.lower(), s.device_subject.lower(), s.describe().lower()} & names
    )
    known = {s.device_subject.lower() for s in every} | {s.target.lower() for s in every}
    unknown = sorted(
        n for n in names if n not in known and n not in {s.describe().lower() for s in every}
    )
    if unknown:
        raise InputError(
            f"--system {unknown[0]!r}: no such system under {variant.id}; expected one of "
            + ", ".join(s.device_subject for s in every)
        )
    return chosen


def _runs(
    variant: Variant,
    systems: tuple[System, ...],
    max_examples: int,
    steps: int,
    seed: int | None,
    store: ExampleDatabase | None,
    json_output: bool,
    custom: tuple[CustomProperty, ...] = (),
) -> list[FuzzResult]:
    results: list[FuzzResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=json_output,
    ) as progress:
        for system in systems:
            ids = [*PROPERTY_IDS, *(p.id for p in custom)]
            expect = {p: expected(variant, p, system, custom) for p in ids}
            for properties in plan(expect, system, custom):
                label = properties[0] if len(properties) == 1 else f"{len(properties)} properties"
                task = progress.add_task(
                    f"{escape(variant.id)}, {system.describe()}: {label}", total=max_examples
                )

                def advance(examples: int, task: TaskID = task) -> None:
                    progress.update(task, completed=min(examples, max_examples))

                results.append(
                    fuzz(
                        variant,
                        properties,
                        max_examples,
                        steps,
                        seed,
                        store,
                        on_example=advance,
                        system=system,
                        custom=custom,
                    )
                )
                progress.update(task, completed=max_examples)
    return results


def _counterexample(variant: Variant, result: FuzzResult) -> emit_pytest.Counterexample:
    final = result.final
    assert final is not None and final.setup is not None and final.start_world is not None
    assert result.found is not None
    return emit_pytest.Counterexample(
        emit_pytest.variant_ref(variant),
        variant.id,
        result.found,
        final.setup,
        final.start_world,
        tuple(final.actions),
        universe(DEFAULT_BOUNDS, variant, result.system).versions,
        DEFAULT_BOUNDS.dcc_events,
        subject_of(result.system, result.found) or "",
    )


def say(console: Console, text: str, markup: bool = True) -> None:
    """One line, never folded (a path or a command stays whole for copy and paste)."""
    console.print(text, markup=markup, highlight=False, soft_wrap=True)


def _show(
    console: Console,
    variant: Variant,
    variant_ref: str,
    r: FuzzResult,
    max_examples: int,
    steps: int,
    database: str,
    min_coverage: bool,
    custom: tuple[CustomProperty, ...] = (),
    properties_file: str | None = None,
) -> None:
    name = escape(variant.id)
    rate = f", {r.steps_per_second:,.0f} steps/s" if r.steps_per_second else ""
    say(
        console,
        f"[bold]{name}[/], {escape(r.system.describe())}: fuzzing {', '.join(r.properties)}: "
        f"{r.examples} examples "
        f"({r.invalid} invalid), {r.steps:,} steps, {r.shrinks} shrinks "
        f"({r.shrink_steps:,} steps), {r.seconds:.1f}s{rate}",
    )
    _show_coverage(console, r)
    from_file = {p.id for p in custom} & {*r.properties, r.found}
    expect = escape(f"[expect] of {properties_file if from_file else variant.path}")
    if r.found is None:
        if expected_violated(variant, r, custom):
            say(
                console,
                f"  [bold red]MISSED: {r.properties[0]} is expected violated ({expect}) but no "
                f"counterexample was found in {max_examples} examples of up to {steps} steps; "
                f"raise the budget: --max-examples {max_examples * 5}[/]",
            )
        else:
            say(console, "  [green]no counterexample found, as expected[/]")
        if min_coverage and not r.reached_min_coverage():
            say(
                console,
                "  [bold red]too little coverage: no device entered Suspended and was "
                "restored from it; raise --max-examples or --steps[/]",
            )
        return
    if expected(variant, r.found, r.system, custom) == "violated":
        say(console, f"  [red]{r.found} violated[/] (expected: {expect}); shrunk counterexample:")
    else:
        say(
            console,
            f"  [bold red]{r.found} violated, NOT expected ({expect} says it holds)[/]; "
            "shrunk counterexample:",
        )
    say(console, f"  found at example {r.found_at}; start: {r.start}", markup=False)
    for number, line in enumerate(r.trace, 1):
        say(console, f"  {number}. {line}", markup=False)
    say(console, f"  why: {r.why}", markup=False)
    if r.seed is not None:
        say(
            console,
            f"  reproduce: smi-spec fuzz --variant {variant_ref} --system "
            f"{r.system.device_subject} --seed {r.seed} --max-examples {max_examples} "
            f"--steps {steps}" + (f" --properties {properties_file}" if properties_file else ""),
            markup=False,
        )
    if database:
        say(console, f"  saved in {database}: replayed first by the next run", markup=False)


def _show_coverage(console: Console, r: FuzzResult) -> None:
    cover: dict[str, Counter[str]] = r.coverage
    parts: list[tuple[str, Any]] = [
        ("statuses entered", cover.get("statuses")),
        ("restorations", cover.get("restorations")),
        ("faults", cover.get("faults")),
    ]
    for title, counter in parts:
        text = ", ".join(f"{k} {v}" for k, v in sorted((counter or {}).items())) or "none"
        say(console, f"  {title}: {text}", markup=False)
    rules = cover.get("rules", Counter())
    transitions = cover.get("transitions", Counter())
    say(
        console,
        f"  rules exercised: {len(rules)}; transitions: {len(transitions)}; "
        f"E5 rows: {len(cover.get('e5_rows', Counter()))} (all counts: --format json)",
    )
    if not cover.get("statuses", Counter())[SUSPENDED]:
        say(console, "  [yellow]no device entered Suspended in this run[/]")
