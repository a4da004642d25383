"""The closed systems the explorer and the fuzzer drive, their bounds, and their universe:
the setups (which devices are GBCS-compliant), the starting worlds and the actions.

A closed system is the DSP, the SMI, devices of one type joined to Other Devices of
another (or alone), the CPL with its DCC events, and the network, which may lose up to
``max_lost`` responses (``Bounds``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from checker.alphabet import alphabet
from model.device_types import DeviceType
from model.dsp import SRV_STATUS_EVENTS
from model.property_ids import (
    FIRMWARE_RECOVERABLE,
    JOIN_RECOVERABLE,
    SUSPENSION_RECOVERABLE,
    UNJOIN_VALIDATED,
)
from model.status_chart import OPERATIONAL
from model.variant import Variant
from model.world import (
    Action,
    DccEvent,
    DeviceSpec,
    DeviceState,
    PairSpec,
    Request,
    Setup,
    World,
)

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
