"""Replaying a DUIS message log against the model (format: docs/replay.md).

Each event steps the closed system through the one DSP (:func:`model.dsp.step`), over the
tables compiled from the live machines (:mod:`checker.machine_tables`, as the explorer). For a
request, what the model says the DSP does (accept or reject, and the response) is compared
with what the log says happened. After every event the safety properties are checked on the
transition, and the recoverability properties on the state reached: the first event after
which a recoverability property fails is where the device and the SMI part ways and, with no
further faults and no manual correction, never meet again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from checker.alphabet import alphabet
from checker.machine_tables import compiled
from checker.replay_versions import ReplayVersions
from model.dsp import ACTIVATE_FIRMWARE, READ_FIRMWARE, Outcome, step
from model.errors import InputError, ScenarioError
from model.log_event import Event, LogError, Logged, scenario_step
from model.message_log import MessageLog, events
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE
from model.scenario_start import with_pair
from model.scenario_steps import pair_named, parse_action, resolve_fix
from model.scenario_views import device_view, join_view, views
from model.variant import Variant
from model.world import Action, Setup, World
from properties.recoverability import recoverable
from properties.safety import Violation, violations

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
        prop: recoverable(setup, world, variant, prop, lambda s, w: actions, compiled())
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


class _Recoverability:
    """The recoverability verdicts of a state, cached by state: a replay revisits the same
    few states of a device many times. The cache is cleared when full, so it stays bounded."""

    LIMIT = 65_536

    def __init__(self, variant: Variant) -> None:
        self.variant = variant
        # Within one replay the devices are fixed and pairs only added: the number of pairs
        # identifies the setup (and is cheaper to hash than the setup).
        self.cache: dict[tuple[int, World, tuple[str, ...]], dict[str, bool | None]] = {}

    def __call__(
        self, setup: Setup, world: World, versions: tuple[str, ...]
    ) -> dict[str, bool | None]:
        key = (len(setup.pairs), world, versions)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= self.LIMIT:
                self.cache.clear()
            found = self.cache[key] = recoverability(setup, world, self.variant, versions)
        return dict(found)


@dataclass
class Replay:
    """A replay in progress: :meth:`records` yields one record per event as the log is read;
    afterwards :meth:`summary` has the disagreements, violations and points of no return.

    ``full_views``: each record carries the SMI and device views of every device and join
    (the ``--format json`` report); otherwise only of those the event changed (JSON Lines).
    Versions are those named so far (the start's and each event's up to the current one):
    a version no device has reached cannot change whether a device recovers."""

    log: MessageLog
    variant: Variant
    full_views: bool = True
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    disagreement_count: int = 0
    no_return: dict[str, int] = field(default_factory=dict)
    first_violation: dict[str, int] = field(default_factory=dict)
    versions: set[str] = field(default_factory=set)
    start_recoverable: dict[str, bool | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        begin = self.log.inventory
        self.setup, self.world = begin.setup, begin.start
        self.frame = ReplayVersions(self.world)  # bounded cost per event (issue 25)
        self.versions = self.frame.named
        self.check = _Recoverability(self.variant)
        self.transitions: dict[
            tuple[int, World, Action], tuple[World, Outcome, list[Violation]]
        ] = {}
        self.start_recoverable = self.check(self.setup, *self.frame.for_recoverability(self.world))
        self.no_return = {p: 1 for p, ok in self.start_recoverable.items() if ok is False}
        self.first_violation = dict(self.no_return)

    def start(self) -> dict[str, Any]:
        return {
            **views(self.setup, self.log.inventory.start),
            "recoverable": self.start_recoverable,
        }

    def records(self) -> Iterator[dict[str, Any]]:
        for event in events(self.log):
            self.frame.name(event.versions)
            record: dict[str, Any] = {"line": event.line, "kind": event.kind, "event": event.raw}
            if event.kind in ("response", "response_lost"):
                record["paired_with"] = event.paired_with
            else:
                try:
                    self._step(event, record)
                except InputError as exc:
                    if exc.where is None:  # a step's own error: the line it stopped at
                        exc.located(line=event.line)
                    raise
            yield record

    def _action(self, event: Event) -> Action:
        raw = scenario_step(event)
        where = f"line {event.line}"
        action = parse_action(self.log.path, where, self.setup, raw)
        pair = pair_named(action, raw, self.setup)
        if pair is not None and pair not in self.setup.pairs:
            try:
                self.setup, self.world = with_pair(self.setup, self.world, pair)
            except ScenarioError as exc:
                raise LogError(f"{self.log.path}: {where}: {exc}") from None
        return resolve_fix(self.setup, raw, action)

    def _step(self, event: Event, record: dict[str, Any]) -> None:
        action = self._action(event)
        before = self.frame.before(self.world, event.versions)
        try:
            self.world, outcome, found = self._transition(before, action)
        except ScenarioError as exc:
            raise LogError(f"{self.log.path}: line {event.line}: {exc}") from None
        self.frame.follow(before, self.world)
        now = self.check(self.setup, *self.frame.for_recoverability(self.world))
        parts = []
        for prop, ok in now.items():
            if ok is False and prop not in self.no_return:
                self.no_return[prop] = event.line
                parts.append(prop)
            if ok is False:
                self.first_violation.setdefault(prop, event.line)
        for violation in found:
            self.first_violation.setdefault(violation.property, event.line)
        record.update(_request_fields(event))
        record["model"] = {
            "accepted": outcome.accepted,
            "response_code": outcome.response_code,
            "rule": _rule(outcome),
            "effects": list(outcome.effects),
            "alerts": list(outcome.alerts),
        }
        if event.is_request:
            self._compare(event, outcome, record)
        record["violations"] = [{"property": v.property, "why": v.why} for v in found]
        record["recoverable"] = now
        record["point_of_no_return"] = parts
        if self.full_views:
            record.update(views(self.setup, self.frame.full(self.world)))
        else:
            record.update(changed_views(self.setup, before, self.world))

    def _transition(self, before: World, action: Action) -> tuple[World, Outcome, list[Violation]]:
        """One step of the DSP and the safety properties it breaks, memoised per (state,
        action): the step is a function of them (the variant and devices are fixed)."""
        key = (len(self.setup.pairs), before, action)
        found = self.transitions.get(key)
        if found is None:
            after, outcome = step(self.setup, before, action, self.variant, compiled())
            broken = violations(self.setup, self.variant, before, action, after, outcome)
            if len(self.transitions) >= _Recoverability.LIMIT:
                self.transitions.clear()
            found = self.transitions[key] = (after, outcome, broken)
        return found

    def _compare(self, event: Event, outcome: Outcome, record: dict[str, Any]) -> None:
        index = self.setup.index(event.device or "")
        firmware = self.world.devices[index].firmware
        verdict = compare(event.logged, outcome, firmware, event.srv or "")
        record["logged"] = _logged(event.logged)
        record["agrees"] = verdict.agrees
        record["disagreement"] = verdict.why
        if verdict.agrees is False:
            self.disagreement_count += 1
            if self.full_views:
                self.disagreements.append({"line": event.line, "why": verdict.why})

    def violated(self) -> list[dict[str, Any]]:
        return [
            {
                "property": prop,
                "first_line": line,
                "expected_by_variant": self.variant.expected(prop) == "violated",
            }
            for prop, line in sorted(self.first_violation.items(), key=lambda item: item[1])
        ]

    def as_expected(self) -> bool:
        """The README's exit-code rule for a replay: the model agrees with every logged
        outcome, and every property the log violates is one the variant's [expect] table
        says is violated (one log is one path: not meeting an expected violation is fine)."""
        return self.disagreement_count == 0 and all(
            self.variant.expected(prop) == "violated" for prop in self.first_violation
        )

    def summary(self) -> dict[str, Any]:
        """What follows the events in the report of docs/replay.md."""
        return {
            "versions": list(self.frame.all()),
            "disagreements": self.disagreements,
            "violated": self.violated(),
            "points_of_no_return": self.no_return,
            "clean": self.disagreement_count == 0 and not self.first_violation,
        }


def changed_views(setup: Setup, before: World, after: World) -> dict[str, Any]:
    """The views of the devices and joins one step changed (a join first named is new)."""
    old_joins = len(before.joins)
    return {
        "devices": {
            spec.id: device_view(spec, new)
            for spec, old, new in zip(setup.devices, before.devices, after.devices, strict=True)
            if old != new
        },
        "joins": [
            join_view(setup, pair, state)
            for n, (pair, state) in enumerate(zip(setup.pairs, after.joins, strict=True))
            if n >= old_joins or before.joins[n] != state
        ],
    }


def replay(log: MessageLog, variant: Variant) -> dict[str, Any]:
    """Replay every event of ``log`` under ``variant``; the whole report of docs/replay.md
    (held in memory: for small logs and tests; the CLI streams :class:`Replay`)."""
    run = Replay(log, variant)
    start = run.start()
    records = list(run.records())
    summary = run.summary()
    return {
        "log": log.path,
        "variant": variant.id,
        "versions": list(summary.pop("versions")),
        "start": start,
        "events": records,
        **summary,
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
