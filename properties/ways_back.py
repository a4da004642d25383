"""What a way back may use, per recoverability property: one table, read by the explorer,
the cause search, the bounded replay search and the fleet chain (issue 19).

Recovery means what DP105 means. DP105 (problem statement): a device whose SR11.3 response
was lost stays Suspended and "there is no other recoverable method unless another new
firmware update takes place"; "currently the only way to resolve this is for a Service User
to carry out another firmware update, which is a waste of time and effort". So for the two
firmware properties a way back may use Service User requests the DSP accepts (re-sent ones
included, as MP105 re-sends SR11.3) but not a new firmware image: that costly way round is
what the defect is. It is the costly way round only where the SMI has lost track of the
version the device runs: to a device whose SMI firmware is the version it runs, a new image
is the designed way out of a CPL suspension (the device leaves Suspended when its SMI
firmware is updated to a listed version, seed:MP105), so there it may be part of a way back
(the line between the two is ours: ``assumption``, in the row). MP178 (draft report): a join
the SMI and the device disagree on is cured by "a manual SMI correction" at £2,000 a time,
which is the cost the property counts, so no recoverability property may use it.

Neither firmware property may use the DCC re-listing a version on the CPL. In the closed
system every version starts on the CPL, and a device's SMI firmware was on the CPL when it
was set, so a CPL addition that changes a device is always the DCC undoing its own removal
of the version the device was suspended on. DP105's devices run a newer approved version
while the SMI names the withdrawn one: re-listing the withdrawn one would leave the SMI
saying F1 while the device runs F2 (issue 19), which is not the recovery the seeds ask for.
join-recoverable judges the join, not the firmware: there a CPL addition may be part of a
way back (tagged ``assumption`` in its row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from model.dsp import SRV_STATUS_EVENTS
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, SUSPENSION_RECOVERABLE
from model.world import Action, CplChange, ManualFix, Request, World


@dataclass(frozen=True, slots=True)
class WayBack:
    """The actions one property's way back may use, each with its source."""

    #: Service User requests whose response and alerts arrive, re-sent ones included.
    requests: bool
    #: A request that delivers a new firmware image (SR11.1 for a meter), to any device.
    new_image: bool
    #: The DCC re-listing a version it removed from the CPL.
    cpl_relisting: bool
    #: A manual SMI correction (MP178's £2,000 fix).
    manual_fix: bool
    source: str
    why: str
    #: A new firmware image, but only to a device whose SMI firmware is the version it runs
    #: (the SMI has not lost track of it).
    image_in_step: bool = False

    def describe(self) -> str:
        allowed = ["Service User requests the DSP accepts, re-sent ones included"]
        if self.new_image:
            allowed.append("a new firmware image")
        elif self.image_in_step:
            allowed.append("a new firmware image to a device whose SMI firmware is the one it runs")
        if self.cpl_relisting:
            allowed.append("a CPL addition")
        refused = [
            "a lost message",
            "a request that ends the device's life",
            "a DCC event or CPL removal",
        ]
        if self.image_in_step and not self.new_image:
            refused.append("a new firmware image to a device whose SMI has lost track of it")
        elif not self.new_image:
            refused.append("a new firmware image")
        if not self.cpl_relisting:
            refused.append("the DCC re-listing a version it withdrew")
        if not self.manual_fix:
            refused.append("a manual SMI correction")
        return f"may use {'; '.join(allowed)}; not {', '.join(refused)}"


_FIRMWARE_WHY = (
    "DP105: 'There is no other recoverable method unless another new firmware update takes "
    "place': the defect is that, once the SMI has lost track of the version a device runs, "
    "only a new image or the DCC undoing its CPL removal helps. To a device whose SMI is in "
    "step, a new image to a listed version is the designed way out of a CPL suspension "
    "(seed:MP105); where the line falls is ours (assumption: the seeds speak only of the "
    "lost-track case)"
)

#: The way back of each recoverability property (docs/properties.md, "What a way back may use").
WAY_BACK: Final[dict[str, WayBack]] = {
    FIRMWARE_RECOVERABLE: WayBack(
        True, False, False, False, "seed:MP105,assumption", _FIRMWARE_WHY, image_in_step=True
    ),
    SUSPENSION_RECOVERABLE: WayBack(
        True, False, False, False, "seed:MP105,assumption", _FIRMWARE_WHY, image_in_step=True
    ),
    JOIN_RECOVERABLE: WayBack(
        True,
        True,
        True,
        False,
        "seed:MP178,assumption",
        "MP178: a Service User re-sends the Join or the Unjoin; the manual SMI correction "
        "(£2,000 each) is the cost the property counts, never part of a way back. A CPL "
        "addition may be (assumption): this property judges the join, not the firmware, and "
        "in the closed system's two versions a re-listing stands for the DCC approving a new "
        "version a Suspended device can be updated to, without which a DCC that withdrew "
        "every version would strand every join",
    ),
}

#: Requests that end a device's life are no way back: a decommissioned device is trivially
#: "in agreement" (assumption: recovery keeps the device in service).
ENDS_LIFE: Final = frozenset(srv for srv, e in SRV_STATUS_EVENTS.items() if e == "decommission")


def is_recovery_action(property_id: str, action: Action, world: World | None = None) -> bool:
    """May ``action``, taken in ``world``, be part of a way back, for ``property_id``? Read
    from :data:`WAY_BACK`; a DCC event and a CPL removal never are, nor a faulty request or
    one ending a device's life. Without ``world``, a new image counts only where the table
    allows it to any device."""
    way = WAY_BACK[property_id]
    if isinstance(action, CplChange):
        return way.cpl_relisting and action.listed
    if isinstance(action, ManualFix):
        return way.manual_fix
    if not isinstance(action, Request):
        return False
    if action.faulty or action.srv in ENDS_LIFE or not way.requests:
        return False
    if action.image is None or way.new_image:
        return True
    return way.image_in_step and world is not None and in_step(world, action.target)


def in_step(world: World, device: int) -> bool:
    """Does the SMI name the firmware version the device runs?"""
    state = world.devices[device]
    return state.smi_firmware is not None and state.smi_firmware == state.firmware
