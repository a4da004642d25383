"""The Data Service Provider: access checks, forwarding to devices, and the SMI updates.

Every function here is pure: it takes the state and returns the new state with an
:class:`Outcome` that says what happened in domain terms. The variant decides the legal-text
rules (applicability, check E5's table, firmware routes, which messages update the SMI
firmware, what a CPL change does, Unjoin validation); the two machines decide what a status
or join event does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from model import alerts, type_2
from model import device as dev
from model.access import Decision, authorise, check_applicable, check_e5, join_tags
from model.catalogue import lookup
from model.cpl import removal_reasons
from model.errors import ScenarioError
from model.join_machine import STATES as JOIN_STATES
from model.machines import Machines
from model.messages import does, messages, srvs_doing
from model.pipeline import Asked
from model.provenance import ASSUMPTION, SEED_MP105, SEED_MP178, Rule
from model.rule_tables import ACTOR_EVENTS, ActorEvent, FirmwareRoute, UpdateRule
from model.status_chart import OPERATIONAL, SUSPENDED, StatusState, describe_transitions
from model.variant import Variant
from model.world import (
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

__all__ = ["Decision", "authorise", "check_applicable", "check_e5"]

#: The requests ``model/data/messages.json`` declares, by what they do: names for other
#: modules. The DSP itself reads a request's declaration from its variant's rulebook.
JOIN_SRVS: Final = frozenset(srvs_doing(messages(), "join"))
UNJOIN_SRVS: Final = frozenset(srvs_doing(messages(), "unjoin"))
READ_DEVICE_LOG: Final = srvs_doing(messages(), "read-device-log")[0]
READ_FIRMWARE: Final = srvs_doing(messages(), "read-firmware")[0]
#: The standard firmware route's requests, for replay's names (the DSP reads routes).
UPDATE_FIRMWARE: Final = srvs_doing(messages(), "deliver-firmware")[0]
ACTIVATE_FIRMWARE: Final = srvs_doing(messages(), "activate-firmware")[0]

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
class Outcome:
    """What one action did, for reports, traces and properties.

    ``alerts`` are the DCC alerts the DSP sent to Service Users in this step (DeviceSuspended,
    DeviceRestored, FirmwareVersionMismatch), each with the device it concerns, and the
    device alerts that reached the DSP or were lost.
    """

    accepted: bool | None
    response_code: str | None
    rule: Rule | None
    forwarded: bool = False
    effects: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    #: The ``update_smi_on`` rule that updated the SMI firmware version in this step.
    smi_update: UpdateRule | None = None
    #: The access rules the request passed before ``rule`` decided it (check E5's row
    #: for an Unjoin the join validation then decided).
    passed: tuple[Rule, ...] = ()
    #: For a request naming several devices: each device's id and its answer (``accepted``,
    #: or the DUIS warning list it is refused under).
    per_device: tuple[tuple[str, str], ...] = ()


def responsible(variant: Variant, state: DeviceState, request: Request) -> bool | None:
    """Is the sender the device's responsible supplier? None where the pipeline does not
    ask, or the request names no sender, or the device no supplier."""
    if request.sender is None or state.supplier is None or not variant.checks_suppliers:
        return None
    return request.sender == state.supplier


def asked_of(
    variant: Variant,
    spec: DeviceSpec,
    state: DeviceState,
    request: Request,
    cpl: frozenset[str] | None = None,
) -> Asked:
    """What the pipeline is asked about a request to this device: whether its image is on
    the CPL only where the variant's pipeline checks images and the CPL is known."""
    checks_image = cpl is not None and request.image is not None and variant.checks_images
    listed = (request.image in cpl) if checks_image and cpl is not None else None
    return Asked(
        request.srv,
        state.status,
        spec.type,
        request.command_variant,
        spec.smets,
        request.role,
        listed,
        responsible(variant, state, request),
    )


def gate(
    variant: Variant,
    spec: DeviceSpec,
    state: DeviceState,
    request: Request,
    cpl: frozenset[str] | None = None,
) -> tuple[Decision, Outcome | None]:
    """The variant's pipeline of checks for a request to this device (applicability, the
    sender's role, check E5; the CPL check on the image it delivers where the pipeline has
    one); the rejection's outcome when one fails."""
    asked = asked_of(variant, spec, state, request, cpl)
    decision = authorise(
        variant,
        asked.srv,
        asked.status,
        asked.device_type,
        asked.command_variant,
        asked.smets,
        asked.role,
        asked.image_listed,
        asked.sender_responsible,
    )
    if decision.accepted:
        return decision, None
    effects = (f"rejected {decision.response_code}",)
    return decision, Outcome(False, decision.response_code, decision.rule, effects=effects)


# ---------------------------------------------------------------------------------------
# The SMI firmware version and the status that follows it


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


# ---------------------------------------------------------------------------------------
# Service Requests to one device (firmware and life cycle)


@dataclass(frozen=True, slots=True)
class _Served:
    """What the device did with a forwarded request: its state, its response (None for a
    Non-Device Request), the device alert it sent (if any), and what happened."""

    state: DeviceState
    answer: dev.Answer | None
    alert: tuple[str, dev.Answer] | None
    effects: tuple[str, ...]


def _device_side(
    spec: DeviceSpec,
    state: DeviceState,
    cpl: frozenset[str],
    request: Request,
    route: FirmwareRoute | None,
    reads_firmware: bool,
) -> _Served:
    """The device's part: firmware by its type's route (variant ``[firmware.routes]``), a
    firmware read, or a plain success for any other device request."""
    effects: list[str] = []
    answer: dev.Answer | None = None
    alert: tuple[str, dev.Answer] | None = None
    non_device = lookup(request.srv).non_device
    if route is not None and route.exists and request.srv == route.deliver:
        if request.image is None:
            raise StepNotAllowed(f'SR{request.srv} needs the image version it delivers ("image")')
        if request.image not in cpl:
            raise StepNotAllowed(
                f"SR{request.srv} image {request.image} is not on the CPL: the DCC distributes "
                "only CPL-listed images (assumption)"
            )
        state = dev.receive_image(state, request.image)
        effects.append(f"image {request.image} delivered")
    if route is not None and route.exists and request.srv == route.activate:
        state, activation = dev.activate_firmware(state)
        effects.append(
            f"device runs {activation.version}"
            if activation.success
            else f"device already runs {activation.version}: answers not success"
        )
        if route.alert is None:
            answer = activation
        elif activation.success or route.report_failure:
            alert = (route.alert, activation)
        if route.alert is not None and not non_device:
            answer = dev.Answer(True, dev.SUCCESS)
    elif reads_firmware:
        answer = dev.read_firmware_version(state)
        effects.append(f"device reports {answer.version}")
    elif not non_device:
        answer = dev.Answer(True, dev.SUCCESS)
    return _Served(state, answer, alert, tuple(effects))


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
    if entry.non_device and request.lose_response:
        raise StepNotAllowed(
            f"SR{entry.srv} is a Non-Device Request: there is no device response to lose"
        )
    decision, rejection = gate(variant, spec, state, request, cpl)
    if rejection is not None:
        return state, rejection
    refusal = _refuse_life_cycle_while_suspended(variant, state, request, machines)
    if refusal is not None:
        return state, refusal
    reads = does(variant.messages, request.srv) == "read-firmware"
    route = variant.route(spec.type, spec.smets)
    served = _device_side(spec, state, cpl, request, route, reads)
    if request.lose_alert and served.alert is None:
        raise StepNotAllowed(f"SR{request.srv} to {spec.type} sends no device alert to lose")
    state, effects = served.state, list(served.effects)
    sent: list[str] = []
    answer, applied, used = served.answer, None, None
    code: str | None = dev.SUCCESS if answer is None else answer.code
    if request.lose_response:
        effects.append("response lost")
        code = None
    elif answer is not None:
        state, more, dcc, applied = update_smi_firmware(
            spec, state, cpl, request.srv, answer, variant, machines
        )
        effects.extend(more)
        sent.extend(dcc)
    if served.alert is not None:
        name, carried = served.alert
        outcome = variant.alerts[name].outcomes.get("success" if carried.success else "failure")
        if request.lose_alert:
            effects.append(f"alert {name} lost")
            sent.append(f"{name} lost")
        else:
            said = "" if carried.success else f" ({outcome or 'not success'})"
            sent.append(f"{name} {spec.id} reports {carried.version}{said}")
            state, more, dcc, used = update_smi_firmware(
                spec, state, cpl, name, carried, variant, machines, alert=True, outcome=outcome
            )
            effects.extend(more)
            sent.extend(dcc)
    if code == dev.SUCCESS and request.srv in SRV_STATUS_EVENTS:
        state, more = _life_cycle(variant, state, SRV_STATUS_EVENTS[request.srv], machines)
        effects.extend(more)
    return state, Outcome(
        True,
        code,
        decision.rule,
        forwarded=not entry.non_device,
        effects=tuple(effects),
        alerts=tuple(sent),
        smi_update=used or applied,
    )


def _life_cycle(
    variant: Variant, state: DeviceState, event: str, machines: Machines
) -> tuple[DeviceState, tuple[str, ...]]:
    """A life-cycle event from a successful request. While Suspended, an event the chart
    does not take from Suspended changes the status the device returns to, where the
    variant's ``[suspended] critical_life_cycle = "to-history"`` says so."""
    before = (state.status, state.prior)
    after = machines.status(before, event)
    if after != before:
        return replace(state, status=after[0], prior=after[1]), (
            f"status {before[0]} → {after[0]}",
        )
    if state.status != SUSPENDED or state.prior is None:
        return state, ()
    returns_to = machines.status((state.prior, None), event)[0]
    if returns_to == state.prior:
        return state, ()
    effect = f"status to return to {state.prior} → {returns_to} (suspended.critical_life_cycle)"
    return replace(state, prior=returns_to), (effect,)


def _refuse_life_cycle_while_suspended(
    variant: Variant, state: DeviceState, request: Request, machines: Machines
) -> Outcome | None:
    """``critical_life_cycle = "refuse"``: a life-cycle request that would change the status
    a Suspended device returns to (an event the chart does not take from Suspended itself)
    is refused, with its own rule."""
    if (
        state.status != SUSPENDED
        or variant.critical_life_cycle != "refuse"
        or request.srv not in SRV_STATUS_EVENTS
    ):
        return None
    before = (state.status, state.prior)
    if machines.status(before, SRV_STATUS_EVENTS[request.srv]) != before:
        return None
    code = variant.reject_code
    rule = Rule(
        "suspended.critical_life_cycle",
        f"SR{request.srv} would change the status a Suspended device returns to: refused with "
        f"{code}",
        variant.source_of("suspended.critical_life_cycle"),
    )
    return Outcome(False, code, rule, effects=(f"rejected {code}",))


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
    gate_rule = decision.rule
    view = JOIN_STATES[pair]
    joining = does(variant.messages, request.srv) == "join"
    if not joining:
        decision = replace(decision, rule=_unjoin_validation(variant, view.smi))
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
            passed=(gate_rule,),
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
    passed = () if joining else (gate_rule,)
    return after, Outcome(
        True, code, decision.rule, forwarded=True, effects=tuple(effects), passed=passed
    )


def _unjoin_validation(variant: Variant, smi_joined: bool) -> Rule:
    """The rule that decides whether an Unjoin that passed check E5 reaches the device: the
    DSP's validation against the SMI join status, or its absence (seed:MP178)."""
    if variant.unjoin_requires_smi_join:
        text = "the SMI records the join: the DSP forwards the Unjoin"
    elif smi_joined:
        text = "the DSP no longer validates an Unjoin against the SMI: forwarded"
    else:
        text = (
            "the DSP no longer validates an Unjoin against the SMI: forwarded although the "
            "SMI records no such join"
        )
    return Rule(
        "joins.unjoin_requires_smi_join", text, variant.source_of("joins.unjoin_requires_smi_join")
    )


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
    spec: DeviceSpec, state: DeviceState, change: CplChange, variant: Variant, machines: Machines
) -> DeviceState:
    """What a CPL change does to one device, by the variant's ``[cpl]`` rules.

    Removing a version suspends every device whose SMI firmware is that version and whose
    status is in ``removal_suspends`` (seed:MP105; which statuses: as tagged). Re-listing it
    restores the devices suspended on it only where ``relisting_restores`` says so.
    """
    if not spec.cpl_listed or state.smi_firmware != change.version:
        return state
    before = (state.status, state.prior)
    if change.listed:
        if not (variant.cpl.relisting_restores and state.status == SUSPENDED):
            return state
        after = machines.status(before, "restore_on_cpl_relisting")
    elif state.status in variant.cpl.removal_suspends and _removal_suspends(
        variant, change, spec.type
    ):
        after = machines.status(before, "suspend_on_cpl_removal")
    else:
        return state
    return replace(state, status=after[0], prior=after[1])


def _removal_suspends(variant: Variant, change: CplChange, device_type: str) -> bool:
    """A removal suspends unless its reason's ``[cpl.reasons]`` row says it does not, or
    names other device types; a reason of ``model/data/cpl.json`` with no row suspends as
    ``removal_suspends`` says."""
    if change.reason is None:
        return True
    row = variant.cpl.reason(change.reason)
    if row is None:
        if change.reason in removal_reasons():
            return True
        known = ", ".join(sorted({r.reason for r in variant.cpl.reasons} | set(removal_reasons())))
        raise StepNotAllowed(f"unknown CPL removal reason {change.reason!r} (known: {known})")
    return row.suspends_type(device_type)


def _reason_rule(variant: Variant, change: CplChange) -> Rule | None:
    if change.listed or change.reason is None:
        return None
    row = variant.cpl.reason(change.reason)
    if row is None:
        data = removal_reasons().get(change.reason)
        if data is None:
            return None
        text = f"a CPL removal for {data.name} ({data.why}): no [cpl.reasons] row, so it "
        return Rule(
            f"cpl.reasons.{data.name}", text + "suspends as removal_suspends says", data.source
        )
    text = row.describe() + (f": {row.why}" if row.why else "")
    return Rule(f"cpl.reasons.{row.reason}", text, row.source)


#: The statuses from which the seeds themselves show a CPL removal suspending a device: DP105's
#: devices are meters in service, Commissioned, that "remain in the Suspended state".
SEED_SUSPENDED_FROM = frozenset({"commissioned"})


def _removal_source(changed_from: frozenset[str], source: str) -> str:
    """The removal rule's source for this step: the seeds' own (seed:MP105) where it suspended
    only Commissioned devices, else the seed joined with the ``[cpl]`` table's tag (which
    other statuses a removal suspends is that table's reading)."""
    if changed_from and changed_from <= SEED_SUSPENDED_FROM:
        return SEED_MP105
    return join_tags(SEED_MP105, source)


def cpl_step(
    setup: Setup, world: World, action: CplChange, variant: Variant, machines: Machines
) -> tuple[World, Outcome]:
    """The DCC adds a version to the CPL or removes one: every device, each on its own."""
    cpl = world.cpl | {action.version} if action.listed else world.cpl - {action.version}
    devices = tuple(
        cpl_change(spec, state, action, variant, machines)
        for spec, state in zip(setup.devices, world.devices, strict=True)
    )
    changed = [
        (spec, new)
        for spec, old, new in zip(setup.devices, world.devices, devices, strict=True)
        if old.status != new.status
    ]
    changed_from = frozenset(
        old.status
        for old, new in zip(world.devices, devices, strict=True)
        if old.status != new.status
    )
    effects = tuple(f"{spec.id} {new.status}" for spec, new in changed)
    sent = tuple(
        f"{alerts.DEVICE_SUSPENDED} {spec.id}"
        if new.status == SUSPENDED
        else f"{alerts.DEVICE_RESTORED} {spec.id}"
        for spec, new in changed
    )
    source = variant.source_of(
        "cpl.relisting_restores" if action.listed else "cpl.removal_suspends"
    )
    rule = (
        Rule(
            "cpl.relisting_restores",
            "re-listing a version restores the devices suspended on it"
            if variant.cpl.relisting_restores
            else "re-listing a version restores nobody by itself: only an SMI firmware update does",
            source,
        )
        if action.listed
        else Rule(
            "cpl.removal_suspends",
            "a CPL removal suspends the devices whose SMI firmware it names, from "
            + ", ".join(sorted(variant.cpl.removal_suspends)),
            _removal_source(changed_from, source),
        )
    )
    rule = _reason_rule(variant, action) or rule
    world = replace(world, cpl=frozenset(cpl), devices=devices)
    return world, Outcome(None, None, rule, effects=effects, alerts=sent)


def actor_event(world: World, action: DccEvent, variant: Variant) -> tuple[World, Outcome]:
    """An event among Service Users (a change of supplier): the device's responsible
    supplier becomes the incoming one (where the event names it), and the variant's
    ``[events]`` row clears what it names on the device (nothing, without a row)."""
    row = variant.events.get(action.event) or ActorEvent(
        action.event, (), ASSUMPTION, "no [events] row: the event clears nothing"
    )
    state = world.devices[action.target]
    cleared = replace(state, image=None) if "image" in row.clears else state
    effects = tuple(
        f"{name} {getattr(state, name)} cleared ({row.event})"
        for name in row.clears
        if getattr(state, name) is not None
    )
    if action.supplier is not None:
        cleared = replace(cleared, supplier=action.supplier)
        effects += (f"supplier {state.supplier or 'none'} → {action.supplier}",)
    text = row.describe() + (f": {row.why}" if row.why else "")
    rule = Rule(f"events.{row.event}", text, row.source)
    return _with_device(world, action.target, cleared), Outcome(None, None, rule, effects=effects)


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
        return cpl_step(setup, world, action, variant, machines)
    if isinstance(action, ManualFix):
        pair, outcome = manual_fix(world.joins[action.pair], machines)
        return _with_pair(world, action.pair, pair), outcome
    if isinstance(action, DccEvent) and action.event in ACTOR_EVENTS:
        return actor_event(world, action, variant)
    if isinstance(action, DccEvent):
        state = dcc_event(world.devices[action.target], action.event, machines)
        rule = Rule(f"dcc.{action.event}", f"DCC event {action.event}", ASSUMPTION)
        effect = f"status {world.devices[action.target].status} → {state.status}"
        after = _with_device(world, action.target, state)
        return cascade(
            setup,
            after,
            action.target,
            action.event,
            variant,
            machines,
            Outcome(None, None, rule, effects=(effect,)),
        )
    if action.also:
        return serve_many(setup, world, action, variant, machines)
    spec, state = setup.devices[action.target], world.devices[action.target]
    what = does(variant.messages, action.srv)
    refused = type_2.refuse_for_target(variant, spec, action, SRV_STATUS_EVENTS.get(action.srv))
    if refused is not None:
        return world, _type_2_refusal(refused, type_2.NO_SMI_RECORD)
    if what in ("join", "unjoin"):
        if action.other is None:
            raise StepNotAllowed(f'SR{action.srv} needs the Other Device ("other")')
        refused = type_2.refuse_for_other(variant, setup.devices[action.other], action)
        if refused is not None:
            return world, _type_2_refusal(refused, type_2.NOT_FOR_OTHER_DEVICE)
        index = setup.pair_index(action.target, action.other)
        pair, outcome = serve_join_request(
            spec, state, world.joins[index], action, variant, machines
        )
        return _with_pair(world, index, pair), outcome
    if what == "read-device-log":
        indices = setup.pairs_of(action.target)
        pairs, outcome = serve_read_device_log(
            spec, state, tuple(world.joins[i] for i in indices), action, variant, machines
        )
        joins = list(world.joins)
        for i, p in zip(indices, pairs, strict=True):
            joins[i] = p
        return replace(world, joins=tuple(joins)), outcome
    new_state, outcome = serve_device_request(spec, state, world.cpl, action, variant, machines)
    after = _with_device(world, action.target, new_state)
    if new_state.status == state.status:
        return after, outcome
    event = SRV_STATUS_EVENTS.get(action.srv, "")
    return cascade(setup, after, action.target, event, variant, machines, outcome)


def _type_2_refusal(rule: Rule, code: str) -> Outcome:
    """The DSP refuses a request the device-type and message declarations rule out for a
    Type 2 Device (``model/type_2.py``): nothing is forwarded, nothing changes."""
    return Outcome(False, code, rule, effects=(f"rejected {code}",))


def serve_many(
    setup: Setup, world: World, action: Request, variant: Variant, machines: Machines
) -> tuple[World, Outcome]:
    """A request naming several devices (a message the rulebook declares ``multi_device``):
    each device passes the pipeline on its own; one refused is listed under the warning its
    message declares for the check that refused it, the others are served."""
    row = variant.messages.get(action.srv)
    if row is None or not row.multi_device:
        raise StepNotAllowed(
            f"SR{action.srv} names one device: no [messages] row declares it multi_device"
        )
    per_device: list[tuple[str, str]] = []
    effects: list[str] = []
    sent: list[str] = []
    decisions: list[Decision] = []
    for index in (action.target, *action.also):
        spec, state = setup.devices[index], world.devices[index]
        decision = authorise(
            variant,
            action.srv,
            state.status,
            spec.type,
            action.command_variant,
            spec.smets,
            action.role,
            (action.image in world.cpl) if action.image and variant.checks_images else None,
            responsible(variant, state, action),
        )
        decisions.append(decision)
        if not decision.accepted:
            warning = row.warnings.get(decision.check, decision.response_code or "refused")
            per_device.append((spec.id, warning))
            effects.append(f"{spec.id} refused: {warning} ({decision.rule.id})")
            continue
        world, outcome = step(
            setup, world, replace(action, target=index, also=()), variant, machines
        )
        per_device.append((spec.id, "accepted"))
        effects += [f"{spec.id}: {effect}" for effect in outcome.effects]
        sent += outcome.alerts
    accepted = [d for d in decisions if d.accepted]
    decided = (accepted or decisions)[0]
    return world, Outcome(
        bool(accepted),
        dev.SUCCESS if accepted else decided.response_code,
        decided.rule,
        effects=tuple(effects),
        alerts=tuple(sent),
        per_device=tuple(per_device),
    )


def cascade(
    setup: Setup,
    world: World,
    target: int,
    event: str,
    variant: Variant,
    machines: Machines,
    outcome: Outcome,
) -> tuple[World, Outcome]:
    """What the variant's ``[cascades.EVENT]`` row does once ``event`` moved a device: end
    every join it takes part in (the join machine's ``cascade_unjoin``) and raise its DCC
    alert, naming the associated devices."""
    row = variant.cascades.get(event)
    if row is None:
        return world, outcome
    joins = list(world.joins)
    touched = []
    for number, pair in enumerate(setup.pairs):
        if target in (pair.target, pair.other) and row.unjoin:
            joins[number] = machines.join(joins[number], "cascade_unjoin")
            other = pair.other if pair.target == target else pair.target
            touched.append(setup.devices[other].id)
    effects = [f"{', '.join(touched)} unjoined ({row.event} cascade)"] if touched else []
    sent = [f"{row.alert} {setup.devices[target].id} " + (" ".join(touched) or "-")]
    world = replace(world, joins=tuple(joins))
    return world, replace(
        outcome,
        effects=(*outcome.effects, *effects),
        alerts=(*outcome.alerts, *(sent if row.alert else ())),
    )


def _with_device(world: World, index: int, state: DeviceState) -> World:
    devices = list(world.devices)
    devices[index] = state
    return replace(world, devices=tuple(devices))


def _with_pair(world: World, index: int, pair: str) -> World:
    joins = list(world.joins)
    joins[index] = pair
    return replace(world, joins=tuple(joins))
