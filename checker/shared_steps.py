"""DSP steps shared between variants: what a group of actions does from one part of a
state, computed under one variant and reused under another that answers every question
those steps asked of it the same way.

``check --variant all`` explores baseline, mp105 and mp178 one after the other, and most
actions' rules agree across them (issue 23). The DSP (``model.dsp.step``) and the safety
checks (``properties.safety.violations``) are deterministic functions of the setup, the
world, the action, the compiled machines, and what they read of the variant. Here they
read the variant through ``TracedVariant``, which notes every read: a field (compared
whole), or one key of a mapping field (its value, or its absence). A computation is kept
with its reads; under another variant it is reused only when every noted read gets an
equal answer there. That is sound by induction over the computation: the other variant's
run would make the same first read and get the same answer, so take the same path to the
same next read, and so on to the same result. Nothing is assumed about which rules an
action consults: a variant differing in one row shares exactly the computations that never
read that row.

The variant's cache of access decisions (``Variant.decisions``, ``model.access``) is a
shortcut that would hide reads: under the proxy it is a cache of its own that, on a hit,
notes again the reads that decision made (and each decision is also written to the
variant's own cache, for the stories told later).

Opt-in (``checker.compose.explore_variants(share_steps=True)``): for the built-in variants
tracing costs more than the steps it saves (docs/performance.md, issue 23).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from types import MethodType
from typing import Any

from model.dsp import StepNotAllowed, step
from model.machines import Machines
from model.variant import Variant
from model.world import Action, Setup, World
from properties import safety

#: The key of a read of a whole field.
WHOLE = ("<whole>",)
_ABSENT = object()

#: One action's result from one world: None where the DSP does not allow it, else the world
#: after, the outcome, and every safety property it breaks with why.
Result = tuple[World, Any, tuple[tuple[str, str], ...]] | None
Read = tuple[str, object]
#: The world a group's steps were computed from, and each action's result.
Computed = tuple[World, list[Result]]


class TracedMapping(Mapping[Any, Any]):
    """A mapping field of a variant whose every lookup is noted as a read of that key, and
    whose every iteration as a read of the whole field."""

    __slots__ = ("_log", "_name", "_real")

    def __init__(self, name: str, real: Mapping[Any, Any], log: list[tuple[Read, Any]]) -> None:
        self._name, self._real, self._log = name, real, log

    def _read(self, key: Any) -> Any:
        value = self._real.get(key, _ABSENT)
        self._log.append(((self._name, key), value))
        return value

    def __getitem__(self, key: Any) -> Any:
        value = self._read(key)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._read(key)
        return default if value is _ABSENT else value

    def __contains__(self, key: object) -> bool:
        return self._read(key) is not _ABSENT

    def __iter__(self) -> Iterator[Any]:
        self._log.append(((self._name, WHOLE), self._real))
        return iter(self._real)

    def __len__(self) -> int:
        self._log.append(((self._name, WHOLE), self._real))
        return len(self._real)


class _Decisions:
    """``Variant.decisions`` under the proxy: each decision with the reads that made it."""

    def __init__(self, log: list[tuple[Read, Any]], real: dict[Any, Any]) -> None:
        self.log, self.real = log, real
        self.known: dict[Any, tuple[Any, list[tuple[Read, Any]]]] = {}
        self.started: dict[Any, int] = {}

    def get(self, key: Any) -> Any:
        found = self.known.get(key)
        if found is None:
            self.started[key] = len(self.log)
            return None
        decision, reads = found
        self.log.extend(reads)
        return decision

    def __setitem__(self, key: Any, decision: Any) -> None:
        self.known[key] = (decision, self.log[self.started.pop(key) :])
        self.real[key] = decision  # the variant's own decision: its later users need not decide


class TracedVariant:
    """A variant seen through its reads (see the module's docstring). A field or a property
    is looked up through the proxy once per run (``begin``) and then kept, its reads noted
    for this run; a method or a mapping field is kept for good, as it notes its reads at
    each use."""

    __slots__ = ("__dict__", "_decisions", "_log", "_real", "_volatile")

    def __init__(self, real: Variant) -> None:
        self._real = real
        self._log: list[tuple[Read, Any]] = []
        self._decisions = _Decisions(self._log, real.decisions)
        #: The names kept for this run only: fields and properties, whose reads a new run
        #: must note again (methods and mapping wrappers note their reads at each call).
        self._volatile: list[str] = []

    def begin(self) -> None:
        """A new run: forget what was read, and the values kept for this run."""
        kept = self.__dict__
        for name in self._volatile:
            del kept[name]
        self._volatile.clear()
        self._log.clear()

    def reads(self) -> dict[Read, Any]:
        return dict(self._log)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = _class_attribute(name)
        if inspect.isfunction(attr):
            value: Any = MethodType(attr, self)
        elif name == "decisions":
            value = self._decisions
        elif isinstance(attr, property) and attr.fget is not None:
            value = attr.fget(self)
            self._volatile.append(name)
        else:
            real = getattr(self._real, name)
            if isinstance(real, Mapping):
                value = TracedMapping(name, real, self._log)
            else:
                self._log.append(((name, WHOLE), real))
                value = real
                self._volatile.append(name)
        self.__dict__[name] = value
        return value

    def __eq__(self, other: object) -> bool:
        raise TypeError("a traced variant is not compared: that would be a read not noted")

    def __hash__(self) -> int:
        raise TypeError("a traced variant is not hashed: that would be a read not noted")

    def __repr__(self) -> str:
        raise TypeError("a traced variant is not shown: that would be a read not noted")


_CLASS_ATTRIBUTES: dict[str, Any] = {}


def _class_attribute(name: str) -> Any:
    """What ``Variant`` itself holds under ``name`` (a property, a method, a field's slot)."""
    if name not in _CLASS_ATTRIBUTES:
        _CLASS_ATTRIBUTES[name] = inspect.getattr_static(Variant, name, None)
    return _CLASS_ATTRIBUTES[name]


def answer(variant: Variant, read: Read) -> Any:
    """What ``variant`` answers to a read: the field, or the key's value (or absence)."""
    name, key = read
    value = getattr(variant, name)
    return value if key == WHOLE else value.get(key, _ABSENT)


class SharedSteps:
    """The steps of groups of actions from given worlds, shared by every variant explored
    with it (``checker.successors``): one per ``check`` run over several variants."""

    def __init__(self) -> None:
        #: (setup, world, actions) -> each computation kept: its reads as (read, token),
        #: and its results.
        self.entries: dict[Any, list[tuple[tuple[tuple[Read, int], ...], Computed]]] = {}
        #: Per read, the distinct answers met so far: a token is an index in this list.
        self.answers: dict[Read, list[Any]] = {}
        #: Per variant (by id, the variant kept alive), its proxy and its tokens so far.
        self.variants: dict[int, tuple[Variant, TracedVariant, dict[Read, int]]] = {}
        #: The variants whose computations no later variant will look for (the last one
        #: explored): computed without the proxy, and not kept.
        self.last: set[int] = set()
        self.numbers: dict[Any, int] = {}
        self.hits = self.misses = 0

    def interned(self, value: Any) -> int:
        """A small number for a setup and a tuple of actions, hashed once per look-up rather
        than for every entry compared (the caller may keep it: ``run``'s ``known``)."""
        found = self.numbers.get(value)
        if found is None:
            found = self.numbers[value] = len(self.numbers)
        return found

    def closing(self, variant: Variant) -> None:
        """``variant`` is the last to share these steps: look its steps up, keep none."""
        self._of(variant)
        self.last.add(id(variant))

    def _token(self, read: Read, value: Any) -> int:
        seen = self.answers.setdefault(read, [])
        for n, other in enumerate(seen):
            if other is value or (type(other) is type(value) and other == value):
                return n
        seen.append(value)
        return len(seen) - 1

    def _of(self, variant: Variant) -> tuple[Variant, TracedVariant, dict[Read, int]]:
        found = self.variants.get(id(variant))
        if found is None:
            found = self.variants[id(variant)] = (variant, TracedVariant(variant), {})
        return found

    def run(
        self,
        variant: Variant,
        local: Any,
        setup: Setup,
        world: World,
        actions: tuple[Action, ...],
        machines: Machines,
        known: int | None = None,
    ) -> tuple[World, list[Result]]:
        """Each action's result from ``world`` under ``variant``: computed under an earlier
        variant that answered every read the same, or computed now. ``local`` is the part
        of ``world`` the actions read and write (``checker.successors``): a computation
        from another world that agrees on it is reused, so the world it was computed from
        comes back with the results. ``known``: ``interned((setup, actions))``, if kept."""
        key = (self.interned((setup, actions)) if known is None else known, local)
        _, proxy, tokens = self._of(variant)
        kept = self.entries.get(key)
        for reads, (was, results) in kept or ():
            if all(self._told(variant, tokens, read) == token for read, token in reads):
                self.hits += 1
                return was, results
        self.misses += 1
        if id(variant) in self.last:
            return world, compute(setup, world, actions, variant, machines)
        proxy.begin()
        results = compute(setup, world, actions, proxy, machines)
        noted = proxy.reads()
        for read, value in noted.items():
            if read not in tokens:  # a variant's answer to a read never changes
                tokens[read] = self._token(read, value)
        entry = tuple((read, tokens[read]) for read in noted)
        self.entries.setdefault(key, []).append((entry, (world, results)))
        return world, results

    def _told(self, variant: Variant, tokens: dict[Read, int], read: Read) -> int:
        token = tokens.get(read)
        if token is None:
            token = tokens[read] = self._token(read, answer(variant, read))
        return token


def compute(
    setup: Setup,
    world: World,
    actions: tuple[Action, ...],
    variant: Variant | TracedVariant,
    machines: Machines,
) -> list[Result]:
    """Each action's result from ``world`` under ``variant`` (or the proxy of one, which the
    DSP takes for the variant it stands for)."""
    read: Any = variant
    results: list[Result] = []
    for action in actions:
        try:
            after, outcome = step(setup, world, action, read, machines)
        except StepNotAllowed:
            results.append(None)
            continue
        found = tuple(
            (v.property, v.why)
            for v in safety.violations(setup, read, world, action, after, outcome)
        )
        results.append((after, outcome, found))
    return results
