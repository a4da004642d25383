"""Every distinct cause of a violation, each with its shortest story.

A cause is what a story depends on: the fault events in it (which response or device alert
was lost) and the assumption-tagged rules that acted in it (``checker.decisive``). The
explorer's shortest counterexample is one story; the others are found by searching again
with a cause's ingredients forbidden, one more at a time, breadth-first over the sets of
forbidden ingredients (as diagnoses are enumerated by hitting sets). Each search is exact:

- it runs over the explored graph itself (the same states, the same ``max_lost``), and only
  leaves out the transitions that need a forbidden ingredient;
- a recoverability story ends in a state the explorer judged to have no way back over the
  whole graph (forbidding an ingredient never changes which states are stuck, only which
  story reaches one); a safety story ends with a transition that breaks the property;
- breadth-first, so each story is the shortest that avoids its forbidden ingredients.

One family of rows counts as one ingredient: check E5's rows that admit every request for
a status other than Suspended (``e5.commissioned.admits``, ``e5.pending.admits``, ...) are
one assumption, so forbidding it sends the next story through the seeds' Suspended row
rather than through each other status in turn.

Stories are reported by provenance, then shortest first, at most ``limit``: a cause needing
no assumption-tagged rule is told before any that needs one, whatever its length (issue 19:
the seeds' story decides the seeds' property). A cause whose rules are all tagged
by a seed (no pure assumption, ``seed:MP105`` say) is labelled by those seeds; one that needs
a rule tagged only ``assumption`` is labelled ``assumption``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from checker.decisive import applied_rules
from checker.explorer import RECOVERABILITY, Exploration, cascades
from checker.machine_tables import compiled
from model.dsp import READ_DEVICE_LOG, StepNotAllowed, step
from model.provenance import ASSUMPTION
from model.world import Action, CplChange, ManualFix, Request, Setup, World
from properties import safety


@dataclass(frozen=True, slots=True, order=True)
class Ingredient:
    """A fault event or an assumption-tagged rule a story depends on."""

    kind: str  # "fault" or "rule"
    id: str
    source: str = ""
    text: str = ""

    def as_json(self) -> dict[str, str]:
        if self.kind == "fault":
            return {"fault": self.id}
        return {"rule": self.id, "source": self.source, "text": self.text}


@dataclass(frozen=True, slots=True)
class Cause:
    """One distinct cause and its shortest story (as the explorer's actions and states)."""

    ingredients: frozenset[Ingredient]
    tag: str
    provenance: tuple[str, ...]
    start: tuple[int, World]
    actions: tuple[int, ...]

    @property
    def faults(self) -> list[str]:
        return sorted(i.id for i in self.ingredients if i.kind == "fault")

    @property
    def assumptions(self) -> list[Ingredient]:
        return sorted(i for i in self.ingredients if i.kind == "rule")

    @property
    def needs_assumptions(self) -> list[str]:
        """The ids of the assumption-tagged rules this story needs (empty: seeds and DUIS
        alone tell it)."""
        return [i.id for i in self.assumptions]

    def rank(self) -> tuple[bool, int, str]:
        """Provenance first (issue 19): a story needing no assumption is told before one
        that needs any, whatever their lengths; then shortest first."""
        return (bool(self.assumptions), len(self.actions), self.describe())

    def describe(self) -> str:
        parts = self.faults + [f"{i.id} ({i.source})" for i in self.assumptions]
        return ", ".join(parts) or "no fault and no assumption"


_E5_ADMITS_ALL = re.compile(r"^e5\.[a-z_]+\.admits$")


def rule_ingredient(rule_id: str, source: str, text: str) -> Ingredient:
    """An assumption-tagged rule as an ingredient (check E5's admit-all rows as one)."""
    if _E5_ADMITS_ALL.match(rule_id):
        return Ingredient(
            "rule",
            "e5.*.admits",
            source,
            "check E5 admits every request for a device in a status other than Suspended",
        )
    return Ingredient("rule", rule_id, source, text)


def faults_of(action: Action) -> Iterator[Ingredient]:
    if isinstance(action, Request):
        if action.lose_response:
            yield Ingredient("fault", f"lost SR{action.srv} response")
        if action.lose_alert:
            yield Ingredient("fault", f"lost device alert after SR{action.srv}")


@dataclass(frozen=True, slots=True)
class _Edge:
    action: int
    after: World
    faulty: bool
    ingredients: frozenset[Ingredient]
    sources: frozenset[str]
    breaks: frozenset[str]


def _local(
    setup: Setup, world: World, action: Action, cascading: bool = False
) -> tuple[tuple[Any, ...], Callable[[World], World]]:
    """The part of the state ``action`` reads (as the explorer's memo does), and how to carry
    what it wrote from one world into another that agrees on that part. An action a
    ``[cascades]`` row follows (``cascading``) reads and writes the whole world."""
    if cascading:
        return (world,), lambda after: after
    if isinstance(action, CplChange):
        return (world.cpl, world.devices), lambda after: World(
            after.cpl, after.devices, world.joins
        )
    if isinstance(action, ManualFix):
        p = action.pair
        return (world.joins[p],), lambda after: World(
            world.cpl, world.devices, (*world.joins[:p], after.joins[p], *world.joins[p + 1 :])
        )
    t = action.target
    if isinstance(action, Request) and (action.other is not None or action.srv == READ_DEVICE_LOG):
        pairs = (
            (setup.pair_index(t, action.other),) if action.other is not None else setup.pairs_of(t)
        )
        read = (world.devices[t], tuple(world.joins[p] for p in pairs))

        def carry_pairs(after: World) -> World:
            joins = list(world.joins)
            for p in pairs:
                joins[p] = after.joins[p]
            devices = (*world.devices[:t], after.devices[t], *world.devices[t + 1 :])
            return World(world.cpl, devices, tuple(joins))

        return read, carry_pairs
    return (world.devices[t], world.cpl), lambda after: World(
        world.cpl, (*world.devices[:t], after.devices[t], *world.devices[t + 1 :]), world.joins
    )


class _Graph:
    """The explored system's transitions, computed once per state and kept for every search;
    each action's effect is memoised on the part of the state it reads."""

    def __init__(self, exploration: Exploration) -> None:
        self.e = exploration
        self.edges: dict[tuple[int, World], tuple[_Edge, ...]] = {}
        self.memo: dict[tuple[int, int, tuple[Any, ...]], _Edge | None] = {}

    def out(self, setup_index: int, world: World) -> tuple[_Edge, ...]:
        key = (setup_index, world)
        found = self.edges.get(key)
        if found is None:
            found = self.edges[key] = tuple(self._compute(setup_index, world))
        return found

    def _compute(self, setup_index: int, world: World) -> Iterator[_Edge]:
        setup = self.e.universe.setups[setup_index]
        for a, action in enumerate(self.e.universe.actions):
            read, carry = _local(setup, world, action, cascades(self.e.variant, action))
            key = (setup_index, a, read)
            if key not in self.memo:
                self.memo[key] = self._edge(setup, world, a, action)
            edge = self.memo[key]
            if edge is not None:
                yield _Edge(
                    edge.action,
                    carry(edge.after),
                    edge.faulty,
                    edge.ingredients,
                    edge.sources,
                    edge.breaks,
                )

    def _edge(self, setup: Setup, world: World, a: int, action: Action) -> _Edge | None:
        e = self.e
        faults = frozenset(faults_of(action))
        if faults and e.bounds.max_lost == 0:
            return None
        try:
            after, outcome = step(setup, world, action, e.variant, compiled())
        except StepNotAllowed:
            return None
        rules = applied_rules(setup, world, action, after, outcome, e.variant)
        assumed = frozenset(
            rule_ingredient(r.id, r.source, r.text)
            for r in rules
            if ASSUMPTION in r.source.split(",")
        )
        breaks = frozenset(
            v.property for v in safety.violations(setup, e.variant, world, action, after, outcome)
        )
        sources = frozenset(t for r in rules for t in r.source.split(","))
        return _Edge(a, after, bool(faults), faults | assumed, sources, breaks)


def _search(
    graph: _Graph, property_id: str, forbidden: frozenset[Ingredient]
) -> tuple[tuple[int, World], tuple[_Edge, ...]] | None:
    """The shortest story that breaks ``property_id`` without a forbidden ingredient."""
    e = graph.e
    recoverable = e.recoverable.get(property_id)
    parent: dict[tuple[int, World, int], tuple[tuple[int, World, int], _Edge] | None] = {}
    queue: deque[tuple[int, World, int]] = deque()
    for setup_index, world in e.universe.starts:
        node = (setup_index, world, 0)
        if node not in parent:
            parent[node] = None
            queue.append(node)

    def story(node: tuple[int, World, int], last: _Edge | None) -> Any:
        edges = [] if last is None else [last]
        while (link := parent[node]) is not None:
            node, edge = link
            edges.append(edge)
        return (node[0], node[1]), tuple(reversed(edges))

    while queue:
        node = queue.popleft()
        if recoverable is not None:
            index = e.lookup(*node)
            if index is not None and not recoverable[index]:
                return story(node, None)
        lost_ok = node[2] < e.bounds.max_lost
        for edge in graph.out(node[0], node[1]):
            if edge.ingredients & forbidden or (edge.faulty and not lost_ok):
                continue
            if recoverable is None and property_id in edge.breaks:
                return story(node, edge)
            nxt = (node[0], edge.after, node[2] + edge.faulty)
            if nxt not in parent:
                parent[nxt] = (node, edge)
                queue.append(nxt)
    return None


def _label(edges: tuple[_Edge, ...]) -> tuple[frozenset[Ingredient], str, tuple[str, ...]]:
    ingredients = frozenset(i for edge in edges for i in edge.ingredients)
    sources = sorted({t for edge in edges for t in edge.sources})
    pure = any(i.kind == "rule" and i.source == ASSUMPTION for i in ingredients)
    seeds = [t for t in sources if t.startswith("seed:")]
    tag = ASSUMPTION if pure else ",".join(seeds) or ",".join(sources) or ASSUMPTION
    return ingredients, tag, tuple(sources)


def causes(
    exploration: Exploration, property_id: str, limit: int = 4, graph: _Graph | None = None
) -> list[Cause]:
    """Up to ``limit`` distinct causes of a violated property: those needing no assumption
    first, then shortest story first."""
    result = exploration.result(property_id)
    if result.verdict != "violated" or limit < 1:
        return []
    if property_id not in RECOVERABILITY and result.actions and result.actions[-1] < 0:
        # suspended-gate's catalogue sweep: a request with no effect on the state, judged
        # apart from the transitions; its one story is the explorer's.
        start = exploration.decode(result.path[0])
        return [Cause(frozenset(), "", (), (start[0], start[1]), result.actions)]
    graph = graph or _Graph(exploration)
    found: dict[frozenset[Ingredient], Cause] = {}
    tried: set[frozenset[Ingredient]] = set()
    pending: deque[frozenset[Ingredient]] = deque([frozenset()])
    searches = 0
    while pending and len(found) < limit and searches < 4 * limit + 4:
        forbidden = pending.popleft()
        searches += 1
        told = _search(graph, property_id, forbidden)
        if told is None:
            continue
        begin, edges = told
        ingredients, tag, sources = _label(edges)
        if ingredients not in found:
            actions = tuple(edge.action for edge in edges)
            found[ingredients] = Cause(ingredients, tag, sources, begin, actions)
        for ingredient in sorted(ingredients):
            wider = forbidden | {ingredient}
            if wider not in tried:
                tried.add(wider)
                pending.append(wider)
    return sorted(found.values(), key=Cause.rank)


def all_causes(exploration: Exploration, limit: int = 4) -> dict[str, list[Cause]]:
    """The causes of every violated property of one exploration (one shared graph)."""
    graph = _Graph(exploration)
    return {
        p.id: causes(exploration, p.id, limit, graph)
        for p in exploration.properties
        if p.verdict == "violated"
    }
