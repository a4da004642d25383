"""The successor tables of ``checker.successors`` as flat arrays, gathered in bulk.

Each action group's memo (the part of the state it reads -> its successors) becomes a table
of rows, one per distinct part, found by the part's dense index (``checker.dense_fields``);
each row's successors sit in flat arrays (CSR): the difference to add to the packed state,
the difference it makes to the dense index, the recovery flags, the first action, and
which safety properties the transition breaks. The rows are filled through
``Successors.compute`` and its CPL counterparts, so through the one DSP: nothing here knows
a rule.

Two rows whose parts differ only in the setup of devices the group does not touch (at 2
meters, whether the other meter is GBCS-compliant) have the same successors: the DSP reads
the specification of the devices it acts on, as the memo of ``checker.successors`` already
assumes for their states. Such rows share one computation, and the properties it armed are
counted for each row, as the explorer counts them (not when coverage is counted: there each
row is computed, so every rule hit is seen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from checker.dense_fields import I64, U64, DenseSpace
from checker.dense_symmetry import spec_key
from checker.successors import Successors

MASK64 = (1 << 64) - 1


def signed(delta: int) -> int:
    """A difference stored as uint64, as the signed integer it adds."""
    return delta - (1 << 64) if delta >> 63 else delta


@dataclass
class Violations:
    """The safety properties judged, as bits, and why each transition broke them."""

    ids: list[str]
    why: dict[tuple[int, ...], Any] = field(default_factory=dict)

    def bits(self, found: Any) -> int:
        return sum(1 << self.ids.index(p) for p, _ in found)


class RowTable:
    """Rows keyed by the dense index of a part of the state (the fields of ``mask``)."""

    def __init__(self, space: DenseSpace, successors: Successors, mask: int) -> None:
        self.space, self.successors, self.mask = space, successors, mask
        self.fields = space.fields_in(mask)
        self.keys: list[int] = []
        #: The packed parts each row's transitions lead to, per row.
        self.targets: list[list[int]] = []
        self.generation = -1
        self.row_of: I64 = np.zeros(0, dtype=np.int64)
        self._parts: I64 | None = None
        self._parts_generation = -1

    def rows(self, states: U64, coded: list[I64] | None = None) -> I64:
        """Each state's row, -1 where its part has none yet (``coded``: the states' codes,
        if already computed)."""
        if self.generation != self.space.generation:
            self._reindex()
        if coded is None:
            return self.row_of[self.space.index(states, self.fields)]
        return self.row_of[self.space.combine(coded, self.fields)]

    def _reindex(self) -> None:
        self.generation = self.space.generation
        self._parts = None
        self.row_of = np.full(self.space.sub_size(self.fields), -1, dtype=np.int64)
        if self.keys:
            keys = np.array(self.keys, dtype=np.uint64)
            self.row_of[self.space.index(keys, self.fields)] = np.arange(len(self.keys))

    def missing(self, states: U64, rows: I64) -> list[int]:
        """One state (as an int) for each distinct part of ``states`` with no row."""
        absent = np.flatnonzero(rows < 0)
        if not len(absent):
            return []
        index = self.space.index(states[absent], self.fields)
        _, first = np.unique(index, return_index=True)
        return [int(s) for s in states[absent[first]]]

    def add_row(self, state: int, deltas: list[int]) -> None:
        """A row for ``state``'s part, its transitions adding ``deltas`` (uint64) to the
        packed state; ``commit`` makes the rows added since the last one findable."""
        key = state & self.mask
        self.keys.append(key)
        self.targets.append([((key + signed(d)) & self.mask) for d in deltas])

    def commit(self, added: int) -> None:
        """Give codes to the values the last ``added`` rows read and lead to, and index
        them."""
        if not added:
            return
        keys = np.array(self.keys[-added:], dtype=np.uint64)
        targets = [t for ts in self.targets[-added:] for t in ts]
        self.space.learn(np.concatenate([keys, np.array(targets, dtype=np.uint64)]), self.fields)
        self._parts = None
        if self.generation == self.space.generation:
            rows = np.arange(len(self.keys) - added, len(self.keys))
            self.row_of[self.space.index(keys, self.fields)] = rows

    def target_index(self) -> I64:
        """Each transition's target part, by its index over this table's fields."""
        flat = np.array([t for ts in self.targets for t in ts], dtype=np.uint64)
        return self.space.index(flat, self.fields)

    def parts(self) -> tuple[I64, I64]:
        """Each row's part of the dense index, and each transition's (flat, in row order)."""
        if self._parts is None or self._parts_generation != self.space.generation:
            self._parts_generation = self.space.generation
            keys = np.array(self.keys, dtype=np.uint64)
            flat = np.array([t for ts in self.targets for t in ts], dtype=np.uint64)
            strides = [self.space.strides[f] for f in self.fields]
            self._parts = np.concatenate(
                [
                    self.space.part(keys, self.fields, strides),
                    self.space.part(flat, self.fields, strides),
                ]
            )
        return self._parts[: len(self.keys)], self._parts[len(self.keys) :]


class GroupTable(RowTable):
    """One action group's successors per row: first those always enabled, then those that
    lose a response (enabled while fewer than ``max_lost`` were lost)."""

    def __init__(
        self, space: DenseSpace, successors: Successors, group: int, violations: Violations
    ) -> None:
        mask, memo, _ = successors.group_memos[group]
        super().__init__(space, successors, mask)
        self.group, self.memo, self.violations = group, memo, violations
        self.lost_one = successors.layout.lost_one
        #: Per transition: delta, flags, action, vbits, lossy.
        self.entries: list[tuple[int, int, int, int, int]] = []
        #: Per row: start, always, lossy (entries), plain, lost (enabled actions).
        self.row_info: list[tuple[int, int, int, int, int]] = []
        self._arrays: dict[str, NDArray[Any]] = {}
        self.shared: dict[Any, tuple[Any, dict[str, int]]] = {}
        self.setup_class = _setup_classes(successors, mask)
        #: The group this one mirrors, the swap, and that group's actions, if any.
        self.mirror: tuple[GroupTable, Any, list[int]] | None = None

    def fill(self, states: U64, rows: I64) -> I64:
        """Rows for every state, computing the missing ones through the DSP."""
        found = self.missing(states, rows)
        for state in found:
            self._add(state, self._entry(state))
        self.commit(len(found))
        if found:
            self._arrays.clear()
            rows = self.rows(states)
        return rows

    def _entry(self, state: int) -> Any:
        """The group's successors from ``state``'s part: the explorer's memo entry, computed
        once per class of setups the group cannot tell apart, or told from the group it
        mirrors (``checker.dense_symmetry``); the properties it arms counted each time."""
        key = state & self.mask
        entry = self.memo.get(key)
        if entry is not None:
            return entry
        if self.successors.observer.covered is not None:
            entry = self.memo[key] = self.successors.compute(self.group, state)
            return entry
        entry, arming = self.mirrored(state) if self.mirror is not None else (None, None)
        if entry is None or arming is None:
            entry, arming = self.computed(state)
        armed = self.successors.observer.armed
        for property_id, n in arming.items():
            armed[property_id] += n
        self.memo[key] = entry
        return entry

    def computed(self, state: int) -> tuple[Any, dict[str, int]]:
        """The entry through the DSP, once per class of setups, and what it arms."""
        successors, layout = self.successors, self.successors.layout
        setup = (state & layout.setup_mask) >> layout.setup_shift
        narrow = (self.setup_class[setup], state & self.mask & ~layout.setup_mask)
        shared = self.shared.get(narrow)
        if shared is None:
            armed = successors.observer.armed
            before = dict(armed)
            entry = successors.compute(self.group, state)
            arming = {p: n - before[p] for p, n in armed.items() if n > before[p]}
            for property_id, n in arming.items():
                armed[property_id] -= n
            shared = self.shared[narrow] = (entry, arming)
        return shared

    def mirrored(self, state: int) -> tuple[Any, dict[str, int] | None]:
        """The entry told from the mirrored group's, with the meters swapped back; None
        where a transition breaks a property (its why names the device)."""
        assert self.mirror is not None
        table, swap, theirs = self.mirror
        own = self.successors.groups[self.group][1]
        action_of = dict(zip(theirs, own, strict=True))
        mirrored = swap.state(state)
        (plain, lossy, steady, lossy_successors, violating), arming = table.computed(mirrored)
        if violating:
            return None, None

        def told(successors: list[Any]) -> list[Any]:
            return [(swap.state(mirrored + d) - state, f, action_of[a]) for d, f, a in successors]

        return (plain, lossy, told(steady), told(lossy_successors), []), arming

    def _add(self, state: int, entry: Any) -> None:
        plain, lossy, steady, lossy_successors, violating = entry
        always = [(d & MASK64, f, a, 0, 0) for d, f, a in steady]
        lost = [(d & MASK64, f, a, 0, 1) for d, f, a in lossy_successors]
        for delta, lose, flags, a, found in violating:
            bits = self.violations.bits(found)
            row = ((delta + (self.lost_one if lose else 0)) & MASK64, flags, a, bits, lose)
            (lost if lose else always).append(row)
        start = len(self.entries)
        for n, row in enumerate([*always, *lost]):
            if row[3]:
                why = next(found for _, _, _, a, found in violating if a == row[2])
                self.violations.why[id(self), start + n] = why
        self.entries.extend(always)
        self.entries.extend(lost)
        self.row_info.append((start, len(always), len(lost), plain, lossy))
        lost_one = self.lost_one
        self.add_row(
            state, [(d - lost_one * lose) & MASK64 for d, _, _, _, lose in self.entries[start:]]
        )

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The table as flat arrays (cached until the next fill or growth of the space)."""
        if not self._arrays or self._arrays["generation"][0] != self.space.generation:
            e = np.array(self.entries or [(0, 0, 0, 0, 0)], dtype=np.uint64)
            info = np.array(self.row_info, dtype=np.int64).reshape(-1, 5)
            source, target = self.parts()
            rows_of_entry = np.repeat(np.arange(len(self.row_info)), info[:, 1] + info[:, 2])
            self._arrays = {
                "delta": e[:, 0].copy(),
                "flags": e[:, 1].astype(np.uint8),
                "action": e[:, 2].astype(np.int32),
                "vbits": e[:, 3].astype(np.uint16),
                "lossy_entry": e[:, 4].astype(bool),
                "index_delta": _index_deltas(target, source, rows_of_entry, e, self.space),
                "row_vbits": _row_vbits(e[:, 3], info, len(self.entries)),
                "start": info[:, 0],
                "always": info[:, 1],
                "lossy": info[:, 2],
                "plain": info[:, 3],
                "lossy_count": info[:, 4],
                "generation": np.array([self.space.generation]),
            }
        return self._arrays


def _row_vbits(vbits: NDArray[Any], info: I64, entries: int) -> NDArray[np.bool_]:
    """Per row: does any of its transitions break a property?"""
    if not entries or not len(info):
        return np.zeros(len(info), dtype=bool)
    counts = info[:, 1] + info[:, 2]
    rows = np.repeat(np.arange(len(info)), counts)
    return np.bincount(rows, weights=(vbits[:entries] != 0), minlength=len(info)) > 0


def _index_deltas(
    target: I64, source: I64, rows_of_entry: I64, entries: NDArray[Any], space: DenseSpace
) -> I64:
    """What each transition adds to the dense index: its part's change, and a lost
    response's."""
    if not len(target):
        return np.zeros(1, dtype=np.int64)
    lost_stride = space.strides[space.lost_field]
    return target - source[rows_of_entry] + entries[: len(target), 4].astype(np.int64) * lost_stride


def _setup_classes(successors: Successors, mask: int) -> list[Any]:
    """Per setup, what it says of the devices whose state (or join) ``mask`` covers: the
    setups a group's transitions cannot tell apart share a class."""
    layout, first = successors.layout, successors.first
    touched = {d for d, m in enumerate(layout.device_mask) if m & mask}
    for p, pair in enumerate(first.pairs):
        if layout.join_mask[p] & mask:
            touched |= {pair.target, pair.other}
    setups = successors.world_of.setups
    return [tuple(s.devices[d] for d in sorted(touched)) for s in setups] + [None] * (
        (layout.setup_mask >> layout.setup_shift) + 1 - len(setups)
    )


class CplTable(RowTable):
    """The CPL changes' effect on one device (or, for ``device`` None, on the CPL itself):
    per row, each change's difference and the properties it breaks there."""

    def __init__(
        self, space: DenseSpace, successors: Successors, device: int | None, violations: Violations
    ) -> None:
        layout = successors.layout
        mask = layout.cpl_mask if device is None else successors.cpl_groups[device][0]
        super().__init__(space, successors, mask)
        self.device, self.violations = device, violations
        #: Results shared between the devices' tables (``_device_results``).
        self.shared: dict[Any, tuple[list[int], dict[str, int]]] = {}
        self.width = len(successors.cpl_actions)
        self.delta_rows: list[list[int]] = []
        self.vbit_rows: list[list[int]] = []
        self._arrays: tuple[U64, NDArray[np.uint16], I64] | None = None
        self._arrays_generation = -1

    def fill(self, states: U64, rows: I64) -> I64:
        found = self.missing(states, rows)
        for state in found:
            if self.device is None:
                deltas = [d & MASK64 for d in self.successors.cpl_deltas(state)]
                bits = [0] * self.width
            else:
                results = self._device_results(state)
                deltas = [d & MASK64 for d, _ in results]
                bits = [self.violations.bits(f) for _, f in results]
                for n, (_, f) in enumerate(results):
                    if f:
                        self.violations.why[id(self), len(self.keys), n] = f
            self.delta_rows.append(deltas)
            self.vbit_rows.append(bits)
            self.add_row(state, deltas)
        self.commit(len(found))
        if found:
            self._arrays = None
            rows = self.rows(states)
        return rows

    def _device_results(self, state: int) -> tuple[tuple[int, Any], ...]:
        """``Successors.cpl_device_deltas`` for this device, computed once per device
        specification (all but its name), CPL and device state, whichever device of that
        specification and whatever the setup says of the others: a CPL change acts on each
        device on its own (``model.dcc_events``). A result that breaks a property is not
        shared (its why names the device); the properties a result arms are counted for each
        device and state, as the explorer counts them."""
        successors, layout, d = self.successors, self.successors.layout, self.device
        assert d is not None
        setup = successors.world_of.setups[(state & layout.setup_mask) >> layout.setup_shift]
        shift = layout.device_shift[d]
        dev = (state & layout.device_mask[d]) >> shift
        key = (spec_key(setup.devices[d]), state & layout.cpl_mask, dev)
        armed = successors.observer.armed
        shared = self.shared.get(key) if successors.observer.covered is None else None
        if shared is not None:
            news, arming = shared
            for property_id, n in arming.items():
                armed[property_id] += n
            return tuple(((new - dev) << shift, ()) for new in news)
        before = dict(armed)
        results = successors.cpl_device_deltas(d, state)
        if successors.observer.covered is None and not any(found for _, found in results):
            arming = {p: n - before[p] for p, n in armed.items() if n > before[p]}
            self.shared[key] = ([dev + (delta >> shift) for delta, _ in results], arming)
        return results

    def arrays(self) -> tuple[U64, NDArray[np.uint16], I64]:
        """Per row and change: the difference to the packed state, the properties broken
        (bits), and the difference to the dense index."""
        if self._arrays is None or self._arrays_generation != self.space.generation:
            self._arrays_generation = self.space.generation
            source, target = self.parts()
            self._arrays = (
                np.array(self.delta_rows, dtype=np.uint64).reshape(-1, self.width),
                np.array(self.vbit_rows, dtype=np.uint16).reshape(-1, self.width),
                (target.reshape(-1, self.width) - source[:, None]).reshape(-1, self.width),
            )
        return self._arrays
