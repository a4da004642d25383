"""Shortest paths in the dense explorer, found again rather than stored.

The dense search keeps no parent per state (at 3 meters that would be gigabytes): a
state's level is its distance from a start, so a shortest path to it steps back one level
at a time, each step the first state of the level before (by number) with a transition
into it, found by expanding that level again (``DenseSearch.group_candidates`` and
``cpl_targets``: the same tables, no DSP). Counterexamples are short, and the levels
before them small.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from checker.dense_search import CHUNK, DenseSearch


def path_to(search: DenseSearch, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A shortest path from a start to state ``index``: its states and actions."""
    starts = search.level_starts()
    states, taken = [index], []
    level = bisect_right(starts, index) - 1
    while level > 0:
        target = int(search.levels[level][states[-1] - starts[level]])
        parent, action = step_into(search, level - 1, target)
        states.append(starts[level - 1] + parent)
        taken.append(action)
        level -= 1
    return tuple(reversed(states)), tuple(reversed(taken))


def step_into(search: DenseSearch, level: int, target: int) -> tuple[int, int]:
    """The first state of ``level`` (its position there) with a transition into the packed
    state ``target``, and that transition's action."""
    space = search.space
    goal = int(space.index(np.array([target], dtype=np.uint64))[0])
    states = search.levels[level]
    for at in range(0, len(states), CHUNK):
        chunk = states[at : at + CHUNK]
        coded = space.coded(chunk)
        index = space.combine(coded, None)
        lost_ok = (chunk >> search.lost_shift) < np.uint64(search.max_lost)
        found: list[tuple[int, int]] = []
        for table in search.groups:
            source, entry, reached = search.group_candidates(
                table, table.rows(chunk, coded), index, lost_ok
            )
            hits = np.flatnonzero(reached == goal)
            if len(hits):
                found.append((int(source[hits[0]]), int(table.arrays()["action"][entry[hits[0]]])))
        if search.cpl is not None:
            rows = [t.rows(chunk, coded) for t in (search.cpl, *search.cpl_devices)]
            cpl_hits = np.flatnonzero(search.cpl_targets(index, rows).ravel() == goal)
            if len(cpl_hits):
                state, column = divmod(int(cpl_hits[0]), len(search.successors.cpl_actions))
                found.append((state, search.successors.cpl_actions[column]))
        if found:
            first, action = min(found)
            return at + first, action
    raise LookupError("no transition into the state from the level before")
