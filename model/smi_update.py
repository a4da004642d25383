"""The SMI firmware version and the status that follows it: the variant's ``update_smi_on``
rules applied to a response or a device alert the DSP received, then the restore or
suspension an update brings (seed:MP105; ``[cpl] off_cpl_update_suspends``).
"""

from __future__ import annotations

from dataclasses import replace

from model import alerts
from model import device as dev
from model.machines import Machines
from model.rule_tables import UpdateRule
from model.status_chart import OPERATIONAL, SUSPENDED, StatusState
from model.variant import Variant
from model.world import DeviceSpec, DeviceState


def settle_status(
    spec: DeviceSpec, state: DeviceState, cpl: frozenset[str], variant: Variant, machines: Machines
) -> tuple[DeviceState, tuple[str, ...], tuple[str, ...]]:
    """After an SMI firmware update: restore a Suspended device whose new version is on the
    CPL (seed:MP105); suspend an operational one whose new version is off it, where the
    variant's ``[cpl] off_cpl_update_suspends`` says so. Returns effects and DCC alerts."""
    if not spec.cpl_listed:
        return state, (), ()
    on_cpl = state.smi_firmware in cpl
    before: StatusState = (state.status, state.prior)
    if state.status == SUSPENDED:
        after = machines.status(before, "restore_prior_status", version_on_cpl=on_cpl)
        alert = alerts.DEVICE_RESTORED
    elif state.status in OPERATIONAL and not on_cpl and variant.cpl.off_cpl_update_suspends:
        after = machines.status(before, "suspend_on_off_cpl_update")
        alert = alerts.DEVICE_SUSPENDED
    else:
        return state, (), ()
    if after == before:
        return state, (), ()
    settled = replace(state, status=after[0], prior=after[1])
    return settled, (f"status {before[0]} → {after[0]}",), (f"{alert} {spec.id}",)


def update_smi_firmware(
    spec: DeviceSpec,
    state: DeviceState,
    cpl: frozenset[str],
    message: str,
    answer: dev.Answer,
    variant: Variant,
    machines: Machines,
    alert: bool = False,
    outcome: str | None = None,
) -> tuple[DeviceState, tuple[str, ...], tuple[str, ...], UpdateRule | None]:
    """Apply the variant's ``update_smi_on`` rules to a response (or, with ``alert``, a
    device alert) the DSP received. Returns the state, effects, DCC alerts and the rule
    that applied."""
    for rule in variant.update_smi_on:
        if (rule.kind == "alert") == alert and rule.applies(
            message, answer.success, answer.version, state.status, spec.type, outcome
        ):
            effect = (
                f"SMI firmware {state.smi_firmware} → {answer.version} ({rule})"
                if answer.version != state.smi_firmware
                else f"SMI firmware {answer.version} confirmed ({rule})"
            )
            updated = replace(state, smi_firmware=answer.version)
            settled, effects, sent = settle_status(spec, updated, cpl, variant, machines)
            return settled, (effect, *effects), sent, rule
    if answer.version is not None and answer.version != state.smi_firmware:
        what = "alert" if alert else "response"
        return (
            state,
            (f"SMI firmware stays {state.smi_firmware}: no rule updates it from this {what}",),
            (f"{alerts.FIRMWARE_VERSION_MISMATCH} {spec.id}",),
            None,
        )
    return state, (), (), None
