"""The safety properties: checked on every transition of the closed system.

Each property is written once, as a local check (one device, or one join pair), so the
explorer can check it once per distinct local transition and the fuzzer and replay on every
step. The checks read the variant's rules as a specification; they do not call the DSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from model.catalogue import lookup
from model.dsp import UNJOIN_SRVS, Outcome
from model.join_machine import STATES as JOIN_STATES
from model.property_ids import (
    NO_FALSE_RESTORE,
    PRIOR_STATUS_RESTORED,
    SUSPENDED_GATE,
    UNJOIN_VALIDATED,
)
from model.status_chart import SUSPENDED, TERMINAL
from model.variant import Variant
from model.world import Action, DeviceSpec, DeviceState, Request, Setup, World


@dataclass(frozen=True, slots=True)
class Violation:
    """A property broken by one transition, and why, in domain terms."""

    property: str
    why: str


def suspended_gate(
    variant: Variant, spec: DeviceSpec, before: DeviceState, request: Request, accepted: bool
) -> Violation | None:
    """suspended-gate: every Non-Critical SR the DSP accepts for a Suspended device is on the
    variant's exception list, Command Variant and SMETS conditions included, or is a
    Non-Device Request the Suspended row says it does not gate."""
    if before.status != SUSPENDED or not accepted:
        return None
    row = variant.e5[SUSPENDED]
    request_entry = lookup(request.srv)
    if request_entry.critical and row.admits == "critical":
        return None
    if request_entry.non_device and any(
        r.srv == request.srv and not r.gated for r in row.non_device
    ):
        return None
    for entry in row.exceptions:
        if entry.srv != request.srv:
            continue
        if entry.command_variant not in (None, request.command_variant):
            continue
        if entry.smets not in (None, spec.smets):
            continue
        return None
    return Violation(
        SUSPENDED_GATE,
        f"the DSP accepted Non-Critical SR{request.srv} (Command Variant "
        f"{request.command_variant}, SMETS{spec.smets}) for Suspended {spec.id}, which the "
        "exception list does not allow",
    )


def leaves_suspended(before: DeviceState, after: DeviceState) -> bool:
    """The device left Suspended other than by decommissioning or withdrawal."""
    return before.status == SUSPENDED and after.status not in (SUSPENDED, *TERMINAL)


def prior_status_restored(
    spec: DeviceSpec, before: DeviceState, after: DeviceState
) -> Violation | None:
    """prior-status-restored: a device leaving Suspended (not by decommissioning or
    withdrawal) returns to exactly the status held immediately before suspension."""
    if leaves_suspended(before, after) and after.status != before.prior:
        return Violation(
            PRIOR_STATUS_RESTORED,
            f"{spec.id} left Suspended for {after.status}, but was {before.prior} before",
        )
    return None


def no_false_restore(
    spec: DeviceSpec, before: DeviceState, after: DeviceState, cpl: frozenset[str]
) -> Violation | None:
    """no-false-restore: the DSP never restores a Suspended device whose SMI firmware version
    is off the CPL."""
    if leaves_suspended(before, after) and after.smi_firmware not in cpl:
        return Violation(
            NO_FALSE_RESTORE,
            f"{spec.id} was restored to {after.status} with SMI firmware {after.smi_firmware}, "
            "which is off the CPL",
        )
    return None


def device_dropped_join(pair_before: str, pair_after: str) -> bool:
    """Did the device hold the join before a step and not after it?"""
    return JOIN_STATES[pair_before].device and not JOIN_STATES[pair_after].device


def unjoin_validated(
    request: Request, pair_before: str, pair_after: str, outcome: Outcome
) -> Violation | None:
    """unjoin-validated: a device removes a join on a Service User's Unjoin only if the SMI
    records that join. Before MP178 the DSP's validation against the SMI join status
    (E080801, seed:MP178) kept every join a device drops inside the DCC's record; without
    it, any Service User eligible for the Unjoin (IS, GS; OU for SR8.8.2, the DUIS matrix)
    can remove from a device a join the DCC's inventory has no record of, and the DSP checks
    nothing about it (SECAS: removing validation "may cause potential security risks").
    An Unjoin the device refuses changes nothing and is no witness."""
    if (
        request.srv in UNJOIN_SRVS
        and outcome.forwarded
        and not JOIN_STATES[pair_before].smi
        and device_dropped_join(pair_before, pair_after)
    ):
        return Violation(
            UNJOIN_VALIDATED,
            f"SR{request.srv} Unjoin removed from the device a join the SMI has no record of: "
            "the DSP forwarded it without validating it against the SMI join status",
        )
    return None


def device_violations(
    variant: Variant,
    spec: DeviceSpec,
    before: DeviceState,
    after: DeviceState,
    cpl_after: frozenset[str],
    action: Action,
    outcome: Outcome,
    is_target: bool,
) -> Iterator[Violation]:
    """The device-level properties for one device across one transition."""
    if is_target and isinstance(action, Request) and outcome.accepted is not None:
        found = suspended_gate(variant, spec, before, action, outcome.accepted)
        if found:
            yield found
    for found_or_none in (
        prior_status_restored(spec, before, after),
        no_false_restore(spec, before, after, cpl_after),
    ):
        if found_or_none:
            yield found_or_none


def violations(
    setup: Setup,
    variant: Variant,
    before: World,
    action: Action,
    after: World,
    outcome: Outcome,
) -> list[Violation]:
    """Every safety property one transition of the closed system breaks."""
    found: list[Violation] = []
    target = getattr(action, "target", None)
    for index, spec in enumerate(setup.devices):
        if index != target and after.devices[index] is before.devices[index]:
            continue  # untouched and not the target: it cannot leave Suspended, nor be gated
        found.extend(
            device_violations(
                variant,
                spec,
                before.devices[index],
                after.devices[index],
                after.cpl,
                action,
                outcome,
                index == target,
            )
        )
    if isinstance(action, Request) and action.other is not None and action.srv in UNJOIN_SRVS:
        pair = setup.pair_index(action.target, action.other)
        violation = unjoin_validated(action, before.joins[pair], after.joins[pair], outcome)
        if violation:
            found.append(violation)
    return found
