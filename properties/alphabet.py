"""The closed system's actions: what Service Users, the DCC and the network can do.

One alphabet serves the explorer, the Hypothesis state machine and the recovery searches.
Which SRVs a join pair uses follows the GBCS use cases (duis): a CAD joins by Method B only
(CS03B, SR8.7.2; CS04B, SR8.8.2); other devices by either the Critical or Non-Critical SRV.
"""

from __future__ import annotations

from model.dsp import ACTIVATE_FIRMWARE, READ_DEVICE_LOG, READ_FIRMWARE, UPDATE_FIRMWARE
from model.status_chart import external_events
from model.world import (
    READS_FIRMWARE_VERSION,
    Action,
    CplChange,
    DccEvent,
    ManualFix,
    Request,
    Setup,
)

#: Life-cycle Service Requests the closed system sends (their status effects: the chart).
LIFE_CYCLE_SRVS = ("8.11", "8.1.1", "8.3")


def join_srvs(other_type: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Join SRVs, Unjoin SRVs) for a pair whose Other Device has this type (duis)."""
    if other_type == "CAD":
        return ("8.7.2",), ("8.8.2",)
    return ("8.7.1", "8.7.2"), ("8.8.1", "8.8.2")


def alphabet(
    setup: Setup, versions: tuple[str, ...], dcc_events: bool = True
) -> tuple[Action, ...]:
    """Every action of the closed system over ``setup`` and firmware ``versions``."""
    actions: list[Action] = []
    for version in versions:
        actions += [CplChange(version, listed=False), CplChange(version, listed=True)]
    for index, spec in enumerate(setup.devices):
        if not spec.cpl_listed:
            continue
        actions += [Request(UPDATE_FIRMWARE, index, image=v) for v in versions]
        srvs = [ACTIVATE_FIRMWARE, "8.11", "8.1.1"]
        if spec.type in READS_FIRMWARE_VERSION:
            srvs.append(READ_FIRMWARE)
        for srv in srvs:
            actions += [Request(srv, index), Request(srv, index, lose_response=True)]
        actions.append(Request("8.3", index))
        if dcc_events:
            actions += [DccEvent(event, index) for event in external_events()]
    targets = []
    for number, pair in enumerate(setup.pairs):
        joins, unjoins = join_srvs(setup.devices[pair.other].type)
        for srv in joins + unjoins:
            actions += [
                Request(srv, pair.target, pair.other),
                Request(srv, pair.target, pair.other, lose_response=True),
            ]
        actions.append(ManualFix(number))
        if pair.target not in targets:
            targets.append(pair.target)
    for target in targets:
        actions += [
            Request(READ_DEVICE_LOG, target),
            Request(READ_DEVICE_LOG, target, lose_response=True),
        ]
    return tuple(actions)
