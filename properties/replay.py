"""Replaying a DUIS message log against the model (format: docs/replay.md).

Each event steps the closed system through the one DSP (:func:`model.dsp.step`). For a
request, what the model says the DSP does (accept or reject, and the response) is compared
with what the log says happened. After every event the safety properties are checked on the
transition, and the recoverability properties on the state reached: the first event after
which a recoverability property fails is where the device and the SMI part ways and, with no
further faults and no manual correction, never meet again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.dsp import ACTIVATE_FIRMWARE, READ_FIRMWARE, Outcome, step
from model.errors import ScenarioError
from model.machines import LIVE
from model.message_log import Event, LogError, Logged, MessageLog
from model.scenario import views
from model.variant import Variant
from model.world import Setup, World
from properties.alphabet import alphabet
from properties.ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE
from properties.recoverability import recoverable
from properties.safety import violations

RECOVERABILITY = (FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE)

#: Responses that carry the firmware version the device runs (seed:MP105).
_REPORTS_VERSION = frozenset({READ_FIRMWARE, ACTIVATE_FIRMWARE})


@dataclass(frozen=True, slots=True)
class Verdict:
    """Does the model agree with one logged outcome? ``why`` says how not."""

    agrees: bool | None
    why: str | None = None


def _code(code: str | None) -> str:
    return "no response (lost)" if code is None else code


def compare(
    logged: Logged | None, outcome: Outcome, device_firmware: str | None, srv: str
) -> Verdict:
    """Compare a logged outcome with the model's. None: nothing was logged to compare."""
    if logged is None:
        return Verdict(None)
    rule = outcome.rule
    cited = f" ({rule.id}, {rule.source})" if rule is not None else ""
    if logged.accepted and not outcome.accepted:
        return Verdict(
            False,
            f"logged acceptance, model says the DSP must reject with "
            f"{outcome.response_code}{cited}",
        )
    if not logged.accepted and outcome.accepted:
        return Verdict(
            False,
            f"logged rejection {_code(logged.response_code)}, model says the DSP must "
            f"accept{cited}",
        )
    if logged.has_code and logged.response_code != outcome.response_code:
        return Verdict(
            False,
            f"logged {_code(logged.response_code)}, model says {_code(outcome.response_code)}",
        )
    if (
        logged.firmware_version is not None
        and outcome.accepted
        and outcome.response_code is not None
        and srv in _REPORTS_VERSION
        and logged.firmware_version != device_firmware
    ):
        return Verdict(
            False,
            f"logged firmware version {logged.firmware_version}, but in the model the device "
            f"runs {device_firmware}",
        )
    return Verdict(True)


def recoverability(
    setup: Setup, world: World, variant: Variant, versions: tuple[str, ...]
) -> dict[str, bool | None]:
    """Each recoverability property at ``world`` (None: the bounded search did not decide)."""
    actions = alphabet(setup, versions, variant)
    return {
        prop: recoverable(setup, world, variant, prop, lambda s, w: actions)
        for prop in RECOVERABILITY
    }


def _rule(outcome: Outcome) -> dict[str, str] | None:
    rule = outcome.rule
    return None if rule is None else {"id": rule.id, "text": rule.text, "source": rule.source}


def _logged(logged: Logged | None) -> dict[str, Any] | None:
    if logged is None:
        return None
    record: dict[str, Any] = {"accepted": logged.accepted}
    if logged.has_code:
        record["response_code"] = logged.response_code
    if logged.firmware_version is not None:
        record["firmware_version"] = logged.firmware_version
    if logged.line:
        record["from_line"] = logged.line
    return record


def replay(log: MessageLog, variant: Variant) -> dict[str, Any]:
    """Replay every event of ``log`` under ``variant``; the report of docs/replay.md."""
    world = log.start
    start_recoverable = recoverability(log.setup, world, variant, log.versions)
    no_return: dict[str, int] = {prop: 1 for prop, ok in start_recoverable.items() if ok is False}
    first_violation: dict[str, int] = dict(no_return)
    records = []
    disagreements = []
    for event, action in zip(log.events, log.actions, strict=True):
        record: dict[str, Any] = {"line": event.line, "kind": event.kind, "event": event.raw}
        if action is None:
            record["paired_with"] = event.paired_with
            records.append(record)
            continue
        before = world
        try:
            world, outcome = step(log.setup, world, action, variant, LIVE)
        except ScenarioError as exc:
            raise LogError(f"{log.path}: line {event.line}: {exc}") from None
        found = violations(log.setup, variant, before, action, world, outcome)
        now = recoverability(log.setup, world, variant, log.versions)
        parts = []
        for prop, ok in now.items():
            if ok is False and prop not in no_return:
                no_return[prop] = event.line
                parts.append(prop)
            if ok is False:
                first_violation.setdefault(prop, event.line)
        for violation in found:
            first_violation.setdefault(violation.property, event.line)
        record.update(_request_fields(event))
        record["model"] = {
            "accepted": outcome.accepted,
            "response_code": outcome.response_code,
            "rule": _rule(outcome),
            "effects": list(outcome.effects),
        }
        if event.is_request:
            index = log.setup.index(event.device or "")
            verdict = compare(event.logged, outcome, world.devices[index].firmware, event.srv or "")
            record["logged"] = _logged(event.logged)
            record["agrees"] = verdict.agrees
            record["disagreement"] = verdict.why
            if verdict.agrees is False:
                disagreements.append({"line": event.line, "why": verdict.why})
        record["violations"] = [{"property": v.property, "why": v.why} for v in found]
        record["recoverable"] = now
        record["point_of_no_return"] = parts
        record.update(views(log.setup, world))
        records.append(record)
    violated = [
        {
            "property": prop,
            "first_line": line,
            "expected_by_variant": variant.expected(prop) == "violated",
        }
        for prop, line in sorted(first_violation.items(), key=lambda item: item[1])
    ]
    return {
        "log": log.path,
        "variant": variant.id,
        "versions": list(log.versions),
        "start": {**views(log.setup, log.start), "recoverable": start_recoverable},
        "events": records,
        "disagreements": disagreements,
        "violated": violated,
        "points_of_no_return": no_return,
        "clean": not disagreements and not violated,
    }


def _request_fields(event: Event) -> dict[str, Any]:
    if not event.is_request:
        return {}
    return {
        "srv": event.srv,
        "device": event.device,
        "other": event.other,
        "command_variant": event.command_variant,
        "image": event.image,
    }
