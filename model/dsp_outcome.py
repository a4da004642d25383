"""What one step of the DSP returns (:class:`Outcome`, or :class:`StepNotAllowed`), the
requests other modules name by what they do, and the two updates a step makes to the world.

The names are read from ``model/data/messages.json`` and the status chart's own provenance,
never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from model.errors import ScenarioError
from model.messages import messages, srvs_doing
from model.provenance import Rule
from model.rule_tables import UpdateRule
from model.status_chart import describe_transitions
from model.world import DeviceState, World

#: The requests ``model/data/messages.json`` declares, by what they do: names for other
#: modules. The DSP itself reads a request's declaration from its variant's rulebook.
JOIN_SRVS: Final = frozenset(srvs_doing(messages(), "join"))
UNJOIN_SRVS: Final = frozenset(srvs_doing(messages(), "unjoin"))
READ_DEVICE_LOG: Final = srvs_doing(messages(), "read-device-log")[0]
READ_FIRMWARE: Final = srvs_doing(messages(), "read-firmware")[0]
#: The standard firmware route's requests, for replay's names (the DSP reads routes).
UPDATE_FIRMWARE: Final = srvs_doing(messages(), "deliver-firmware")[0]
ACTIVATE_FIRMWARE: Final = srvs_doing(messages(), "activate-firmware")[0]

#: Status chart events a successful Service Request triggers, read from the chart's own
#: provenance (its ``trigger`` names the SRV), never typed twice.
SRV_STATUS_EVENTS: Final = {
    row["trigger"].removeprefix("SR"): row["event"]
    for row in describe_transitions()
    if row["trigger"].startswith("SR")
}


class StepNotAllowed(ScenarioError):
    """A step the model does not allow (the message says why)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one action did, for reports, traces and properties.

    ``alerts`` are the DCC alerts the DSP sent to Service Users in this step (DeviceSuspended,
    DeviceRestored, FirmwareVersionMismatch), each with the device it concerns, and the
    device alerts that reached the DSP or were lost.
    """

    accepted: bool | None
    response_code: str | None
    rule: Rule | None
    forwarded: bool = False
    effects: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    #: The ``update_smi_on`` rule that updated the SMI firmware version in this step.
    smi_update: UpdateRule | None = None
    #: The access rules the request passed before ``rule`` decided it (check E5's row
    #: for an Unjoin the join validation then decided).
    passed: tuple[Rule, ...] = ()
    #: For a request naming several devices: each device's id and its answer (``accepted``,
    #: or the DUIS warning list it is refused under).
    per_device: tuple[tuple[str, str], ...] = ()


def with_device(world: World, index: int, state: DeviceState) -> World:
    """The world with device ``index`` in ``state``."""
    devices = list(world.devices)
    devices[index] = state
    return World(world.cpl, tuple(devices), world.joins)  # replace(), without its cost


def with_pair(world: World, index: int, pair: str) -> World:
    """The world with join pair ``index`` in state ``pair``."""
    joins = list(world.joins)
    joins[index] = pair
    return World(world.cpl, world.devices, tuple(joins))  # replace(), without its cost
