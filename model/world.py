"""The closed system's state and actions, as immutable, hashable values.

The same values serve the scenario runner, the Hypothesis state machine and the exhaustive
explorer: a :class:`World` is the CPL, the SMI's and the devices' view of every device, and
every join pair; an action is a Service Request, a CPL change, a DCC event or a manual fix.
Static facts (device type, SMETS version, GBCS compliance) live apart, in a :class:`Setup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from model.device_types import DeviceType, device_types
from model.errors import ScenarioError

#: Every device type, in the order of ``model/data/device_types.json``.
DEVICE_TYPES: Final = tuple(device_types())


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """What does not change about a device: its id, type, SMETS version and GBCS compliance."""

    id: str
    type: str
    smets: int = 2
    compliant: bool = True
    #: The facts of a device type a variant declares (``[device_types.NAME]``); None: the
    #: type's row of ``model/data/device_types.json``.
    declared: DeviceType | None = None

    @property
    def facts(self) -> DeviceType:
        return self.declared or device_types()[self.type]

    @property
    def cpl_listed(self) -> bool:
        """On the CPL, so a CPL removal can suspend it (``model/data/device_types.json``)."""
        return self.facts.cpl_listed


@dataclass(frozen=True, slots=True)
class DeviceState:
    """One device as the SMI and the device itself hold it.

    ``status`` and ``prior`` are the SMI status machine's state (``prior`` is the status held
    before suspension, set only while Suspended); ``smi_firmware`` is the SMI's firmware
    version; ``firmware`` the version the device runs; ``image`` a delivered image not yet
    activated.
    """

    status: str
    prior: str | None
    smi_firmware: str | None
    firmware: str | None
    image: str | None = None
    #: The Service User responsible for the device (its supplier, a scenario's
    #: ``supplier``): a change of supplier moves it; the ``responsible-supplier`` check
    #: reads it. None: nobody named (the explorer's devices).
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class PairSpec:
    """A (Business Target device, Other Device) pair, by index into the setup's devices."""

    target: int
    other: int


@dataclass(frozen=True, slots=True)
class Setup:
    """The devices and the join pairs of a closed system."""

    devices: tuple[DeviceSpec, ...]
    pairs: tuple[PairSpec, ...] = ()

    def index(self, device_id: str) -> int:
        for number, device in enumerate(self.devices):
            if device.id == device_id:
                return number
        raise ScenarioError(f"unknown device {device_id!r}")

    def pair_index(self, target: int, other: int) -> int:
        for number, pair in enumerate(self.pairs):
            if pair.target == target and pair.other == other:
                return number
        raise ScenarioError(
            f"no join pair {self.devices[target].id} -> {self.devices[other].id} in this setup"
        )

    def pairs_of(self, target: int) -> tuple[int, ...]:
        return tuple(n for n, p in enumerate(self.pairs) if p.target == target)


@dataclass(frozen=True, slots=True)
class World:
    """The closed system's state: the CPL, every device, every join pair's machine state."""

    cpl: frozenset[str]
    devices: tuple[DeviceState, ...]
    joins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Request:
    """A Service Request from a Service User, with the fault that may befall its response."""

    srv: str
    target: int
    other: int | None = None
    image: str | None = None
    command_variant: int = 1
    lose_response: bool = False
    #: The device alert that reports this request's effect (a firmware activation alert,
    #: where the device type's route says so) is lost on its way to the DSP.
    lose_alert: bool = False
    #: The sender's Service User role (a catalogue role code such as ``IS``); None: an
    #: eligible sender, whoever it is.
    role: str | None = None
    #: Further devices the same request names (a message declared ``multi_device``), each
    #: answered on its own.
    also: tuple[int, ...] = ()
    #: The Service User sending it (compared with the device's responsible supplier by the
    #: ``responsible-supplier`` check); None: nobody named.
    sender: str | None = None

    @property
    def faulty(self) -> bool:
        """A message from the device is lost: one fault of the network."""
        return self.lose_response or self.lose_alert


@dataclass(frozen=True, slots=True)
class CplChange:
    """A DCC event on the Central Products List: a firmware version added or removed."""

    version: str
    listed: bool
    #: Why a version is removed (a variant's ``[cpl.reasons]`` row); None: a removal as
    #: ``[cpl] removal_suspends`` says.
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DccEvent:
    """A status event that is not a Service Request (HAN join, withdrawal, recovery)."""

    event: str
    target: int
    #: A change of supplier's incoming supplier (None: the explorer's event, which names
    #: nobody and moves no supplier).
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class ManualFix:
    """A manual SMI correction by the DCC for one join pair (about £2,000, seed:MP178)."""

    pair: int


Action = Request | CplChange | DccEvent | ManualFix

#: What a manual SMI correction costs the DCC, on average (seed:MP178).
MANUAL_FIX_COST_GBP: Final = 2000
