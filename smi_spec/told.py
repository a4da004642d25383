"""A variant's check (``VariantCheck``): its stories taken while its graph is held, then the
graph let go.

An exploration holds its state index (``Exploration.lookup``, ``Exploration.decode``: every
reachable state, hundreds of bytes each). ``check`` used to hold every variant's until the
report printed, so peak memory added up over the variants (issue 23). Now, once a variant's
causes are found, :func:`take` tells every property's story and its causes' stories (the
report's only readers of the graph) and :func:`release` leaves in the index's place a
record of the look-ups those stories made: enough for every later reader (the report, ITF
traces, ``--emit-pytest``), a few entries instead of the whole graph. A look-up the record
does not hold is refused (``LookupError``), never answered wrongly. What is kept per state
is the ``recoverable`` bits, one byte per state and recoverability property.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checker.causes import Cause
from checker.coverage import Coverage
from checker.explorer import Exploration, PropertyResult
from checker.narrate import cause_stories, story
from model.variant import Variant


@dataclass(frozen=True)
class Told:
    """One property's shortest story (None where it holds) and its causes' stories."""

    story: dict[str, Any] | None
    causes: list[dict[str, Any]]


@dataclass(frozen=True)
class VariantCheck:
    """One variant's explorations, one per closed system, the distinct causes of each
    violation (per exploration, per property) and, once taken (:func:`take`), every
    property's stories."""

    variant: Variant
    explorations: list[Exploration]
    causes: dict[int, dict[str, list[Cause]]] | None = None
    told: dict[tuple[int, str], Told] = field(default_factory=dict)

    def causes_of(self, e: Exploration, property_id: str) -> list[Cause]:
        return (self.causes or {}).get(id(e), {}).get(property_id, [])

    def story(self, e: Exploration, property_id: str) -> dict[str, Any] | None:
        """The shortest story, as taken; told now where it was not."""
        taken = self.told.get((id(e), property_id))
        return story(e, property_id) if taken is None else taken.story

    def cause_stories(self, e: Exploration, property_id: str) -> list[dict[str, Any]]:
        """Each distinct cause's story, as taken; told now where it was not."""
        taken = self.told.get((id(e), property_id))
        if taken is None:
            return cause_stories(e, property_id, 0, self.causes_of(e, property_id))
        return taken.causes

    def coverage(self) -> Coverage | None:
        """The explorations' rule coverage, summed, when it was asked for."""
        total = None
        for e in self.explorations:
            if e.coverage is not None:
                total = total or Coverage()
                total.merge(e.coverage)
        return total

    def results(self, property_id: str) -> list[tuple[Exploration, PropertyResult]]:
        return [(e, p) for e in self.explorations for p in e.properties if p.id == property_id]

    @property
    def as_expected(self) -> bool:
        return all(e.as_expected for e in self.explorations)

    def verdict(self, property_id: str) -> str:
        found = self.results(property_id)
        return "violated" if any(p.verdict == "violated" for _, p in found) else "holds"


class Recorded:
    """A look-up (``Exploration.lookup`` or ``.decode``) that keeps every answer it gives;
    after :meth:`release`, it answers from those alone."""

    def __init__(self, full: Callable[..., Any]) -> None:
        self.full: Callable[..., Any] | None = full
        self.answers: dict[tuple[Any, ...], Any] = {}

    def __call__(self, *key: Any) -> Any:
        if key in self.answers:
            return self.answers[key]
        if self.full is None:
            raise LookupError(f"{key[:1]}...: not looked up before the graph was released")
        found = self.answers[key] = self.full(*key)
        return found

    def release(self) -> None:
        self.full = None


def take(
    explorations: list[Exploration],
    causes_of: Callable[[Exploration, str], list[Cause]],
) -> dict[tuple[int, str], Told]:
    """Every property's stories of each exploration (keyed by ``id(exploration)`` and the
    property), its graph's look-ups recorded as they are made."""
    told = {}
    for e in explorations:
        e.lookup, e.decode = Recorded(e.lookup), Recorded(e.decode)
        for p in e.properties:
            found = causes_of(e, p.id)
            told[id(e), p.id] = Told(story(e, p.id), cause_stories(e, p.id, 0, found))
    return told


def release(explorations: list[Exploration]) -> None:
    """Let go of each exploration's graph, keeping the look-ups :func:`take` recorded (and
    of the successor tables the cause search read)."""
    for e in explorations:
        e.successors = None
        for recorded in (e.lookup, e.decode):
            if isinstance(recorded, Recorded):
                recorded.release()
