"""The Data Service Provider: check E5, forwarding to devices, and the SMI updates.

Every function here is pure: it takes the state and returns the new state with an
:class:`Outcome` that says what happened in domain terms. The variant decides the legal-text
rules (exception list, which responses update the SMI firmware, Unjoin validation); the two
machines decide what a status or join event does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from model import device as dev
from model.catalogue import ServiceRequest, lookup
from model.errors import ScenarioError
from model.join_machine import STATES as JOIN_STATES
from model.machines import Machines
from model.provenance import ASSUMPTION, DUIS, SEED_MP105, SEED_MP178, Rule
from model.status_chart import OPERATIONAL, SUSPENDED, TERMINAL, StatusState, describe_transitions
from model.variant import Variant
from model.world import (
    READS_FIRMWARE_VERSION,
    Action,
    CplChange,
    DccEvent,
    DeviceSpec,
    DeviceState,
    ManualFix,
    Request,
    Setup,
    World,
)

JOIN_SRVS: Final = frozenset({"8.7.1", "8.7.2"})
UNJOIN_SRVS: Final = frozenset({"8.8.1", "8.8.2"})
READ_DEVICE_LOG: Final = "8.9"
UPDATE_FIRMWARE: Final = "11.1"
READ_FIRMWARE: Final = "11.2"
ACTIVATE_FIRMWARE: Final = "11.3"

#: Status chart events a successful Service Request triggers, read from the chart's own
#: provenance (its ``trigger`` names the SRV), never typed twice.
SRV_STATUS_EVENTS: Final = {
    row["trigger"].removeprefix("SR"): row["event"]
    for row in describe_transitions()
    if row["trigger"].startswith("SR")
}


class StepNotAllowed(ScenarioError):
    """A step the model does not allow (the message says why)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The DSP's access-control decision for one request (check E5)."""

    accepted: bool
    response_code: str | None
    rule: Rule


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one action did, for reports, traces and properties."""

    accepted: bool | None
    response_code: str | None
    rule: Rule | None
    forwarded: bool = False
    effects: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# Check E5 'Failed Authorisation - Invalid Device Status'


def check_e5(
    variant: Variant,
    srv: str,
    status: str,
    command_variant: int | None = None,
    smets: int | None = None,
) -> Decision:
    """Check E5 for a request whose Business Target is in ``status`` (seed:MP105).

    While Suspended, a Critical SR is accepted; a Non-Critical SR only when it is on the
    exception list, Command Variant and SMETS conditions included; any other is rejected with
    the variant's code. The check covers Non-Device Requests too (seed:MP105 read with duis).
    """
    request = lookup(srv)
    if status in TERMINAL:
        return Decision(
            False,
            variant.reject_code,
            Rule(
                "e5.terminal-status",
                f"check E5 rejects every request for a {status} device",
                ASSUMPTION,
            ),
        )
    if status != SUSPENDED:
        return Decision(
            True,
            None,
            Rule(
                "e5.not-suspended",
                f"check E5 restricts Suspended devices only; {status} passes",
                ASSUMPTION,
            ),
        )
    if request.critical and variant.allow_critical:
        return Decision(
            True,
            None,
            Rule(
                "suspended.allow_critical",
                f"{request.label} is Critical: accepted while Suspended",
                _join(variant.source_of("suspended.allow_critical"), DUIS),
            ),
        )
    near_misses = []
    for number, entry in enumerate(variant.exceptions):
        if entry.matches(srv, command_variant, smets):
            return Decision(
                True,
                None,
                Rule(
                    f"suspended.exceptions[{number}]",
                    f"{entry.describe()} is on the exception list: accepted while Suspended",
                    entry.source or variant.source_of("suspended.exceptions"),
                ),
            )
        if entry.srv == srv:
            near_misses.append(entry.describe())
    why = (
        f"{request.label} is on the exception list only as {', '.join(near_misses)}; "
        f"Command Variant {command_variant}, SMETS{smets} does not meet it"
        if near_misses
        else f"{request.label} is Non-Critical and not on the exception list"
    )
    return Decision(
        False,
        variant.reject_code,
        Rule(
            "suspended.reject_code",
            f"{why}: rejected with {variant.reject_code}",
            variant.source_of("suspended.reject_code"),
        ),
    )


def gate(
    variant: Variant, spec: DeviceSpec, state: DeviceState, request: Request
) -> tuple[Decision, Outcome | None]:
    """Check E5 for a request to this device; the rejection's outcome when it fails."""
    decision = check_e5(variant, request.srv, state.status, request.command_variant, spec.smets)
    if decision.accepted:
        return decision, None
    effects = (f"rejected {decision.response_code}",)
    return decision, Outcome(False, decision.response_code, decision.rule, effects=effects)


def _join(*tags: str) -> str:
    return ",".join(dict.fromkeys(t for tag in tags for t in tag.split(",")))


# ---------------------------------------------------------------------------------------
# The SMI firmware version and the status that follows it


def settle_status(
    spec: DeviceSpec, state: DeviceState, cpl: frozenset[str], machines: Machines
) -> tuple[DeviceState, tuple[str, ...]]:
    """After an SMI firmware update: restore a Suspended device whose new version is on the
    CPL (seed:MP105); suspend an operational one whose new version is off it (assumption)."""
    if not spec.cpl_listed:
        return state, ()
    on_cpl = state.smi_firmware in cpl
    before: StatusState = (state.status, state.prior)
    if state.status == SUSPENDED:
        after = machines.status(before, "restore_prior_status", version_on_cpl=on_cpl)
    elif state.status in OPERATIONAL and not on_cpl:
        after = machines.status(before, "suspend_on_off_cpl_update")
    else:
        return state, ()
    if after == before:
        return state, ()
    return replace(state, status=after[0], prior=after[1]), (f"status {before[0]} → {after[0]}",)


def update_smi_firmware(
    spec: DeviceSpec,
    state: DeviceState,
    cpl: frozenset[str],
    srv: str,
    answer: dev.Answer,
    variant: Variant,
    machines: Machines,
) -> tuple[DeviceState, tuple[str, ...]]:
    """Apply the variant's ``update_smi_on`` rules to a response the DSP received."""
    for rule in variant.update_smi_on:
        if rule.applies(srv, answer.success, answer.version):
            effect = (
                f"SMI firmware {state.smi_firmware} → {answer.version} ({rule})"
                if answer.version != state.smi_firmware
                else f"SMI firmware {answer.version} confirmed ({rule})"
            )
            updated = replace(state, smi_firmware=answer.version)
            settled, effects = settle_status(spec, updated, cpl, machines)
            return settled, (effect, *effects)
    if answer.version is not None and answer.version != state.smi_firmware:
        return state, (
            f"SMI firmware stays {state.smi_firmware}: no rule updates it from this response",
        )
    return state, ()


# ---------------------------------------------------------------------------------------
# Service Requests to one device (firmware and life cycle)


def serve_device_request(
    spec: DeviceSpec,
    state: DeviceState,
    cpl: frozenset[str],
    request: Request,
    variant: Variant,
    machines: Machines,
) -> tuple[DeviceState, Outcome]:
    """The DSP's handling of a request that touches one device's status or firmware."""
    entry = lookup(request.srv)
    _check_applicable(spec, entry, request)
    decision, rejection = gate(variant, spec, state, request)
    if rejection is not None:
        return state, rejection
    effects: list[str] = []
    answer: dev.Answer | None = None
    if request.srv == UPDATE_FIRMWARE:
        assert request.image is not None
        if request.image not in cpl:
            raise StepNotAllowed(
                f"SR11.1 image {request.image} is not on the CPL: the DCC distributes only "
                "CPL-listed images (assumption)"
            )
        state = dev.receive_image(state, request.image)
        effects.append(f"image {request.image} delivered")
    elif request.srv == ACTIVATE_FIRMWARE:
        state, answer = dev.activate_firmware(state)
        effects.append(
            f"device runs {answer.version}"
            if answer.success
            else f"device already runs {answer.version}: answers not success"
        )
    elif request.srv == READ_FIRMWARE:
        answer = dev.read_firmware_version(state)
        effects.append(f"device reports {answer.version}")
    elif not entry.non_device:
        answer = dev.Answer(True, dev.SUCCESS)
    code: str | None = dev.SUCCESS if answer is None else answer.code
    if request.lose_response:
        effects.append("response lost")
        code = None
    else:
        if answer is not None:
            state, more = update_smi_firmware(
                spec, state, cpl, request.srv, answer, variant, machines
            )
            effects.extend(more)
        if code == dev.SUCCESS and request.srv in SRV_STATUS_EVENTS:
            before = (state.status, state.prior)
            after = machines.status(before, SRV_STATUS_EVENTS[request.srv])
            if after != before:
                state = replace(state, status=after[0], prior=after[1])
                effects.append(f"status {before[0]} → {after[0]}")
    return state, Outcome(
        True, code, decision.rule, forwarded=not entry.non_device, effects=tuple(effects)
    )


def _check_applicable(spec: DeviceSpec, entry: ServiceRequest, request: Request) -> None:
    if request.srv == READ_FIRMWARE and spec.type not in READS_FIRMWARE_VERSION:
        raise StepNotAllowed(f"SR11.2 applies to ESME and GSME only, not {spec.type} (seed:MP105)")
    if request.srv == UPDATE_FIRMWARE and request.image is None:
        raise StepNotAllowed('SR11.1 needs the image version it delivers ("image")')
    if entry.non_device and request.lose_response:
        raise StepNotAllowed(
            f"SR{entry.srv} is a Non-Device Request: there is no device response to lose"
        )


# ---------------------------------------------------------------------------------------
# Joins


def serve_join_request(
    spec: DeviceSpec,
    state: DeviceState,
    pair: str,
    request: Request,
    variant: Variant,
    machines: Machines,
) -> tuple[str, Outcome]:
    """SR8.7.x Join and SR8.8.x Unjoin for one pair (seed:MP178).

    Check E5 applies to the Business Target as to any request; an Unjoin is validated
    against the SMI when the variant says so; the SMI follows only a success response.
    """
    decision, rejection = gate(variant, spec, state, request)
    if rejection is not None:
        return pair, rejection
    view = JOIN_STATES[pair]
    joining = request.srv in JOIN_SRVS
    if not joining and variant.unjoin_requires_smi_join and not view.smi:
        rule = Rule(
            "joins.unjoin_requires_smi_join",
            "the SMI records no such join: the DSP rejects the Unjoin with "
            f"{variant.unjoin_reject_code}",
            variant.source_of("joins.unjoin_requires_smi_join"),
        )
        after = machines.join(pair, "unjoin_rejected_by_dsp")
        return after, Outcome(
            False,
            variant.unjoin_reject_code,
            rule,
            effects=(f"rejected {variant.unjoin_reject_code}",),
        )
    if joining:
        applied = dev.accepts_join(spec.compliant, view.device)
        event = "join_applied" if applied else "join_rejected_by_device"
        refusal = dev.ALREADY_JOINED
        effect = "device joins" if applied else "device already joined: rejects the Join"
    else:
        applied = dev.accepts_unjoin(view.device)
        event = "unjoin_applied" if applied else "unjoin_rejected_by_device"
        refusal = dev.NOT_JOINED
        effect = "device unjoins" if applied else "device holds no such join: rejects the Unjoin"
    after = machines.join(pair, event)
    effects = [effect]
    if request.lose_response:
        after = machines.join(after, "response_lost")
        effects.append("response lost")
        code = None
    else:
        after = machines.join(after, "success_response") if applied else after
        code = dev.SUCCESS if applied else refusal
    smi_before, smi_after = view.smi, JOIN_STATES[after].smi
    if smi_before != smi_after:
        effects.append("SMI records the join" if smi_after else "SMI removes the join")
    return after, Outcome(True, code, decision.rule, forwarded=True, effects=tuple(effects))


def serve_read_device_log(
    spec: DeviceSpec,
    state: DeviceState,
    pairs: tuple[str, ...],
    request: Request,
    variant: Variant,
    machines: Machines,
) -> tuple[tuple[str, ...], Outcome]:
    """SR8.9 Read Device Log: the device answers with the devices it is joined to; a variant
    with ``reconcile_smi_from_8_9`` sets the SMI from that answer (assumption)."""
    decision, rejection = gate(variant, spec, state, request)
    if rejection is not None:
        return pairs, rejection
    if request.lose_response:
        return pairs, Outcome(True, None, decision.rule, forwarded=True, effects=("response lost",))
    joined = sum(JOIN_STATES[p].device for p in pairs)
    effects = [f"device reports {joined} joined device(s)"]
    if variant.reconcile_smi_from_8_9:
        after = tuple(machines.join(p, "smi_reconciled_from_device_log") for p in pairs)
        if after != pairs:
            effects.append("SMI reconciled from the device log")
        pairs = after
    return pairs, Outcome(True, dev.SUCCESS, decision.rule, forwarded=True, effects=tuple(effects))


def manual_fix(pair: str, machines: Machines) -> tuple[str, Outcome]:
    """The DCC corrects the SMI by hand to match the device (seed:MP178)."""
    after = machines.join(pair, "manual_smi_fix")
    rule = Rule("manual-smi-fix", "the DCC corrects the SMI by hand (about £2,000)", SEED_MP178)
    effect = "SMI corrected by hand" if after != pair else "nothing to correct"
    return after, Outcome(None, None, rule, effects=(effect,))


# ---------------------------------------------------------------------------------------
# DCC events: the CPL, and status events that are not Service Requests


def cpl_change(
    spec: DeviceSpec, state: DeviceState, change: CplChange, machines: Machines
) -> DeviceState:
    """Removing a version from the CPL suspends every device whose SMI firmware is that
    version (seed:MP105). Adding one restores nobody by itself (assumption: the seeds name
    only an SMI firmware update as the way back)."""
    if change.listed or not spec.cpl_listed or state.smi_firmware != change.version:
        return state
    if state.status not in OPERATIONAL:
        return state
    after = machines.status((state.status, state.prior), "suspend_on_cpl_removal")
    return replace(state, status=after[0], prior=after[1])


def dcc_event(state: DeviceState, event: str, machines: Machines) -> DeviceState:
    before = (state.status, state.prior)
    after = machines.status(before, event)
    if after == before:
        raise StepNotAllowed(f"event {event!r} is not allowed from status {state.status}")
    return replace(state, status=after[0], prior=after[1])


# ---------------------------------------------------------------------------------------
# One step of the closed system


def step(
    setup: Setup, world: World, action: Action, variant: Variant, machines: Machines
) -> tuple[World, Outcome]:
    """Apply one action to the closed system."""
    if isinstance(action, CplChange):
        cpl = world.cpl | {action.version} if action.listed else world.cpl - {action.version}
        devices = tuple(
            cpl_change(spec, state, action, machines)
            for spec, state in zip(setup.devices, world.devices, strict=True)
        )
        effects = tuple(
            f"{spec.id} suspended"
            for spec, old, new in zip(setup.devices, world.devices, devices, strict=True)
            if old.status != new.status
        )
        rule = (
            Rule(
                "cpl.add",
                "adding a version to the CPL restores nobody by itself: only an SMI firmware "
                "update does",
                ASSUMPTION,
            )
            if action.listed
            else Rule(
                "cpl.remove",
                "a CPL removal suspends the devices whose SMI firmware it names",
                SEED_MP105,
            )
        )
        return replace(world, cpl=frozenset(cpl), devices=devices), Outcome(
            None, None, rule, effects=effects
        )
    if isinstance(action, ManualFix):
        pair, outcome = manual_fix(world.joins[action.pair], machines)
        return _with_pair(world, action.pair, pair), outcome
    if isinstance(action, DccEvent):
        state = dcc_event(world.devices[action.target], action.event, machines)
        rule = Rule(f"dcc.{action.event}", f"DCC event {action.event}", ASSUMPTION)
        return _with_device(world, action.target, state), Outcome(
            None,
            None,
            rule,
            effects=(f"status {world.devices[action.target].status} → {state.status}",),
        )
    spec, state = setup.devices[action.target], world.devices[action.target]
    if action.srv in JOIN_SRVS or action.srv in UNJOIN_SRVS:
        if action.other is None:
            raise StepNotAllowed(f'SR{action.srv} needs the Other Device ("other")')
        index = setup.pair_index(action.target, action.other)
        pair, outcome = serve_join_request(
            spec, state, world.joins[index], action, variant, machines
        )
        return _with_pair(world, index, pair), outcome
    if action.srv == READ_DEVICE_LOG:
        indices = setup.pairs_of(action.target)
        pairs, outcome = serve_read_device_log(
            spec, state, tuple(world.joins[i] for i in indices), action, variant, machines
        )
        joins = list(world.joins)
        for i, p in zip(indices, pairs, strict=True):
            joins[i] = p
        return replace(world, joins=tuple(joins)), outcome
    new_state, outcome = serve_device_request(spec, state, world.cpl, action, variant, machines)
    return _with_device(world, action.target, new_state), outcome


def _with_device(world: World, index: int, state: DeviceState) -> World:
    devices = list(world.devices)
    devices[index] = state
    return replace(world, devices=tuple(devices))


def _with_pair(world: World, index: int, pair: str) -> World:
    joins = list(world.joins)
    joins[index] = pair
    return replace(world, joins=tuple(joins))
