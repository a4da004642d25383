"""When each property is armed: its precondition reached at the bounds used.

A safety property that was never armed passed vacuously (no Suspended device ever got a
request, no device ever left Suspended, no Unjoin was ever forwarded); a recoverability
property is armed by a state that is not good (something to recover from). ``smi-spec
check`` reports the counts, so a vacuous pass shows as such.
"""

from __future__ import annotations

from collections.abc import Iterator

from model.dsp import UNJOIN_SRVS, Outcome
from model.property_ids import (
    NO_FALSE_RESTORE,
    PRIOR_STATUS_RESTORED,
    SUSPENDED_GATE,
    UNJOIN_VALIDATED,
)
from model.status_chart import SUSPENDED
from model.world import Action, Request, Setup, World
from properties.safety import device_dropped_join, leaves_suspended

#: What arms each safety property, for reports.
PRECONDITIONS = {
    SUSPENDED_GATE: "the DSP accepted a request for a Suspended device",
    PRIOR_STATUS_RESTORED: "a device left Suspended (not by decommissioning or withdrawal)",
    NO_FALSE_RESTORE: "a device left Suspended (not by decommissioning or withdrawal)",
    UNJOIN_VALIDATED: "a device removed a join on an Unjoin the DSP forwarded",
}
RECOVERABILITY_PRECONDITION = "a reachable state that is not good (something to recover from)"


def armed_by(
    setup: Setup, before: World, action: Action, after: World, outcome: Outcome
) -> Iterator[str]:
    """The safety properties whose precondition this transition meets."""
    if isinstance(action, Request):
        target = before.devices[action.target]
        if outcome.accepted and target.status == SUSPENDED:
            yield SUSPENDED_GATE
        if (
            action.srv in UNJOIN_SRVS
            and outcome.forwarded
            and _join_removed(action, before, after, setup)
        ):
            yield UNJOIN_VALIDATED
    if any(
        b is not a and leaves_suspended(b, a)
        for b, a in zip(before.devices, after.devices, strict=True)
    ):
        yield PRIOR_STATUS_RESTORED
        yield NO_FALSE_RESTORE


def _join_removed(action: Request, before: World, after: World, setup: Setup) -> bool:
    """The Unjoin's pair was held by the device before and is not after."""
    if action.other is None:
        return False
    pair = setup.pair_index(action.target, action.other)
    return device_dropped_join(before.joins[pair], after.joins[pair])


def precondition(property_id: str) -> str:
    return PRECONDITIONS.get(property_id, RECOVERABILITY_PRECONDITION)
