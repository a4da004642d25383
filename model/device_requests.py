"""Service Requests to one device (firmware and life cycle): the device's part by its type's
firmware route (variant ``[firmware.routes]``), the SMI updates that follow its response or
alert (``model/smi_update.py``), and the life-cycle events of a successful request, with
the variant's ``[suspended] critical_life_cycle`` rule while the device is Suspended.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from model import device as dev
from model.catalogue import lookup
from model.dsp_gate import gate
from model.dsp_outcome import SRV_STATUS_EVENTS, Outcome, StepNotAllowed
from model.machines import Machines
from model.messages import does
from model.provenance import Rule
from model.rule_tables import FirmwareRoute
from model.smi_update import update_smi_firmware
from model.status_chart import SUSPENDED
from model.variant import Variant
from model.world import DeviceSpec, DeviceState, Request


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
