"""Test cases for assurance testers, derived from the explored graph of every closed system.

Each closed system of ``checker.explorer.default_systems`` (every CPL-listed device type,
with its Other Device type where a Join applies) is searched breadth-first from the
explorer's own starts over the explorer's own actions (``checker.explorer.universe``),
stepping the one DSP (``model.dsp.step``) over the compiled machines, as the explorer does.
What each transition exercised is what ``checker.coverage`` counts for it: the rule-table
rows that acted or decided, and the transitions of the status chart and the join machine.

Breadth-first order makes the first transition that exercises a row the end of a shortest
story that exercises it: one candidate case per row. A greedy set cover then keeps the cases
that together exercise every row any case does, cheapest first (most rows newly covered per
step, then the shorter, then the earlier system, start and actions), and ``--cases N`` caps
how many. What no case exercises is listed with why, tried at larger bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from checker.coverage import CountingMachines, Coverage, report
from checker.explorer import (
    DEFAULT_BOUNDS,
    Bounds,
    Exploration,
    System,
    Universe,
    default_systems,
    explore,
    explore_all,
    universe,
)
from checker.machine_tables import compiled
from model.dsp import READ_DEVICE_LOG, StepNotAllowed, step
from model.variant import Variant
from model.world import Action, DccEvent, DeviceState, ManualFix, Request, Setup, World
from properties.armed import armed_by
from properties.recoverability import GOOD


@dataclass(frozen=True, slots=True)
class Case:
    """A short story from one of the explorer's starts in one closed system."""

    system: System
    system_index: int
    start_index: int
    actions: tuple[int, ...]
    covers: frozenset[str]
    #: Why the case is in the pack: the rows it was derived for, or a property it witnesses.
    purpose: str = ""

    @property
    def key(self) -> tuple[int, int, int, tuple[int, ...]]:
        """A total order: shorter first, then system, start and actions."""
        return (len(self.actions), self.system_index, self.start_index, self.actions)


@dataclass
class Search:
    """One closed system searched breadth-first: what each row's first transition was."""

    system: System
    system_index: int
    universe: Universe
    #: For each row or transition id: the shortest case that exercises it.
    witnesses: dict[str, Case] = field(default_factory=dict)
    #: For each property: the shortest case whose last transition arms it (a safety
    #: property's precondition met, a recoverability property's good states left).
    armed: dict[str, Case] = field(default_factory=dict)
    states: int = 0
    transitions: int = 0


def search(
    variant: Variant,
    bounds: Bounds,
    system: System,
    system_index: int = 0,
    *,
    memoise: bool = True,
) -> Search:
    """Breadth-first search of one closed system, noting what every transition exercises
    (``memoise=False`` steps every transition afresh: the same result, slower)."""
    world_of = universe(bounds, variant, system)
    stepper = _Stepper(variant, memoise)
    found = Search(system, system_index, world_of)
    # State: (setup index, world, lost so far) -> (start index, actions, rows on the way).
    seen: dict[tuple[int, World, int], tuple[int, tuple[int, ...], frozenset[str]]] = {}
    queue: list[tuple[int, World, int]] = []
    for n, (setup_index, world) in enumerate(world_of.starts):
        state = (setup_index, world, 0)
        if state not in seen:
            seen[state] = (n, (), frozenset())
            queue.append(state)
    head = 0
    while head < len(queue):
        state = queue[head]
        head += 1
        setup_index, before, lost = state
        start, path, on_way = seen[state]
        setup = world_of.setups[setup_index]
        for a, action in enumerate(world_of.actions):
            faulty = isinstance(action, Request) and action.faulty
            if faulty and lost >= bounds.max_lost:
                continue
            taken = stepper(setup_index, setup, before, a, action)
            if taken is None:
                continue
            after, ids, armed = taken
            found.transitions += 1
            covers = on_way | ids
            actions = (*path, a)
            for rule_id in sorted(ids - found.witnesses.keys()):
                found.witnesses[rule_id] = Case(system, system_index, start, actions, covers)
            for property_id in armed:
                if property_id not in found.armed:
                    found.armed[property_id] = Case(system, system_index, start, actions, covers)
            nxt = (setup_index, after, lost + int(faulty))
            if nxt not in seen:
                seen[nxt] = (start, actions, covers)
                queue.append(nxt)
                # A recoverability property is put to the test in a state that is not good.
                for property_id, good in GOOD.items():
                    if property_id not in found.armed and not good(setup, after):
                        case = Case(system, system_index, start, actions, covers)
                        found.armed[property_id] = case
    found.states = len(seen)
    return found


_Taken = tuple[World, frozenset[str], tuple[str, ...]]
_Effect = tuple[tuple[DeviceState, tuple[str, ...]], frozenset[str], tuple[str, ...]]


class _Stepper:
    """One transition through the DSP, with the rows it exercised and the properties it
    arms, memoised as the explorer memoises it: on the part of the state the action reads
    (``checker.explorer`` action groups), its effect written back there. A CPL change
    reads every device and is stepped each time."""

    def __init__(self, variant: Variant, memoise: bool = True) -> None:
        self.variant = variant
        self.memoise = memoise
        self.machines = CountingMachines(compiled())
        self.memo: dict[tuple[Any, ...], _Effect | None] = {}

    def __call__(
        self, setup_index: int, setup: Setup, before: World, a: int, action: Action
    ) -> _Taken | None:
        reads = _reads(setup, action) if self.memoise else None
        if reads is None:
            return self._step(setup, before, action)
        device, pairs, cpl = reads
        key = (
            setup_index,
            a,
            before.cpl if cpl else None,
            before.devices[device],
            tuple(before.joins[p] for p in pairs),
        )
        if key not in self.memo:
            taken = self._step(setup, before, action)
            self.memo[key] = None
            if taken is not None:
                after, ids, armed = taken
                written = (after.devices[device], tuple(after.joins[p] for p in pairs))
                self.memo[key] = (written, ids, armed)
        effect = self.memo[key]
        if effect is None:
            return None
        (state, joins), ids, armed = effect
        devices = list(before.devices)
        devices[device] = state
        new_joins = list(before.joins)
        for p, j in zip(pairs, joins, strict=True):
            new_joins[p] = j
        return World(before.cpl, tuple(devices), tuple(new_joins)), ids, armed

    def _step(self, setup: Setup, before: World, action: Action) -> _Taken | None:
        machines = self.machines
        try:
            after, outcome = step(setup, before, action, self.variant, machines)
        except StepNotAllowed:
            machines.fired.clear()
            return None
        counted = Coverage()
        counted.record(setup, before, action, after, outcome, self.variant, machines.fired)
        machines.fired.clear()
        armed = tuple(armed_by(setup, before, action, after, outcome))
        return after, frozenset(counted.hits), armed


def _reads(setup: Setup, action: Action) -> tuple[int, tuple[int, ...], bool] | None:
    """What an action reads and writes (``model.dsp.step``): its device, the join pairs,
    and whether the CPL; None for a CPL change, which reads and writes every device."""
    if isinstance(action, ManualFix):
        return setup.pairs[action.pair].target, (action.pair,), False
    if isinstance(action, DccEvent):
        return action.target, (), False
    if not isinstance(action, Request):
        return None
    if action.other is not None:
        return action.target, (setup.pair_index(action.target, action.other),), False
    if action.srv == READ_DEVICE_LOG:
        return action.target, setup.pairs_of(action.target), False
    return action.target, (), True


def search_all(
    variant: Variant, bounds: Bounds = DEFAULT_BOUNDS, systems: Iterable[System] | None = None
) -> list[Search]:
    return [search(variant, bounds, s, n) for n, s in enumerate(systems or default_systems())]


def select(candidates: Iterable[Case], limit: int | None = None) -> list[Case]:
    """Greedy set cover: repeatedly the case that newly covers the most rows per step (then
    the shorter, then the earlier), until every row a candidate covers is covered or
    ``limit`` cases are chosen; returned shortest first."""
    pool = sorted(set(candidates), key=lambda c: c.key)
    uncovered = set().union(*(c.covers for c in pool)) if pool else set()
    chosen: list[Case] = []
    while uncovered and pool and (limit is None or len(chosen) < limit):
        best = min(pool, key=lambda c: (-len(c.covers & uncovered) / max(1, len(c.actions)), c.key))
        if not best.covers & uncovered:
            break
        chosen.append(best)
        uncovered -= best.covers
        pool.remove(best)
    return sorted(chosen, key=lambda c: c.key)


def coverage_cases(searches: list[Search], limit: int | None = None) -> list[Case]:
    """The cases that together exercise every row and transition some case exercises."""
    derived: dict[Case, list[str]] = {}
    for s in searches:
        for rule_id, case in sorted(s.witnesses.items()):
            derived.setdefault(case, []).append(rule_id)
    candidates = [replace(c, purpose="exercises " + ", ".join(ids)) for c, ids in derived.items()]
    return select(candidates, limit)


def property_cases(
    variant: Variant, searches: list[Search], property_id: str, limit: int = 4
) -> list[Case]:
    """The cases about one property in each system: for a violated one, the shortest story
    of each distinct cause (``checker.causes``); for one that holds, the shortest story
    that meets its precondition (what shows it was put to the test)."""
    from checker.causes import causes

    cases: list[Case] = []
    for s in searches:
        exploration = explore(variant, DEFAULT_BOUNDS, (property_id,), system=s.system)
        if property_id not in {p.id for p in exploration.properties}:
            continue
        result = exploration.result(property_id)
        if result.verdict == "violated":
            for cause in causes(exploration, property_id, limit):
                # The catalogue sweep has no request to send; every other cause starts at
                # one of the explorer's starts, which are the search's.
                if any(a < 0 for a in cause.actions) or cause.start not in s.universe.starts:
                    continue
                start = s.universe.starts.index(cause.start)
                covers = case_covers(variant, s, start, cause.actions)
                why = f"refutes {property_id}: {cause.describe()}"
                cases.append(Case(s.system, s.system_index, start, cause.actions, covers, why))
        elif property_id in s.armed:
            case = s.armed[property_id]
            cases.append(replace(case, purpose=f"puts {property_id} to the test: it holds"))
    return cases


def case_covers(
    variant: Variant, s: Search, start: int, actions: tuple[int, ...]
) -> frozenset[str]:
    """The rows and transitions a case exercises, stepped again."""
    machines = CountingMachines(compiled())
    setup_index, world = s.universe.starts[start]
    setup = s.universe.setups[setup_index]
    counted = Coverage()
    for a in actions:
        action = s.universe.actions[a]
        after, outcome = step(setup, world, action, variant, machines)
        counted.record(setup, world, action, after, outcome, variant, machines.fired)
        machines.fired.clear()
        world = after
    return frozenset(counted.hits)


def exploration_of(variant: Variant, s: Search, bounds: Bounds = DEFAULT_BOUNDS) -> Exploration:
    """An exploration record for narration (``checker.narrate.tell``) of this system."""
    return Exploration(variant, bounds, s.universe, s.system, s.states, s.transitions, 0.0)


# ---------------------------------------------------------------------------------------
# What no case exercises, and why

#: Larger bounds tried, one at a time, to say what an unreached row needs.
LARGER: tuple[tuple[str, Bounds], ...] = (
    ("--dcc-events", replace(DEFAULT_BOUNDS, dcc_events=True)),
    ("--max-lost 2", replace(DEFAULT_BOUNDS, max_lost=2)),
)


def all_rows(variant: Variant) -> list[dict[str, str]]:
    """Every row of every rule table and every machine transition (``checker.coverage``)."""
    return [
        {k: r[k] for k in ("id", "kind", "table", "provenance")}
        for r in report(Coverage(), variant)["rules"]
    ]


def unreached(
    variant: Variant, searches: list[Search], covered: frozenset[str]
) -> list[dict[str, str]]:
    """Each row and transition no case exercises, with why."""
    missing = [r for r in all_rows(variant) if r["id"] not in covered]
    if not missing:
        return []
    sent = {a.srv for s in searches for a in s.universe.actions if isinstance(a, Request)}
    held = {t for s in searches for t in (s.system.target, s.system.other) if t}
    reached_at: dict[str, str] = {}
    for flag, bounds in LARGER:
        # The explorer's own rule coverage at those bounds: what is reachable there at all.
        systems = [s.system for s in searches]
        for exploration in explore_all(variant, bounds, (), systems, coverage=True):
            assert exploration.coverage is not None
            for rule_id, hits in exploration.coverage.hits.items():
                if hits:
                    reached_at.setdefault(rule_id, flag)
    rows = {r["rule"]: r for r in _table_rows(variant)}
    return [
        {**r, "why": _why(r["id"], rows.get(r["id"], {}), reached_at, sent, held)} for r in missing
    ]


def _table_rows(variant: Variant) -> list[dict[str, str]]:
    from model.rulebook import table_rules

    return table_rules(variant)


def _why(
    rule_id: str,
    row: dict[str, str],
    reached_at: dict[str, str],
    sent: set[str],
    held: set[str],
) -> str:
    if rule_id in reached_at:
        return f"reached only at larger bounds ({reached_at[rule_id]}); the pack uses the defaults"
    if rule_id.startswith("device_types."):
        kind = rule_id.removeprefix("device_types.")
        if kind not in held:
            return (
                f"no closed system holds a {kind} (only CPL-listed types and their Other Devices)"
            )
    srv = _srv_of(rule_id, row.get("says", ""))
    if srv is not None and srv not in sent:
        return "its SRV is never sent: the closed systems send only SR" + ", SR".join(
            sorted(sent, key=_srv_key)
        )
    return (
        "no transition of any closed system takes it at the default bounds or at larger ones "
        f"({', '.join(flag for flag, _ in LARGER)}): the variant's rules never reach it"
        + (f" ({row['says']})" if row.get("says") else "")
    )


def _srv_of(rule_id: str, says: str) -> str | None:
    if rule_id.startswith("applicability["):
        return rule_id.removeprefix("applicability[").removesuffix("]")
    if says.startswith("SR"):
        return says[2:].split(" ", 1)[0]
    return None


def _srv_key(srv: str) -> tuple[int, ...]:
    return tuple(int(p) for p in srv.split(".") if p.isdigit())
