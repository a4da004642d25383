"""State encoding for the explorer: a state of the closed system as one packed integer.

States are tuples of small integers packed into one ``int`` (``Layout``): integers hash and
compare fast, and an action's effect on the part of the state it writes is a constant
difference to add. Device states and CPLs are interned (``Interner``); ``Decoder`` and
``Lookup`` translate between state numbers and worlds after the search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from model.join_machine import STATES as JOIN_STATES
from model.world import World


@dataclass(frozen=True, slots=True)
class Decoder:
    """State number -> (setup, world, lost): plain data, so an exploration can be sent from
    one process to another (the checks of several variants run on both cores)."""

    layout: Layout
    keys: list[int]
    devices: list[Any]
    cpls: list[Any]
    joins: list[str]

    def __call__(self, n: int) -> tuple[int, World, int]:
        setup_index, cpl, devices, joins, lost = self.layout.unpack(self.keys[n])
        world = World(
            self.cpls[cpl],
            tuple(self.devices[d] for d in devices),
            tuple(self.joins[j] for j in joins),
        )
        return setup_index, world, lost


@dataclass(frozen=True, slots=True)
class Lookup:
    """(setup, world, lost) -> the index of that state, or None if it was never reached;
    plain data, like ``Decoder``."""

    layout: Layout
    index: dict[int, int]
    devices: dict[Any, int]
    cpls: dict[Any, int]
    joins: dict[str, int]

    def __call__(self, setup_index: int, world: World, lost: int) -> int | None:
        cpl = self.cpls.get(world.cpl)
        devices = [self.devices.get(d, -1) for d in world.devices]
        if cpl is None or -1 in devices:
            return None
        joins = (self.joins[j] for j in world.joins)
        return self.index.get(self.layout.pack(setup_index, cpl, devices, joins, lost))


class Interner:
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


class Layout:
    """Where each part of a state sits in one packed integer.

    From the low bits up: each join pair's machine state, each device's interned state,
    the CPL's interned id, the setup (which meters are GBCS-compliant), the responses lost
    so far. Integers hash and compare fast, and an action's effect on the part of the state
    it writes is a constant difference to add.
    """

    JOIN_BITS = 3
    DEVICE_BITS = 12

    def __init__(self, devices: int, pairs: int, versions: int, setups: int) -> None:
        self.pairs, self.devices = pairs, devices
        self.join_shift = [p * self.JOIN_BITS for p in range(pairs)]
        base = pairs * self.JOIN_BITS
        self.device_shift = [base + d * self.DEVICE_BITS for d in range(devices)]
        self.cpl_shift = base + devices * self.DEVICE_BITS
        self.setup_shift = self.cpl_shift + versions + 1
        self.lost_shift = self.setup_shift + max(1, setups.bit_length())
        self.join_mask = [((1 << self.JOIN_BITS) - 1) << s for s in self.join_shift]
        self.device_mask = [((1 << self.DEVICE_BITS) - 1) << s for s in self.device_shift]
        self.cpl_mask = ((1 << (versions + 1)) - 1) << self.cpl_shift
        self.setup_mask = ((1 << (self.setup_shift - self.cpl_shift + 8)) - 1) << self.setup_shift
        self.setup_mask &= (1 << self.lost_shift) - 1
        self.lost_one = 1 << self.lost_shift

    def pack(
        self, setup: int, cpl: int, devices: Iterable[int], joins: Iterable[int], lost: int
    ) -> int:
        state = (lost << self.lost_shift) | (setup << self.setup_shift) | (cpl << self.cpl_shift)
        for shift, value in zip(self.device_shift, devices, strict=True):
            if value >= 1 << self.DEVICE_BITS:
                raise OverflowError("too many distinct device states for the packed layout")
            state |= value << shift
        for shift, value in zip(self.join_shift, joins, strict=True):
            state |= value << shift
        return state

    def unpack(self, state: int) -> tuple[int, int, tuple[int, ...], tuple[int, ...], int]:
        devices = tuple(
            (state & m) >> s for m, s in zip(self.device_mask, self.device_shift, strict=True)
        )
        joins = tuple(
            (state & m) >> s for m, s in zip(self.join_mask, self.join_shift, strict=True)
        )
        return (
            (state & self.setup_mask) >> self.setup_shift,
            (state & self.cpl_mask) >> self.cpl_shift,
            devices,
            joins,
            state >> self.lost_shift,
        )


class Codec:
    """A world and its lost messages as a packed state and back, for one universe: the
    layout, the device states and CPLs interned so far, the join machine's states."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.dev_ids, self.cpl_ids = Interner(), Interner()
        self.join_names = list(JOIN_STATES)
        self.join_code = {name: n for n, name in enumerate(self.join_names)}

    def pack(self, setup_index: int, world: World, lost: int) -> int:
        dev_ids, join_code = self.dev_ids, self.join_code
        return self.layout.pack(
            setup_index,
            self.cpl_ids(world.cpl),
            (dev_ids(d) for d in world.devices),
            (join_code[j] for j in world.joins),
            lost,
        )

    def difference(self, before: World, after: World) -> int:
        """``pack(s, after, l) - pack(s, before, l)``, ``before`` packed already: only the
        parts ``after`` does not share with ``before`` are interned and shifted (an action
        writes one device or pair, and a memo miss packs every action's world), in the
        order ``pack`` interns them, so the ids are the same."""
        if after is before:
            return 0
        layout, delta = self.layout, 0
        if after.cpl is not before.cpl:
            cpl_ids = self.cpl_ids
            delta = (cpl_ids(after.cpl) - cpl_ids(before.cpl)) << layout.cpl_shift
        if after.devices is not before.devices:
            dev_ids, limit = self.dev_ids, 1 << layout.DEVICE_BITS
            for shift, old, new in zip(
                layout.device_shift, before.devices, after.devices, strict=True
            ):
                if new is not old:
                    value = dev_ids(new)
                    if value >= limit:
                        raise OverflowError("too many distinct device states for the packed layout")
                    delta += (value - dev_ids(old)) << shift
        if after.joins is not before.joins:
            code = self.join_code
            for shift, old_join, new_join in zip(
                layout.join_shift, before.joins, after.joins, strict=True
            ):
                if new_join is not old_join:
                    delta += (code[new_join] - code[old_join]) << shift
        return delta

    def unpack(self, state: int) -> tuple[int, World, int]:
        setup_index, cpl, devices, joins, lost = self.layout.unpack(state)
        device_values, join_names = self.dev_ids.values, self.join_names
        world = World(
            self.cpl_ids.values[cpl],
            tuple(device_values[d] for d in devices),
            tuple(join_names[j] for j in joins),
        )
        return setup_index, world, lost

    def decoder(self, keys: list[int]) -> Decoder:
        return Decoder(self.layout, keys, self.dev_ids.values, self.cpl_ids.values, self.join_names)

    def lookup(self, index: dict[int, int]) -> Lookup:
        return Lookup(self.layout, index, self.dev_ids.ids, self.cpl_ids.ids, self.join_code)
