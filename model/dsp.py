"""The Data Service Provider: one step of the closed system, requests naming several
devices, and the cascades a status change sets off.

Every function of the DSP is pure: it takes the state and returns the new state with an
:class:`Outcome` that says what happened in domain terms. The variant decides the legal-text
rules (applicability, check E5's table, firmware routes, which messages update the SMI
firmware, what a CPL change does, Unjoin validation); the two machines decide what a status
or join event does.

:func:`step` dispatches each action to the module that holds its rules: the gate
(``model/dsp_gate.py``), Service Requests to one device (``model/device_requests.py``) and
the SMI updates they make (``model/smi_update.py``), joins (``model/join_requests.py``) and
DCC events (``model/dcc_events.py``). Their public names stay importable from here.
"""

from __future__ import annotations

from dataclasses import replace

from model import device as dev
from model import type_2
from model.access import Decision, authorise, check_applicable, check_e5
from model.dcc_events import actor_event, cpl_change, cpl_step, dcc_event
from model.device_requests import serve_device_request
from model.dsp_gate import asked_of, gate, responsible
from model.dsp_outcome import (
    ACTIVATE_FIRMWARE,
    JOIN_SRVS,
    READ_DEVICE_LOG,
    READ_FIRMWARE,
    SRV_STATUS_EVENTS,
    UNJOIN_SRVS,
    UPDATE_FIRMWARE,
    Outcome,
    StepNotAllowed,
    with_device,
    with_pair,
)
from model.join_requests import manual_fix, serve_join_request, serve_read_device_log
from model.machines import Machines
from model.messages import does
from model.provenance import ASSUMPTION, Rule
from model.rule_tables import ACTOR_EVENTS
from model.smi_update import settle_status, update_smi_firmware
from model.variant import Variant
from model.world import Action, CplChange, DccEvent, ManualFix, Request, Setup, World

#: Imported from here across the project: the access checks, the names and outcome of a
#: step (model/dsp_outcome.py), the gate, the SMI updates and each kind of action's handling.
__all__ = [
    "ACTIVATE_FIRMWARE",
    "JOIN_SRVS",
    "READ_DEVICE_LOG",
    "READ_FIRMWARE",
    "SRV_STATUS_EVENTS",
    "UNJOIN_SRVS",
    "UPDATE_FIRMWARE",
    "Decision",
    "Outcome",
    "StepNotAllowed",
    "actor_event",
    "asked_of",
    "authorise",
    "cascade",
    "check_applicable",
    "check_e5",
    "cpl_change",
    "cpl_step",
    "dcc_event",
    "gate",
    "manual_fix",
    "responsible",
    "serve_device_request",
    "serve_join_request",
    "serve_many",
    "serve_read_device_log",
    "settle_status",
    "step",
    "update_smi_firmware",
]

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
        return with_pair(world, action.pair, pair), outcome
    if isinstance(action, DccEvent) and action.event in ACTOR_EVENTS:
        return actor_event(world, action, variant)
    if isinstance(action, DccEvent):
        state = dcc_event(world.devices[action.target], action.event, machines)
        rule = Rule(f"dcc.{action.event}", f"DCC event {action.event}", ASSUMPTION)
        effect = f"status {world.devices[action.target].status} → {state.status}"
        after = with_device(world, action.target, state)
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
        return with_pair(world, index, pair), outcome
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
    after = with_device(world, action.target, new_state)
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
