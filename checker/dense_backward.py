"""Backward reachability for the dense explorer: which states can recover, in numpy.

As ``checker.backward`` does for the explorer: the good states first
(``properties.recoverability``, judged once per value of each field), then backwards over
the transitions that may be part of a way back (``properties.ways_back``). No edge is
stored: each action group's table (``checker.dense_tables``) is turned around, from the
part of the state a transition leads to, to the differences that lead there, so a state's
predecessors are ``state - difference`` for the ones that were reached. A CPL change acts
on every device at once and is not turned around: after each backward pass, the states
still stuck are tried forwards over the CPL changes, and any that reach a recovering state
start the next pass.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from checker.dense_fields import I64, U64, Bitmap
from checker.dense_search import DenseSearch
from checker.dense_tables import GroupTable
from properties.recoverability import DEVICE_GOOD, join_good_pair

Bools = NDArray[np.bool_]


#: States judged at once: bounds the arrays of indices and predecessors.
CHUNK = 1 << 17
#: Frontier states stepped back at once: each has a few dozen ways in.
SLICE = 1 << 13


def good_states(property_id: str, keys: U64, search: DenseSearch) -> Bools:
    """Which states are good: every device (firmware, suspension) or every pair (joins);
    each local predicate judged once per value, then looked up for every state."""
    successors = search.successors
    layout, codec, first = successors.layout, successors.codec, successors.first
    devices, cpls = codec.dev_ids.values, codec.cpl_ids.values
    device_good = DEVICE_GOOD.get(property_id)
    # Per device (or pair): (table, (shift, mask) of its row, (shift, mask) of its column).
    checks: list[tuple[Bools, tuple[int, int], tuple[int, int]]] = []
    if device_good is not None:
        for d, spec in enumerate(first.devices):
            table = [
                [
                    device_good(spec.cpl_listed, s.status, s.smi_firmware, s.firmware, c)
                    for c in cpls
                ]
                for s in devices
            ]
            checks.append(
                (
                    np.array(table, dtype=bool).reshape(len(devices), len(cpls)),
                    (layout.device_shift[d], layout.device_mask[d]),
                    (layout.cpl_shift, layout.cpl_mask),
                )
            )
    else:
        for p, pair in enumerate(first.pairs):
            t = pair.target
            table = [[join_good_pair(j, s.status) for s in devices] for j in codec.join_names]
            checks.append(
                (
                    np.array(table, dtype=bool).reshape(len(codec.join_names), len(devices)),
                    (layout.join_shift[p], layout.join_mask[p]),
                    (layout.device_shift[t], layout.device_mask[t]),
                )
            )
    good = np.ones(len(keys), dtype=bool)
    for at in range(0, len(keys), CHUNK):
        chunk = keys[at : at + CHUNK]
        for judged, row, column in checks:
            good[at : at + CHUNK] &= judged[_field(chunk, *row), _field(chunk, *column)]
    return good


def _field(keys: U64, shift: int, mask: int) -> I64:
    return ((keys & np.uint64(mask)) >> np.uint64(shift)).view(np.int64)


class Reversed:
    """One group's recovery transitions turned around: for the part of the state a
    transition leads to (by its dense index), the differences that lead there."""

    def __init__(self, table: GroupTable, bit: int) -> None:
        self.table = table
        t = table.arrays()
        targets = table.target_index()
        chosen = np.flatnonzero(t["flags"][: len(targets)] & np.uint8(bit))
        order = chosen[np.argsort(targets[chosen], kind="stable")]
        self.deltas = t["delta"][order]
        self.index_deltas = t["index_delta"][order]
        self.lossy = t["lossy_entry"][order]
        size = table.space.sub_size(table.fields)
        self.count = np.bincount(targets[chosen], minlength=size).astype(np.int64)
        self.start = np.cumsum(self.count) - self.count

    def predecessors(self, states: U64, index: I64, coded: list[I64]) -> tuple[U64, I64]:
        """``state - difference`` for each state and each way into its part, and its index
        (a way that loses a response only into a state with one lost)."""
        part = self.table.space.combine(coded, self.table.fields)
        count = self.count[part]
        if not count.any():
            return states[:0], index[:0]
        source = np.repeat(np.arange(len(states)), count)
        ends = np.cumsum(count)
        entry = np.arange(int(ends[-1])) + np.repeat(self.start[part] - (ends - count), count)
        if self.lossy.any():
            lost = coded[self.table.space.lost_field]
            keep = ~self.lossy[entry] | (lost[source] > 0)
            source, entry = source[keep], entry[keep]
        return states[source] - self.deltas[entry], index[source] - self.index_deltas[entry]


def can_recover(search: DenseSearch, keys: U64, good: Bools, bit: int) -> bytearray:
    """1 for each state from which a good state is reachable over the ways back of the
    recoverability property with flag ``bit``. The good states are taken a slice at a time
    and each slice's way back followed to its end before the next (the marks are a
    fixpoint, whatever the order): the states waiting to be stepped back from stay few."""
    space = search.space
    turned = [Reversed(t, bit) for t in search.groups if t.entries]
    recovers = Bitmap(space.size)
    for at in range(0, len(keys), CHUNK):
        states = keys[at : at + CHUNK][good[at : at + CHUNK]]
        index = space.index(states)
        new = recovers.lacks(index)
        recovers.add(index[new])
        _drain(turned, [(states[new], index[new])], search, recovers)
    while found := _cpl_forward(search, keys, recovers, bit):
        _drain(turned, found, search, recovers)
    result = bytearray(len(keys))
    for at in range(0, len(keys), CHUNK):
        index = space.index(keys[at : at + CHUNK])
        result[at : at + CHUNK] = recovers.has(index).astype(np.uint8).tobytes()
    return result


Frontier = list[tuple[U64, I64]]


def _drain(
    turned: list[Reversed], frontier: Frontier, search: DenseSearch, recovers: Bitmap
) -> None:
    """Step back from ``frontier`` until no new state recovers, newest first, a slice at
    a time."""
    stack = [(states, index, 0) for states, index in frontier if len(states)]
    while stack:
        states, index, at = stack.pop()
        if at + SLICE < len(states):
            stack.append((states, index, at + SLICE))
        back = _step_back(turned, states[at : at + SLICE], index[at : at + SLICE], search, recovers)
        if len(back[0]):
            stack.append((*back, 0))


def _step_back(
    turned: list[Reversed], frontier: U64, at: I64, search: DenseSearch, recovers: Bitmap
) -> tuple[U64, I64]:
    """The reached states one recovery transition before ``frontier`` (at indices ``at``)
    not yet known to recover; marked as recovering."""
    coded = search.space.coded(frontier)
    found = [r.predecessors(frontier, at, coded) for r in turned]
    if not found:
        return frontier[:0], at[:0]
    states = np.concatenate([f[0] for f in found])
    index = np.concatenate([f[1] for f in found])
    new = ~search.visited.lacks(index) & recovers.lacks(index)
    index, states = index[new], states[new]
    index, first = np.unique(index, return_index=True)
    recovers.add(index)
    return states[first], index


def _cpl_forward(search: DenseSearch, keys: U64, recovers: Bitmap, bit: int) -> Frontier:
    """The states not yet known to recover from which a CPL change that may be part of a
    way back leads to one that does; marked as recovering."""
    successors = search.successors
    columns = [n for n, flags in enumerate(successors.cpl_flags) if flags & bit]
    if search.cpl is None or not columns:
        return []
    found = []
    for at in range(0, len(keys), CHUNK):
        chunk = keys[at : at + CHUNK]
        index = search.space.index(chunk)
        stuck = recovers.lacks(index)
        states, index = chunk[stuck], index[stuck]
        coded = search.space.coded(states)
        moved_to = index[:, None] + np.zeros(len(columns), dtype=np.int64)
        for table in [search.cpl, *search.cpl_devices]:
            moved_to += table.arrays()[2][table.rows(states, coded)][:, columns]
        reaches = recovers.has(moved_to.ravel()).reshape(moved_to.shape).any(axis=1)
        recovers.add(index[reaches])
        if reaches.any():
            found.append((states[reaches], index[reaches]))
    return found
