"""Message declarations: what a Service Request does beyond its status effect and its
firmware route, so that the DSP interprets a column, never an SRV.

Loaded once from ``model/data/messages.json`` (every row with its source); a variant adds or
replaces a row with ``[messages."SRV"]`` (``model/variant.py``). ``does`` is one of
``join``, ``unjoin``, ``read-device-log``, ``read-firmware``; a join request's
``other_devices`` says whether a Type 2 Device may be its Other Device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from model.data_files import read_data

DOES: Final = (
    "join",
    "unjoin",
    "read-device-log",
    "read-firmware",
    "deliver-firmware",
    "activate-firmware",
)
OTHER_DEVICES: Final = ("any", "type-1")


@dataclass(frozen=True, slots=True)
class Message:
    """One Service Request's declared effect, with its source."""

    srv: str
    does: str | None
    other_devices: str
    source: str
    why: str
    #: One request may name several devices, each answered on its own (DUIS: SR11.1's
    #: DeviceIDList); a refused device is listed under the warning of the check that
    #: refused it (``warnings``: check -> DUIS warning list).
    multi_device: bool = False
    warnings: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"does {self.does}"] if self.does else []
        if self.does in ("join", "unjoin"):
            parts[-1] += f" (Other Device: {self.other_devices})"
        if self.multi_device:
            listed = ", ".join(f"{c} → {w}" for c, w in self.warnings.items())
            parts.append("names several devices" + (f"; refused: {listed}" if listed else ""))
        return f"SR{self.srv} " + "; ".join(parts)


@cache
def messages() -> dict[str, Message]:
    """The data file's declarations by SRV."""
    return {
        row["srv"]: Message(
            row["srv"], row["does"], row.get("other_devices", "any"), row["source"], row["why"]
        )
        for row in read_data("messages.json")["requests"]
    }


def does(table: Mapping[str, Message], srv: str) -> str | None:
    """What ``srv`` does by ``table`` (None: only its status effect and firmware route)."""
    row = table.get(srv)
    return row.does if row is not None else None


def srvs_doing(table: Mapping[str, Message], what: str) -> tuple[str, ...]:
    """Every SRV declared to do ``what``, in declaration order."""
    return tuple(srv for srv, row in table.items() if row.does == what)
