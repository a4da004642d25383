"""The DSP's validation as an ordered pipeline of checks, read from the rulebook.

A variant's ``[pipeline] checks`` lists the checks in order, each row with its own source;
each check reads its own table (``applicability``: ``[applicability]``; ``role``: the
Eligible User Roles, ``[roles]`` over the catalogue's; ``e5``: check E5's row for the
status; ``join-validation``: ``[joins]``). The first check that fails decides, with its own
response code; :func:`trace` reports every check for ``smi-spec explain``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from model.catalogue import lookup
from model.checks import Decision, check_applicable, check_e5
from model.messages import does
from model.provenance import Rule
from model.rule_tables import PipelineCheck
from model.variant import Variant


@dataclass(frozen=True, slots=True)
class Asked:
    """What the pipeline is asked about: one request to one device."""

    srv: str
    status: str
    device_type: str | None
    command_variant: int | None = None
    smets: int | None = None
    role: str | None = None
    #: Whether the firmware image the request delivers is on the CPL (None: no image).
    image_listed: bool | None = None
    #: Whether the sender is the device's responsible supplier (None: either is unnamed).
    sender_responsible: bool | None = None


def check_role(variant: Variant, srv: str, role: str | None) -> Decision:
    """Is the sender's role among the request's Eligible User Roles (the variant's
    ``[roles]`` row, or the DUIS catalogue's)? A request with no sender named passes."""
    own = variant.roles.get(srv)
    declared = variant.requests.get(srv)
    roles = own.roles if own is not None else frozenset(lookup(srv).roles)
    where = f"{variant.id}'s [roles]" if own is not None else "the DUIS catalogue"
    source = own.source if own is not None else "duis"
    if own is None and declared is not None:
        where, source = f"{variant.id}'s [requests]", declared.source
    listed = ", ".join(sorted(roles)) or "no role"
    rule_id = f"roles[{srv}]"
    if role is None:
        text = f"no sender role given: taken as eligible ({where}: {listed})"
        return Decision(True, None, Rule(rule_id, text, source))
    if role in roles:
        return Decision(
            True, None, Rule(rule_id, f"{role} is eligible ({where}: {listed})", source)
        )
    code = variant.role_reject_code
    text = f"{role} is not an Eligible User Role ({where}: {listed}): rejected with {code}"
    if own is not None and own.why:
        text += f"; {own.why}"
    return Decision(False, code, Rule(rule_id, text, source))


def _applicability(variant: Variant, asked: Asked) -> Decision | None:
    if asked.device_type is None:
        return None
    return check_applicable(variant, asked.srv, asked.device_type)


def _role(variant: Variant, asked: Asked) -> Decision | None:
    return check_role(variant, asked.srv, asked.role)


def _e5(variant: Variant, asked: Asked) -> Decision | None:
    return check_e5(variant, asked.srv, asked.status, asked.command_variant, asked.smets)


def _cpl_image(variant: Variant, asked: Asked) -> Decision | None:
    """The CPL check on a firmware image: an image off the CPL is refused with the check's
    own code (a variant adds this check; without it, such an image is bad input)."""
    if asked.image_listed is None:
        return None
    row = next(r for r in variant.pipeline if r.check == "cpl-image")
    rule_id = f"pipeline.checks[{variant.pipeline.index(row)}]"
    if asked.image_listed:
        return Decision(True, None, Rule(rule_id, "the image is on the CPL", row.source))
    text = f"the image is not on the CPL: rejected with {row.reject_code}"
    return Decision(False, row.reject_code, Rule(rule_id, text, row.source))


def _responsible_supplier(variant: Variant, asked: Asked) -> Decision | None:
    """The sender must be the device's responsible supplier (a variant adds this check;
    the built-ins have no supplier): a request from another Service User is refused with
    the check's own code. Not checked where the sender or the supplier is not named."""
    if asked.sender_responsible is None:
        return None
    row = next(r for r in variant.pipeline if r.check == "responsible-supplier")
    rule_id = f"pipeline.checks[{variant.pipeline.index(row)}]"
    why = f"; {row.why}" if row.why else ""
    if asked.sender_responsible:
        text = "the sender is the device's responsible supplier"
        return Decision(True, None, Rule(rule_id, text + why, row.source))
    text = f"the sender is not the device's responsible supplier: rejected with {row.reject_code}"
    return Decision(False, row.reject_code, Rule(rule_id, text + why, row.source))


def _join_validation(variant: Variant, asked: Asked) -> Decision | None:
    """Decided later, against the SMI's join record (``model.dsp``): here it only says
    whether it will run."""
    return None


_CHECKS: dict[str, Callable[[Variant, Asked], Decision | None]] = {
    "applicability": _applicability,
    "role": _role,
    "e5": _e5,
    "join-validation": _join_validation,
    "cpl-image": _cpl_image,
    "responsible-supplier": _responsible_supplier,
}

#: What ``explain`` says for a check that had nothing to check.
_NOT_CHECKED = {
    "applicability": "no device type given",
    "cpl-image": "no image given",
    "responsible-supplier": "no sender or no responsible supplier named",
}


def decide(variant: Variant, asked: Asked) -> Decision:
    """The first failing check's decision, or the last passing one's (check E5's row when
    it ran): what ``model.access.authorise`` answered before the pipeline, for the same
    request."""
    decided: Decision | None = None
    e5: Decision | None = None
    for row in variant.pipeline:
        decision = _CHECKS[row.check](variant, asked)
        if decision is None:
            continue
        decision = replace(decision, check=row.check)
        if not decision.accepted:
            return decision
        decided = decision
        if row.check == "e5":
            e5 = decision
    answer = e5 or decided
    if answer is None:
        return Decision(True, None, Rule("pipeline", "no check applies", "assumption"))
    return answer


def trace(variant: Variant, asked: Asked) -> list[dict[str, Any]]:
    """Every check of the pipeline in order: its row, the rule it read, its result."""
    rows: list[dict[str, Any]] = []
    stopped = False
    for number, row in enumerate(variant.pipeline, start=1):
        rows.append(_traced(variant, asked, number, row, stopped))
        stopped = stopped or rows[-1]["result"].startswith("rejected")
    return rows


def _traced(
    variant: Variant, asked: Asked, number: int, row: PipelineCheck, stopped: bool
) -> dict[str, Any]:
    base = {"order": number, "check": row.check, "row": f"pipeline.checks[{number - 1}]"}
    base |= {"row_source": row.source}
    if stopped:
        return base | {"result": "not reached", "rule_id": "", "text": "", "source": ""}
    if row.check == "join-validation":
        return base | join_validation(variant, asked.srv)
    decision = _CHECKS[row.check](variant, asked)
    if decision is None:
        text = _NOT_CHECKED.get(row.check, "nothing to check")
        return base | {"result": "not checked", "rule_id": "", "text": text, "source": ""}
    result = "passed" if decision.accepted else f"rejected {decision.response_code}"
    rule = decision.rule
    return base | {"result": result, "rule_id": rule.id, "text": rule.text, "source": rule.source}


def join_validation(variant: Variant, srv: str) -> dict[str, Any]:
    """The join validation's row for ``srv`` (seed:MP178): it applies to an Unjoin only, and
    reads the SMI join, so it decides later than the checks on the request alone."""
    key = "joins.unjoin_requires_smi_join"
    if does(variant.messages, srv) != "unjoin":
        return {"result": "does not apply", "rule_id": key, "text": "not an Unjoin", "source": ""}
    if variant.unjoin_requires_smi_join:
        text = (
            "the DSP validates the Unjoin against the SMI join: it rejects it with "
            f"{variant.unjoin_reject_code} when the SMI records no join of the two devices"
        )
    else:
        text = "no validation against the SMI join: the DSP forwards the Unjoin as it is"
    return {
        "result": "decided later",
        "rule_id": key,
        "text": text,
        "source": variant.source_of(key),
    }
