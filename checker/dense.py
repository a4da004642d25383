"""The dense explorer: the same exhaustive check as ``checker.explorer``, in numpy, for
state spaces of millions of states.

The same closed system, the same successor tables filled through the one DSP
(``checker.successors``), the same safety checks and ways back; what differs is how the
states are held and searched:

- ``checker.dense_fields``: each field of the packed state renumbered by the values it
  takes, and the state's place in the mixed-radix space over them (a visited bitmap);
- ``checker.dense_tables``: each action group's memo as flat arrays, gathered in bulk;
- ``checker.dense_search``: the level-synchronous breadth-first search, each state's parent
  and action kept for the shortest paths;
- ``checker.dense_backward``: the good states and the backward reachability, each group's
  transitions turned around instead of stored;
- this module: ``explore_dense``, which runs them and fills an ``Exploration``.

Every verdict and every shortest counterexample's length equals the explorer's (the tests
compare them at every bound the suite checks); which of several equally short stories is
told may differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from checker.dense_backward import can_recover, good_states
from checker.dense_fields import U64, DenseSpace
from checker.dense_paths import path_to
from checker.dense_search import DenseSearch
from checker.dense_tables import Violations
from checker.exploration import (
    Exploration,
    PropertyResult,
    judged,
    paused_collector,
    sweep_suspended_gate,
)
from checker.progress_events import reporter_for
from checker.successors import Observer, Successors
from checker.universe import PAIR_PROPERTIES, RECOVERABILITY, Bounds, System, universe
from model.variant import Variant


class Keys(Sequence[int]):
    """The packed states by number, as Python integers (what ``Decoder`` reads)."""

    def __init__(self, keys: U64) -> None:
        self.keys = keys

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, n: int) -> int:  # type: ignore[override]
        return int(self.keys[n])


class IndexOf:
    """Packed state -> its number (what ``Lookup`` reads), sorted on first use."""

    def __init__(self, keys: U64) -> None:
        self.keys = keys
        self.order: np.ndarray | None = None

    def get(self, packed: int) -> int | None:
        if self.order is None:
            self.order = np.argsort(self.keys, kind="stable")
        at = int(np.searchsorted(self.keys[self.order], np.uint64(packed)))
        if at < len(self.order) and int(self.keys[self.order[at]]) == packed:
            return int(self.order[at])
        return None


def explore_dense(
    variant: Variant,
    bounds: Bounds,
    properties: tuple[str, ...],
    progress: Callable[[int], None] | None,
    system: System,
    coverage: bool = False,
) -> Exploration:
    """Explore every state reachable within ``bounds`` and judge ``properties``."""
    with paused_collector():
        started = time.perf_counter()
        wanted = tuple(p for p in properties if system.other or p not in PAIR_PROPERTIES)
        world_of = universe(bounds, variant, system)
        observer = Observer(variant, wanted, coverage)
        successors = Successors(variant, bounds, world_of, wanted, observer)
        codec = successors.codec
        violations = Violations([p for p in wanted if p not in RECOVERABILITY])
        space = DenseSpace(successors.layout, bounds.max_lost)
        search = DenseSearch(
            successors,
            space,
            bounds.max_lost,
            violations,
            progress or reporter_for(f"{variant.id}, {system.describe()}"),
        )
        search.start([codec.pack(s, w, 0) for s, w in world_of.starts])
        search.run()
        search.compact()
        keys = search.keys()
        exploration = Exploration(
            variant, bounds, world_of, system, len(keys), search.transitions, 0
        )
        exploration.decode = codec.decoder(Keys(keys))  # type: ignore[arg-type]
        exploration.coverage = observer.covered
        exploration.lookup = codec.lookup(IndexOf(keys))  # type: ignore[arg-type]
        exploration.armed = observer.armed
        if "suspended-gate" in wanted and "suspended-gate" not in search.first_violation:
            exploration.armed["suspended-gate"] += sweep_suspended_gate(
                variant,
                Keys(keys),
                lambda k: codec.unpack(k)[1],
                search.first_violation,
                system.target,
            )
        for property_id in wanted:
            exploration.properties.append(
                _judge(property_id, exploration, successors, search, keys)
            )
        exploration.seconds = time.perf_counter() - started
        return exploration


def _judge(
    property_id: str,
    exploration: Exploration,
    successors: Successors,
    search: DenseSearch,
    keys: U64,
) -> PropertyResult:
    """One property's result (``checker.exploration.judged``) over the dense search."""
    recovers = None
    if property_id in successors.recovery_properties:
        bit = 1 << successors.recovery_properties.index(property_id)

        def recovers() -> tuple[bytearray, int]:
            good = good_states(property_id, keys, search)
            return can_recover(search, keys, good, bit), int(good.sum())

    return judged(
        property_id, exploration, recovers, search.first_violation, partial(path_to, search)
    )
