"""Replay of a fleet's message log, one installation at a time (docs/replay.md, "Fleet logs").

A fleet log starts with a ``fleet`` header instead of an inventory: installations of the
explorer's closed systems (:func:`checker.explorer.universe`), each a device on F1, its
Other Device and their pair, numbered 1..N; device ``esme1`` of installation 17 is
``esme1-17``. Installations never share a device, so each is replayed as its own small
world; a CPL change without ``installation`` is fleet-wide and reaches every installation
in log order, one with ``installation`` reaches that one only.

Speed: a world is interned as a number per installation type, and a transition is computed
once by the one DSP (:func:`model.dsp.step`) and the one set of safety checks, then looked
up by (state number, action key): the per-event path is a JSON parse and two dictionary
lookups, with no new objects for a known transition. Recoverability is the replay's own
(:func:`checker.replay.recoverability`), once per state.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any

from checker.explorer import Bounds, System, universe
from checker.machine_tables import compiled
from checker.replay import RECOVERABILITY, compare, recoverability
from model.catalogue import normalise_srv
from model.dsp import StepNotAllowed, step
from model.errors import InputError
from model.log_event import Logged
from model.variant import Variant, load_variant
from model.world import CplChange, Request, Setup, World
from properties.safety import violations

#: How many disagreements a fleet report lists (all are counted).
LISTED = 100


class FleetLogError(InputError):
    """A fleet log the replay cannot accept; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of installation: a closed system with a compliant device or not."""

    target: str
    other: str | None
    compliant: bool
    count: int


@dataclass
class Table:
    """The precompiled transitions of one kind of installation, filled as they are met."""

    setup: Setup
    versions: tuple[str, ...]
    worlds: list[World]
    index: dict[World, int]
    names: dict[str, int]
    moves: dict[tuple[int, Any], tuple[int, Any, tuple[str, ...]]] = field(default_factory=dict)
    failed: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def state(self, world: World) -> int:
        number = self.index.get(world)
        if number is None:
            number = self.index[world] = len(self.worlds)
            self.worlds.append(world)
        return number


def parse_header(path: str, text: str) -> tuple[str, list[Kind]]:
    """The fleet header: ``{"fleet": {"variant", "installations": [{"target", "other"?,
    "compliant"?, "count"}]}}``."""
    try:
        document = json.loads(text)
        fleet = document["fleet"]
        variant = fleet.get("variant", "baseline")
        kinds = [
            Kind(k["target"], k.get("other"), bool(k.get("compliant", True)), int(k["count"]))
            for k in fleet["installations"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise FleetLogError(
            f'{path}: line 1: a fleet log starts {{"fleet": {{"variant", "installations": '
            f'[{{"target", "other", "compliant", "count"}}]}}}} (docs/replay.md)'
        ) from None
    if not isinstance(variant, str) or any(k.count < 1 for k in kinds) or not kinds:
        raise FleetLogError(f"{path}: line 1: fleet: a variant id and counts of 1 or more")
    return variant, kinds


class FleetReplay:
    """Replays events of some installations of a fleet; :meth:`result` is mergeable."""

    def __init__(
        self, path: str, variant: Variant, kinds: list[Kind], part: int = 0, parts: int = 1
    ) -> None:
        self.path, self.variant, self.kinds = path, variant, kinds
        self.part, self.parts = part, parts
        #: Fleet-wide CPL changes so far, and how many of them each installation has had:
        #: they reach an installation when it is next stepped, or at the end.
        self.fleet_cpl: list[tuple[int, Any]] = []
        self.caught_up: dict[int, int] = {}
        self.ends: list[int] = []
        total = 0
        for kind in kinds:
            total += kind.count
            self.ends.append(total)
        self.tables = [self._table(kind) for kind in kinds]
        self.states: dict[int, int] = {}
        self.events = 0
        self.disagreements: list[tuple[int, str]] = []
        self.disagreement_count = 0
        self.first_violation: dict[str, int] = {}
        self.no_return: dict[str, int] = {}
        self.stranded: dict[int, tuple[str, ...]] = {}
        self.logged: dict[Any, Logged] = {}

    def _table(self, kind: Kind) -> Table:
        system = System(kind.target, kind.other)
        made = universe(Bounds(), self.variant, system)
        index = 0 if kind.compliant else 1
        setup = made.setups[index]
        start = next(w for s, w in made.starts if s == index)
        names = {spec.id: n for n, spec in enumerate(setup.devices)}
        return Table(setup, made.versions, [start], {start: 0}, names)

    def kind_of(self, installation: int, line: int) -> int:
        if not 1 <= installation <= self.ends[-1]:
            raise self._fail(line, f"no installation {installation} in the fleet")
        return bisect.bisect_left(self.ends, installation)

    def _fail(self, line: int, message: str) -> FleetLogError:
        return FleetLogError(f"{self.path}: line {line}: {message}")

    def device(self, name: Any, line: int) -> tuple[int, int]:
        """(installation, device index in its kind) of ``esme1-17``."""
        if not isinstance(name, str) or "-" not in name:
            raise self._fail(line, f"{name!r} is not a fleet device id such as esme1-17")
        local, _, number = name.rpartition("-")
        if not number.isdigit():
            raise self._fail(line, f"{name!r} is not a fleet device id such as esme1-17")
        installation = int(number)
        found = self.tables[self.kind_of(installation, line)].names.get(local)
        if found is None:
            raise self._fail(line, f"installation {installation} has no device {local!r}")
        return installation, found

    def apply(self, line: int, installation: int, key: Any, logged: Logged | None) -> None:
        """One event of one installation, by its action key (see :func:`parse_event`)."""
        self.events += 1
        self._catch_up(installation)
        self._step(line, installation, key, logged)

    def fleet_wide(self, line: int, key: Any) -> None:
        """A CPL change for every installation, applied to each in log order."""
        self.events += self.part == 0
        self.fleet_cpl.append((line, key))

    def _catch_up(self, installation: int) -> None:
        done = self.caught_up.get(installation, 0)
        if done < len(self.fleet_cpl):
            for line, key in self.fleet_cpl[done:]:
                self._step(line, installation, key, None)
            self.caught_up[installation] = len(self.fleet_cpl)

    def finish(self) -> None:
        """Every installation of this part has every fleet-wide change."""
        if self.fleet_cpl:
            for installation in range(self.part + 1, self.ends[-1] + 1, self.parts):
                self._catch_up(installation)

    def _step(self, line: int, installation: int, key: Any, logged: Logged | None) -> None:
        kind = self.kind_of(installation, line)
        table = self.tables[kind]
        before = self.states.get(installation, 0)
        move = table.moves.get((before, key))
        if move is None:
            move = self._compute(table, before, key, line)
        after, outcome, broken = move
        self.states[installation] = after
        for prop in broken:
            if line < self.first_violation.get(prop, line + 1):
                self.first_violation[prop] = line
        failed = table.failed.get(after)
        if failed is None:
            verdicts = recoverability(
                table.setup, table.worlds[after], self.variant, table.versions
            )
            failed = table.failed[after] = tuple(p for p, ok in verdicts.items() if ok is False)
        if failed:
            known = self.stranded.get(installation, ())
            for prop in failed:
                if prop in known:
                    continue
                known = self.stranded[installation] = (*known, prop)
                if line < self.no_return.get(prop, line + 1):
                    self.no_return[prop] = line
                if line < self.first_violation.get(prop, line + 1):
                    self.first_violation[prop] = line
        if logged is not None and outcome is not None:
            srv, target = key[0], key[1]
            firmware = table.worlds[after].devices[target].firmware
            verdict = compare(logged, outcome, firmware, srv)
            if verdict.agrees is False:
                self.disagreement_count += 1
                if len(self.disagreements) < LISTED:
                    self.disagreements.append((line, verdict.why or ""))

    def _compute(self, table: Table, before: int, key: Any, line: int) -> Any:
        world = table.worlds[before]
        if key[0] == "cpl":
            action: Any = CplChange(key[1], key[2])
        else:
            srv, target, other, image, variant_, lost = key
            action = Request(srv, target, other, image, variant_, lose_response=lost)
        try:
            after, outcome = step(table.setup, world, action, self.variant, compiled())
        except StepNotAllowed as exc:
            raise self._fail(line, str(exc)) from None
        except InputError as exc:
            raise self._fail(line, str(exc)) from None
        broken = tuple(
            v.property for v in violations(table.setup, self.variant, world, action, after, outcome)
        )
        move = (table.state(after), None if key[0] == "cpl" else outcome, broken)
        table.moves[(before, key)] = move
        return move

    def result(self) -> dict[str, Any]:
        """This part's findings, in a form :func:`merge` combines whatever the partition."""
        return {
            "events": self.events,
            "disagreements": self.disagreements,
            "disagreement_count": self.disagreement_count,
            "first_violation": self.first_violation,
            "no_return": self.no_return,
            "stranded": {str(k): list(v) for k, v in self.stranded.items()},
        }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine partitions: counts add, first lines are the least, lists sort by line."""
    first: dict[str, int] = {}
    no_return: dict[str, int] = {}
    stranded: dict[str, list[str]] = {}
    listed: list[tuple[int, str]] = []
    for part in parts:
        for into, found in ((first, part["first_violation"]), (no_return, part["no_return"])):
            for prop, line in found.items():
                into[prop] = min(line, into.get(prop, line))
        stranded.update(part["stranded"])
        listed += [tuple(d) for d in part["disagreements"]]  # type: ignore[misc]
    by_property = {p: sum(p in v for v in stranded.values()) for p in RECOVERABILITY}
    return {
        "events": sum(p["events"] for p in parts),
        "disagreements": [{"line": n, "why": w} for n, w in sorted(listed)[:LISTED]],
        "disagreement_count": sum(p["disagreement_count"] for p in parts),
        "violated": [
            {"property": p, "first_line": n} for p, n in sorted(first.items(), key=lambda i: i[1])
        ],
        "points_of_no_return": dict(sorted(no_return.items())),
        "stranded_installations": len(stranded),
        "stranded_by_property": by_property,
    }


def logged_of(raw: dict[str, Any], cache: dict[Any, Logged]) -> Logged | None:
    """A request's logged outcome, shared between the events that log the same one."""
    if raw.get("lose_response") is True:
        key: Any = "lost"
        found = cache.get(key)
        if found is None:
            found = cache[key] = Logged(True, None, True)
        return found
    logged = raw.get("logged")
    if logged is None:
        return None
    key = (logged.get("accepted"), logged.get("response_code"), logged.get("firmware_version"))
    found = cache.get(key)
    if found is None:
        if not isinstance(key[0], bool):
            raise InputError("logged: accepted must be true or false")
        found = cache[key] = Logged(key[0], key[1], "response_code" in logged, key[2])
    return found


def parse_event(run: FleetReplay, line: int, text: str) -> tuple[int | None, Any, Any]:
    """(installation or None for a fleet-wide event, action key, logged) of one line."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise run._fail(line, "not JSON") from None
    if not isinstance(raw, dict):
        raise run._fail(line, "not a JSON object")
    inline = raw.get("inline")
    if isinstance(inline, dict):
        installation, target = run.device(inline.get("target"), line)
        other = inline.get("other")
        if other is not None:
            other_installation, other = run.device(other, line)
            if other_installation != installation:
                raise run._fail(line, "a join pair never spans two installations")
        srv = inline.get("srv")
        if not isinstance(srv, str):
            raise run._fail(line, "inline needs an srv")
        try:
            srv = normalise_srv(srv)
            logged = logged_of(raw, run.logged)
        except InputError as exc:
            raise run._fail(line, str(exc)) from None
        lost = raw.get("lose_response") is True
        key = (srv, target, other, inline.get("image"), inline.get("command_variant", 1), lost)
        return installation, key, logged
    for name, listed in (("cpl_remove", False), ("cpl_add", True)):
        version = raw.get(name)
        if isinstance(version, str):
            scope = raw.get("installation")
            if scope is not None and (not isinstance(scope, int) or isinstance(scope, bool)):
                raise run._fail(line, "installation must be a number")
            return scope, ("cpl", version, listed), None
    raise run._fail(line, "a fleet log holds inline requests and CPL changes only (docs/replay.md)")


def replay_lines(
    path: str,
    variant_ref: str | None,
    header: str,
    lines: list[tuple[int, str]],
    part: int = 0,
    parts: int = 1,
) -> dict[str, Any]:
    """Replay the lines of one partition of a fleet log (all of it: part 0 of 1): the
    installations numbered ``part + 1`` modulo ``parts`` and every fleet-wide line."""
    variant_id, kinds = parse_header(path, header)
    run = FleetReplay(path, load_variant(variant_ref or variant_id), kinds, part, parts)
    for number, text in lines:
        installation, key, logged = parse_event(run, number, text)
        if installation is None:
            run.fleet_wide(number, key)
        elif (installation - 1) % parts == part:
            run.apply(number, installation, key, logged)
    run.finish()
    return run.result()
