"""The exhaustive explorer: breadth-first search of the closed system within bounds.

The closed system is the DSP, the SMI, meters (compliant or not) joined to CADs, the CPL
with its DCC events, and the network, which may lose up to ``max_lost`` responses
(``checker.universe``). Safety properties are checked on every transition; recoverability by
backward reachability from the good states over fault-free, fix-free actions. Breadth-first
order makes every counterexample a shortest one.

Speed without a second copy of the rules: states are tuples of small integers packed into
one integer (``checker.packing``), and each action's effect is memoised on the part of the
state it reads (``checker.successors``). The parts, in the order they run:

- ``checker.successors``: the per-component successor tables, filled through the one DSP;
- ``checker.search``: the breadth-first search and the safety checks on each transition;
- ``checker.backward``: backward reachability for the recoverability properties;
- this module: ``explore``, which runs them and assembles each property's result, with the
  shortest counterexample of each violation (``Search.path_to``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from checker.backward import can_recover, good_states
from checker.exploration import (
    Exploration,
    PropertyResult,
    judged,
    paused_collector,
    sweep_suspended_gate,
    why_stuck,
)
from checker.progress_events import reporter_for
from checker.search import Search
from checker.shared_steps import SharedSteps
from checker.successors import Observer, Successors
from checker.universe import (
    DEFAULT_BOUNDS,
    DEFAULT_SYSTEM,
    PAIR_PROPERTIES,
    RECOVERABILITY,
    Bounds,
    System,
    Universe,
    cascades,
    declared,
    default_systems,
    subject_of,
    universe,
)
from model.property_ids import PROPERTY_IDS
from model.variant import Variant
from properties.recoverability import DEVICE_GOOD

#: What ``from checker.explorer import ...`` offers: the explorer's API, and the closed
#: systems and bounds it explores (defined in ``checker.universe``).
__all__ = [
    "DEFAULT_BOUNDS",
    "DEFAULT_SYSTEM",
    "DEVICE_GOOD",
    "PAIR_PROPERTIES",
    "RECOVERABILITY",
    "Bounds",
    "Exploration",
    "PropertyResult",
    "System",
    "Universe",
    "cascades",
    "declared",
    "default_systems",
    "explore",
    "explore_all",
    "paused_collector",
    "subject_of",
    "universe",
    "why_stuck",
]


#: The explorers ``explore`` can run.
ENGINES = ("auto", "python", "dense")
#: From this many meters ``explore`` runs the dense explorer by default.
DENSE_FROM_METERS = 2


def explore_all(
    variant: Variant,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: Iterable[str] = PROPERTY_IDS,
    systems: Iterable[System] | None = None,
    *,
    coverage: bool = False,
) -> list[Exploration]:
    """Explore each closed system (by default every device type's, ``default_systems``)."""
    wanted = tuple(properties)
    return [
        explore(variant, bounds, wanted, system=s, coverage=coverage)
        for s in (systems or default_systems(variant))
    ]


def explore(
    variant: Variant,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: Iterable[str] = PROPERTY_IDS,
    progress: Callable[[int], None] | None = None,
    system: System = DEFAULT_SYSTEM,
    *,
    coverage: bool = False,
    engine: str = "auto",
    keep_steps: bool = False,
    shared: SharedSteps | None = None,
) -> Exploration:
    """Explore every state reachable within ``bounds`` and judge ``properties``; with
    ``coverage``, also count the rules and machine transitions exercised; with
    ``keep_steps``, keep every action's step for the distinct-cause search
    (``Successors.steps``); with ``shared``, share steps with other variants' explorations
    where the rules they read agree (``checker.shared_steps``).

    ``engine``: ``python`` (this module's search), ``dense`` (``checker.dense``, in numpy)
    or ``auto``, the dense one from :data:`DENSE_FROM_METERS` meters, where the state space
    runs to hundreds of thousands of states and more (both give the same verdicts and
    shortest lengths; the Python one tells the same stories as before it existed, and only
    it keeps steps or shares them)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "dense" or (engine == "auto" and bounds.meters >= DENSE_FROM_METERS):
        from checker.dense import explore_dense

        return explore_dense(variant, bounds, tuple(properties), progress, system, coverage)
    with paused_collector():
        return _explore(
            variant, bounds, tuple(properties), progress, system, coverage, keep_steps, shared
        )


def _explore(
    variant: Variant,
    bounds: Bounds,
    properties: tuple[str, ...],
    progress: Callable[[int], None] | None,
    system: System,
    coverage: bool = False,
    keep_steps: bool = False,
    shared: SharedSteps | None = None,
) -> Exploration:
    started = time.perf_counter()
    wanted = tuple(p for p in properties if system.other or p not in PAIR_PROPERTIES)
    world_of = universe(bounds, variant, system)
    observer = Observer(variant, wanted, coverage)
    successors = Successors(variant, bounds, world_of, wanted, observer, keep_steps, shared)
    codec = successors.codec
    search = Search(progress or reporter_for(f"{variant.id}, {system.describe()}"))
    for setup_index, world in world_of.starts:
        state = codec.pack(setup_index, world, 0)
        if state not in search.index_of:
            search.visit(state, -1, -1, 0)
    search.run(successors, bounds.max_lost)

    exploration = Exploration(
        variant, bounds, world_of, system, len(search.keys), search.transitions, 0.0
    )
    exploration.decode = codec.decoder(search.keys)
    exploration.coverage = observer.covered
    exploration.lookup = codec.lookup(search.index_of)
    exploration.armed = observer.armed
    exploration.successors = successors
    # The catalogue sweep: the E5 decision of every SRV, Command Variant and SMETS version
    # for a Suspended device, judged by suspended-gate (requests with no state effect).
    if "suspended-gate" in wanted and "suspended-gate" not in search.first_violation:
        exploration.armed["suspended-gate"] += sweep_suspended_gate(
            variant,
            search.keys,
            lambda k: codec.unpack(k)[1],
            search.first_violation,
            system.target,
        )
    for property_id in wanted:
        exploration.properties.append(_judge(property_id, exploration, successors, search))
    exploration.seconds = time.perf_counter() - started
    return exploration


def _judge(
    property_id: str, exploration: Exploration, successors: Successors, search: Search
) -> PropertyResult:
    """One property's result (``checker.exploration.judged``) over this search."""
    recovers = None
    if property_id in successors.recovery_properties:
        bit = 1 << successors.recovery_properties.index(property_id)

        def recovers() -> tuple[bytearray, int]:
            good = good_states(property_id, search.keys, successors.codec, successors.first)
            return can_recover(len(search.keys), good, search.reverse, bit), len(good)

    return judged(property_id, exploration, recovers, search.first_violation, search.path_to)
