"""Meters are interchangeable: a meter's transitions are the first meter's, told of it.

In the closed system every meter is paired with the same Other Devices and offered the
same requests (``checker.universe``); what a request does to meter 2 from some state is
what it does to meter 1 from that state with the two meters swapped (their states, joins
and GBCS compliance). So the dense explorer fills a meter's action group from the first
meter's, through the swap, instead of running the DSP again (a transition that breaks a
property is computed afresh: its why names the device). The swap is found from the data:
a group is a mirror of another only if swapping the two meters maps its actions, in
order, onto the other's.

This rests on the model treating meters alike: no rule names a device's position, only
its type, generation, compliance and state. ``tests/test_dense.py`` holds the dense
explorer to the explorer (which steps every meter itself) at 2 meters on the built-in
variants; a model defect that told meters apart by position is seen by
``explore(..., engine="python")`` only (``tests/test_properties_bite.py``).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from checker.successors import Successors
from model.world import Action, ManualFix


class Swap:
    """Meter 0 and meter ``m`` swapped, in a packed state: their device fields, the join
    field of each pair they are in, and the setup (which of them is GBCS-compliant)."""

    def __init__(self, successors: Successors, m: int) -> None:
        self.layout = successors.layout
        first = successors.first
        self.devices = list(range(len(first.devices)))
        self.devices[0], self.devices[m] = m, 0
        self.pairs = [
            first.pair_index(self.devices[p.target], self.devices[p.other]) for p in first.pairs
        ]
        setups = successors.world_of.setups
        self.setups = [_swapped_setup(setups, s, self.devices) for s in range(len(setups))]

    def state(self, packed: int) -> int:
        """The state with the two meters swapped (a swap undoes itself)."""
        setup, cpl, devices, joins, lost = self.layout.unpack(packed)
        return self.layout.pack(
            self.setups[setup],
            cpl,
            [devices[self.devices[d]] for d in range(len(devices))],
            [joins[self.pairs[p]] for p in range(len(joins))],
            lost,
        )

    def action(self, action: Action) -> Action:
        """The action with the two meters swapped."""
        if isinstance(action, ManualFix):
            return replace(action, pair=self.pairs[action.pair])
        changes: dict[str, Any] = {}
        for f in fields(action):  # type: ignore[arg-type]
            value = getattr(action, f.name)
            if f.name in ("target", "other") and value is not None:
                changes[f.name] = self.devices[value]
            elif f.name == "also":
                changes[f.name] = tuple(self.devices[d] for d in value)
        return replace(action, **changes)  # type: ignore[type-var]


def _swapped_setup(setups: tuple[Any, ...], s: int, devices: list[int]) -> int:
    """The setup in which each device has the specification its swapped partner has in
    setup ``s`` (all but the name)."""
    wanted = [spec_key(setups[s].devices[devices[d]]) for d in range(len(devices))]
    for n, setup in enumerate(setups):
        if [spec_key(spec) for spec in setup.devices] == wanted:
            return n
    raise LookupError("no setup with the meters swapped")


def spec_key(spec: Any) -> tuple[Any, ...]:
    """A device's specification but its name: what the DSP may tell devices apart by."""
    return (spec.type, spec.smets, spec.compliant, spec.cpl_listed, spec.declared)


def mirrors(successors: Successors) -> dict[int, tuple[int, Swap, list[int]]]:
    """For each action group that is another's with two meters swapped: that group, the
    swap, and for each of its actions (in order) the other group's action it mirrors."""
    actions, groups = successors.actions, successors.groups
    index = {action: a for a, action in enumerate(actions)}
    devices = successors.first.devices
    targets = [d for d in range(1, len(devices)) if devices[d].type == devices[0].type]
    found: dict[int, tuple[int, Swap, list[int]]] = {}
    for m in targets:
        try:
            swap = Swap(successors, m)
        except LookupError:
            continue
        for g, (_, own) in enumerate(groups):
            swapped = [index.get(swap.action(actions[a])) for a in own]
            for g0, (_, theirs) in enumerate(groups):
                if g0 < g and g not in found and swapped == list(theirs) and g0 not in found:
                    found[g] = (g0, swap, list(theirs))
    return found
