"""What a device does with the commands the DSP forwards (the device side).

Firmware (seed:MP105): SR11.1 delivers an image, SR11.3 activates it and the device answers
success with the version it now runs; SR11.3 sent again for an image already active does not
answer success but carries the version it runs; SR11.2 answers with the version it runs.

Joins (seed:MP178): a GBCS-compliant device accepts a re-sent Join when already joined and
answers success; a non-compliant device rejects it.

The refusal codes are this model's own names (assumption): DUIS carries a device's refusal in
the GBCS payload, which the model does not decode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from model.world import DeviceState

SUCCESS: Final = "I0"
ALREADY_ACTIVE: Final = "DEVICE:ALREADY_ACTIVE"
ALREADY_JOINED: Final = "DEVICE:ALREADY_JOINED"
NOT_JOINED: Final = "DEVICE:NOT_JOINED"


@dataclass(frozen=True, slots=True)
class Answer:
    """A device's response: success or not, its code, and the firmware version it carries."""

    success: bool
    code: str
    version: str | None = None


def receive_image(device: DeviceState, image: str) -> DeviceState:
    """SR11.1: the image is stored on the device, to be activated later (seed:MP105)."""
    return replace(device, image=image)


def activate_firmware(device: DeviceState) -> tuple[DeviceState, Answer]:
    """SR11.3: activate the stored image, or, if it is already active, say so with the version.

    A re-attempt of SR11.3 does not report success, but its answer carries the version the
    device runs (seed:MP105). With no image ever delivered the device answers the same way
    (assumption: nothing new to activate is the same case as an image already active).
    """
    if device.image is not None and device.image != device.firmware:
        running = replace(device, firmware=device.image, image=None)
        return running, Answer(success=True, code=SUCCESS, version=running.firmware)
    return replace(device, image=None), Answer(False, ALREADY_ACTIVE, device.firmware)


def read_firmware_version(device: DeviceState) -> Answer:
    """SR11.2: the device answers with the version it runs (seed:MP105)."""
    return Answer(success=True, code=SUCCESS, version=device.firmware)


def accepts_join(compliant: bool, already_joined: bool) -> bool:
    """A Join is applied unless a non-compliant device already holds the pair (seed:MP178)."""
    return compliant or not already_joined


def accepts_unjoin(joined: bool) -> bool:
    """An Unjoin for a pair the device does not hold is refused (assumption: not success)."""
    return joined
