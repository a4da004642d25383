"""Hypothesis stateful fuzzing of the live machines, per variant.

A ``RuleBasedStateMachine`` drives the closed system through the one DSP over the *live*
python-statemachine and transitions machines. Its setup, starts and actions are the
explorer's (``checker.explorer.universe``, ``checker.alphabet``), so the fuzzer follows
the model wherever it grows. Safety properties are checked on every step; recoverability at
every step by a bounded search from the current state (over the compiled tables, which
``tests/test_tables.py`` keeps equal to the live machines). Hypothesis shrinks a failure to
a short story told in the explorer's terms.

Guidance (measured in docs/performance.md): every kind of action, a lost response
included, is a rule of its own, so that Hypothesis's swarm testing switches a random subset
of kinds off in each example; a rare fault then gets the run's one lost response often.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    precondition,
    rule,
)
from hypothesis.statistics import collector

from checker.custom import CustomProperty, violated_in
from checker.default_budgets import MAX_EXAMPLES, STEP_COUNT
from checker.explorer import (
    DEFAULT_BOUNDS,
    DEFAULT_SYSTEM,
    RECOVERABILITY,
    Bounds,
    System,
    Universe,
    universe,
    why_stuck,
)
from checker.machine_tables import compiled
from checker.narrate import action_label, describe_start
from model.dsp import Outcome, StepNotAllowed, step
from model.machines import LIVE
from model.property_ids import PROPERTY_IDS
from model.status_chart import SUSPENDED
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World
from properties import safety
from properties.recoverability import GOOD, recoverable

#: The coverage a run counts, each a counter of names.
COVERAGE_KINDS = ("statuses", "restorations", "faults", "rules", "transitions", "e5_rows")


class PropertyViolated(AssertionError):
    """A property broken during a fuzzing run."""

    def __init__(self, property_id: str, why: str) -> None:
        super().__init__(f"{property_id} violated: {why}")
        self.property_id = property_id
        self.why = why


@dataclass(frozen=True, slots=True)
class Guide:
    """How generation is steered. ``swarm``: one rule per kind of action, so Hypothesis's
    swarm testing turns kinds off per example; ``faults_in_rule``: a request and the
    same request with its response lost are one rule, which loses the response half the
    times it runs while the bound on lost responses allows, so the fault falls on
    whichever kinds of request the example uses; ``target``: ``hypothesis.target`` on whether the
    example left the good states (a state out of agreement scores 1)."""

    swarm: bool = True
    faults_in_rule: bool = False
    target: bool = False


DEFAULT_GUIDE = Guide()


@dataclass
class Run:
    """What one Hypothesis example did: its start, the actions applied, the story."""

    setup: Setup | None = None
    start_world: World | None = None
    start: str = ""
    actions: list[Action] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def kind(action: Action) -> str:
    """The rule an action belongs to: its SRV or event, with its fault, never its device."""
    if isinstance(action, Request):
        name = "sr_" + action.srv.replace(".", "_")
        return name + (_LOST if action.faulty else "")
    if isinstance(action, CplChange):
        return "cpl_add" if action.listed else "cpl_remove"
    if isinstance(action, DccEvent):
        return f"dcc_{action.event}"
    assert isinstance(action, ManualFix)
    return "manual_fix"


def is_fault(action: Action) -> bool:
    """A message from the device (a response or an alert) is lost."""
    return isinstance(action, Request) and action.faulty


@dataclass
class Tally:
    """What all the examples of one run did, kept apart from its shrinking."""

    runs: list[Run] = field(default_factory=list)
    steps: int = 0
    shrink_steps: int = 0
    #: Set by the first failure; every later example is a shrink attempt (Hypothesis stops
    #: generating at the first failure: ``report_multiple_bugs=False``).
    failed: bool = False
    coverage: dict[str, Counter[str]] = field(
        default_factory=lambda: {k: Counter() for k in COVERAGE_KINDS}
    )

    def fail(self, property_id: str, why: str) -> PropertyViolated:
        self.failed = True
        return PropertyViolated(property_id, why)

    def step(self) -> None:
        """One rule run (a step as Hypothesis counts it, allowed by the model or not)."""
        if not self.failed:
            self.steps += 1
        else:
            self.shrink_steps += 1

    def count(self, before: World, action: Action, after: World, outcome: Outcome) -> None:
        """What an allowed step covered, while generating (not shrinking)."""
        if self.failed:
            return
        cover = self.coverage
        cover["rules"][kind(action)] += 1
        if is_fault(action):
            cover["faults"][kind(action)] += 1
        if outcome.rule is not None:
            cover["e5_rows"][outcome.rule.id] += 1
        for old, new in zip(before.devices, after.devices, strict=True):
            if old.status != new.status:
                cover["statuses"][new.status] += 1
                cover["transitions"][f"status {old.status} -> {new.status}"] += 1
                if old.status == SUSPENDED:
                    cover["restorations"][f"{SUSPENDED} -> {new.status}"] += 1
        for old_join, new_join in zip(before.joins, after.joins, strict=True):
            if old_join != new_join:
                cover["transitions"][f"join {old_join} -> {new_join}"] += 1


def system_for(
    variant: Variant,
    properties: tuple[str, ...] = PROPERTY_IDS,
    bounds: Bounds = DEFAULT_BOUNDS,
    guide: Guide = DEFAULT_GUIDE,
    tally: Tally | None = None,
    system: System = DEFAULT_SYSTEM,
    custom: tuple[CustomProperty, ...] = (),
) -> type[RuleBasedStateMachine]:
    """A state machine class over the live model for one variant and some properties, on one
    closed system (the explorer's: a device type with its Other Device type, or alone)."""
    world_of = universe(bounds, variant, system)
    counts = tally if tally is not None else Tally()
    wanted_safety = set(properties) - set(RECOVERABILITY)
    wanted_recovery = [p for p in RECOVERABILITY if p in properties]
    tables = compiled()
    # Recovery verdicts depend on the state alone: one search per distinct state per run.
    verdicts: dict[tuple[Setup, World, str], bool | None] = {}

    check_file = _file_checker(custom, properties, system, variant, world_of.actions, counts)

    def check_recoverable(setup: Setup, world: World) -> None:
        check_file(setup, world)
        for property_id in wanted_recovery:
            key = (setup, world, property_id)
            if key not in verdicts:
                verdicts[key] = recoverable(
                    setup, world, variant, property_id, lambda _s, _w: world_of.actions, tables
                )
            if verdicts[key] is False:
                raise counts.fail(property_id, why_stuck(property_id))

    starts = _starts(world_of)

    class SmiSystem(RuleBasedStateMachine):
        """The DSP, the SMI, the devices, the CPL and a lossy network."""

        def __init__(self) -> None:
            super().__init__()
            self.run = Run()
            counts.runs.append(self.run)
            self.setup: Setup = world_of.setups[0]
            self.world: World = world_of.starts[0][1]
            self.lost = 0
            self.score: dict[str, float] = {}

        def teardown(self) -> None:
            for property_id, score in self.score.items():
                hypothesis.target(score, label=property_id)

        @initialize(start=starts)
        def begin(self, start: tuple[int, World]) -> None:
            self.setup, self.world = world_of.setups[start[0]], start[1]
            self.run.setup, self.run.start_world = self.setup, self.world
            self.run.start = describe_start(self.setup, self.world)
            check_recoverable(self.setup, self.world)

        def apply(self, action: Action) -> None:
            counts.step()
            if is_fault(action):
                self.lost += 1
            before = self.world
            try:
                self.world, outcome = step(self.setup, before, action, variant, LIVE)
            except StepNotAllowed:
                return
            counts.count(before, action, self.world, outcome)
            if guide.target:
                for property_id in wanted_recovery:
                    bad = not GOOD[property_id](self.setup, self.world)
                    self.score[property_id] = max(self.score.get(property_id, 0.0), float(bad))
            effects = "; ".join(outcome.effects) or "no change"
            self.run.actions.append(action)
            self.run.steps.append(f"{action_label(self.setup, action)}: {effects}")
            for violation in safety.violations(
                self.setup, variant, before, action, self.world, outcome
            ):
                if violation.property in wanted_safety:
                    raise counts.fail(violation.property, violation.why)
            check_recoverable(self.setup, self.world)

    for name, actions in rule_groups(world_of.actions, guide).items():
        setattr(SmiSystem, name, _rule_for(name, actions, bounds.max_lost))
    return SmiSystem


def _file_checker(
    custom: tuple[CustomProperty, ...],
    properties: tuple[str, ...],
    system: System,
    variant: Variant,
    actions: tuple[Action, ...],
    counts: Tally,
) -> Callable[[Setup, World], None]:
    """Judge a properties file's invariants and goals (``checker.custom``) on a state,
    each once per distinct state; a violation fails the run."""
    from_file = [p for p in custom if p.id in properties and (p.over == "device" or system.other)]
    judged: dict[tuple[Setup, World, str], str | None] = {}

    def check(setup: Setup, world: World) -> None:
        for p in from_file:
            key = (setup, world, p.id)
            if key not in judged:
                judged[key] = violated_in(p, setup, world, variant, actions)
            why = judged[key]
            if why is not None:
                raise counts.fail(p.id, why)

    return check


def _starts(world_of: Universe) -> st.SearchStrategy[tuple[int, World]]:
    """The setup first (which meters are GBCS-compliant), then a start of that setup: each
    setup is drawn as often, however many starts it has."""
    by_setup = [
        [start for start in world_of.starts if start[0] == n] for n in range(len(world_of.setups))
    ]
    return st.sampled_from(by_setup).flatmap(st.sampled_from)


def rule_groups(actions: tuple[Action, ...], guide: Guide) -> dict[str, list[Action]]:
    """Rule name -> its actions: one rule per kind of action (swarm), or the two rules
    'send' and 'send_and_lose_the_response' (no swarm, for comparison)."""
    rules: dict[str, list[Action]] = {}
    for action in actions:
        if guide.swarm:
            name = kind(action)
            if guide.faults_in_rule:
                name = name.removesuffix(_LOST)
        else:
            name = "send_and_lose_the_response" if is_fault(action) else "send"
        rules.setdefault(name, []).append(action)
    return rules


_LOST = "_response_lost"


def _rule_for(name: str, actions: list[Action], max_lost: int) -> Callable[..., None]:
    """One rule over ``actions``. Where they hold a request both with and without its
    response lost, the rule draws the request and a coin: heads loses the response, if
    the bound allows."""
    lossy: dict[Action, Action] = {
        replace(a, lose_response=False, lose_alert=False): a
        for a in actions
        if isinstance(a, Request) and a.faulty
    }
    plain = [a for a in actions if not is_fault(a)]
    if lossy and plain:

        def send(self: Any, action: Action, lose: bool) -> None:
            fault = lossy.get(action) if lose and self.lost < max_lost else None
            self.apply(fault or action)

        send.__name__ = send.__qualname__ = name
        return rule(action=st.sampled_from(plain), lose=st.booleans())(send)

    def fire(self: Any, action: Action) -> None:
        self.apply(action)

    fire.__name__ = fire.__qualname__ = name
    decorated = rule(action=st.sampled_from(actions))(fire)
    if not plain:
        decorated = precondition(lambda self: self.lost < max_lost)(decorated)
    return decorated


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
