"""The recoverability properties (AG EF): from every reachable state a good state stays
reachable over the property's way back (``properties.ways_back.WAY_BACK``).

"Stuck" is not a state property (docs/domain.md): Suspended with an approved version on the
device is reachable under MP105 too. What MP105 and MP178 change is whether a way back
exists, so these are checked by reachability, not as invariants.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from model.dsp import StepNotAllowed, step
from model.join_machine import IN_SYNC
from model.machines import LIVE, Machines
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, SUSPENSION_RECOVERABLE
from model.status_chart import OPERATIONAL, SUSPENDED, TERMINAL
from model.variant import Variant
from model.world import Action, Setup, World
from properties.ways_back import is_recovery_action


def firmware_good_device(
    cpl_listed: bool, status: str, smi: str | None, firmware: str | None, cpl: frozenset[str]
) -> bool:
    """One device agrees: its SMI firmware equals what it runs, and it is Suspended exactly
    when that version is off the CPL. Devices out of service are not judged."""
    if not cpl_listed or (status not in OPERATIONAL and status != SUSPENDED):
        return True
    return smi == firmware and (status == SUSPENDED) == (smi not in cpl)


def suspension_good_device(
    cpl_listed: bool, status: str, smi: str | None, firmware: str | None, cpl: frozenset[str]
) -> bool:
    """One device is not stranded: it is not Suspended while the firmware it runs is on the
    CPL (DP105: devices "remain in the Suspended state" although they run an approved
    version). The SMI's own view of the version is not judged here: that is
    firmware-recoverable's question."""
    return not (cpl_listed and status == SUSPENDED and firmware in cpl)


#: The local good-state predicate of each device-level recoverability property.
DEVICE_GOOD: dict[str, Callable[[bool, str, str | None, str | None, frozenset[str]], bool]] = {}


def suspension_good(setup: Setup, world: World) -> bool:
    """The good states of suspension-recoverable."""
    return all(
        suspension_good_device(spec.cpl_listed, d.status, d.smi_firmware, d.firmware, world.cpl)
        for spec, d in zip(setup.devices, world.devices, strict=True)
    )


def firmware_good(setup: Setup, world: World) -> bool:
    """The good states of firmware-recoverable."""
    return all(
        firmware_good_device(spec.cpl_listed, d.status, d.smi_firmware, d.firmware, world.cpl)
        for spec, d in zip(setup.devices, world.devices, strict=True)
    )


def join_good_pair(pair_state: str, target_status: str) -> bool:
    """One pair agrees: the SMI and the device hold the same view of the join. A pair whose
    Business Target is out of service is not judged (assumption, as for firmware: a
    decommissioned or withdrawn device accepts no request at all)."""
    return pair_state in IN_SYNC or target_status in TERMINAL


def join_good(setup: Setup, world: World) -> bool:
    """The good states of join-recoverable: the SMI and the device agree on every join."""
    return all(
        join_good_pair(state, world.devices[pair.target].status)
        for pair, state in zip(setup.pairs, world.joins, strict=True)
    )


GOOD: dict[str, Callable[[Setup, World], bool]] = {
    FIRMWARE_RECOVERABLE: firmware_good,
    JOIN_RECOVERABLE: join_good,
    SUSPENSION_RECOVERABLE: suspension_good,
}
DEVICE_GOOD.update(
    {FIRMWARE_RECOVERABLE: firmware_good_device, SUSPENSION_RECOVERABLE: suspension_good_device}
)


def recoverable(
    setup: Setup,
    world: World,
    variant: Variant,
    property_id: str,
    actions: Callable[[Setup, World], Iterable[Action]],
    machines: Machines = LIVE,
    limit: int = 20_000,
) -> bool | None:
    """Is a good state reachable from ``world`` over recovery actions? None if the search
    visited ``limit`` states without deciding (a bounded search, for fuzzing and replay)."""
    good = GOOD[property_id]
    seen = {world}
    queue = deque([world])
    while queue:
        current = queue.popleft()
        if good(setup, current):
            return True
        for action in actions(setup, current):
            if not is_recovery_action(property_id, action, current):
                continue
            try:
                successor, _ = step(setup, current, action, variant, machines)
            except StepNotAllowed:
                continue
            if successor not in seen:
                if len(seen) >= limit:
                    return None
                seen.add(successor)
                queue.append(successor)
    return False
