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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checker.decisive import applied_rules
from checker.explorer import RECOVERABILITY, Exploration, explore
from checker.machine_tables import compiled
from checker.packing import Lookup
from model.dsp import step
from model.property_ids import PROPERTY_IDS
from model.provenance import ASSUMPTION, Rule
from model.world import Action, Request, Setup, World


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


@dataclass(slots=True)
class _Edge:
    """One transition of the graph. Its ingredients and sources are worked out when a search
    first needs them (``_Graph.resolve``), from the step it keeps (``origin``)."""

    action: int
    #: The difference to the packed state (``checker.packing``), a lost message included.
    delta: int
    faulty: bool
    breaks: frozenset[str]
    #: The step: (setup, world, world after, outcome), or for a CPL change a packed state
    #: it leaves (whose setup, CPL and devices decide its rules).
    origin: Any
    ingredients: frozenset[Ingredient] | None = None
    sources: frozenset[str] = frozenset()


_NOTHING: frozenset[str] = frozenset()


def _action_of(edge: _Edge) -> int:
    return edge.action


class _Graph:
    """The explored system's transitions, read from the explorer's own successor tables
    (``Successors.group_steps``: each action's step as the search took it through the DSP;
    the CPL changes' differences and broken properties, device by device), each edge kept
    once per part of a state its action reads.

    An edge's ingredients are worked out only when a search forbids some (the first search
    of each property forbids none). A CPL change's rules are those of the whole world (which
    devices it changed decides the removal rule's source, ``model.dcc_events``), which the
    explorer never stepped: they come from one step of the whole world, then. An exploration
    sent from another process, or made by the dense explorer, without its tables, is
    explored again by the explorer (``engine="python"``)."""

    def __init__(self, exploration: Exploration) -> None:
        own = exploration.successors
        if own is None:
            exploration = explore(
                exploration.variant,
                exploration.bounds,
                [p.id for p in exploration.properties if p.id in PROPERTY_IDS],
                system=exploration.system,
                keep_steps=True,
                engine="python",
            )
            own = exploration.successors
            assert own is not None
        self.e, self.s = exploration, own
        lookup = exploration.lookup
        self.index_of: dict[int, int] = lookup.index if isinstance(lookup, Lookup) else {}
        layout = own.layout
        self.cpl_key = layout.setup_mask | layout.cpl_mask
        for mask in layout.device_mask:
            self.cpl_key |= mask
        self.edges: dict[int, tuple[_Edge, ...]] = {}
        self.local: dict[tuple[int, int], list[_Edge]] = {}
        self.cpl_local: dict[int, list[_Edge]] = {}
        #: The setup and world of each state a CPL change's rules were asked from.
        self.whole: dict[int, tuple[Setup, World]] = {}
        #: Each action's faults, and the ingredients and sources of each list of rules.
        self.faults = [frozenset(faults_of(action)) for action in own.actions]
        self.by_rules: dict[tuple[Rule, ...], tuple[frozenset[Ingredient], frozenset[str]]] = {}

    def out(self, state: int) -> tuple[_Edge, ...]:
        """Every transition out of a packed state, in the order of the actions."""
        found = self.edges.get(state)
        if found is None:
            found = self.edges[state] = self._compute(state)
        return found

    def _compute(self, state: int) -> tuple[_Edge, ...]:
        local, edges = self.local, []
        for mask, _, g in self.s.group_memos:
            key = (g, state & mask)
            mine = local.get(key)
            if mine is None:
                mine = local[key] = self._group(g, state)
            edges += mine
        if self.s.cpl_actions:
            whole = state & self.cpl_key
            mine = self.cpl_local.get(whole)
            if mine is None:
                mine = self.cpl_local[whole] = self._cpl(state)
            edges += mine
        edges.sort(key=_action_of)
        return tuple(edges)

    def _group(self, g: int, state: int) -> list[_Edge]:
        s, layout = self.s, self.s.layout
        setup = s.world_of.setups[(state & layout.setup_mask) >> layout.setup_shift]
        lost_one, faults = layout.lost_one, self.faults
        return [
            _Edge(
                a,
                delta + lost_one * lose,
                bool(faults[a]),
                frozenset(p for p, _ in found) if found else _NOTHING,
                (setup, before, after, outcome),
            )
            for a, delta, lose, before, after, outcome, found in s.group_steps(g, state)
        ]

    def _cpl(self, state: int) -> list[_Edge]:
        """The CPL changes from ``state``, from the explorer's memos (filled for every
        explored state): the CPL's own change plus each device's."""
        s = self.s
        deltas = s.cpl_memo[state & s.layout.cpl_mask]
        per_device = [memo[state & mask] for mask, memo, _ in s.cpl_groups]
        edges = []
        for n, a in enumerate(s.cpl_actions):
            delta = deltas[n] + sum(results[n][0] for results in per_device)
            breaks = frozenset(p for results in per_device for p, _ in results[n][1])
            edges.append(_Edge(a, delta, False, breaks, state))
        return edges

    def resolve(self, edge: _Edge) -> frozenset[Ingredient]:
        """The edge's ingredients (and sources), worked out now if not yet."""
        if edge.ingredients is not None:
            return edge.ingredients
        s, a = self.s, edge.action
        action = s.actions[a]
        if isinstance(edge.origin, int):
            whole = self.whole.get(edge.origin)
            if whole is None:
                setup_index, world, _ = s.codec.unpack(edge.origin)
                whole = self.whole[edge.origin] = (s.world_of.setups[setup_index], world)
            setup, world = whole
            after, outcome = step(setup, world, action, s.variant, compiled())
        else:
            setup, world, after, outcome = edge.origin
        rules = applied_rules(setup, world, action, after, outcome, s.variant)
        known = self.by_rules.get(rules)
        if known is None:
            assumed = frozenset(
                rule_ingredient(r.id, r.source, r.text)
                for r in rules
                if ASSUMPTION in r.source.split(",")
            )
            sources = frozenset(t for r in rules for t in r.source.split(","))
            known = self.by_rules[rules] = (assumed, sources)
        edge.ingredients, edge.sources = self.faults[a] | known[0], known[1]
        return edge.ingredients


def _search(
    graph: _Graph, property_id: str, forbidden: frozenset[Ingredient]
) -> tuple[tuple[int, World], tuple[_Edge, ...]] | None:
    """The shortest story that breaks ``property_id`` without a forbidden ingredient."""
    e, codec, index_of, resolve = graph.e, graph.s.codec, graph.index_of, graph.resolve
    lost_shift, max_lost = graph.s.layout.lost_shift, e.bounds.max_lost
    recoverable = e.recoverable.get(property_id)
    parent: dict[int, tuple[int, _Edge] | None] = {}
    queue: deque[int] = deque()
    for setup_index, world in e.universe.starts:
        node = codec.pack(setup_index, world, 0)
        if node not in parent:
            parent[node] = None
            queue.append(node)

    def story(node: int, last: _Edge | None) -> Any:
        edges = [] if last is None else [last]
        while (link := parent[node]) is not None:
            node, edge = link
            edges.append(edge)
        setup_index, world, _ = codec.unpack(node)
        return (setup_index, world), tuple(reversed(edges))

    while queue:
        node = queue.popleft()
        if recoverable is not None:
            index = index_of.get(node)
            if index is not None and not recoverable[index]:
                return story(node, None)
        lost_ok = (node >> lost_shift) < max_lost
        for edge in graph.out(node):
            if edge.faulty and not lost_ok:
                continue
            if forbidden:
                ingredients = edge.ingredients
                if ingredients is None:
                    ingredients = resolve(edge)
                if ingredients & forbidden:
                    continue
            if recoverable is None and property_id in edge.breaks:
                return story(node, edge)
            nxt = node + edge.delta
            if nxt not in parent:
                parent[nxt] = (node, edge)
                queue.append(nxt)
    return None


def _label(edges: tuple[_Edge, ...]) -> tuple[frozenset[Ingredient], str, tuple[str, ...]]:
    ingredients = frozenset(i for edge in edges for i in edge.ingredients or ())
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
        for edge in edges:
            graph.resolve(edge)
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
