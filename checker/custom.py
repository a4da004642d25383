"""Properties a spec author writes in a TOML file (docs/formats.md, "Properties files").

Two kinds, as the built-in ones:

- an **invariant**: an expression (``properties.expressions``) over the SMI and device views
  of one device (or one join pair) that must hold for every device (pair) in every reachable
  state;
- a **recoverability goal**: an expression that, from every reachable state, a state in which
  it holds for every device (pair) stays reachable over the ways back of
  :func:`properties.recoverability.is_recovery_action` (no lost message, no manual SMI
  correction; with ``new_image = false``, no new firmware image to a device whose SMI has lost
  track of the version it runs, as the firmware properties' way back).

Each is checked on the explorer's own closed systems and bounds: a breadth-first search over
the same universe and the same DSP (``model.dsp.step`` on the compiled tables), whose states
are the explorer's (each found in its index), so the verdicts come with the explorer's
stories, ITF traces and ``[expect]`` handling.
"""

from __future__ import annotations

import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.explorer import Exploration, PropertyResult, System
from checker.machine_tables import compiled
from model.dsp import StepNotAllowed, step
from model.errors import InputError
from model.join_machine import STATES as JOIN_STATES
from model.property_ids import FIRMWARE_RECOVERABLE, JOIN_RECOVERABLE, PROPERTY_IDS
from model.world import Action, Request, Setup, World
from properties.expressions import ExpressionError, Node, evaluate, parse
from properties.recoverability import is_recovery_action

#: The names an expression may use, by what it ranges over (docs/formats.md).
DEVICE_NAMES = frozenset(
    {
        "status",
        "prior_status",
        "smi_firmware",
        "device_firmware",
        "image",
        "compliant",
        "type",
        "cpl_listed",
        "cpl",
    }
)
JOIN_NAMES = frozenset(
    {"smi_joined", "device_joined", "target_status", "target_type", "other_type", "cpl"}
)
NAMES = {"device": DEVICE_NAMES, "join": JOIN_NAMES}
KINDS = ("invariant", "recoverable")
_KEYS = {
    "invariant": {"id", "over", "holds", "source", "why"},
    "recoverable": {"id", "over", "goal", "new_image", "source", "why"},
}


@dataclass(frozen=True, slots=True)
class CustomProperty:
    """One property of a properties file, parsed."""

    id: str
    kind: str  # invariant or recoverable
    over: str  # device or join
    text: str
    tree: Node
    new_image: bool
    source: str
    why: str
    expect: str | dict[str, str]

    def expected(self, subject: str | None) -> str:
        if isinstance(self.expect, str):
            return self.expect
        return self.expect.get(subject or "", "holds")

    def subject(self, system: System) -> str | None:
        return system.pair_subject if self.over == "join" else system.device_subject

    def holds_for(self, setup: Setup, world: World) -> str | None:
        """None if the expression holds for every device (pair) of ``world``; else the id of
        the first for which it does not."""
        for who, scope in scopes(self.over, setup, world):
            if not evaluate(self.tree, scope):
                return who
        return None


def scopes(over: str, setup: Setup, world: World) -> list[tuple[str, dict[str, Any]]]:
    """Each device's (or join pair's) names, as the expression sees them."""
    if over == "device":
        return [
            (
                spec.id,
                {
                    "status": d.status,
                    "prior_status": d.prior,
                    "smi_firmware": d.smi_firmware,
                    "device_firmware": d.firmware,
                    "image": d.image,
                    "compliant": spec.compliant,
                    "type": spec.type,
                    "cpl_listed": spec.cpl_listed,
                    "cpl": world.cpl,
                },
            )
            for spec, d in zip(setup.devices, world.devices, strict=True)
        ]
    found = []
    for pair, state in zip(setup.pairs, world.joins, strict=True):
        target, other = setup.devices[pair.target], setup.devices[pair.other]
        found.append(
            (
                f"{target.id}-{other.id}",
                {
                    "smi_joined": JOIN_STATES[state].smi,
                    "device_joined": JOIN_STATES[state].device,
                    "target_status": world.devices[pair.target].status,
                    "target_type": target.type,
                    "other_type": other.type,
                    "cpl": world.cpl,
                },
            )
        )
    return found


def _fail(path: str, message: str) -> InputError:
    return InputError(f"{path}: {message}")


def _property(path: str, kind: str, n: int, raw: Any, expect: dict[str, Any]) -> CustomProperty:
    where = f"{kind}[{n}]"
    if not isinstance(raw, dict):
        raise _fail(path, f"{where}: expected a table")
    unknown = sorted(set(raw) - _KEYS[kind])
    if unknown:
        raise _fail(path, f"{where}: unknown key {unknown[0]!r}")
    pid = raw.get("id")
    if not isinstance(pid, str) or not pid or not all(c.isalnum() or c == "-" for c in pid):
        raise _fail(path, f"{where}: id must be letters, digits and dashes")
    if pid in PROPERTY_IDS:
        raise _fail(path, f"{where}: id {pid!r} is a built-in property")
    over = raw.get("over", "device")
    if over not in NAMES:
        raise _fail(path, f"{pid}: over must be device or join, not {over!r}")
    field = "holds" if kind == "invariant" else "goal"
    text = raw.get(field)
    if not isinstance(text, str):
        raise _fail(path, f"{pid}: {field} must be a string (an expression)")
    try:
        tree = parse(text, NAMES[over])
    except ExpressionError as exc:
        raise _fail(path, f"{pid}: {field}: {exc}") from None
    new_image = raw.get("new_image", False)
    if not isinstance(new_image, bool):
        raise _fail(path, f"{pid}: new_image must be true or false")
    said = expect.get(pid, "holds")
    verdicts = [said] if isinstance(said, str) else list(said.values())
    if not isinstance(said, (str, dict)) or any(v not in ("holds", "violated") for v in verdicts):
        raise _fail(path, f"expect.{pid}: holds or violated (or a table of them per type)")
    return CustomProperty(
        pid,
        kind,
        over,
        text,
        tree,
        new_image,
        str(raw.get("source", "assumption")),
        str(raw.get("why", "")),
        said if isinstance(said, str) else {str(k): str(v) for k, v in said.items()},
    )


def load_properties(file: str) -> list[CustomProperty]:
    """A properties file, validated; any fault is one :class:`InputError` line."""
    try:
        document = tomllib.loads(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: not TOML: {exc}") from None
    unknown = sorted(set(document) - {*KINDS, "expect", "title"})
    if unknown:
        raise _fail(file, f"unknown table {unknown[0]!r} (expected invariant, recoverable, expect)")
    expect = document.get("expect", {})
    if not isinstance(expect, dict):
        raise _fail(file, "expect must be a table")
    found = [
        _property(file, kind, n, raw, expect)
        for kind in KINDS
        for n, raw in enumerate(document.get(kind, []) or [], 1)
    ]
    ids = [p.id for p in found]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise _fail(file, f"property {twice[0]!r} is given twice")
    stray = sorted(set(expect) - set(ids))
    if stray:
        raise _fail(file, f"expect.{stray[0]}: no such property in this file")
    if not found:
        raise _fail(file, "no [[invariant]] or [[recoverable]] property")
    return found


@dataclass
class _Graph:
    """The explorer's closed system searched again: states in breadth-first order (each as
    (setup, world, lost)), the way into each, and the ways back between them."""

    keys: list[tuple[int, World, int]]
    parent: list[int]
    via: list[int]
    #: Reverse edges usable by a way back: (source, flags), bit 0 without a new image,
    #: bit 1 with one allowed.
    reverse: list[list[tuple[int, int]]]


def _search(e: Exploration) -> _Graph:
    world_of, variant = e.universe, e.variant
    actions, machines, max_lost = world_of.actions, compiled(), e.bounds.max_lost

    def flags(action: Action, world: World) -> int:
        return int(is_recovery_action(FIRMWARE_RECOVERABLE, action, world)) | (
            int(is_recovery_action(JOIN_RECOVERABLE, action, world)) << 1
        )

    graph = _Graph([], [], [], [])
    index: dict[tuple[int, World, int], int] = {}

    def visit(key: tuple[int, World, int], source: int, a: int) -> int:
        n = index.get(key)
        if n is None:
            n = index[key] = len(graph.keys)
            graph.keys.append(key)
            graph.parent.append(source)
            graph.via.append(a)
            graph.reverse.append([])
        return n

    for setup_index, world in world_of.starts:
        visit((setup_index, world, 0), -1, -1)
    queue = deque(range(len(graph.keys)))
    while queue:
        n = queue.popleft()
        setup_index, world, lost = graph.keys[n]
        setup = world_of.setups[setup_index]
        for a, action in enumerate(actions):
            lose = int(isinstance(action, Request) and action.faulty)
            if lose and lost >= max_lost:
                continue
            try:
                after, _ = step(setup, world, action, variant, machines)
            except StepNotAllowed:
                continue
            key = (setup_index, after, lost + lose)
            if key == graph.keys[n]:
                continue
            known = len(graph.keys)
            m = visit(key, n, a)
            if m == known:
                queue.append(m)
            usable = flags(action, world)
            if usable:
                graph.reverse[m].append((n, usable))
    return graph


def _path(e: Exploration, graph: _Graph, n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The breadth-first path to state ``n``, as the explorer's state indices and actions."""
    states, taken = [n], []
    while graph.parent[states[-1]] != -1:
        taken.append(graph.via[states[-1]])
        states.append(graph.parent[states[-1]])
    indices = []
    for s in reversed(states):
        found = e.lookup(*graph.keys[s])
        if found is None:
            raise AssertionError("a state the explorer did not reach: the two searches disagree")
        indices.append(found)
    return tuple(indices), tuple(reversed(taken))


def _why(p: CustomProperty, who: str | None) -> str:
    if p.kind == "invariant":
        return f"{p.id}: '{p.text}' is false for {who} ({p.source})"
    image = "" if p.new_image else " and no new image to a device whose SMI lost track of it"
    return (
        f"no way back: from here, with no lost message, no manual SMI correction{image}, no "
        f"state is reachable in which '{p.text}' holds for every "
        f"{'device' if p.over == 'device' else 'join'} ({p.id}, {p.source})"
    )


def _judge(e: Exploration, graph: _Graph, p: CustomProperty) -> PropertyResult:
    subject = p.subject(e.system)
    expected = p.expected(subject)
    setups = e.universe.setups

    def bad(n: int) -> str | None:
        setup_index, world, _ = graph.keys[n]
        return p.holds_for(setups[setup_index], world)

    if p.kind == "invariant":
        e.armed[p.id] = len(graph.keys)
        first = next((n for n in range(len(graph.keys)) if bad(n) is not None), None)
        if first is None:
            return PropertyResult(p.id, "holds", expected, subject=subject)
        states, taken = _path(e, graph, first)
        return PropertyResult(
            p.id, "violated", expected, _why(p, bad(first)), states, taken, subject
        )
    can_recover = bytearray(len(graph.keys))
    stack = [n for n in range(len(graph.keys)) if bad(n) is None]
    e.armed[p.id] = len(graph.keys) - len(stack)
    for n in stack:
        can_recover[n] = 1
    bit = 2 if p.new_image else 1
    while stack:
        n = stack.pop()
        for m, flags in graph.reverse[n]:
            if flags & bit and not can_recover[m]:
                can_recover[m] = 1
                stack.append(m)
    explorer_view = bytearray(b"\x01") * e.states
    for n, ok in enumerate(can_recover):
        found = e.lookup(*graph.keys[n])
        if found is not None and not ok:
            explorer_view[found] = 0
    e.recoverable[p.id] = explorer_view
    stuck = can_recover.find(0)
    if stuck < 0:
        return PropertyResult(p.id, "holds", expected, subject=subject)
    states, taken = _path(e, graph, stuck)
    return PropertyResult(p.id, "violated", expected, _why(p, None), states, taken, subject)


def check_custom(e: Exploration, properties: list[CustomProperty]) -> None:
    """Judge each property on one exploration's closed system; add the verdicts to it (a
    join property is not judged on a system with no join pair)."""
    wanted = [p for p in properties if p.over == "device" or e.system.other]
    if not wanted:
        return
    graph = _search(e)
    for p in wanted:
        e.properties.append(_judge(e, graph, p))


def goal_reachable(
    p: CustomProperty,
    setup: Setup,
    world: World,
    e_variant: Any,
    actions: tuple[Any, ...],
    limit: int = 20_000,
) -> bool | None:
    """Is a state where ``p``'s goal holds for every device (pair) reachable from ``world``
    over the ways back? None if ``limit`` states did not decide (fuzzing's bounded search,
    as :func:`properties.recoverability.recoverable`)."""
    rule = JOIN_RECOVERABLE if p.new_image else FIRMWARE_RECOVERABLE
    machines = compiled()
    seen, queue = {world}, deque([world])
    while queue:
        current = queue.popleft()
        if p.holds_for(setup, current) is None:
            return True
        for action in actions:
            if not is_recovery_action(rule, action, current):
                continue
            try:
                after, _ = step(setup, current, action, e_variant, machines)
            except StepNotAllowed:
                continue
            if after not in seen:
                if len(seen) >= limit:
                    return None
                seen.add(after)
                queue.append(after)
    return False


def violated_in(
    p: CustomProperty, setup: Setup, world: World, variant: Any, actions: tuple[Any, ...]
) -> str | None:
    """Why ``world`` breaks ``p`` (an invariant false, or a goal out of reach), or None."""
    if p.kind == "invariant":
        who = p.holds_for(setup, world)
        return None if who is None else _why(p, who)
    return _why(p, None) if goal_reachable(p, setup, world, variant, actions) is False else None
