"""The explorer's breadth-first search over packed states, with the safety checks on each
transition and the shortest path to any state.

Breadth-first order makes every counterexample a shortest one: a state's parent is the
state it was first reached from, so following parents back gives a shortest path. The
successors come from the memoised tables of ``checker.successors``; the first transition
breaking each safety property is kept, and ``reverse`` keeps the ways into each state that
may be part of a way back, for the backward search of ``checker.backward``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checker.successors import Successors


@dataclass
class Search:
    """The states reached so far, in breadth-first order, and how each was first reached.

    ``keys[n]`` is the packed state numbered n (``index_of`` the reverse), ``parent[n]`` the
    state it was first reached from and ``via[n]`` the action taken (-1 for a start).
    ``reverse[n]`` lists the ways into state n that may be part of a way back, each as
    ``source * 8 + flags`` (one bit a recoverability property). ``first_violation`` maps a
    safety property to the first transition breaking it, as (source, action, why).
    """

    progress: Callable[[int], None] | None = None
    index_of: dict[int, int] = field(default_factory=dict)
    keys: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    via: list[int] = field(default_factory=list)
    reverse: list[list[int]] = field(default_factory=list)
    first_violation: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    transitions: int = 0
    visit: Callable[[int, int, int, int], None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.visit = self._visitor()

    def _visitor(self) -> Callable[[int, int, int, int], None]:
        """``visit(nxt, index, a, flags)``: reach state ``nxt`` from state number ``index`` by
        action ``a``; a closure over the lists, bound once, as it runs for every transition
        out of the inner loop of ``run``."""
        index_of, keys, reverse, progress = self.index_of, self.keys, self.reverse, self.progress
        index_get, keys_append, reverse_append = index_of.get, keys.append, reverse.append
        parent_append, via_append = self.parent.append, self.via.append

        def visit(nxt: int, index: int, a: int, flags: int) -> None:
            target = index_get(nxt)
            if target is None:
                target = index_of[nxt] = len(keys)
                keys_append(nxt)
                parent_append(index)
                via_append(a)
                reverse_append([])
                if progress is not None and target % 10_000 == 0:
                    progress(target)
            if flags:
                reverse[target].append(index * 8 + flags)

        return visit

    def note(self, found: Any, index: int, a: int) -> None:
        """Keep the first transition breaking each property ``found`` names."""
        for property_id, why in found:
            if property_id not in self.first_violation:
                self.first_violation[property_id] = (index, a, why)

    def path_to(self, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """A shortest path from a start to state ``index``: its states and actions."""
        parent, via = self.parent, self.via
        states, taken = [index], []
        while parent[states[-1]] != -1:
            taken.append(via[states[-1]])
            states.append(parent[states[-1]])
        return tuple(reversed(states)), tuple(reversed(taken))

    def run(self, successors: Successors, max_lost: int) -> None:
        """Breadth-first from the states visited so far (the starts) to every reachable
        state, losing at most ``max_lost`` responses on the way."""
        # Every name the loop uses is bound once here: this loop runs millions of times.
        keys, index_of, reverse, progress = self.keys, self.index_of, self.reverse, self.progress
        index_get, keys_append, reverse_append = index_of.get, keys.append, reverse.append
        parent_append, via_append = self.parent.append, self.via.append
        visit, note, compute = self.visit, self.note, successors.compute
        lost_shift, lost_one = successors.layout.lost_shift, successors.layout.lost_one
        group_memos, cpl_groups = successors.group_memos, successors.cpl_groups
        cpl_actions, cpl_flags, cpl_memo = (
            successors.cpl_actions,
            successors.cpl_flags,
            successors.cpl_memo,
        )
        cpl_mask, cpl_deltas = successors.layout.cpl_mask, successors.cpl_deltas
        cpl_device_deltas = successors.cpl_device_deltas
        transitions = index = 0
        while index < len(keys):
            state = keys[index]
            lost_ok = (state >> lost_shift) < max_lost
            # CPL changes: the CPL's own change and each device's, from their own memos.
            if cpl_actions:
                deltas = cpl_memo.get(state & cpl_mask)
                if deltas is None:
                    deltas = cpl_memo[state & cpl_mask] = cpl_deltas(state)
                per_device = []
                for device_mask, device_memo, d in cpl_groups:
                    device_results = device_memo.get(state & device_mask)
                    if device_results is None:
                        device_results = device_memo[state & device_mask] = cpl_device_deltas(
                            d, state
                        )
                    per_device.append(device_results)
                transitions += len(cpl_actions)
                for n, a in enumerate(cpl_actions):
                    nxt = state + deltas[n]
                    for device_results in per_device:
                        delta, found = device_results[n]
                        nxt += delta
                        if found:
                            note(found, index, a)
                    if nxt != state:
                        visit(nxt, index, a, cpl_flags[n])
            for mask, memo, g in group_memos:
                entry = memo.get(state & mask)
                if entry is None:
                    entry = memo[state & mask] = compute(g, state)
                plain, lossy, steady, lossy_successors, violating = entry
                if violating:
                    for delta, lose, flags, a, found in violating:
                        if lose and not lost_ok:
                            continue
                        note(found, index, a)
                        nxt = state + delta + (lost_one if lose else 0)
                        if nxt != state:
                            visit(nxt, index, a, flags)
                if lost_ok:
                    transitions += plain + lossy
                    successors_ = steady + lossy_successors if lossy_successors else steady
                else:
                    transitions += plain
                    successors_ = steady
                for delta, flags, a in successors_:
                    nxt = state + delta
                    # visit(), written out: this loop runs millions of times.
                    target = index_get(nxt)
                    if target is None:
                        target = index_of[nxt] = len(keys)
                        keys_append(nxt)
                        parent_append(index)
                        via_append(a)
                        reverse_append([])
                        if progress is not None and target % 10_000 == 0:
                            progress(target)
                    if flags:
                        reverse[target].append(index * 8 + flags)
            index += 1
        self.transitions += transitions
