"""The project's own model as a system under test, for ``smi-spec conform``.

``smi-spec conform PACK --adapter smi_spec.model_adapter:adapter`` drives the model through a
pack as it would drive a real DSP: the adapter reads each DUIS request file (``model.duis``,
the same hardened reader ``replay`` uses), finds its devices by EUI-64 in the case's
inventory, steps the DSP of the variant named by ``SMI_SPEC_VARIANT`` (a built-in id or a
path to a ``.toml`` file; default ``baseline``) on the live machines, and answers with a
DUIS response (``model.duis_write``) and the SMI's view. A pack passes against the variant it
was written for and fails, at the first step the rules differ, against another.

The protocol every adapter follows is in docs/tester.md ("Writing an adapter").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from model import dsp
from model.duis import parse_request
from model.duis_write import response_xml
from model.errors import InputError
from model.machines import LIVE
from model.scenario_views import views
from model.variant import Variant, load_variant
from model.world import (
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    ManualFix,
    PairSpec,
    Request,
    Setup,
    World,
)


@dataclass
class _Session:
    variant: Variant
    setup: Setup
    world: World
    euis: dict[str, int]


_current: list[_Session] = []


def adapter(event: dict[str, Any]) -> dict[str, Any]:
    """One event of a case: ``start``, ``request`` or ``dcc`` (docs/tester.md)."""
    kind = event.get("event")
    if kind == "start":
        _current[:] = [_start(event["inventory"])]
        return {"smi": smi_view(_current[0])}
    if not _current:
        raise InputError("model adapter: a step before the case's start")
    session = _current[0]
    if kind == "request":
        return _request(session, event)
    if kind == "dcc":
        session.world = dsp.step(
            session.setup, session.world, _dcc(session, event["action"]), session.variant, LIVE
        )[0]
        return {"smi": smi_view(session)}
    raise InputError(f"model adapter: unknown event {kind!r}")


def _start(inventory: dict[str, Any]) -> _Session:
    variant = load_variant(os.environ.get("SMI_SPEC_VARIANT", "baseline"))
    devices = inventory["devices"]
    index = {d["id"]: n for n, d in enumerate(devices)}
    setup = Setup(
        tuple(DeviceSpec(d["id"], d["type"], d["smets"], d["compliant"]) for d in devices),
        tuple(PairSpec(index[p["target"]], index[p["other"]]) for p in inventory["pairs"]),
    )
    world = World(
        frozenset(inventory["cpl"]),
        tuple(DeviceState(d["status"], None, d["firmware"], d["firmware"]) for d in devices),
        ("unjoined",) * len(setup.pairs),
    )
    return _Session(variant, setup, world, {d["eui64"]: n for n, d in enumerate(devices)})


def _request(session: _Session, event: dict[str, Any]) -> dict[str, Any]:
    message = parse_request(event["xml"], event.get("file", "<request>"))
    target = session.euis.get(message.target)
    if target is None:  # a Non-Device Request names its Business Target in the body
        target = next((session.euis[d] for d in message.device_ids if d in session.euis), None)
    if target is None:
        raise InputError(f"model adapter: no device of the case has {message.target}")
    other = None if message.other_device_id is None else session.euis[message.other_device_id]
    action = Request(
        message.srv,
        target,
        other,
        message.firmware_version,
        message.command_variant,
        lose_response=bool(event.get("lose_response")),
        lose_alert=bool(event.get("lose_alert")),
    )
    session.world, outcome = dsp.step(session.setup, session.world, action, session.variant, LIVE)
    code = outcome.response_code
    response = None if code is None else response_xml(message.request_id, code, message.srv)
    return {"response": response, "device_code": code, "smi": smi_view(session)}


def _dcc(session: _Session, action: dict[str, Any]) -> CplChange | ManualFix | DccEvent:
    ids = {spec.id: n for n, spec in enumerate(session.setup.devices)}
    if "cpl_add" in action or "cpl_remove" in action:
        listed = "cpl_add" in action
        return CplChange(action["cpl_add" if listed else "cpl_remove"], listed)
    if "manual_smi_fix" in action:
        fix = action["manual_smi_fix"]
        return ManualFix(session.setup.pair_index(ids[fix["target"]], ids[fix["other"]]))
    return DccEvent(action["event"], ids[action["target"]])


def smi_view(session: _Session) -> dict[str, Any]:
    """What the SMI holds: each device's status, prior status and firmware, each join."""
    seen = views(session.setup, session.world)
    return {
        "devices": {
            device: {k: v[k] for k in ("status", "prior_status", "smi_firmware")}
            for device, v in seen["devices"].items()
        },
        "joins": [{k: j[k] for k in ("target", "other", "smi")} for j in seen["joins"]],
    }
