"""DSP steps shared between variants (checker/shared_steps.py, issue 23): a computation is
reused under another variant only when every rule it read agrees, so sharing never changes
a result: the same memo entries, verdicts and stories as exploring each variant alone."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.causes import all_causes
from checker.compose import explore_variants
from checker.explorer import DEFAULT_BOUNDS, Exploration, System, explore
from checker.machine_tables import compiled
from checker.shared_steps import SharedSteps, TracedVariant, compute
from model.property_ids import PROPERTY_IDS
from model.variant import BUILTIN, Variant, load_variant
from model.world import Action, Setup, World
from tests.conftest import ROOT

#: Every variant file the project ships: the built-in ones and the docs' examples.
VARIANT_FILES = sorted(str(p) for p in (ROOT / "docs" / "variants").glob("*.toml"))


def _one_row_changed(variant: Variant) -> Variant:
    """``variant`` with check E5's Suspended row admitting every request: one row apart."""
    row = variant.e5["suspended"]
    e5 = {**variant.e5, "suspended": dataclasses.replace(row, admits="all")}
    return dataclasses.replace(variant, id=variant.id, e5=e5)


def _unshared(variant: Variant) -> list[Exploration]:
    return explore_variants([variant], DEFAULT_BOUNDS, PROPERTY_IDS, (), keep_steps=True)[0]


def _summary(explorations: list[Exploration]) -> list[object]:
    """Everything a check reports of its explorations, stories aside."""
    return [
        (
            e.system.describe(),
            e.states,
            e.transitions,
            dict(e.armed),
            [(p.id, p.verdict, p.why, p.path, p.actions) for p in e.properties],
        )
        for e in explorations
    ]


def _memos(e: Exploration) -> list[object]:
    assert e.successors is not None
    return [dict(memo) for memo in e.successors.memos]


@pytest.mark.slow
def test_sharing_changes_no_verdict_for_any_variant_file() -> None:
    variants = [load_variant(v) for v in (*BUILTIN, *VARIANT_FILES)]
    shared = explore_variants(variants, DEFAULT_BOUNDS, PROPERTY_IDS, (), share_steps=True)
    for variant, explorations in zip(variants, shared, strict=True):
        assert _summary(explorations) == _summary(_unshared(variant)), variant.id


@pytest.mark.parametrize("variant_id", ["baseline", "mp105"])
def test_a_variant_one_row_apart_gets_its_own_entries_where_that_row_is_read(
    variant_id: str,
) -> None:
    variant = load_variant(variant_id)
    changed = _one_row_changed(variant)
    system = System("ESME", "CAD")
    shared = SharedSteps()
    explore(variant, system=system, shared=shared)
    with_sharing = explore(changed, system=system, shared=shared, keep_steps=True)
    alone = explore(changed, system=system, keep_steps=True)
    # shared where the Suspended row was never read, computed again where it was
    assert shared.hits > 0
    assert any(len(kept) > 1 for kept in shared.entries.values())
    assert _memos(with_sharing) == _memos(alone)
    assert _summary([with_sharing]) == _summary([alone])
    # and the row matters: the changed variant's verdicts are not the original's
    assert _summary([with_sharing]) != _summary([explore(variant, system=system)])


def test_the_causes_read_from_shared_steps_are_those_of_a_variant_explored_alone() -> None:
    variants = [load_variant(v) for v in BUILTIN]
    shared = explore_variants(
        variants, DEFAULT_BOUNDS, PROPERTY_IDS, (), keep_steps=True, share_steps=True
    )
    for variant, explorations in zip(variants, shared, strict=True):
        alone = _unshared(variant)
        for e, a in zip(explorations, alone, strict=True):
            told = {p: [(c.describe(), c.actions) for c in cs] for p, cs in all_causes(e).items()}
            again = {p: [(c.describe(), c.actions) for c in cs] for p, cs in all_causes(a).items()}
            assert told == again, (variant.id, e.system.describe())


def test_causes_of_an_exploration_sent_without_its_tables_are_the_same() -> None:
    e = explore(load_variant("baseline"), keep_steps=True)
    sent = dataclasses.replace(e, successors=None)
    told = {p: [(c.describe(), c.actions) for c in cs] for p, cs in all_causes(e).items()}
    again = {p: [(c.describe(), c.actions) for c in cs] for p, cs in all_causes(sent).items()}
    assert told and told == again


@cache
def _variants() -> tuple[Variant, ...]:
    built = [load_variant(v) for v in (*BUILTIN, *VARIANT_FILES)]
    return (*built, *(_one_row_changed(v) for v in built[:3]))


@cache
def _group_inputs() -> tuple[tuple[Setup, World, tuple[Action, ...]], ...]:
    """Every group's actions from every part of a state the explorer met (mp105, ESME with
    CAD, and PPMID with CAD)."""
    found = []
    for system in (System("ESME", "CAD"), System("PPMID", "CAD")):
        e = explore(load_variant("mp105"), system=system, keep_steps=True)
        s = e.successors
        assert s is not None
        for g, steps in enumerate(s.steps):
            for key, kept in steps.items():
                if kept:
                    setup = s.world_of.setups[s.layout.unpack(key)[0]]
                    found.append((setup, kept[0][3], s.group_actions[g]))
    return tuple(found)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_shared_computation_is_what_the_variant_alone_computes(data: st.DataObject) -> None:
    variants, inputs = _variants(), _group_inputs()
    setup, world, actions = data.draw(st.sampled_from(inputs))
    first, then = data.draw(st.sampled_from(variants)), data.draw(st.sampled_from(variants))
    shared = SharedSteps()
    shared.run(first, (world,), setup, world, actions, compiled())
    _, reused = shared.run(then, (world,), setup, world, actions, compiled())
    assert reused == compute(setup, world, actions, then, compiled())


def test_a_traced_variant_notes_the_rows_it_is_asked_for_and_is_never_compared() -> None:
    variant = load_variant("mp105")
    traced = TracedVariant(variant)
    traced.begin()
    assert traced.allow_critical == variant.allow_critical
    assert traced.source_of("cpl.removal_suspends") == variant.source_of("cpl.removal_suspends")
    reads = traced.reads()
    assert ("e5", "suspended") in reads and ("key_sources", "cpl.removal_suspends") in reads
    traced.begin()
    assert traced.reads() == {}
    with pytest.raises(TypeError):
        _ = traced == variant
    with pytest.raises(TypeError):
        hash(traced)
