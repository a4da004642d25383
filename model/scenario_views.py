"""The SMI and device views of every device and join, and the CPL, as docs/design.md reports them
after every step of a scenario (and as other reports of the same world show them).
"""

from __future__ import annotations

from typing import Any

from model import join_machine
from model.cpl import CplEntry
from model.world import DeviceSpec, DeviceState, PairSpec, Setup, World


def device_view(spec: DeviceSpec, state: DeviceState) -> dict[str, Any]:
    """One device's SMI and device view, as docs/design.md reports it."""
    view = {
        "status": state.status,
        "prior_status": state.prior,
        "smi_firmware": state.smi_firmware,
        "device_firmware": state.firmware,
        "compliant": spec.compliant,
    }
    if state.supplier is not None:
        view["supplier"] = state.supplier
    return view


def entry_view(entry: CplEntry) -> dict[str, Any]:
    """One CPL entry as the report shows it."""
    return {
        "version": entry.version,
        "device_type": entry.device_type,
        "model": entry.model,
        "gbcs_version": entry.gbcs_version,
        "events": [{"event": e, "reason": r} if r else {"event": e} for e, r in entry.events],
        "listed": entry.listed,
    }


def join_view(setup: Setup, pair: PairSpec, state: str) -> dict[str, Any]:
    """One join's SMI and device view, as docs/design.md reports it."""
    return {
        "target": setup.devices[pair.target].id,
        "other": setup.devices[pair.other].id,
        "smi": join_machine.STATES[state].smi,
        "device": join_machine.STATES[state].device,
    }


def views(setup: Setup, world: World) -> dict[str, Any]:
    """The SMI and device views of every device and join, as docs/design.md reports them, and
    the CPL."""
    return {
        "cpl": sorted(world.cpl),
        "devices": {
            spec.id: device_view(spec, state)
            for spec, state in zip(setup.devices, world.devices, strict=True)
        },
        "joins": [
            join_view(setup, pair, state)
            for pair, state in zip(setup.pairs, world.joins, strict=True)
        ],
    }
