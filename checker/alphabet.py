"""The closed system's actions: what Service Users, the DCC and the network can do.

One alphabet serves the explorer, the Hypothesis state machine and the recovery searches.
The firmware requests follow each device type's route in the variant (``[firmware.routes]``)
and the requests that apply to it (``[applicability]``): a type with no route over the DCC
gets no firmware request, and a firmware read is sent only where it applies. Which requests
join, unjoin, read a device log or read firmware is the rulebook's message declarations
(``model/data/messages.json``, a variant's ``[messages]``): a join request declared
``other_devices = "type-1"`` is never sent with a Type 2 Other Device. A CPL removal is sent
once plain and once for each removal reason the variant declares (``[cpl.reasons]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from model.catalogue import lookup
from model.device_types import type_2_types
from model.dsp import SRV_STATUS_EVENTS
from model.messages import Message, messages, srvs_doing
from model.status_chart import external_events, status_events
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, DeviceSpec, ManualFix, Request, Setup

#: Life-cycle Service Requests the closed system sends: every request the status chart names
#: as a trigger, in the chart's event order (their status effects: the chart).
LIFE_CYCLE_SRVS = tuple(
    srv for event in status_events() for srv, e in SRV_STATUS_EVENTS.items() if e == event
)


def join_srvs(
    other_type: str, table: Mapping[str, Message] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Join SRVs, Unjoin SRVs) for a pair whose Other Device has this type: every request
    declared to join (unjoin), less those declared for Type 1 Other Devices only when the
    Other Device is a Type 2 Device."""
    table = messages() if table is None else table
    type_2 = other_type in type_2_types()

    def usable(what: str) -> tuple[str, ...]:
        return tuple(
            srv
            for srv in srvs_doing(table, what)
            if not (type_2 and table[srv].other_devices == "type-1")
        )

    return usable("join"), usable("unjoin")


def with_faults(request: Request, alert: bool = False) -> list[Request]:
    """A request, and the same request with each message from the device lost."""
    variants = [request]
    if not lookup(request.srv).non_device:
        variants.append(_copy(request, lose_response=True))
    if alert:
        variants.append(_copy(request, lose_alert=True))
    return variants


def _copy(request: Request, lose_response: bool = False, lose_alert: bool = False) -> Request:
    return replace(request, lose_response=lose_response, lose_alert=lose_alert)


def firmware_requests(
    index: int, spec: DeviceSpec, versions: tuple[str, ...], variant: Variant
) -> list[Action]:
    """The firmware requests a device receives: its type's route, and SR11.2 where it
    applies."""
    actions: list[Action] = []
    route = variant.route(spec.type, spec.smets)
    if route is not None and route.exists and route.deliver and route.activate:
        alert = route.alert is not None
        if route.deliver == route.activate:
            for version in versions:
                actions += with_faults(Request(route.activate, index, image=version), alert)
        else:
            actions += [Request(route.deliver, index, image=v) for v in versions]
            actions += with_faults(Request(route.activate, index), alert)
    for srv in srvs_doing(variant.messages, "read-firmware"):
        if variant.applies(srv, spec.type)[0]:
            actions += with_faults(Request(srv, index))
    return actions


def alphabet(
    setup: Setup, versions: tuple[str, ...], variant: Variant, dcc_events: bool = True
) -> tuple[Action, ...]:
    """Every action of the closed system over ``setup`` and firmware ``versions``."""
    actions: list[Action] = []
    for version in versions:
        actions += [CplChange(version, listed=False), CplChange(version, listed=True)]
        actions += [CplChange(version, False, reason.reason) for reason in variant.cpl.reasons]
    for index, spec in enumerate(setup.devices):
        if spec.facts.type_2:
            continue
        actions += firmware_requests(index, spec, versions, variant)
        for srv in LIFE_CYCLE_SRVS:
            actions += with_faults(Request(srv, index))
        actions += [DccEvent(event, index) for event in variant.events]
        if dcc_events:
            actions += [DccEvent(event, index) for event in external_events()]
    targets = []
    for number, pair in enumerate(setup.pairs):
        joins, unjoins = join_srvs(setup.devices[pair.other].type, variant.messages)
        for srv in joins + unjoins:
            actions += with_faults(Request(srv, pair.target, pair.other))
        actions.append(ManualFix(number))
        if pair.target not in targets:
            targets.append(pair.target)
    for target in targets:
        for srv in srvs_doing(variant.messages, "read-device-log"):
            actions += with_faults(Request(srv, target))
    return tuple(actions)
