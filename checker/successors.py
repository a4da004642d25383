"""The explorer's successor tables: each action's effect memoised on the part of the state
it reads.

An action reads and writes one device, or one pair and its target, or a device with its
joins, or the CPL and every device. Its successors are memoised on ``state & mask`` (the
part it reads) and applied as a constant difference to the packed state
(``checker.packing``). A memo miss runs the one DSP (``model.dsp.step``) over the machines
compiled from the live ones (``checker.machine_tables``) and the one set of safety checks
(``properties.safety``), so there is no second copy of the rules.
"""

from __future__ import annotations

from typing import Any

from checker.coverage import CountingMachines, Coverage
from checker.machine_tables import compiled
from checker.packing import Codec, Layout
from checker.shared_steps import Result, SharedSteps
from checker.universe import RECOVERABILITY, Bounds, Universe, cascades
from model.dsp import READ_DEVICE_LOG, StepNotAllowed, step
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World
from properties import safety
from properties.armed import armed_by
from properties.ways_back import is_recovery_action

#: A group's successors from one part of a state: how many actions are enabled without
#: and with a lost response, the distinct successors of each kind as (difference, recovery
#: flags, first action), and the transitions that break a property, kept apart.
GroupEntry = tuple[int, int, list[Any], list[Any], list[Any]]
#: One allowed action of a group from one part of a state, as the DSP took it: (action,
#: difference to the packed state (without the lost message), 1 if a message is lost,
#: the world before, the world after, the DSP's outcome, the wanted safety properties it
#: breaks with why). What ``checker.causes`` reads, so that it never steps the DSP again.
Step = tuple[int, int, int, World, World, Any, tuple[tuple[str, str], ...]]


class Observer:
    """Notes the properties each distinct transition arms and, when asked, the rules and
    machine transitions it exercises (``checker.coverage``)."""

    def __init__(self, variant: Variant, wanted: tuple[str, ...], coverage: bool) -> None:
        self.variant = variant
        self.armed: dict[str, int] = dict.fromkeys(wanted, 0)
        self.counting = CountingMachines(compiled()) if coverage else None
        self.machines = self.counting or compiled()
        self.covered = Coverage() if coverage else None

    def note(self, setup: Setup, before: World, action: Action, after: World, outcome: Any) -> None:
        """One distinct transition, allowed by the model."""
        armed = self.armed
        for property_id in armed_by(setup, before, action, after, outcome):
            if property_id in armed:
                armed[property_id] += 1
        if self.covered is not None and self.counting is not None:
            self.covered.record(
                setup, before, action, after, outcome, self.variant, self.counting.fired
            )
            self.counting.fired.clear()


def action_groups(
    actions: tuple[Action, ...], variant: Variant, first: Setup, layout: Layout
) -> list[tuple[int, list[int]]]:
    """The actions other than CPL changes, grouped by the part of the state they read and
    write, each group as (mask of that part, its actions' indices)."""
    setup_mask = layout.setup_mask
    groups: list[tuple[int, list[int]]] = []
    cascading = {a for a, act in enumerate(actions) if cascades(variant, act)}
    for d in range(len(first.devices)):
        mine = [
            a
            for a, act in enumerate(actions)
            if isinstance(act, (Request, DccEvent))
            and act.target == d
            and a not in cascading
            and not (
                isinstance(act, Request) and (act.other is not None or act.srv == READ_DEVICE_LOG)
            )
        ]
        if mine:
            groups.append((setup_mask | layout.cpl_mask | layout.device_mask[d], mine))
        # A life-cycle event with a [cascades] row also ends the device's joins: its group
        # reads and writes every pair the device is in.
        mine = [a for a in sorted(cascading) if actions[a].target == d]  # type: ignore[union-attr]
        if mine:
            mask = setup_mask | layout.cpl_mask | layout.device_mask[d]
            for p, pair in enumerate(first.pairs):
                if d in (pair.target, pair.other):
                    mask |= layout.join_mask[p]
            groups.append((mask, mine))
    for p, pair in enumerate(first.pairs):
        mine = [
            a
            for a, act in enumerate(actions)
            if (isinstance(act, ManualFix) and act.pair == p)
            or (
                isinstance(act, Request)
                and act.other is not None
                and first.pair_index(act.target, act.other) == p
            )
        ]
        groups.append((setup_mask | layout.device_mask[pair.target] | layout.join_mask[p], mine))
    for t in range(len(first.devices)):
        mine = [
            a
            for a, act in enumerate(actions)
            if isinstance(act, Request) and act.srv == READ_DEVICE_LOG and act.target == t
        ]
        if mine:
            mask = setup_mask | layout.device_mask[t]
            for p in first.pairs_of(t):
                mask |= layout.join_mask[p]
            groups.append((mask, mine))
    return groups


class Successors:
    """The successor tables of one universe under one variant: per action group a memo
    from the part of the state it reads to a ``GroupEntry``; for the CPL changes, a memo of
    the CPL's own change and one per device of that device's change."""

    def __init__(
        self,
        variant: Variant,
        bounds: Bounds,
        world_of: Universe,
        wanted: tuple[str, ...],
        observer: Observer,
        keep_steps: bool = False,
        shared: SharedSteps | None = None,
    ) -> None:
        self.variant, self.world_of, self.observer = variant, world_of, observer
        #: Steps shared with other variants' explorations (``checker.shared_steps``); not
        #: while counting coverage, which watches each step's machine transitions.
        self.shared = shared if observer.counting is None else None
        self.shared_ids: dict[tuple[int, Setup], int] = {}
        self.observe, self.wanted, self.machines = observer.note, wanted, observer.machines
        self.actions = actions = world_of.actions
        self.first = first = world_of.setups[0]
        self.layout = layout = Layout(
            len(first.devices), len(first.pairs), bounds.versions, len(world_of.setups)
        )
        self.codec = Codec(layout)
        self.recovery_properties = [p for p in RECOVERABILITY if p in wanted]
        self.groups = action_groups(actions, variant, first, layout)
        self.group_actions = [tuple(actions[a] for a in mine) for _, mine in self.groups]
        #: Per group, the devices and join pairs its mask covers, and whether the CPL.
        self.group_parts = [
            (
                bool(mask & layout.cpl_mask),
                tuple(d for d, m in enumerate(layout.device_mask) if mask & m),
                tuple(p for p, m in enumerate(layout.join_mask) if mask & m),
            )
            for mask, _ in self.groups
        ]
        self.memos: list[dict[int, GroupEntry]] = [{} for _ in self.groups]
        #: Per group, beside its memo: each action's ``Step`` from that part of a state,
        #: kept by ``compute`` when ``keep_steps`` (else filled on demand by ``group_steps``).
        self.keep_steps = keep_steps
        self.steps: list[dict[int, list[Step]]] = [{} for _ in self.groups]
        #: (mask, memo, group) for each group, as the search reads them.
        self.group_memos = [
            (mask, memo, g)
            for g, ((mask, _), memo) in enumerate(zip(self.groups, self.memos, strict=True))
        ]
        # CPL changes act on every device, but on each independently (model.dcc_events.cpl_change):
        # memoise the CPL's own change on the CPL, and each device's on (setup, CPL,
        # device), both through the one DSP on a world of that device alone.
        self.cpl_actions = [a for a, act in enumerate(actions) if isinstance(act, CplChange)]
        self.cpl_flags = [self.recovery_flags(actions[a]) for a in self.cpl_actions]
        self.cpl_memo: dict[int, tuple[int, ...]] = {}
        self.cpl_device_memos: list[dict[int, tuple[tuple[int, Any], ...]]] = [
            {} for _ in first.devices
        ]
        #: (mask, memo, device) for each device's part of the CPL changes.
        self.cpl_groups = [
            (layout.setup_mask | layout.cpl_mask | mask, memo, d)
            for d, (mask, memo) in enumerate(
                zip(layout.device_mask, self.cpl_device_memos, strict=True)
            )
        ]

    def recovery_flags(self, action: Action, before: World | None = None) -> int:
        """One bit per recoverability property judged: may ``action`` be part of its way
        back (``properties.ways_back``)?"""
        return sum(
            1 << n
            for n, p in enumerate(self.recovery_properties)
            if is_recovery_action(p, action, before)
        )

    def violations(
        self, setup: Setup, before: World, action: Action, after: World, outcome: Any
    ) -> tuple[tuple[str, str], ...]:
        """The wanted safety properties this transition breaks, each with why."""
        return tuple(
            (v.property, v.why)
            for v in safety.violations(setup, self.variant, before, action, after, outcome)
            if v.property in self.wanted
        )

    def compute(self, group: int, state: int) -> GroupEntry:
        """Every action of a group from ``state`` (see ``GroupEntry``)."""
        entry, steps = self._run(group, state, observing=True)
        if self.keep_steps:
            self.steps[group][state & self.groups[group][0]] = steps
        return entry

    def group_steps(self, group: int, state: int) -> list[Step]:
        """Each allowed action's ``Step`` of a group from ``state``: those ``compute`` kept,
        else run through the DSP now (once per part of a state, not observed again)."""
        key = state & self.groups[group][0]
        found = self.steps[group].get(key)
        if found is None:
            found = self.steps[group][key] = self._run(group, state, observing=False)[1]
        return found

    def _run(self, group: int, state: int, observing: bool) -> tuple[GroupEntry, list[Step]]:
        """Every action of a group from ``state``, through the one DSP: the memo's entry and
        each allowed action's ``Step``."""
        actions, observe, pack = self.actions, self.observe, self.codec.pack
        difference = self.codec.difference
        wanted, recovery_properties = self.wanted, self.recovery_properties
        setup_index, before, _ = self.codec.unpack(state)
        setup = self.world_of.setups[setup_index]
        before, results, observed = self._results(group, setup, before, observing)
        pack(setup_index, before, 0)  # interns every part of before, as difference() reads
        plain = lossy = 0
        merged: dict[tuple[int, int], list[Any]] = {}
        violating: list[tuple[int, int, int, int, Any]] = []
        steps: list[Step] = []
        for a, result in zip(self.groups[group][1], results, strict=True):
            if result is None:
                continue
            action = actions[a]
            after, outcome, broken = result
            if observing and not observed:
                observe(setup, before, action, after, outcome)
            lose = int(isinstance(action, Request) and action.faulty)
            plain, lossy = plain + (1 - lose), lossy + lose
            delta = difference(before, after)
            # recovery_flags() and violations(), written out: a memo miss runs this for
            # every action of the group, and at 1 meter memo misses are most of the time.
            flags = sum(
                1 << n
                for n, p in enumerate(recovery_properties)
                if is_recovery_action(p, action, before)
            )
            found = tuple(v for v in broken if v[0] in wanted)
            steps.append((a, delta, lose, before, after, outcome, found))
            if found:
                violating.append((delta, lose, flags, a, found))
            elif delta or lose:
                entry = merged.setdefault((delta, lose), [delta, lose, 0, a, ()])
                entry[2] |= flags
        steady = [(d, f, a) for d, lose, f, a, _ in merged.values() if not lose]
        lost_one = self.layout.lost_one
        lossy_successors = [(d + lost_one, f, a) for d, lose, f, a, _ in merged.values() if lose]
        return (plain, lossy, steady, lossy_successors, violating), steps

    def _results(
        self, group: int, setup: Setup, before: World, observing: bool
    ) -> tuple[World, list[Result], bool]:
        """Each action of a group from ``before`` through the one DSP, with every safety
        property it breaks: shared with other variants where the rules it read agree
        (``checker.shared_steps``), from a world that agrees with ``before`` on the group's
        part of it (the world returned first), else stepped here (and, when counting
        coverage, each step observed at once, as the counting machines note its
        transitions). Last, whether the steps were observed."""
        if self.shared is not None:
            cpl, devices, pairs = self.group_parts[group]
            local = (
                before.cpl if cpl else None,
                tuple(before.devices[d] for d in devices),
                tuple(before.joins[p] for p in pairs),
            )
            actions = self.group_actions[group]
            known = self.shared_ids.get((group, setup))
            if known is None:
                known = self.shared_ids[group, setup] = self.shared.interned((setup, actions))
            was, found = self.shared.run(
                self.variant, local, setup, before, actions, self.machines, known
            )
            return was, found, False
        variant, machines, counting = self.variant, self.machines, self.observer.counting
        results: list[Result] = []
        for action in self.group_actions[group]:
            try:
                after, outcome = step(setup, before, action, variant, machines)
            except StepNotAllowed:
                if counting is not None:
                    counting.fired.clear()
                results.append(None)
                continue
            if observing:
                self.observe(setup, before, action, after, outcome)
            elif counting is not None:
                counting.fired.clear()
            broken = tuple(
                (v.property, v.why)
                for v in safety.violations(setup, variant, before, action, after, outcome)
            )
            results.append((after, outcome, broken))
        return before, results, True

    def cpl_deltas(self, state: int) -> tuple[int, ...]:
        """Each CPL change's difference to the CPL part of ``state``."""
        layout, cpl_ids, no_devices = self.layout, self.codec.cpl_ids, Setup(())
        cpl = (state & layout.cpl_mask) >> layout.cpl_shift
        before = World(cpl_ids.values[cpl], ())
        return tuple(
            (
                cpl_ids(
                    step(no_devices, before, self.actions[a], self.variant, self.machines)[0].cpl
                )
                - cpl
            )
            << layout.cpl_shift
            for a in self.cpl_actions
        )

    def cpl_device_deltas(self, d: int, state: int) -> tuple[tuple[int, Any], ...]:
        """Each CPL change's difference to device ``d``'s part of ``state``, and the
        properties it breaks there."""
        layout, codec = self.layout, self.codec
        setup_index, cpl, devices, _, _ = layout.unpack(state)
        setup = Setup((self.world_of.setups[setup_index].devices[d],))
        before = World(codec.cpl_ids.values[cpl], (codec.dev_ids.values[devices[d]],))
        results = []
        for a in self.cpl_actions:
            action = self.actions[a]
            after, outcome = step(setup, before, action, self.variant, self.machines)
            self.observe(setup, before, action, after, outcome)
            found = self.violations(setup, before, action, after, outcome)
            delta = (codec.dev_ids(after.devices[0]) - devices[d]) << layout.device_shift[d]
            results.append((delta, found))
        return tuple(results)
