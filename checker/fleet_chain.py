"""One installation of a fleet as a continuous-time Markov chain (docs/fleet.md).

The states are the worlds the one DSP (:func:`model.dsp.step`) reaches from a Commissioned
device on F1 (joined to nothing) within the explorer's closed system for its type
(:func:`checker.explorer.universe`, default bounds: one device, one Other Device where its
type joins one, two firmware versions). Every action of the explorer's alphabet
(:mod:`checker.alphabet`) fires at the rate the rates file gives it, per device per year;
an SR11.1 image is one of the versions, each equally likely (assumption); each message from
the device is lost with the rates' loss probability (a response, an alert), so an action and
its faulty copy share the action's rate. Manual corrections never happen: a state from which a
recoverability property of the replay (``firmware-recoverable``, ``join-recoverable``) has no
way back (the replay's test, computed for the whole graph at once) is a strand, and
absorbing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from checker.alphabet import alphabet
from checker.explorer import Bounds, System, universe
from checker.machine_tables import compiled
from checker.replay import RECOVERABILITY
from model.dsp import StepNotAllowed, step
from model.rates import CPL_ADD, CPL_REMOVE, Rates
from model.variant import Variant
from model.world import Action, CplChange, ManualFix, Request, Setup, World
from properties.recoverability import GOOD
from properties.ways_back import is_recovery_action


@dataclass(frozen=True, slots=True)
class Chain:
    """A CTMC: ``states[0]`` is the start; ``rates[s]`` maps successors to rates per year;
    ``stranded[p]`` the absorbing states where property ``p`` has no way back."""

    system: System
    compliant: bool
    setup: Setup
    states: tuple[World, ...]
    rates: tuple[dict[int, float], ...]
    stranded: dict[str, frozenset[int]]
    versions: tuple[str, ...]

    @property
    def absorbing(self) -> frozenset[int]:
        return frozenset().union(*self.stranded.values())


def action_name(action: Action) -> str:
    """The rates file's name for an action: its SRV, or cpl_remove / cpl_add."""
    if isinstance(action, CplChange):
        return CPL_ADD if action.listed else CPL_REMOVE
    assert isinstance(action, Request)
    return action.srv


def _plain(action: Request) -> Request:
    return Request(action.srv, action.target, action.other, action.image, action.command_variant)


def action_rates(
    actions: tuple[Action, ...], rates: Rates, versions: tuple[str, ...]
) -> list[tuple[Action, float]]:
    """Each action with its rate per year: the action's row, shared among the versions an
    SR11.1 may carry, and split between the action and its faulty copies by the loss
    probabilities."""
    response, alert = rates.loss["response"].value, rates.loss["alert"].value
    faults: dict[Request, set[str]] = {}
    for action in actions:
        if isinstance(action, Request) and action.faulty:
            kind = "response" if action.lose_response else "alert"
            faults.setdefault(_plain(action), set()).add(kind)
    result: list[tuple[Action, float]] = []
    for action in actions:
        if isinstance(action, ManualFix):
            continue
        rate = rates.per_year(action_name(action))
        if isinstance(action, Request):
            if action.image is not None:
                rate /= len(versions)
            if action.lose_response:
                rate *= response
            elif action.lose_alert:
                rate *= alert
            else:
                kinds = faults.get(action, set())
                rate *= 1 - response * ("response" in kinds) - alert * ("alert" in kinds)
        if rate > 0:
            result.append((action, rate))
    return result


@dataclass(frozen=True, slots=True)
class _Graph:
    """The worlds one installation reaches over every action (whatever its rate), with
    each world's moves as (successor, action number) and the properties with no way back."""

    setup: Setup
    versions: tuple[str, ...]
    actions: tuple[Action, ...]
    worlds: tuple[World, ...]
    moves: tuple[tuple[tuple[int, int], ...], ...]
    failed: tuple[tuple[str, ...], ...]


_GRAPHS: dict[tuple[object, ...], _Graph] = {}


def _graph(variant: Variant, system: System, compliant: bool) -> _Graph:
    """Explored once per variant's rules, system and compliance: the rates only weigh it."""
    key = (variant.fingerprint, system, compliant)
    found = _GRAPHS.get(key)
    if found is None:
        found = _GRAPHS[key] = _explore(variant, system, compliant)
    return found


def _explore(variant: Variant, system: System, compliant: bool) -> _Graph:
    world_of = universe(Bounds(), variant, system)
    index = 0 if compliant else 1  # universe: compliance (True,) then (False,)
    setup = world_of.setups[index]
    start = next(w for s, w in world_of.starts if s == index)
    versions = world_of.versions
    actions = tuple(
        a for a in alphabet(setup, versions, variant, False) if not isinstance(a, ManualFix)
    )
    seen = {start: 0}
    order = [start]
    moves: list[tuple[tuple[int, int], ...]] = []
    machines = compiled()
    for world in order:
        mine: list[tuple[int, int]] = []
        for number, action in enumerate(actions):
            try:
                after, _ = step(setup, world, action, variant, machines)
            except StepNotAllowed:
                continue
            if after == world:
                continue
            target = seen.get(after)
            if target is None:
                target = seen[after] = len(order)
                order.append(after)
            mine.append((target, number))
        moves.append(tuple(mine))
    able = {p: _can_recover(setup, order, moves, actions, p) for p in RECOVERABILITY}
    failed = tuple(tuple(p for p in RECOVERABILITY if not able[p][n]) for n in range(len(order)))
    return _Graph(setup, versions, actions, tuple(order), tuple(moves), failed)


def _can_recover(
    setup: Setup,
    worlds: list[World],
    moves: list[tuple[tuple[int, int], ...]],
    actions: tuple[Action, ...],
    property_id: str,
) -> list[bool]:
    """Backward reachability of the property's good states over its recovery actions, on
    the whole graph: the same answer as the replay's forward search from each state
    (:func:`properties.recoverability.recoverable`, whose states all lie in this graph, as
    its actions are the alphabet's), for every state at once."""
    good = GOOD[property_id]
    back: list[list[int]] = [[] for _ in worlds]
    for source, out in enumerate(moves):
        for target, number in out:
            if is_recovery_action(property_id, actions[number], worlds[source]):
                back[target].append(source)
    able = [good(setup, w) for w in worlds]
    queue = deque(n for n, ok in enumerate(able) if ok)
    while queue:
        for source in back[queue.popleft()]:
            if not able[source]:
                able[source] = True
                queue.append(source)
    return able


def build_chain(variant: Variant, system: System, compliant: bool, rates: Rates) -> Chain:
    """The chain of one installation of ``system`` whose device is GBCS compliant or not."""
    graph = _graph(variant, system, compliant)
    weights = dict(action_rates(graph.actions, rates, graph.versions))
    rate_of = [weights.get(a, 0.0) for a in graph.actions]
    out: list[dict[int, float]] = []
    for moves, broken in zip(graph.moves, graph.failed, strict=True):
        edges: dict[int, float] = {}
        for target, number in () if broken else moves:  # a strand is absorbing
            if rate_of[number] > 0:
                edges[target] = edges.get(target, 0.0) + rate_of[number]
        out.append(edges)
    stranded = {
        p: frozenset(n for n, broken in enumerate(graph.failed) if p in broken)
        for p in RECOVERABILITY
    }
    return Chain(system, compliant, graph.setup, graph.worlds, tuple(out), stranded, graph.versions)
