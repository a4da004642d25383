"""Alerts: device alerts that reach the DSP, and DCC alerts the DSP sends to Service Users.

A device alert (for example the PPMID's firmware activation alert, GBCS CS09) is a message
from the device, like a response: it can be delivered or lost, and a variant can name it in
``update_smi_on``. A DCC alert (DeviceSuspended, DeviceRestored, FirmwareVersionMismatch) is
an output of a step, so a property can say "the Service User is told".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from model.data_files import read_data

DEVICE_SUSPENDED: Final = "DeviceSuspended"
DEVICE_RESTORED: Final = "DeviceRestored"
FIRMWARE_VERSION_MISMATCH: Final = "FirmwareVersionMismatch"


@dataclass(frozen=True, slots=True)
class DeviceAlert:
    alert: str
    name: str
    carries_version: bool
    source: str
    why: str
    #: The outcome the alert carries for a successful and a failed activation (DUIS
    #: ``ActivateImageResultCode``), by ``success`` and ``failure``.
    outcomes: dict[str, str]
    #: ``device`` (from the device, GBCS) or ``dcc`` (raised by the DCC to Service Users).
    kind: str = "device"


@cache
def _document() -> dict[str, Any]:
    return dict(read_data("alerts.json"))


@cache
def device_alerts() -> dict[str, DeviceAlert]:
    """Device alerts by GBCS use case code."""
    return {
        row["alert"]: DeviceAlert(
            row["alert"],
            row["name"],
            row["carries_version"],
            row["source"],
            row["why"],
            dict(row.get("outcomes", {})),
        )
        for row in _document()["device_alerts"]
    }


@cache
def dcc_alerts() -> dict[str, dict[str, str]]:
    """DCC alerts to Service Users by name: when each fires, its source and why."""
    return {row["alert"]: row for row in _document()["dcc_alerts"]}
