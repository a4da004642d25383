"""The closed system's actions: what Service Users, the DCC and the network can do.

One alphabet serves the explorer, the Hypothesis state machine and the recovery searches.
The firmware requests follow each device type's route in the variant (``[firmware.routes]``)
and the requests that apply to it (``[applicability]``): a type with no route over the DCC
gets no firmware request, and SR11.2 is sent only where it applies. Which SRVs a join pair
uses follows the GBCS use cases (duis): a CAD joins by Method B only (CS03B, SR8.7.2; CS04B,
SR8.8.2); other devices by either the Critical or Non-Critical SRV.
"""

from __future__ import annotations

from model.catalogue import lookup
from model.device_types import type_2_types
from model.dsp import READ_DEVICE_LOG, READ_FIRMWARE
from model.status_chart import external_events
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, DeviceSpec, ManualFix, Request, Setup

#: Life-cycle Service Requests the closed system sends (their status effects: the chart).
LIFE_CYCLE_SRVS = ("8.11", "8.1.1", "8.3")


def join_srvs(other_type: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Join SRVs, Unjoin SRVs) for a pair whose Other Device has this type (duis: a Type 2
    Device joins by Method B, CS03B/CS04B, the Non-Critical SRVs only)."""
    if other_type in type_2_types():
        return ("8.7.2",), ("8.8.2",)
    return ("8.7.1", "8.7.2"), ("8.8.1", "8.8.2")


def with_faults(request: Request, alert: bool = False) -> list[Request]:
    """A request, and the same request with each message from the device lost."""
    variants = [request]
    if not lookup(request.srv).non_device:
        variants.append(_copy(request, lose_response=True))
    if alert:
        variants.append(_copy(request, lose_alert=True))
    return variants


def _copy(request: Request, **faults: bool) -> Request:
    return Request(
        request.srv,
        request.target,
        request.other,
        request.image,
        request.command_variant,
        **faults,
    )


def firmware_requests(
    index: int, spec: DeviceSpec, versions: tuple[str, ...], variant: Variant
) -> list[Action]:
    """The firmware requests a device receives: its type's route, and SR11.2 where it
    applies."""
    actions: list[Action] = []
    route = variant.route(spec.type)
    if route is not None and route.exists and route.deliver and route.activate:
        alert = route.alert is not None
        if route.deliver == route.activate:
            for version in versions:
                actions += with_faults(Request(route.activate, index, image=version), alert)
        else:
            actions += [Request(route.deliver, index, image=v) for v in versions]
            actions += with_faults(Request(route.activate, index), alert)
    if variant.applies(READ_FIRMWARE, spec.type)[0]:
        actions += with_faults(Request(READ_FIRMWARE, index))
    return actions


def alphabet(
    setup: Setup, versions: tuple[str, ...], variant: Variant, dcc_events: bool = True
) -> tuple[Action, ...]:
    """Every action of the closed system over ``setup`` and firmware ``versions``."""
    actions: list[Action] = []
    for version in versions:
        actions += [CplChange(version, listed=False), CplChange(version, listed=True)]
    for index, spec in enumerate(setup.devices):
        if not spec.cpl_listed:
            continue
        actions += firmware_requests(index, spec, versions, variant)
        for srv in LIFE_CYCLE_SRVS:
            actions += with_faults(Request(srv, index))
        if dcc_events:
            actions += [DccEvent(event, index) for event in external_events()]
    targets = []
    for number, pair in enumerate(setup.pairs):
        joins, unjoins = join_srvs(setup.devices[pair.other].type)
        for srv in joins + unjoins:
            actions += with_faults(Request(srv, pair.target, pair.other))
        actions.append(ManualFix(number))
        if pair.target not in targets:
            targets.append(pair.target)
    for target in targets:
        actions += with_faults(Request(READ_DEVICE_LOG, target))
    return tuple(actions)
