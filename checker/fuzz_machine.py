"""The state machine the fuzzer drives: the closed system as a Hypothesis
``RuleBasedStateMachine`` over the *live* machines, one rule per kind of action.

Its setup, starts and actions are the explorer's (``checker.universe``,
``checker.alphabet``). Safety properties are checked on every step; recoverability at every
step by a bounded search from the current state (over the compiled tables, which
``tests/test_tables.py`` keeps equal to the live machines). ``checker.fuzz`` runs it.

Guidance (measured in docs/performance.md): every kind of action, a lost response
included, is a rule of its own, so that Hypothesis's swarm testing switches a random subset
of kinds off in each example; a rare fault then gets the run's one lost response often.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import hypothesis
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from checker.custom import CustomProperty, violated_in
from checker.explorer import why_stuck
from checker.machine_tables import compiled
from checker.narrate import action_label, describe_start
from checker.universe import (
    DEFAULT_BOUNDS,
    DEFAULT_SYSTEM,
    RECOVERABILITY,
    Bounds,
    System,
    Universe,
    universe,
)
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
    check_file = _file_checker(custom, properties, system, variant, world_of.actions, counts)
    check_recoverable = _state_checker(check_file, wanted_recovery, variant, world_of, counts)
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


def _state_checker(
    check_file: Callable[[Setup, World], None],
    wanted_recovery: list[str],
    variant: Variant,
    world_of: Universe,
    counts: Tally,
) -> Callable[[Setup, World], None]:
    """Judge a state: the properties file's (``check_file``), then each recoverability
    property by a bounded search for a way back; a violation fails the run."""
    tables = compiled()
    # Recovery verdicts depend on the state alone: one search per distinct state per run.
    verdicts: dict[tuple[Setup, World, str], bool | None] = {}

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

    return check_recoverable


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
