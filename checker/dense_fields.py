"""The dense encoding of packed states: each field of ``checker.packing.Layout`` renumbered
by the values it really takes, and the state's place in a mixed-radix space over them.

A packed state gives each device 12 bits, room for 4,096 interned states, though a meter
takes about a hundred and an Other Device one or two. The dense explorer (``checker.dense``)
keeps its visited set as a bitmap, one bit per point of the space the fields' values span,
so each field is renumbered here by the values seen in it (its codes), and its radix is
its capacity: a little more than the values seen so far. A new value past a field's
capacity grows it, and the dense index of every state changes: the caller rebuilds what
it keyed by the index (``generation`` counts the growths).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from checker.packing import Layout

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]


@dataclass
class Field:
    """One field of the packed state: where it sits, and its values' codes."""

    shift: int
    width: int
    #: raw value -> code, -1 for a value not seen.
    codes: I64
    count: int = 0
    capacity: int = 1

    def raw(self, states: U64) -> I64:
        """Each state's raw value of this field (clipped past the table: such a state is
        not a state, for example the predecessor of a state with no response lost)."""
        raw = (states >> np.uint64(self.shift)) & np.uint64((1 << self.width) - 1)
        return raw.view(np.int64)


def layout_fields(layout: Layout, max_lost: int) -> list[Field]:
    """The fields of ``layout`` from the low bits up: joins, devices, CPL, setup, lost."""
    spans = [(s, layout.JOIN_BITS) for s in layout.join_shift]
    spans += [(s, layout.DEVICE_BITS) for s in layout.device_shift]
    spans.append((layout.cpl_shift, layout.setup_shift - layout.cpl_shift))
    spans.append((layout.setup_shift, layout.lost_shift - layout.setup_shift))
    spans.append((layout.lost_shift, max(1, (max_lost + 1).bit_length()) + 1))
    return [Field(s, w, np.full(1 << w, -1, dtype=np.int64)) for s, w in spans]


class DenseSpace:
    """The mixed-radix space over the fields' codes, each radix the field's capacity."""

    def __init__(self, layout: Layout, max_lost: int) -> None:
        self.fields = layout_fields(layout, max_lost)
        self.lost_field = len(self.fields) - 1
        # Responses lost so far are coded as themselves: losing one adds one stride.
        lost = self.fields[self.lost_field]
        lost.codes[: max_lost + 1] = np.arange(max_lost + 1)
        lost.count = lost.capacity = max_lost + 1
        self.generation = 0
        self.strides: list[int] = []
        self.size = 1
        self._restride()

    def _restride(self) -> None:
        self.strides, size = [], 1
        for f in self.fields:
            self.strides.append(size)
            size *= f.capacity
        self.size = size

    def codes(self, states: U64, field: int) -> I64:
        """The code of ``field`` in each state, -1 where the value is new."""
        return self.fields[field].codes[self.fields[field].raw(states)]

    def learn(self, states: U64, fields: Sequence[int] | None = None) -> bool:
        """Give a code to every new value any of ``states`` has (in ``fields``, by default
        all); grow the capacities as needed. True if the space changed (every dense index
        must be computed again)."""
        grown = False
        for n in range(len(self.fields)) if fields is None else fields:
            f = self.fields[n]
            raw = f.raw(states)
            new = np.unique(raw[f.codes[raw] < 0])
            if not len(new):
                continue
            f.codes[new] = np.arange(f.count, f.count + len(new))
            f.count += len(new)
            if f.count > f.capacity:
                f.capacity = f.count + f.count // 16 + 1
                grown = True
        if grown:
            self.generation += 1
            self._restride()
        return grown

    def compact(self) -> bool:
        """Each field's capacity cut to the values it took (once no more will come): the
        space, and every bitmap over it, as small as the values allow. True if it shrank."""
        shrunk = False
        for f in self.fields:
            if f.capacity > max(1, f.count):
                f.capacity = max(1, f.count)
                shrunk = True
        if shrunk:
            self.generation += 1
            self._restride()
        return shrunk

    def coded(self, states: U64) -> list[I64]:
        """Every field's codes in ``states``, computed once for several indices."""
        return [self.codes(states, f) for f in range(len(self.fields))]

    def index(self, states: U64, fields: Sequence[int] | None = None) -> I64:
        """Each state's place in the space (or in the subspace of ``fields``, with their
        own strides), -1 for a state with a value never learnt."""
        chosen = range(len(self.fields)) if fields is None else fields
        strides = self.strides if fields is None else self.sub_strides(fields)
        total = np.zeros(len(states), dtype=np.int64)
        bad = np.zeros(len(states), dtype=bool)
        for stride, f in zip(strides, chosen, strict=True):
            code = self.codes(states, f)
            bad |= code < 0
            code *= stride
            total += code
        total[bad] = -1
        return total

    def combine(self, coded: Sequence[I64] | dict[int, I64], fields: Sequence[int] | None) -> I64:
        """The index of ``index`` from codes already computed (``coded``, by field)."""
        chosen = range(len(self.fields)) if fields is None else fields
        strides = self.strides if fields is None else self.sub_strides(fields)
        total: I64 | None = None
        low = None
        for stride, f in zip(strides, chosen, strict=True):
            code = coded[f]
            total = code * stride if total is None else total + code * stride
            low = code if low is None else np.minimum(low, code)
        if total is None or low is None:
            return np.zeros(0, dtype=np.int64)
        total[low < 0] = -1
        return total

    def part(self, states: U64, fields: Sequence[int], strides: Sequence[int]) -> I64:
        """Each state's part of an index over ``fields`` with ``strides`` (values learnt)."""
        total = np.zeros(len(states), dtype=np.int64)
        for stride, f in zip(strides, fields, strict=True):
            total += self.codes(states, f) * stride
        return total

    def sub_strides(self, fields: Sequence[int]) -> list[int]:
        strides, size = [], 1
        for f in fields:
            strides.append(size)
            size *= self.fields[f].capacity
        return strides

    def sub_size(self, fields: Sequence[int]) -> int:
        size = 1
        for f in fields:
            size *= self.fields[f].capacity
        return size

    def fields_in(self, mask: int) -> list[int]:
        """The fields a group's mask covers."""
        return [
            n
            for n, f in enumerate(self.fields)
            if (((1 << f.width) - 1) << f.shift) & mask and n != self.lost_field
        ]


_BIT = np.array([1 << n for n in range(8)], dtype=np.uint8)


class Bitmap:
    """One bit per point of a space: a set of dense indices."""

    def __init__(self, size: int) -> None:
        self.bits = np.zeros((size + 7) // 8, dtype=np.uint8)

    def has(self, index: I64) -> NDArray[np.bool_]:
        """Which of ``index`` are in the set (-1, no state, never is)."""
        if not len(index) or index.min() >= 0:
            return (self.bits[index >> 3] & _BIT[index & 7]) != 0
        ok = index >= 0
        safe = np.where(ok, index, 0)
        return ok & ((self.bits[safe >> 3] & _BIT[safe & 7]) != 0)

    def lacks(self, index: I64) -> NDArray[np.bool_]:
        """Which of ``index`` (each at least 0) are not in the set."""
        return (self.bits[index >> 3] & _BIT[index & 7]) == 0

    def add(self, index: I64) -> None:
        """Add ``index`` (each at least 0)."""
        np.bitwise_or.at(self.bits, index >> 3, (1 << (index & 7)).astype(np.uint8))

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes)
