"""What an exploration gives: the reachable graph of one variant within bounds, each
property's result with its shortest counterexample, and the reader's words for a state with
no way back. Shared by the explorer (``checker.explorer``) and the dense explorer
(``checker.dense``), which fill it in the same way.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from checker.coverage import Coverage
from checker.successors import Successors
from checker.universe import Bounds, System, Universe, subject_of
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, SUSPENSION_RECOVERABLE
from model.variant import Variant
from model.world import DeviceSpec, DeviceState, Request, World
from properties import safety
from properties.ways_back import WAY_BACK


@dataclass
class PropertyResult:
    id: str
    verdict: str
    expected: str
    why: str | None = None
    #: Indices of the states on the shortest path to the violation, and the actions taken.
    path: tuple[int, ...] = ()
    actions: tuple[int, ...] = ()
    #: The device type (or ``TARGET-OTHER`` pair type) the verdict is about.
    subject: str | None = None


@dataclass
class Exploration:
    """The reachable graph of one variant within bounds, and each property's result."""

    variant: Variant
    bounds: Bounds
    universe: Universe
    system: System
    states: int
    transitions: int
    seconds: float
    properties: list[PropertyResult] = field(default_factory=list)
    decode: Callable[[int], tuple[int, World, int]] = field(default=lambda n: _no_state(n))
    #: The index of a state (setup, world, messages lost so far), or None if unreachable.
    lookup: Callable[[int, World, int], int | None] = field(default=lambda s, w, n: None)
    #: For each recoverability property judged, 1 per state from which a way back exists.
    recoverable: dict[str, bytearray] = field(default_factory=dict)
    #: For each property, how many distinct transitions (safety) or states (recoverability)
    #: met its precondition: 0 means it passed vacuously at these bounds.
    armed: dict[str, int] = field(default_factory=dict)
    #: Rule and transition hit counts, when asked for (``explore(..., coverage=True)``).
    coverage: Coverage | None = None
    #: The successor tables the search filled, for the distinct-cause search
    #: (``checker.causes``) to read rather than step the DSP again; None once sent to
    #: another process.
    successors: Successors | None = field(default=None, repr=False, compare=False)

    def result(self, property_id: str) -> PropertyResult:
        return next(p for p in self.properties if p.id == property_id)

    @property
    def as_expected(self) -> bool:
        return all(p.verdict == p.expected for p in self.properties)


def _no_state(n: int) -> tuple[int, World, int]:
    return (0, World(frozenset(), ()), 0)


@contextmanager
def paused_collector() -> Iterator[None]:
    """The cyclic garbage collector paused, then as it was: a search allocates millions of
    small objects and no reference cycles, and the collector would rescan them again and
    again (both explorers; ``smi_spec.checking``'s cause search and stories)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


Path = tuple[tuple[int, ...], tuple[int, ...]]


def judged(
    property_id: str,
    exploration: Exploration,
    recovers: Callable[[], tuple[bytearray, int]] | None,
    first_violation: dict[str, tuple[int, int, str]],
    path_to: Callable[[int], Path],
) -> PropertyResult:
    """One property's result, with a shortest counterexample where it is violated, as
    either explorer gives it: for recoverability (``recovers`` gives 1 per state with a way
    back, and how many states are good), a shortest path to the first state with no way
    back (noting which states have one in ``exploration``); for safety, to the first
    transition found breaking it."""
    subject = subject_of(exploration.system, property_id)
    expected = exploration.variant.expected(property_id, subject)
    if recovers is not None:
        found, good = recovers()
        exploration.armed[property_id] = exploration.states - good
        exploration.recoverable[property_id] = found
        stuck = found.find(0)
        if stuck < 0:
            return PropertyResult(property_id, "holds", expected, subject=subject)
        states, taken = path_to(stuck)
        why = why_stuck(property_id)
        return PropertyResult(property_id, "violated", expected, why, states, taken, subject)
    if property_id in first_violation:
        index, a, why = first_violation[property_id]
        states, taken = path_to(index)
        return PropertyResult(property_id, "violated", expected, why, states, (*taken, a), subject)
    return PropertyResult(property_id, "holds", expected, subject=subject)


#: What a good state is, per recoverability property, for the reader.
_GOOD_STATE = {
    SUSPENSION_RECOVERABLE: "no device is Suspended while the firmware it runs is on the CPL",
    FIRMWARE_RECOVERABLE: "every device's SMI firmware equals what it runs and it is Suspended "
    "exactly when that version is off the CPL",
    JOIN_RECOVERABLE: "the SMI and the device agree on every join",
}


def why_stuck(property_id: str) -> str:
    """Why a state has no way back, read from ``properties.ways_back.WAY_BACK``."""
    return (
        f"no way back: from here no state is reachable in which {_GOOD_STATE[property_id]}, "
        f"where a way back {WAY_BACK[property_id].describe()}"
    )


def sweep_suspended_gate(
    variant: Variant,
    keys: Any,
    to_world: Callable[[int], World],
    first_violation: dict[str, tuple[int, int, str]],
    device_type: str,
) -> int:
    """Judge check E5's decision for every SRV, Command Variant and SMETS version, once a
    Suspended device is reachable; returns how many accepted requests were judged."""
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
        return 0
    judged = 0
    state = DeviceState("suspended", "commissioned", None, None)
    specs = {smets: DeviceSpec("device", device_type, smets) for smets in (1, 2)}
    for srv in (*catalogue(), *variant.requests):
        for command_variant in range(1, 9):
            for smets, spec in specs.items():
                decision = check_e5(variant, srv, "suspended", command_variant, smets)
                judged += decision.accepted
                found = safety.suspended_gate(
                    variant,
                    spec,
                    state,
                    Request(srv, 0, command_variant=command_variant),
                    decision.accepted,
                )
                if found:
                    first_violation["suspended-gate"] = (suspended_at, -1, found.why)
                    return judged
    return judged
