"""The exhaustive explorer: breadth-first search of the closed system within bounds.

The closed system is the DSP, the SMI, meters (compliant or not) joined to CADs, the CPL
with its DCC events, and the network, which may lose up to ``max_lost`` responses. Safety
properties are checked on every transition; recoverability by backward reachability from
the good states over fault-free, fix-free actions. Breadth-first order makes every
counterexample a shortest one.

Speed without a second copy of the rules: states are tuples of small integers, and each
action's effect is memoised on the part of the state it reads (one device, or one pair and
its target, or the CPL and every device). A memo miss runs the one DSP (``model.dsp.step``)
over the machines compiled from the live ones (``checker.machine_tables``) and the one set of
safety checks (``properties.safety``).
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from checker.alphabet import alphabet
from checker.coverage import CountingMachines, Coverage
from checker.machine_tables import compiled
from checker.progress_events import reporter_for
from model.device_types import DeviceType
from model.dsp import READ_DEVICE_LOG, SRV_STATUS_EVENTS, StepNotAllowed, step
from model.join_machine import STATES as JOIN_STATES
from model.property_ids import (
    FIRMWARE_RECOVERABLE,
    JOIN_RECOVERABLE,
    PROPERTY_IDS,
    SUSPENSION_RECOVERABLE,
    UNJOIN_VALIDATED,
)
from model.status_chart import OPERATIONAL
from model.variant import Variant
from model.world import (
    Action,
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    ManualFix,
    PairSpec,
    Request,
    Setup,
    World,
)
from properties import safety
from properties.armed import armed_by
from properties.recoverability import DEVICE_GOOD, join_good_pair
from properties.ways_back import WAY_BACK, is_recovery_action

RECOVERABILITY = (FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, SUSPENSION_RECOVERABLE)
#: Properties of a join pair; the others are properties of one device.
PAIR_PROPERTIES = (JOIN_RECOVERABLE, UNJOIN_VALIDATED)


@dataclass(frozen=True, slots=True)
class System:
    """A closed system to explore: devices of one type, each joined to Other Devices of
    another type (none for a device explored alone)."""

    target: str
    other: str | None = None
    #: The SMETS generation of the target devices (a route may differ by generation).
    smets: int = 2

    def describe(self) -> str:
        target = self.device_subject.replace("/", " ")
        return f"{target} with {self.other}" if self.other else f"{target} alone"

    @property
    def device_subject(self) -> str:
        """The device type the device-level properties judge here (``ESME/SMETS1`` for the
        first generation's system of a type whose route differs by generation)."""
        return self.target if self.smets == 2 else f"{self.target}/SMETS{self.smets}"

    @property
    def pair_subject(self) -> str | None:
        """The pair type the join properties judge here, as ``TARGET-OTHER``."""
        return f"{self.device_subject}-{self.other}" if self.other else None


def subject_of(system: System, property_id: str) -> str | None:
    """The device type or pair type a property judges in ``system``."""
    return system.pair_subject if property_id in PAIR_PROPERTIES else system.device_subject


def default_systems(variant: Variant | None = None) -> tuple[System, ...]:
    """Every CPL-listed device type (and, under a variant, every other type with a firmware
    route) and every Type 2 type, each in one closed system.

    Derived from the data and the variant, never listed by hand: the explored types a Join
    with any Other Device applies to are Business Targets, each joined to a Type 2 type in
    turn (ESME with CAD, GSME with IHD); the others are explored alone (PPMID, HCALCS). A
    type whose route has a row of its own for SMETS1 is explored once more with SMETS1
    devices.
    """
    from model.device_types import device_types
    from model.messages import messages, srvs_doing

    types = variant.device_types if variant is not None else device_types()
    table = variant.messages if variant is not None else messages()
    routes = variant.routes if variant is not None else {}
    joins = [s for s in srvs_doing(table, "join") if table[s].other_devices == "any"]

    def applies(srv: str, device_type: str) -> bool:
        if variant is not None:
            return variant.applies(srv, device_type)[0]
        from model.catalogue import applicability

        return device_type in applicability()[srv].device_types

    def routed(t: str) -> bool:
        route = routes.get(t)
        return route is not None and (route.exists or any(r.exists for _, r in route.by_smets))

    explored = [t for t, f in types.items() if f.cpl_listed or (not f.type_2 and routed(t))]
    join_targets = {t for t in explored if any(applies(s, t) for s in joins)}
    targets = [t for t in explored if t in join_targets]
    others = [t for t, f in types.items() if f.type_2]
    systems = [System(t, others[n % len(others)]) for n, t in enumerate(targets)]
    systems += [System(t) for t in explored if t not in join_targets]
    systems += [
        System(t, smets=1)
        for t in explored
        if any(g == 1 for g, _ in getattr(routes.get(t), "by_smets", ()))
    ]
    return tuple(systems)


@dataclass(frozen=True, slots=True)
class Bounds:
    """The size of the closed system. The defaults make every expected verdict show.

    ``meters`` counts the Business Target devices (of the system's target type) and ``cads``
    the Other Devices joined to each (of its other type), whatever the types are.
    """

    meters: int = 1
    cads: int = 1
    versions: int = 2
    max_lost: int = 1
    dcc_events: bool = False

    def describe(self) -> str:
        return (
            f"{self.meters} device(s) x {self.cads} Other Device(s), {self.versions} firmware "
            f"versions, up to {self.max_lost} lost message(s)"
            + (", DCC withdrawal and recovery events" if self.dcc_events else "")
        )


DEFAULT_BOUNDS = Bounds()
DEFAULT_SYSTEM = System("ESME", "CAD")


@dataclass(frozen=True, slots=True)
class Universe:
    """The setups (one per assignment of GBCS compliance) and their starting worlds."""

    setups: tuple[Setup, ...]
    starts: tuple[tuple[int, World], ...]
    versions: tuple[str, ...]
    actions: tuple[Action, ...]


def cascades(variant: Variant, action: Action) -> bool:
    """Does ``action`` fire a status chart event the variant's ``[cascades]`` attaches a row
    to (so that it reads and writes the device's joins too)?"""
    if not variant.cascades:
        return False
    if isinstance(action, DccEvent):
        return action.event in variant.cascades
    if isinstance(action, Request):
        return SRV_STATUS_EVENTS.get(action.srv) in variant.cascades
    return False


def declared(variant: Variant, device_type: str) -> DeviceType | None:
    """The facts a variant declares for a device type the data files do not know."""
    from model.device_types import device_types

    return None if device_type in device_types() else variant.device_types.get(device_type)


def universe(bounds: Bounds, variant: Variant, system: System = DEFAULT_SYSTEM) -> Universe:
    """Devices ``esme1..`` (named after their type) start on F1 in each operational status,
    compliant or not, every version on the CPL, every device paired with every Other Device,
    nothing joined."""
    versions = tuple(f"F{n}" for n in range(1, bounds.versions + 1))
    cads_count = bounds.cads if system.other else 0
    setups = []
    starts = []
    for compliance in itertools.product((True, False), repeat=bounds.meters):
        meters = tuple(
            DeviceSpec(
                f"{system.target.lower()}{n + 1}",
                system.target,
                system.smets,
                compliant,
                declared(variant, system.target),
            )
            for n, compliant in enumerate(compliance)
        )
        cads = tuple(
            DeviceSpec(
                f"{(system.other or '').lower()}{n + 1}",
                system.other or "",
                declared=declared(variant, system.other or ""),
            )
            for n in range(cads_count)
        )
        pairs = tuple(
            PairSpec(m, bounds.meters + c) for m in range(bounds.meters) for c in range(cads_count)
        )
        setup = Setup(meters + cads, pairs)
        setups.append(setup)
        cad_state = DeviceState("commissioned", None, None, None)
        # Commissioned first: where two counterexamples are equally short, the one a
        # reviewer reads starts from a Commissioned meter.
        for statuses in itertools.product(OPERATIONAL[::-1], repeat=bounds.meters):
            meter_states = tuple(DeviceState(s, None, versions[0], versions[0]) for s in statuses)
            world = World(
                frozenset(versions),
                meter_states + (cad_state,) * cads_count,
                ("unjoined",) * len(pairs),
            )
            starts.append((len(setups) - 1, world))
    actions = alphabet(setups[0], versions, variant, bounds.dcc_events)
    return Universe(tuple(setups), tuple(starts), versions, actions)


@dataclass
class PropertyResult:
    id: str
    verdict: str
    expected: str
    why: str | None = None
    #: Indices of the states on the shortest path to the violation, and the actions taken.
    path: tuple[int, ...] = ()
    actions: tuple[int, ...] = ()
    #: The device type (or ``TARGET-OTHER`` pair type) the verdict is about.
    subject: str | None = None


@dataclass
class Exploration:
    """The reachable graph of one variant within bounds, and each property's result."""

    variant: Variant
    bounds: Bounds
    universe: Universe
    system: System
    states: int
    transitions: int
    seconds: float
    properties: list[PropertyResult] = field(default_factory=list)
    decode: Callable[[int], tuple[int, World, int]] = field(default=lambda n: _no_state(n))
    #: The index of a state (setup, world, messages lost so far), or None if unreachable.
    lookup: Callable[[int, World, int], int | None] = field(default=lambda s, w, n: None)
    #: For each recoverability property judged, 1 per state from which a way back exists.
    recoverable: dict[str, bytearray] = field(default_factory=dict)
    #: For each property, how many distinct transitions (safety) or states (recoverability)
    #: met its precondition: 0 means it passed vacuously at these bounds.
    armed: dict[str, int] = field(default_factory=dict)
    #: Rule and transition hit counts, when asked for (``explore(..., coverage=True)``).
    coverage: Coverage | None = None

    def result(self, property_id: str) -> PropertyResult:
        return next(p for p in self.properties if p.id == property_id)

    @property
    def as_expected(self) -> bool:
        return all(p.verdict == p.expected for p in self.properties)


def _no_state(n: int) -> tuple[int, World, int]:
    return (0, World(frozenset(), ()), 0)


@dataclass(frozen=True, slots=True)
class _Decoder:
    """State number -> (setup, world, lost): plain data, so an exploration can be sent from
    one process to another (the checks of several variants run on both cores)."""

    layout: _Layout
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
class _Lookup:
    """(setup, world, lost) -> the index of that state, or None if it was never reached;
    plain data, like ``_Decoder``."""

    layout: _Layout
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


class _Interner:
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


class _Layout:
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


def explore_all(
    variant: Variant,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: Iterable[str] = PROPERTY_IDS,
    systems: Iterable[System] | None = None,
    *,
    coverage: bool = False,
) -> list[Exploration]:
    """Explore each closed system (by default every device type's, ``default_systems``)."""
    wanted = tuple(properties)
    return [
        explore(variant, bounds, wanted, system=s, coverage=coverage)
        for s in (systems or default_systems(variant))
    ]


def explore(
    variant: Variant,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: Iterable[str] = PROPERTY_IDS,
    progress: Callable[[int], None] | None = None,
    system: System = DEFAULT_SYSTEM,
    *,
    coverage: bool = False,
) -> Exploration:
    """Explore every state reachable within ``bounds`` and judge ``properties``; with
    ``coverage``, also count the rules and machine transitions exercised."""
    # The search allocates millions of small lists and no reference cycles: pausing the
    # cyclic garbage collector saves it from rescanning them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _explore(variant, bounds, tuple(properties), progress, system, coverage)
    finally:
        if collecting:
            gc.enable()


def _explore(
    variant: Variant,
    bounds: Bounds,
    properties: tuple[str, ...],
    progress: Callable[[int], None] | None,
    system: System,
    coverage: bool = False,
) -> Exploration:
    started = time.perf_counter()
    progress = progress or reporter_for(f"{variant.id}, {system.describe()}")
    wanted = tuple(p for p in properties if system.other or p not in PAIR_PROPERTIES)
    world_of = universe(bounds, variant, system)
    counting = CountingMachines(compiled()) if coverage else None
    machines = counting or compiled()
    covered = Coverage() if coverage else None
    armed_counts: dict[str, int] = dict.fromkeys(wanted, 0)

    def observe(setup: Setup, before: World, action: Action, after: World, outcome: Any) -> None:
        """Note the properties this distinct transition arms, and the rules it exercises."""
        for property_id in armed_by(setup, before, action, after, outcome):
            if property_id in armed_counts:
                armed_counts[property_id] += 1
        if covered is not None and counting is not None:
            covered.record(setup, before, action, after, outcome, variant, counting.fired)
            counting.fired.clear()

    actions = world_of.actions
    first = world_of.setups[0]
    layout = _Layout(len(first.devices), len(first.pairs), bounds.versions, len(world_of.setups))
    dev_ids, cpl_ids = _Interner(), _Interner()
    join_names = list(JOIN_STATES)
    join_code = {name: n for n, name in enumerate(join_names)}
    recovery_properties = [p for p in RECOVERABILITY if p in wanted]

    def pack(setup_index: int, world: World, lost: int) -> int:
        return layout.pack(
            setup_index,
            cpl_ids(world.cpl),
            (dev_ids(d) for d in world.devices),
            (join_code[j] for j in world.joins),
            lost,
        )

    def unpack(state: int) -> tuple[int, World, int]:
        setup_index, cpl, devices, joins, lost = layout.unpack(state)
        world = World(
            cpl_ids.values[cpl],
            tuple(dev_ids.values[d] for d in devices),
            tuple(join_names[j] for j in joins),
        )
        return setup_index, world, lost

    # Action groups: each reads and writes only its part of the state, so its successors
    # are memoised on ``state & mask`` and applied as a constant difference.
    setup_mask = layout.setup_mask
    groups: list[tuple[int, list[int]]] = []
    cpl_actions = [a for a, act in enumerate(actions) if isinstance(act, CplChange)]
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
    memos: list[dict[int, Any]] = [{} for _ in groups]

    def compute(group: int, state: int) -> tuple[int, int, list[Any], list[Any], list[Any]]:
        """Every action of a group from ``state``: how many are enabled without and with a
        lost response; the distinct successors of each kind as (difference, recovery flags,
        first action); and the transitions that break a property, kept apart."""
        setup_index, before, _ = unpack(state)
        setup = world_of.setups[setup_index]
        packed_before = pack(setup_index, before, 0)
        plain = lossy = 0
        merged: dict[tuple[int, int], list[Any]] = {}
        violating: list[tuple[int, int, int, int, Any]] = []
        for a in groups[group][1]:
            action = actions[a]
            try:
                after, outcome = step(setup, before, action, variant, machines)
            except StepNotAllowed:
                if counting is not None:
                    counting.fired.clear()
                continue
            observe(setup, before, action, after, outcome)
            lose = int(isinstance(action, Request) and action.faulty)
            plain, lossy = plain + (1 - lose), lossy + lose
            delta = pack(setup_index, after, 0) - packed_before
            flags = sum(
                1 << n
                for n, p in enumerate(recovery_properties)
                if is_recovery_action(p, action, before)
            )
            found = tuple(
                (v.property, v.why)
                for v in safety.violations(setup, variant, before, action, after, outcome)
                if v.property in wanted
            )
            if found:
                violating.append((delta, lose, flags, a, found))
            elif delta or lose:
                entry = merged.setdefault((delta, lose), [delta, lose, 0, a, ()])
                entry[2] |= flags
        steady = [(d, f, a) for d, lose, f, a, _ in merged.values() if not lose]
        lossy_successors = [
            (d + layout.lost_one, f, a) for d, lose, f, a, _ in merged.values() if lose
        ]
        return plain, lossy, steady, lossy_successors, violating

    # CPL changes act on every device, but on each independently (model.dcc_events.cpl_change):
    # memoise the CPL's own change on the CPL, and each device's on (setup, CPL, device),
    # both through the one DSP on a world of that device alone.
    cpl_flags = [
        sum(1 << n for n, p in enumerate(recovery_properties) if is_recovery_action(p, actions[a]))
        for a in cpl_actions
    ]
    cpl_memo: dict[int, tuple[int, ...]] = {}
    cpl_device_memos: list[dict[int, tuple[tuple[int, Any], ...]]] = [{} for _ in first.devices]
    no_devices = Setup(())

    def cpl_deltas(state: int) -> tuple[int, ...]:
        cpl = (state & layout.cpl_mask) >> layout.cpl_shift
        before = World(cpl_ids.values[cpl], ())
        return tuple(
            (cpl_ids(step(no_devices, before, actions[a], variant, machines)[0].cpl) - cpl)
            << layout.cpl_shift
            for a in cpl_actions
        )

    def cpl_device_deltas(d: int, state: int) -> tuple[tuple[int, Any], ...]:
        setup_index, cpl, devices, _, _ = layout.unpack(state)
        setup = Setup((world_of.setups[setup_index].devices[d],))
        before = World(cpl_ids.values[cpl], (dev_ids.values[devices[d]],))
        results = []
        for a in cpl_actions:
            after, outcome = step(setup, before, actions[a], variant, machines)
            observe(setup, before, actions[a], after, outcome)
            found = tuple(
                (v.property, v.why)
                for v in safety.violations(setup, variant, before, actions[a], after, outcome)
                if v.property in wanted
            )
            delta = (dev_ids(after.devices[0]) - devices[d]) << layout.device_shift[d]
            results.append((delta, found))
        return tuple(results)

    cpl_device_masks = [setup_mask | layout.cpl_mask | m for m in layout.device_mask]
    device_range = range(len(first.devices))

    # Breadth-first search over packed states. ``reverse[t]`` lists the ways into state t
    # that may be part of a way back, each as ``source * 8 + flags`` (one bit a property).
    index_of: dict[int, int] = {}
    keys: list[int] = []
    parent: list[int] = []
    via: list[int] = []
    reverse: list[list[int]] = []
    first_violation: dict[str, tuple[int, int, str]] = {}
    index_get, keys_append = index_of.get, keys.append
    parent_append, via_append, reverse_append = parent.append, via.append, reverse.append

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

    def note(found: Any, index: int, a: int) -> None:
        for property_id, why in found:
            if property_id not in first_violation:
                first_violation[property_id] = (index, a, why)

    for setup_index, world in world_of.starts:
        state = pack(setup_index, world, 0)
        if state not in index_of:
            visit(state, -1, -1, 0)
    transitions = 0
    lost_shift, lost_one, max_lost = layout.lost_shift, layout.lost_one, bounds.max_lost
    group_memos = [
        (mask, memo, g) for g, ((mask, _), memo) in enumerate(zip(groups, memos, strict=True))
    ]
    cpl_mask = layout.cpl_mask
    cpl_groups = list(zip(cpl_device_masks, cpl_device_memos, device_range, strict=True))
    index = 0
    while index < len(keys):
        state = keys[index]
        lost_ok = (state >> lost_shift) < max_lost
        if cpl_actions:
            deltas = cpl_memo.get(state & cpl_mask)
            if deltas is None:
                deltas = cpl_memo[state & cpl_mask] = cpl_deltas(state)
            per_device = []
            for device_mask, device_memo, d in cpl_groups:
                device_results = device_memo.get(state & device_mask)
                if device_results is None:
                    device_results = device_memo[state & device_mask] = cpl_device_deltas(d, state)
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
                successors = steady + lossy_successors if lossy_successors else steady
            else:
                transitions += plain
                successors = steady
            for delta, flags, a in successors:
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

    exploration = Exploration(variant, bounds, world_of, system, len(keys), transitions, 0.0)
    exploration.decode = _Decoder(layout, keys, dev_ids.values, cpl_ids.values, join_names)
    exploration.coverage = covered
    exploration.lookup = _Lookup(layout, index_of, dev_ids.ids, cpl_ids.ids, join_code)

    def path_to(index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        states, taken = [index], []
        while parent[states[-1]] != -1:
            taken.append(via[states[-1]])
            states.append(parent[states[-1]])
        return tuple(reversed(states)), tuple(reversed(taken))

    # The catalogue sweep: the E5 decision of every SRV, Command Variant and SMETS version
    # for a Suspended device, judged by suspended-gate (requests with no state effect).
    if "suspended-gate" in wanted and "suspended-gate" not in first_violation:
        armed_counts["suspended-gate"] += _sweep_suspended_gate(
            variant, keys, lambda k: unpack(k)[1], first_violation, system.target
        )

    for property_id in wanted:
        subject = subject_of(system, property_id)
        expected = variant.expected(property_id, subject)
        if property_id in recovery_properties:
            # A good state is one whose every device (firmware) or pair (joins) is good:
            # the local predicates are cached per field, so each is judged once.
            can_recover = bytearray(len(keys))
            stack = []
            local_cache: dict[tuple[int, int, int], bool] = {}
            device_good = DEVICE_GOOD.get(property_id)
            for n, state in enumerate(keys):
                verdict = True
                if device_good is not None:
                    cpl = (state & layout.cpl_mask) >> layout.cpl_shift
                    for d, spec in enumerate(first.devices):
                        dev = (state & layout.device_mask[d]) >> layout.device_shift[d]
                        ok = local_cache.get((d, dev, cpl))
                        if ok is None:
                            s_ = dev_ids.values[dev]
                            ok = local_cache[(d, dev, cpl)] = device_good(
                                spec.cpl_listed,
                                s_.status,
                                s_.smi_firmware,
                                s_.firmware,
                                cpl_ids.values[cpl],
                            )
                        if not ok:
                            verdict = False
                            break
                else:
                    for p, pair in enumerate(first.pairs):
                        join = (state & layout.join_mask[p]) >> layout.join_shift[p]
                        t = pair.target
                        dev = (state & layout.device_mask[t]) >> layout.device_shift[t]
                        ok = local_cache.get((p, join, dev))
                        if ok is None:
                            ok = local_cache[(p, join, dev)] = join_good_pair(
                                join_names[join], dev_ids.values[dev].status
                            )
                        if not ok:
                            verdict = False
                            break
                if verdict:
                    can_recover[n] = 1
                    stack.append(n)
            armed_counts[property_id] = len(keys) - len(stack)
            bit = 1 << recovery_properties.index(property_id)
            while stack:
                n = stack.pop()
                for code in reverse[n]:
                    m = code >> 3
                    if code & bit and not can_recover[m]:
                        can_recover[m] = 1
                        stack.append(m)
            exploration.recoverable[property_id] = can_recover
            stuck = can_recover.find(0)
            if stuck < 0:
                exploration.properties.append(
                    PropertyResult(property_id, "holds", expected, subject=subject)
                )
            else:
                states, taken = path_to(stuck)
                exploration.properties.append(
                    PropertyResult(
                        property_id,
                        "violated",
                        expected,
                        why_stuck(property_id),
                        states,
                        taken,
                        subject,
                    )
                )
        elif property_id in first_violation:
            index, a, why = first_violation[property_id]
            states, taken = path_to(index)
            exploration.properties.append(
                PropertyResult(property_id, "violated", expected, why, states, (*taken, a), subject)
            )
        else:
            exploration.properties.append(
                PropertyResult(property_id, "holds", expected, subject=subject)
            )
    exploration.armed = armed_counts
    exploration.seconds = time.perf_counter() - started
    return exploration


#: What a good state is, per recoverability property, for the reader.
_GOOD_STATE = {
    SUSPENSION_RECOVERABLE: "no device is Suspended while the firmware it runs is on the CPL",
    FIRMWARE_RECOVERABLE: "every device's SMI firmware equals what it runs and it is Suspended "
    "exactly when that version is off the CPL",
    JOIN_RECOVERABLE: "the SMI and the device agree on every join",
}


def why_stuck(property_id: str) -> str:
    """Why a state has no way back, read from ``properties.ways_back.WAY_BACK``."""
    return (
        f"no way back: from here no state is reachable in which {_GOOD_STATE[property_id]}, "
        f"where a way back {WAY_BACK[property_id].describe()}"
    )


def _sweep_suspended_gate(
    variant: Variant,
    keys: list[int],
    to_world: Callable[[int], World],
    first_violation: dict[str, tuple[int, int, str]],
    device_type: str,
) -> int:
    """Judge check E5's decision for every SRV, Command Variant and SMETS version, once a
    Suspended device is reachable; returns how many accepted requests were judged."""
    from model.catalogue import catalogue
    from model.dsp import check_e5

    suspended_at = next(
        (
            n
            for n, key in enumerate(keys)
            if any(d.status == "suspended" for d in to_world(key).devices)
        ),
        None,
    )
    if suspended_at is None:
        return 0
    judged = 0
    for srv in (*catalogue(), *variant.requests):
        for command_variant in range(1, 9):
            for smets in (1, 2):
                decision = check_e5(variant, srv, "suspended", command_variant, smets)
                judged += decision.accepted
                spec = DeviceSpec("device", device_type, smets)
                state = DeviceState("suspended", "commissioned", None, None)
                found = safety.suspended_gate(
                    variant,
                    spec,
                    state,
                    Request(srv, 0, command_variant=command_variant),
                    decision.accepted,
                )
                if found:
                    first_violation["suspended-gate"] = (suspended_at, -1, found.why)
                    return judged
    return judged
