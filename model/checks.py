"""Two of the DSP's pipeline checks (``model/pipeline.py``): does the request apply to the
target's device type, and check E5 'Failed Authorisation - Invalid Device Status'.

Both read the variant's tables, and every decision names the row that made it, with its
source: ``applicability[11.2]`` (seed:MP105), ``suspended.exceptions[3]`` (seed:MP105),
``e5.commissioned.admits`` (assumption), and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.catalogue import Applicability, lookup
from model.provenance import DUIS, Rule
from model.rule_tables import E5Row
from model.status_chart import SUSPENDED
from model.variant import Variant


@dataclass(frozen=True, slots=True)
class Decision:
    """The DSP's access-control decision for one request."""

    accepted: bool
    response_code: str | None
    rule: Rule
    #: The pipeline check that took it (``model/pipeline.py``).
    check: str = ""


def join_tags(*tags: str) -> str:
    """Provenance tags joined, each once, in order."""
    found = _JOINED.get(tags)
    if found is None:
        found = ",".join(dict.fromkeys(t for tag in tags for t in tag.split(",") if t))
        if len(_JOINED) < 1024:  # a DSP step joins the same few tags by the thousand
            _JOINED[tags] = found
    return found


_JOINED: dict[tuple[str, ...], str] = {}


def check_applicable(variant: Variant, srv: str, device_type: str) -> Decision:
    """Does ``srv`` apply to the target's device type? DUIS refuses one that does not with
    its own check ("Service Reference not compatible with the specified device"), not E5."""
    applies, row = variant.applies(srv, device_type)
    label = lookup(srv).label
    own = srv in variant.applicability
    where = f"{variant.id}'s [applicability]" if own else "the DUIS reference data"
    types = ", ".join(sorted(row.device_types)) or "no device type"
    text = (
        f"{label} applies to {device_type} ({where}: {types})"
        if applies
        else f"{label} does not apply to {device_type} ({where}: {types}): rejected with "
        f"{variant.applicability_reject_code}"
    )
    # The data file keeps each type's own evidence: an accepted type cites it, with its tag.
    why, source = row.why, row.source
    if applies and isinstance(row, Applicability):
        why, source = row.why_for(device_type), row.source_for(device_type)
    if why:
        text += f"; {why}"
    rule = Rule(f"applicability[{srv}]", text, source)
    return Decision(applies, None if applies else variant.applicability_reject_code, rule)


def check_e5(
    variant: Variant,
    srv: str,
    status: str,
    command_variant: int | None = None,
    smets: int | None = None,
) -> Decision:
    """Check E5 for a request whose Business Target is in ``status``: the status's row of
    the variant's E5 table decides (the Suspended row: seed:MP105; the others: as tagged).

    A Non-Device Request the row does not gate passes; then a row that admits ``all``
    accepts, one that admits ``critical`` accepts a Critical request, and any row accepts a
    request on its exception list, Command Variant and SMETS conditions included. Anything
    else is rejected with the row's code, and so is a request on the row's deny list, first
    and whatever the row admits.
    """
    request = lookup(srv)
    row = variant.e5[status]
    table = "suspended" if status == SUSPENDED else f"e5.{status}"
    for number, entry in enumerate(row.deny):
        if entry.matches(srv, command_variant, smets):
            text = f"{entry.describe()} is on the {status} row's deny list: rejected with "
            source = entry.source or row.source
            rule = Rule(f"{table}.deny[{number}]", text + row.reject_code, source)
            return Decision(False, row.reject_code, rule)
    if request.non_device:
        found = row.non_device_rule(srv)
        if found is not None and not found[1].gated:
            number, ungated = found
            text = f"{request.label} is a Non-Device Request the {status} row does not gate"
            return Decision(
                True,
                None,
                Rule(f"{table}.non_device[{number}]", f"{text}: {ungated.why}", ungated.source),
            )
    if row.admits == "all":
        # A seed's own fact about this status ("this will pass through the DSP", seed:MP178
        # for SR8.7.2 to a Commissioned device) is cited by its exception row, not by the
        # admit-all assumption it agrees with.
        for number, entry in enumerate(row.exceptions):
            if entry.matches(srv, command_variant, smets):
                text = f"{entry.describe()} is on the exception list: accepted while {status}"
                source = entry.source or row.source
                return Decision(True, None, Rule(f"{table}.exceptions[{number}]", text, source))
        text = f"check E5 admits every request for a {status} device"
        admitted = Rule(f"{table}.admits", text + (f": {row.why}" if row.why else ""), row.source)
        return Decision(True, None, admitted)
    if row.admits == "critical" and request.critical:
        source = (
            variant.source_of(f"{table}.allow_critical") if table == "suspended" else row.source
        )
        text = f"{request.label} is Critical: accepted while {status}"
        rule_id = "suspended.allow_critical" if table == "suspended" else f"{table}.admits"
        return Decision(True, None, Rule(rule_id, text, join_tags(source, DUIS)))
    near_misses = []
    for number, entry in enumerate(row.exceptions):
        if entry.matches(srv, command_variant, smets):
            text = f"{entry.describe()} is on the exception list: accepted while {status}"
            source = entry.source or variant.source_of(f"{table}.exceptions")
            return Decision(True, None, Rule(f"{table}.exceptions[{number}]", text, source))
        if entry.srv == srv:
            near_misses.append(entry.describe())
    rejected = _rejection(variant, request.label, row, table, near_misses, command_variant, smets)
    return Decision(False, row.reject_code, rejected)


def _rejection(
    variant: Variant,
    label: str,
    row: E5Row,
    table: str,
    near_misses: list[str],
    command_variant: int | None,
    smets: int | None,
) -> Rule:
    if near_misses:
        why = (
            f"{label} is on the exception list only as {', '.join(near_misses)}; "
            f"Command Variant {command_variant}, SMETS{smets} does not meet it"
        )
    elif row.admits == "none":
        why = f"check E5 admits nothing for a {row.status} device" + (
            f" ({row.why})" if row.why else ""
        )
    else:
        why = f"{label} is Non-Critical and not on the exception list"
    source = variant.source_of("suspended.reject_code") if table == "suspended" else row.source
    return Rule(f"{table}.reject_code", f"{why}: rejected with {row.reject_code}", source)
