"""Joins: SR8.7.x Join and SR8.8.x Unjoin for one pair, SR8.9 Read Device Log, and the DCC's
manual SMI fix (seed:MP178; the variant's ``[joins]`` rules, ``reconcile_smi_from_8_9``).
"""

from __future__ import annotations

from dataclasses import replace

from model import device as dev
from model.dsp_gate import gate
from model.dsp_outcome import Outcome
from model.join_machine import STATES as JOIN_STATES
from model.machines import Machines
from model.messages import does
from model.provenance import SEED_MP178, Rule
from model.variant import Variant
from model.world import DeviceSpec, DeviceState, Request


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
