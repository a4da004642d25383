"""What the DSP refuses for Type 2 Devices, read from the device-type declarations
(``variant.device_types[...]``, ``model/data/device_types.json``) and the message
declarations (``model/data/messages.json``), never from a type's name.

- A Type 2 Device (CAD, IHD) has no SMI status and no firmware version (device_types.json:
  "Type 2: no SMI status or firmware", an assumption from the SEC glossary): the DSP
  refuses a request that would set either for one.
- A join request a message row declares ``other_devices = "type-1"`` (SR8.7.1, SR8.8.1: GBCS
  CS03A/CS04A, Method A) may not name a Type 2 Other Device, which joins by Method B only.

Neither refusal has a DUIS response code in the reference data: the codes are the model's
names (``DSP:``), never written as a DUIS response in a test pack (no explored action
reaches them: the alphabet sends neither).
"""

from __future__ import annotations

from model.device_types import DeviceType
from model.messages import does
from model.provenance import Rule
from model.variant import Variant
from model.world import DeviceSpec, Request

#: The model's refusal codes (no DUIS code is given for either in the reference data).
NO_SMI_RECORD = "DSP:TYPE_2_NO_SMI_RECORD"
NOT_FOR_OTHER_DEVICE = "DSP:NOT_FOR_OTHER_DEVICE_TYPE"

#: What a message may do that sets a device's SMI firmware record.
_FIRMWARE = frozenset({"deliver-firmware", "activate-firmware", "read-firmware"})


def facts(variant: Variant, spec: DeviceSpec) -> DeviceType:
    """The device type's declaration: the variant's, else the spec's own."""
    return variant.device_types.get(spec.type) or spec.facts


def moves_firmware(variant: Variant, srv: str) -> bool:
    """Does ``srv`` deliver, activate or read firmware, by a message row or a route?"""
    if does(variant.messages, srv) in _FIRMWARE:
        return True
    return any(srv in (r.deliver, r.activate) for r in variant.routes.values() if r.exists)


def refuse_for_target(
    variant: Variant, spec: DeviceSpec, request: Request, status_event: str | None
) -> Rule | None:
    """The rule refusing ``request`` for a Type 2 Business Target, if it would set an SMI
    status (a status event) or firmware for it; None if the request is not refused here."""
    declared = facts(variant, spec)
    if not declared.type_2:
        return None
    if status_event is None and not moves_firmware(variant, request.srv) and not request.image:
        return None
    what = "an SMI status" if status_event is not None else "a firmware version"
    text = (
        f"{spec.id} is a Type 2 Device ({spec.type}): it has no SMI status and no firmware "
        f"version, so SR{request.srv}, which would set {what}, is refused with {NO_SMI_RECORD}"
    )
    return Rule(f"device_types.{spec.type}", text, declared.source)


def refuse_for_other(variant: Variant, other: DeviceSpec, request: Request) -> Rule | None:
    """The rule refusing a join request that names a Type 2 Other Device where its message
    row is declared for Type 1 Other Devices only; None if it may name it."""
    row = variant.messages.get(request.srv)
    if row is None or row.other_devices != "type-1" or not facts(variant, other).type_2:
        return None
    text = (
        f"SR{request.srv} is declared for Type 1 Other Devices only and {other.id} is a Type 2 "
        f"Device ({other.type}): refused with {NOT_FOR_OTHER_DEVICE}"
    )
    return Rule(f"messages[{request.srv}]", text, row.source)
