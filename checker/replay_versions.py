"""The firmware versions of a replay, kept so that an event costs the same however many
versions the log names (issue 25: 8,000 lines each naming a new version took 363 s and
1.7 GB, every event carrying every version in its CPL and in its recoverability search).

Version names are symbols: the DSP's rules only ask whether two versions are the same and
whether one is on the CPL (seed:MP105, seed:MP178). So once a log names more than
:data:`EXACT_VERSIONS` versions, each event is stepped on the world with its CPL cut to the
versions the devices hold and the event names (the full CPL is kept here, one set, changed
by each CPL event in constant time), and each recoverability question is asked over the
versions the devices hold plus :data:`SPARE` versions on the CPL and :data:`SPARE` off it
that no device holds: any others are interchangeable with these, and the names themselves
are replaced by canonical ones, so that the verdicts of one state are computed once
whatever its versions are called (assumption: the rules give version names no order or
meaning; stated in docs/assumptions.md).

Up to :data:`EXACT_VERSIONS` versions, nothing is cut: the replay is exactly as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import fields
from typing import Final

from model.world import DeviceState, World

#: Up to this many versions named, a replay uses them all (the check's bounds go to 4).
EXACT_VERSIONS: Final = 8
#: Versions no device holds kept for a recoverability search, on the CPL and off it.
SPARE: Final = 2
#: The renaming builds device states field by field (dataclasses.replace costs 3 times as
#: much per event): a new field must be renamed too, so a change here fails at import.
assert tuple(f.name for f in fields(DeviceState)) == (
    "status",
    "prior",
    "smi_firmware",
    "firmware",
    "image",
    "supplier",
), "checker/replay_versions.py renames the versions of every DeviceState field"


def held(world: World) -> set[str]:
    """The versions the devices run, the SMI records and the devices hold as images."""
    found: set[str] = set()
    for state in world.devices:
        found.update(v for v in (state.firmware, state.smi_firmware, state.image) if v)
    return found


class ReplayVersions:
    """Every version named so far, the full CPL, and the cut worlds of :mod:`checker.replay`."""

    def __init__(self, world: World) -> None:
        self.cpl: set[str] = set(world.cpl)
        self.named: set[str] = self.cpl | held(world)
        self.unlisted: set[str] = self.named - self.cpl
        self.exact = len(self.named) <= EXACT_VERSIONS
        self._sorted: tuple[str, ...] | None = None

    def name(self, versions: Iterable[str]) -> None:
        """Versions an event names (constant time per version)."""
        for version in versions:
            if version not in self.named:
                self.named.add(version)
                self._sorted = None
                if version not in self.cpl:
                    self.unlisted.add(version)
        self.exact = self.exact and len(self.named) <= EXACT_VERSIONS

    def all(self) -> tuple[str, ...]:
        """Every version named so far, sorted (computed again only after a new one)."""
        if self._sorted is None:
            self._sorted = tuple(sorted(self.named))
        return self._sorted

    def before(self, world: World, event_versions: Iterable[str]) -> World:
        """The world an event is stepped on: as it is, or its CPL cut to the versions the
        devices hold and the event names."""
        if self.exact:
            return world
        keep = held(world).union(event_versions)
        return World(frozenset(v for v in keep if v in self.cpl), world.devices, world.joins)

    def follow(self, before: World, after: World) -> None:
        """Carry a step's CPL changes into the full CPL (the sets differ by the event's)."""
        if before.cpl == after.cpl:  # also while exact: the full CPL is needed once cut
            return
        for version in before.cpl - after.cpl:
            self.cpl.discard(version)
            self.unlisted.add(version)
        for version in after.cpl - before.cpl:
            self.cpl.add(version)
            self.unlisted.discard(version)
            self.named.add(version)

    def full(self, world: World) -> World:
        """``world`` with the full CPL (for the views of ``--format json``)."""
        if self.exact:
            return world
        return World(frozenset(self.cpl), world.devices, world.joins)

    def for_recoverability(self, world: World) -> tuple[World, tuple[str, ...]]:
        """The world and versions a recoverability search runs over: cut as the module
        says, then renamed (``v0``, ``v1``, ... in the order the devices hold them, spares
        ``s0``, ...) so that states differing only in version names share one search."""
        if self.exact:
            return world, self.all()
        kept = held(world)
        listed = list(itertools.islice((v for v in self.cpl if v not in kept), SPARE))
        unlisted = list(itertools.islice((v for v in self.unlisted if v not in kept), SPARE))
        names: dict[str, str] = {}
        for state in world.devices:
            for version in (state.firmware, state.smi_firmware, state.image):
                if version and version not in names:
                    names[version] = f"v{len(names)}"
        for version in listed + unlisted:
            names[version] = f"s{len(names)}"
        devices = tuple(
            DeviceState(
                state.status,
                state.prior,
                names.get(state.smi_firmware or "", state.smi_firmware),
                names.get(state.firmware or "", state.firmware),
                names.get(state.image or "", state.image),
                state.supplier,
            )
            for state in world.devices
        )
        on_cpl = frozenset(names[v] for v in names if v in self.cpl)
        return World(on_cpl, devices, world.joins), tuple(sorted(names.values()))
