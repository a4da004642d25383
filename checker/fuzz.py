"""Hypothesis stateful fuzzing of the live machines, per variant.

A ``RuleBasedStateMachine`` (``checker.fuzz_machine``) drives the closed system through the
one DSP over the *live* python-statemachine and transitions machines. Its setup, starts and
actions are the explorer's (``checker.explorer.universe``, ``checker.alphabet``), so the
fuzzer follows the model wherever it grows. Safety properties are checked on every step;
recoverability at every step by a bounded search from the current state. Hypothesis shrinks
a failure to a short story told in the explorer's terms; this module runs it, makes the
story minimal (``minimise``) and reports what Hypothesis counted (``FuzzResult``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.stateful import get_state_machine_test
from hypothesis.statistics import collector

from checker.custom import CustomProperty, violated_in
from checker.default_budgets import MAX_EXAMPLES, STEP_COUNT
from checker.explorer import (
    DEFAULT_BOUNDS,
    DEFAULT_SYSTEM,
    RECOVERABILITY,
    Bounds,
    System,
    universe,
)
from checker.fuzz_machine import (
    COVERAGE_KINDS,
    DEFAULT_GUIDE,
    Guide,
    PropertyViolated,
    Run,
    Tally,
    is_fault,
    kind,
    rule_groups,
    system_for,
)
from checker.machine_tables import compiled
from checker.narrate import action_label, describe_start
from model.dsp import StepNotAllowed, step
from model.machines import LIVE
from model.property_ids import PROPERTY_IDS
from model.status_chart import SUSPENDED
from model.variant import Variant
from model.world import Action, Setup, World
from properties import safety
from properties.recoverability import recoverable

#: What ``from checker.fuzz import ...`` offers, the state machine's names included.
__all__ = [
    "COVERAGE_KINDS",
    "DEFAULT_GUIDE",
    "MAX_EXAMPLES",
    "STEP_COUNT",
    "FuzzResult",
    "Guide",
    "PropertyViolated",
    "Run",
    "Tally",
    "database_key",
    "fuzz",
    "hypothesis_counts",
    "is_fault",
    "kind",
    "minimise",
    "rule_groups",
    "system_for",
    "violates",
]


@dataclass
class FuzzResult:
    """One run: the properties it watched, what Hypothesis counted, what was found."""

    variant: str
    properties: tuple[str, ...]
    examples: int
    steps: int
    seconds: float
    seed: int | None
    invalid: int = 0
    shrinks: int = 0
    shrink_steps: int = 0
    found: str | None = None
    found_at: int | None = None
    why: str | None = None
    start: str | None = None
    trace: list[str] = field(default_factory=list)
    final: Run | None = None
    coverage: dict[str, Counter[str]] = field(default_factory=dict)
    #: The closed system this run drove (the explorer's, one per device or pair type).
    system: System = DEFAULT_SYSTEM

    @property
    def steps_per_second(self) -> float | None:
        total = self.steps + self.shrink_steps
        return total / self.seconds if self.seconds else None

    def reached_min_coverage(self) -> bool:
        """A device entered Suspended and a device was restored from it."""
        statuses = self.coverage.get("statuses", Counter())
        restorations = self.coverage.get("restorations", Counter())
        return statuses[SUSPENDED] > 0 and restorations.total() > 0

    def as_json(self) -> dict[str, Any]:
        rate = self.steps_per_second
        return {
            "variant": self.variant,
            "system": self.system.describe(),
            "properties": list(self.properties),
            "examples": self.examples,
            "invalid_examples": self.invalid,
            "steps": self.steps,
            "shrinks": self.shrinks,
            "shrink_steps": self.shrink_steps,
            "seconds": round(self.seconds, 3),
            "steps_per_second": round(rate) if rate else None,
            "seed": self.seed,
            "found": self.found,
            "found_at_example": self.found_at,
            "why": self.why,
            "start": self.start,
            "trace": self.trace,
            "coverage": {k: dict(sorted(v.items())) for k, v in self.coverage.items()},
        }


def database_key(
    variant: Variant,
    properties: tuple[str, ...],
    bounds: Bounds,
    system: System = DEFAULT_SYSTEM,
) -> bytes:
    """One key per run: a failure saved by one property's run is replayed by the next run of
    that property, whatever the runs of other properties did with theirs. The default
    system keeps the key it had before fuzz drove other systems."""
    where = "" if system == DEFAULT_SYSTEM else f"|{system.describe()}"
    return f"smi-spec fuzz|{variant.id}|{','.join(properties)}|{bounds!r}{where}".encode()


def fuzz(
    variant: Variant,
    properties: tuple[str, ...] = PROPERTY_IDS,
    max_examples: int = MAX_EXAMPLES,
    step_count: int = STEP_COUNT,
    seed: int | None = 0,
    database: Path | ExampleDatabase | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
    on_example: Callable[[int], None] | None = None,
    guide: Guide = DEFAULT_GUIDE,
    system: System = DEFAULT_SYSTEM,
    custom: tuple[CustomProperty, ...] = (),
) -> FuzzResult:
    """Fuzz one variant; return the shrunk counterexample of the first property broken.

    Without a ``seed``, failures are saved to ``database`` under this run's own key and
    replayed first next time; a ``seed`` repeats a run exactly, so (Hypothesis's rule) a
    seeded run neither reads nor writes the database.
    """
    tally = Tally()
    machine = system_for(variant, properties, bounds, guide, tally, system, custom)
    if on_example is not None:
        original = machine.__init__

        def counting_init(self: Any) -> None:
            original(self)
            if not tally.failed:
                on_example(len(tally.runs))

        machine.__init__ = counting_init  # type: ignore[method-assign]
    if isinstance(database, Path):
        database = DirectoryBasedExampleDatabase(str(database))
    config = settings(
        max_examples=max_examples,
        stateful_step_count=step_count,
        deadline=None,
        database=database,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        print_blob=False,
        # The same run whatever the environment: Hypothesis's "ci" profile, loaded when CI
        # is set, would derandomise it and hide the seed that reproduces a failure.
        derandomize=False,
        report_multiple_bugs=False,
    )
    test: Any = get_state_machine_test(machine, settings=config)
    test._hypothesis_internal_database_key = database_key(variant, properties, bounds, system)
    if seed is not None:
        test = hypothesis.seed(seed)(test)
    statistics: list[dict[str, Any]] = []
    started = time.perf_counter()
    result = FuzzResult(variant.id, properties, 0, 0, 0.0, seed, system=system)
    try:
        with collector.with_value(statistics.append):  # type: ignore[arg-type]
            test()
    except PropertyViolated as violation:
        if seed is None:  # what Hypothesis drew, so that ``--seed`` reproduces this run
            result.seed = getattr(test, "_hypothesis_internal_use_generated_seed", None)
        # Hypothesis replays the shrunk example last; drop what it could not.
        final = minimise(variant, bounds, tally.runs[-1], violation.property_id, system, custom)
        result.found, result.why = violation.property_id, violation.why
        result.start, result.trace, result.final = final.start, list(final.steps), final
    result.seconds = time.perf_counter() - started
    counts = hypothesis_counts(statistics)
    result.examples, result.invalid, result.shrinks, result.found_at = counts
    result.steps, result.shrink_steps = tally.steps, tally.shrink_steps
    result.coverage = tally.coverage
    return result


def violates(
    variant: Variant,
    setup: Setup,
    world: World,
    actions: list[Action],
    property_id: str,
    everything: tuple[Action, ...],
    custom: tuple[CustomProperty, ...] = (),
) -> bool:
    """Do ``actions`` from ``world``, on the live machines, break ``property_id``?"""
    mine = next((p for p in custom if p.id == property_id), None)
    if mine is not None and violated_in(mine, setup, world, variant, everything):
        return True
    for action in actions:
        before = world
        try:
            world, outcome = step(setup, before, action, variant, LIVE)
        except StepNotAllowed:
            return False
        if mine is not None and violated_in(mine, setup, world, variant, everything):
            return True
        found = safety.violations(setup, variant, before, action, world, outcome)
        if any(v.property == property_id for v in found):
            return True
    if property_id not in RECOVERABILITY:
        return False
    way_back = recoverable(
        setup, world, variant, property_id, lambda _s, _w: everything, compiled()
    )
    return way_back is False


def minimise(
    variant: Variant,
    bounds: Bounds,
    run: Run,
    property_id: str,
    system: System = DEFAULT_SYSTEM,
    custom: tuple[CustomProperty, ...] = (),
) -> Run:
    """Hypothesis's shrunk example, made minimal where it is not: drop each step that the
    violation does not need, then start from the first of the explorer's starts (reviewers
    read a Commissioned, compliant meter first) from which the steps still break it."""
    assert run.setup is not None and run.start_world is not None
    world_of = universe(bounds, variant, system)
    everything = world_of.actions
    setup, start, actions = run.setup, run.start_world, list(run.actions)
    dropped = True
    while dropped:
        dropped = False
        for n in range(len(actions)):
            shorter = actions[:n] + actions[n + 1 :]
            if violates(variant, setup, start, shorter, property_id, everything, custom):
                actions, dropped = shorter, True
                break
    for setup_index, world in world_of.starts:
        candidate = world_of.setups[setup_index]
        if (candidate, world) == (setup, start):
            break
        if violates(variant, candidate, world, actions, property_id, everything, custom):
            setup, start = candidate, world
            break
    told = Run(setup, start, describe_start(setup, start), actions)
    world = start
    for action in actions:
        world, outcome = step(setup, world, action, variant, LIVE)
        effects = "; ".join(outcome.effects) or "no change"
        told.steps.append(f"{action_label(setup, action)}: {effects}")
    return told


def hypothesis_counts(statistics: list[dict[str, Any]]) -> tuple[int, int, int, int | None]:
    """(examples, invalid, shrinks, found at) as Hypothesis counts them (its ``--hypothesis-
    show-statistics``): passing and failing test cases of the reuse, generate and target
    phases (what ``max_examples`` bounds), the invalid ones of those phases, the test cases
    tried while shrinking, and the number of the example that failed first."""
    if not statistics:
        return 0, 0, 0, None
    stats = statistics[-1]
    cases = [
        case["status"]
        for phase in ("reuse", "generate", "target")
        for case in stats.get(f"{phase}-phase", {}).get("test-cases", [])
    ]
    counted = [status for status in cases if status in ("valid", "interesting")]
    shrinks = len(stats.get("shrink-phase", {}).get("test-cases", []))
    found_at = counted.index("interesting") + 1 if "interesting" in counted else None
    return len(counted), len(cases) - len(counted), shrinks, found_at
