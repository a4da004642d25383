"""The exhaustive explorer: breadth-first search of the closed system within bounds.

The closed system is the DSP, the SMI, meters (compliant or not) joined to CADs, the CPL
with its DCC events, and the network, which may lose up to ``max_lost`` responses. Safety
properties are checked on every transition; recoverability by backward reachability from
the good states over fault-free, fix-free actions. Breadth-first order makes every
counterexample a shortest one.

Speed without a second copy of the rules: states are tuples of small integers, and each
action's effect is memoised on the part of the state it reads (one device, or one pair and
its target, or the CPL and every device). A memo miss runs the one DSP (``model.dsp.step``)
over the machines compiled from the live ones (``properties.tables``) and the one set of
safety checks (``properties.safety``).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from model.dsp import READ_DEVICE_LOG, StepNotAllowed, step
from model.status_chart import OPERATIONAL
from model.variant import Variant
from model.world import (
    Action,
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    ManualFix,
    PairSpec,
    Request,
    Setup,
    World,
)
from properties import safety
from properties.alphabet import alphabet
from properties.ids import (
    FIRMWARE_RECOVERABLE,
    JOIN_RECOVERABLE,
    PROPERTY_IDS,
)
from properties.recoverability import GOOD, is_recovery_action
from properties.tables import compiled

RECOVERABILITY = (FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE)


@dataclass(frozen=True, slots=True)
class Bounds:
    """The size of the closed system. The defaults make every expected verdict show."""

    meters: int = 1
    cads: int = 1
    versions: int = 2
    max_lost: int = 1
    dcc_events: bool = False

    def describe(self) -> str:
        return (
            f"{self.meters} meter(s) x {self.cads} CAD(s), {self.versions} firmware versions, "
            f"up to {self.max_lost} lost response(s)"
            + (", DCC withdrawal and recovery events" if self.dcc_events else "")
        )


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True, slots=True)
class Universe:
    """The setups (one per assignment of GBCS compliance) and their starting worlds."""

    setups: tuple[Setup, ...]
    starts: tuple[tuple[int, World], ...]
    versions: tuple[str, ...]
    actions: tuple[Action, ...]


def universe(bounds: Bounds) -> Universe:
    """Meters ``esme1..`` start on F1 in each operational status, compliant or not, every
    version on the CPL, every meter paired with every CAD, nothing joined."""
    versions = tuple(f"F{n}" for n in range(1, bounds.versions + 1))
    setups = []
    starts = []
    for compliance in itertools.product((True, False), repeat=bounds.meters):
        meters = tuple(
            DeviceSpec(f"esme{n + 1}", "ESME", 2, compliant)
            for n, compliant in enumerate(compliance)
        )
        cads = tuple(DeviceSpec(f"cad{n + 1}", "CAD") for n in range(bounds.cads))
        pairs = tuple(
            PairSpec(m, bounds.meters + c) for m in range(bounds.meters) for c in range(bounds.cads)
        )
        setup = Setup(meters + cads, pairs)
        setups.append(setup)
        cad_state = DeviceState("commissioned", None, None, None)
        # Commissioned first: where two counterexamples are equally short, the one a
        # reviewer reads starts from a Commissioned meter.
        for statuses in itertools.product(OPERATIONAL[::-1], repeat=bounds.meters):
            meter_states = tuple(DeviceState(s, None, versions[0], versions[0]) for s in statuses)
            world = World(
                frozenset(versions),
                meter_states + (cad_state,) * bounds.cads,
                ("unjoined",) * len(pairs),
            )
            starts.append((len(setups) - 1, world))
    actions = alphabet(setups[0], versions, bounds.dcc_events)
    return Universe(tuple(setups), tuple(starts), versions, actions)


@dataclass
class PropertyResult:
    id: str
    verdict: str
    expected: str
    why: str | None = None
    #: Indices of the states on the shortest path to the violation, and the actions taken.
    path: tuple[int, ...] = ()
    actions: tuple[int, ...] = ()


@dataclass
class Exploration:
    """The reachable graph of one variant within bounds, and each property's result."""

    variant: Variant
    bounds: Bounds
    universe: Universe
    states: int
    transitions: int
    seconds: float
    properties: list[PropertyResult] = field(default_factory=list)
    decode: Callable[[int], tuple[int, World, int]] = lambda n: (0, World(frozenset(), ()), 0)

    def result(self, property_id: str) -> PropertyResult:
        return next(p for p in self.properties if p.id == property_id)

    @property
    def as_expected(self) -> bool:
        return all(p.verdict == p.expected for p in self.properties)


class _Interner:
    """Small integers for hashable values, and back."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = []

    def __call__(self, value: Any) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


def explore(
    variant: Variant,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: Iterable[str] = PROPERTY_IDS,
    progress: Callable[[int], None] | None = None,
) -> Exploration:
    """Explore every state reachable within ``bounds`` and judge ``properties``."""
    started = time.perf_counter()
    wanted = tuple(properties)
    world_of = universe(bounds)
    machines = compiled()
    dev_ids, cpl_ids = _Interner(), _Interner()
    actions = world_of.actions
    max_lost = bounds.max_lost

    # Per action: which memo it uses, whether it loses a response, whether it may be part
    # of a way back for each recoverability property.
    kinds = []
    for action in actions:
        if isinstance(action, CplChange):
            kinds.append(("cpl", 0))
        elif isinstance(action, ManualFix):
            kinds.append(("fix", action.pair))
        elif isinstance(action, DccEvent):
            kinds.append(("device", action.target))
        elif action.srv == READ_DEVICE_LOG:
            kinds.append(("log", action.target))
        elif action.other is not None:
            kinds.append(("pair", world_of.setups[0].pair_index(action.target, action.other)))
        else:
            kinds.append(("device", action.target))
    loses = [isinstance(a, Request) and a.lose_response for a in actions]
    recovery = {
        p: [is_recovery_action(p, a) for a in actions] for p in RECOVERABILITY if p in wanted
    }
    targets_pairs = {
        t: world_of.setups[0].pairs_of(t) for t in range(len(world_of.setups[0].devices))
    }

    def to_world(key: tuple[Any, ...]) -> World:
        _, cpl_id, devs, joins, _ = key
        return World(cpl_ids.values[cpl_id], tuple(dev_ids.values[d] for d in devs), joins)

    def from_world(setup_index: int, world: World, lost: int) -> tuple[Any, ...]:
        return (
            setup_index,
            cpl_ids(world.cpl),
            tuple(dev_ids(d) for d in world.devices),
            world.joins,
            lost,
        )

    first_violation: dict[str, tuple[int, int, str]] = {}
    memo: dict[tuple[Any, ...], Any] = {}

    def successor(key: tuple[Any, ...], index: int, a: int) -> tuple[Any, ...] | None:
        setup_index, cpl_id, devs, joins, lost = key
        if loses[a] and lost >= max_lost:
            return None
        kind, where = kinds[a]
        local: tuple[Any, ...]
        if kind == "device":
            local = (a, setup_index, devs[where], cpl_id)
        elif kind == "pair":
            target = world_of.setups[setup_index].pairs[where].target
            local = (a, setup_index, devs[target], joins[where])
        elif kind == "fix":
            local = (a, joins[where])
        elif kind == "log":
            local = (a, setup_index, devs[where], tuple(joins[p] for p in targets_pairs[where]))
        else:
            local = (a, setup_index, cpl_id, devs)
        result = memo.get(local, memo)
        if result is memo:
            result = memo[local] = _apply(setup_index, key, a)
        if result is None:
            return None
        new_cpl, new_devs, new_joins, violated = result
        if violated:
            for property_id, why in violated:
                if property_id in wanted and property_id not in first_violation:
                    first_violation[property_id] = (index, a, why)
        if kind == "device":
            devs = (*devs[:where], new_devs, *devs[where + 1 :])
        elif kind == "pair" or kind == "fix":
            joins = (*joins[:where], new_joins, *joins[where + 1 :])
        elif kind == "log":
            joins = list(joins)  # type: ignore[assignment]
            for p, state in zip(targets_pairs[where], new_joins, strict=True):
                joins[p] = state  # type: ignore[index]
            joins = tuple(joins)
        else:
            cpl_id, devs = new_cpl, new_devs
        return (setup_index, cpl_id, devs, joins, lost + loses[a])

    def _apply(setup_index: int, key: tuple[Any, ...], a: int) -> Any:
        setup = world_of.setups[setup_index]
        before = to_world(key)
        try:
            after, outcome = step(setup, before, actions[a], variant, machines)
        except StepNotAllowed:
            return None
        violated = tuple(
            (v.property, v.why)
            for v in safety.violations(setup, variant, before, actions[a], after, outcome)
        )
        kind, where = kinds[a]
        if kind == "device":
            return (None, dev_ids(after.devices[where]), None, violated)
        if kind in ("pair", "fix"):
            return (None, None, after.joins[where], violated)
        if kind == "log":
            return (None, None, tuple(after.joins[p] for p in targets_pairs[where]), violated)
        return (cpl_ids(after.cpl), tuple(dev_ids(d) for d in after.devices), None, violated)

    # Breadth-first search.
    index_of: dict[tuple[Any, ...], int] = {}
    keys: list[tuple[Any, ...]] = []
    parent: list[int] = []
    via: list[int] = []
    reverse = {p: [] for p in recovery}  # type: dict[str, list[list[int]]]
    for setup_index, world in world_of.starts:
        key = from_world(setup_index, world, 0)
        if key not in index_of:
            index_of[key] = len(keys)
            keys.append(key)
            parent.append(-1)
            via.append(-1)
            for p in reverse:
                reverse[p].append([])
    transitions = 0
    queue = deque(range(len(keys)))
    action_range = range(len(actions))
    while queue:
        index = queue.popleft()
        key = keys[index]
        for a in action_range:
            nxt = successor(key, index, a)
            if nxt is None:
                continue
            transitions += 1
            target = index_of.get(nxt)
            if target is None:
                target = index_of[nxt] = len(keys)
                keys.append(nxt)
                parent.append(index)
                via.append(a)
                for p in reverse:
                    reverse[p].append([])
                queue.append(target)
                if progress is not None and target % 10_000 == 0:
                    progress(target)
            for p, allowed in recovery.items():
                if allowed[a]:
                    reverse[p][target].append(index)

    exploration = Exploration(variant, bounds, world_of, len(keys), transitions, 0.0)
    exploration.decode = lambda n: (keys[n][0], to_world(keys[n]), keys[n][4])

    def path_to(index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        states, taken = [index], []
        while parent[states[-1]] != -1:
            taken.append(via[states[-1]])
            states.append(parent[states[-1]])
        return tuple(reversed(states)), tuple(reversed(taken))

    # The catalogue sweep: the E5 decision of every SRV, Command Variant and SMETS version
    # for a Suspended device, judged by suspended-gate (requests with no state effect).
    if "suspended-gate" in wanted and "suspended-gate" not in first_violation:
        _sweep_suspended_gate(variant, keys, to_world, world_of, first_violation)

    for property_id in wanted:
        expected = variant.expected(property_id)
        if property_id in recovery:
            good = GOOD[property_id]
            can_recover = bytearray(len(keys))
            stack = []
            good_cache: dict[Any, bool] = {}
            for n, key in enumerate(keys):
                local = key[:3] if property_id == FIRMWARE_RECOVERABLE else (key[0], key[2], key[3])
                verdict = good_cache.get(local)
                if verdict is None:
                    verdict = good_cache[local] = good(world_of.setups[key[0]], to_world(key))
                if verdict:
                    can_recover[n] = 1
                    stack.append(n)
            edges = reverse[property_id]
            while stack:
                n = stack.pop()
                for m in edges[n]:
                    if not can_recover[m]:
                        can_recover[m] = 1
                        stack.append(m)
            stuck = next((n for n in range(len(keys)) if not can_recover[n]), None)
            if stuck is None:
                exploration.properties.append(PropertyResult(property_id, "holds", expected))
            else:
                states, taken = path_to(stuck)
                exploration.properties.append(
                    PropertyResult(
                        property_id, "violated", expected, why_stuck(property_id), states, taken
                    )
                )
        elif property_id in first_violation:
            index, a, why = first_violation[property_id]
            states, taken = path_to(index)
            exploration.properties.append(
                PropertyResult(property_id, "violated", expected, why, states, (*taken, a))
            )
        else:
            exploration.properties.append(PropertyResult(property_id, "holds", expected))
    exploration.seconds = time.perf_counter() - started
    return exploration


def why_stuck(property_id: str) -> str:
    if property_id == FIRMWARE_RECOVERABLE:
        return (
            "no way back: from here, with no lost response, no manual SMI correction and no new "
            "firmware image, no state is reachable in which every meter's SMI firmware equals "
            "what it runs and it is Suspended exactly when that version is off the CPL"
        )
    return (
        "no way back: from here, with no lost response and no manual SMI correction, no state "
        "is reachable in which the SMI and the device agree on every join"
    )


def _sweep_suspended_gate(
    variant: Variant,
    keys: list[tuple[Any, ...]],
    to_world: Callable[[tuple[Any, ...]], World],
    world_of: Universe,
    first_violation: dict[str, tuple[int, int, str]],
) -> None:
    from model.catalogue import catalogue
    from model.dsp import check_e5

    suspended_at = next(
        (
            n
            for n, key in enumerate(keys)
            if any(d.status == "suspended" for d in to_world(key).devices)
        ),
        None,
    )
    if suspended_at is None:
        return
    for srv in catalogue():
        for command_variant in range(1, 9):
            for smets in (1, 2):
                decision = check_e5(variant, srv, "suspended", command_variant, smets)
                spec = DeviceSpec("meter", "ESME", smets)
                state = DeviceState("suspended", "commissioned", None, None)
                found = safety.suspended_gate(
                    variant,
                    spec,
                    state,
                    Request(srv, 0, command_variant=command_variant),
                    decision.accepted,
                )
                if found:
                    first_violation["suspended-gate"] = (suspended_at, -1, found.why)
                    return
