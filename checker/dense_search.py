"""The dense explorer's breadth-first search: level by level, in numpy, over a visited
bitmap.

Each level's states are expanded together: every action group's row for each state is
looked up in its table (``checker.dense_tables``), filled through the DSP where missing,
and the successors gathered as ``state + difference`` in flat arrays; the CPL changes add
the CPL's difference and each device's. The successors not yet visited, each first
occurrence kept with the state and action it came from, are the next level. Breadth-first
levels make every counterexample a shortest one, as in ``checker.search``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from checker.dense_fields import I64, U64, Bitmap, DenseSpace
from checker.dense_symmetry import mirrors
from checker.dense_tables import CplTable, GroupTable, Violations
from checker.successors import Successors

#: States expanded at once: bounds the arrays of successors (about 30 per state).
CHUNK = 1 << 15

#: Transitions: the states reached and their dense indices.
Edges = tuple[U64, I64]


class DenseSearch:
    """The states reached, level by level, each with the state and action it was first
    reached from (``parent`` -1 for a start); the first transition breaking each safety
    property, as (source, action, why)."""

    def __init__(
        self,
        successors: Successors,
        space: DenseSpace,
        max_lost: int,
        violations: Violations,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.successors, self.space, self.max_lost = successors, space, max_lost
        self.violations, self.progress = violations, progress
        self.lost_shift = np.uint64(successors.layout.lost_shift)
        self.levels: list[U64] = []
        self.count = 0
        self.visited = Bitmap(0)
        self.visited_generation = -1
        self.first_violation: dict[str, tuple[int, int, Any]] = {}
        self.transitions = 0
        self.groups = [
            GroupTable(space, successors, g, violations) for g in range(len(successors.groups))
        ]
        for g, (g0, swap, theirs) in mirrors(successors).items():
            self.groups[g].mirror = (self.groups[g0], swap, theirs)
        cpl = bool(successors.cpl_actions)
        self.cpl = CplTable(space, successors, None, violations) if cpl else None
        self.cpl_devices = [
            CplTable(space, successors, d, violations)
            for d in range(len(successors.cpl_groups) if cpl else 0)
        ]
        for table in self.cpl_devices[1:]:
            table.shared = self.cpl_devices[0].shared

    # -- the levels ----------------------------------------------------------------------

    def start(self, starts: list[int]) -> None:
        """The first level: the starting states, each once, in order."""
        states = np.array(list(dict.fromkeys(starts)), dtype=np.uint64)
        self.space.learn(states)
        self._rebuild([])
        self.visited.add(self.space.index(states))
        self._append(states)

    def run(self) -> None:
        """Every level, until none is new."""
        level = 0
        while level < len(self.levels):
            base = self.count - len(self.levels[level])
            frontier = self.levels[level]
            found: list[U64] = []  # the next level's states, a chunk's at a time
            for at in range(0, len(frontier), CHUNK):
                chunk = frontier[at : at + CHUNK]
                found.append(self._fresh(self._expand(chunk, base + at, found)))
            if not sum(len(f) for f in found):
                break
            self._append(np.concatenate(found) if len(found) > 1 else found[0])
            if self.progress is not None:
                self.progress(self.count)
            level += 1

    def compact(self) -> None:
        """After the search: the space cut to the values reached, the visited bitmap
        with it (``DenseSpace.compact``)."""
        if self.space.compact():
            self.visited = Bitmap(0)
            self._rebuild([])

    def _append(self, states: U64) -> None:
        self.levels.append(states)
        self.count += len(states)

    def _fresh(self, edges: Edges) -> U64:
        """Of the transitions ``edges`` (into states not visited yet), the states they reach,
        each once (its first), marked visited."""
        states, index = edges
        _, first = np.unique(index, return_index=True)
        first.sort()
        self.visited.add(index[first])
        return states[first]

    def _rebuild(self, pending: list[U64]) -> None:
        """After the space grew: every visited state marked again, at its new index."""
        if self.visited_generation == self.space.generation:
            return
        self.visited_generation = self.space.generation
        self.visited = Bitmap(0)
        self.visited = Bitmap(self.space.size)
        for states in [*self.levels, *pending]:
            for at in range(0, len(states), CHUNK):
                self.visited.add(self.space.index(states[at : at + CHUNK]))

    # -- one chunk's successors ------------------------------------------------------------

    def _expand(self, states: U64, base: int, pending: list[U64]) -> Edges:
        """Every transition out of ``states`` (numbered from ``base``) that changes the
        state, noting the first that breaks each safety property."""
        tables: list[GroupTable | CplTable] = [*self.groups]
        if self.cpl is not None:
            tables += [self.cpl, *self.cpl_devices]
        coded = self.space.coded(states)
        generation = self.space.generation
        rows = [t.fill(states, t.rows(states, coded)) for t in tables]
        if self.space.generation != generation:
            self._rebuild(pending)
            coded = self.space.coded(states)
            rows = [t.rows(states, coded) for t in tables]
        index = self.space.combine(coded, None)
        lost_ok = (states >> self.lost_shift) < np.uint64(self.max_lost)
        parts = [
            self._group_edges(t, r, states, index, base, lost_ok)
            for t, r in zip(self.groups, rows, strict=False)
        ]
        if self.cpl is not None:
            parts.append(self._cpl_edges(states, index, base, rows[len(self.groups) :]))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def group_candidates(
        self, table: GroupTable, rows: I64, index: I64, lost_ok: NDArray[np.bool_]
    ) -> tuple[I64, I64, I64]:
        """Every transition of a group out of states at ``index`` (their rows ``rows``): its
        source (position among the states), its entry in the table, the index it leads to."""
        t = table.arrays()
        count = t["always"][rows] + np.where(lost_ok, t["lossy"][rows], 0)
        source = np.repeat(np.arange(len(rows)), count)
        ends = np.cumsum(count)
        entry = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            t["start"][rows] - (ends - count), count
        )
        return source, entry, index[source] + t["index_delta"][entry]

    def cpl_targets(self, index: I64, rows: list[I64]) -> I64:
        """Per state (row) and CPL change (column), the index the change leads to."""
        width = len(self.successors.cpl_actions)
        moved_to = np.repeat(index, width).reshape(-1, width)
        for table, row in zip([self.cpl, *self.cpl_devices], rows, strict=True):
            assert table is not None
            moved_to += table.arrays()[2][row]
        return moved_to

    def _group_edges(
        self,
        table: GroupTable,
        rows: I64,
        states: U64,
        index: I64,
        base: int,
        lost_ok: NDArray[np.bool_],
    ) -> Edges:
        """The group's transitions out of ``states`` into states not visited yet (a
        self-loop never is: its target is its source)."""
        t = table.arrays()
        self.transitions += int(t["plain"][rows].sum() + t["lossy_count"][rows][lost_ok].sum())
        source, entry, target = self.group_candidates(table, rows, index, lost_ok)
        if t["row_vbits"][rows].any():
            vbits = t["vbits"][entry]
            actions = t["action"][entry]
            self._note(vbits, base + source, actions, lambda i: (id(table), int(entry[i])))
        fresh = self.visited.lacks(target)
        return states[source[fresh]] + t["delta"][entry[fresh]], target[fresh]

    def _cpl_edges(self, states: U64, index: I64, base: int, rows: list[I64]) -> Edges:
        """The CPL changes out of ``states`` into states not visited yet: the CPL's own
        difference and each device's, added."""
        width = len(self.successors.cpl_actions)
        tables = [self.cpl, *self.cpl_devices]
        moved_to = self.cpl_targets(index, rows)
        vbits = np.zeros((len(states), width), dtype=np.uint16)
        for table, row in zip(tables, rows, strict=True):
            assert table is not None
            vbits |= table.arrays()[1][row]
        self.transitions += len(states) * width
        if vbits.any():
            taken = np.array(self.successors.cpl_actions, dtype=np.int32)
            source = np.repeat(np.arange(len(states)), width)
            flat = np.tile(taken, len(states))
            self._note(vbits.ravel(), base + source, flat, self._cpl_why(rows[1:], width))
        targets = moved_to.ravel()
        fresh = np.flatnonzero(self.visited.lacks(targets))
        source, column = np.divmod(fresh, width)
        after = states[source].copy()
        for table, row in zip(tables, rows, strict=True):
            assert table is not None
            after += table.arrays()[0][row[source], column]
        return after, targets[fresh]

    def _cpl_why(self, device_rows: list[I64], width: int) -> Callable[[int], tuple[int, ...]]:
        """Where the why of the CPL transition at flat position ``i`` is kept: the first
        device it breaks a property on."""

        def key(i: int) -> tuple[int, ...]:
            state, n = divmod(i, width)
            for table, rows in zip(self.cpl_devices, device_rows, strict=True):
                found = (id(table), int(rows[state]), n)
                if found in self.violations.why:
                    return found
            raise KeyError(i)

        return key

    def _note(
        self,
        vbits: NDArray[np.uint16],
        sources: I64,
        actions: NDArray[np.int32],
        why_key: Callable[[int], Any],
    ) -> None:
        """Keep the first transition breaking each property not broken before."""
        for bit, property_id in enumerate(self.violations.ids):
            if property_id in self.first_violation:
                continue
            hits = np.flatnonzero(vbits & np.uint16(1 << bit))
            if len(hits):
                i = int(hits[0])
                found = self.violations.why[why_key(i)]
                why = next(w for p, w in found if p == property_id)
                self.first_violation[property_id] = (int(sources[i]), int(actions[i]), why)

    # -- after the search ------------------------------------------------------------------

    def keys(self) -> U64:
        """Every state reached, numbered in the order reached: the levels moved into one
        array (each level freed as it is copied, so they are never held twice)."""
        keys = np.empty(self.count, dtype=np.uint64)
        at = 0
        for n, level in enumerate(self.levels):
            keys[at : at + len(level)] = level
            self.levels[n] = keys[at : at + len(level)]
            at += len(level)
        return keys

    def level_starts(self) -> list[int]:
        """The number of the first state of each level."""
        starts, at = [], 0
        for level in self.levels:
            starts.append(at)
            at += len(level)
        return starts
