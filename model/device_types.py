"""Device types: which are on the Central Products List and which are Type 2 Devices.

Loaded once from ``model/data/device_types.json``; every row carries its source. A CPL-listed
type can be suspended (seed:MP105: ESME, GSME, PPMID, HCALCS); for a Type 2 Device (IHD, CAD)
the SMI keeps no status and no firmware version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from model.data_files import read_data


@dataclass(frozen=True, slots=True)
class DeviceType:
    """One device type's facts, with their source."""

    type: str
    cpl_listed: bool
    type_2: bool
    source: str
    why: str

    @property
    def smi_firmware(self) -> bool:
        """The SMI keeps a status and a firmware version for it: not for a Type 2 Device
        (SEC glossary, 'Smart Metering Inventory')."""
        return not self.type_2


@cache
def device_types() -> dict[str, DeviceType]:
    return {
        row["type"]: DeviceType(
            row["type"], row["cpl_listed"], row["type_2"], row["source"], row["why"]
        )
        for row in read_data("device_types.json")["types"]
    }


def cpl_listed_types() -> tuple[str, ...]:
    """The device types a CPL removal can suspend, in data order."""
    return tuple(t for t, row in device_types().items() if row.cpl_listed)


def type_2_types() -> tuple[str, ...]:
    return tuple(t for t, row in device_types().items() if row.type_2)
