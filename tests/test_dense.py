"""The dense explorer (checker/dense*.py) against the explorer: the same states, transitions,
verdicts, shortest story lengths, armed counts and recoverable states, on every built-in
variant and every variant of docs/variants, at the bounds the suite checks; each story it
tells is a real path of the model; and the comparison catches a dense explorer that drops
a kind of transition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import checker.dense_search as dense_search
from checker.dense import explore_dense
from checker.dense_fields import Bitmap, DenseSpace
from checker.exploration import Exploration
from checker.explorer import Bounds, default_systems, explore
from checker.machine_tables import compiled
from checker.packing import Layout
from model.dsp import step
from model.property_ids import PROPERTY_IDS
from model.variant import load_variant
from model.world import Request

ROOT = Path(__file__).resolve().parents[1]
DOCS_VARIANTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/variants").glob("*.toml"))


def differences(python: Exploration, dense: Exploration) -> list[str]:
    """What differs between two explorations of one system, in words (empty: nothing)."""
    found = []
    if (python.states, python.transitions) != (dense.states, dense.transitions):
        found.append(
            f"{python.states} states, {python.transitions} transitions against "
            f"{dense.states}, {dense.transitions}"
        )
    for p, d in zip(python.properties, dense.properties, strict=True):
        if (p.id, p.verdict, len(p.actions)) != (d.id, d.verdict, len(d.actions)):
            found.append(
                f"{p.id}: {p.verdict} in {len(p.actions)} against {d.verdict} in {len(d.actions)}"
            )
        if p.verdict == "violated" and p.id in python.recoverable and p.why != d.why:
            found.append(f"{p.id}: why {p.why!r} against {d.why!r}")
    if python.armed != dense.armed:
        found.append(f"armed {python.armed} against {dense.armed}")
    for property_id, recovers in python.recoverable.items():
        if recovers.count(0) != dense.recoverable[property_id].count(0):
            found.append(f"{property_id}: stuck states differ")
    return found


def assert_paths_are_real(exploration: Exploration) -> None:
    """Each violation's story: from a start, each action taken in the model leads to the
    next state told (a lost response counted), so the story is a run of the model."""
    machines = compiled()
    actions = exploration.universe.actions
    starts = {(s, w) for s, w in exploration.universe.starts}
    for result in exploration.properties:
        if result.verdict != "violated":
            continue
        setup_index, world, lost = exploration.decode(result.path[0])
        assert (setup_index, world) in starts and lost == 0
        setup = exploration.universe.setups[setup_index]
        for n, a in enumerate(result.actions[: len(result.path) - 1]):
            after, _ = step(setup, world, actions[a], exploration.variant, machines)
            action = actions[a]
            lost += int(isinstance(action, Request) and action.faulty)
            assert exploration.decode(result.path[n + 1]) == (setup_index, after, lost)
            world = after


def both(variant_ref: str, bounds: Bounds) -> list[tuple[Exploration, Exploration]]:
    variant = load_variant(variant_ref)
    pairs = []
    for system in default_systems(variant):
        python = explore(variant, bounds, system=system, engine="python")
        dense = explore(variant, bounds, system=system, engine="dense")
        pairs.append((python, dense))
    return pairs


@pytest.mark.parametrize("variant", ["baseline", "mp105", "mp178"])
def test_dense_equals_the_explorer_on_the_built_in_variants(variant: str) -> None:
    for python, dense in both(variant, Bounds()):
        assert differences(python, dense) == [], python.system.describe()
        assert_paths_are_real(dense)


def test_dense_equals_the_explorer_with_dcc_events_and_two_lost() -> None:
    for python, dense in both("baseline", Bounds(max_lost=2, dcc_events=True)):
        assert differences(python, dense) == [], python.system.describe()
        assert_paths_are_real(dense)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["baseline", "mp105", "mp178"])
@pytest.mark.parametrize(
    "bounds",
    [Bounds(max_lost=2, dcc_events=True), Bounds(cads=2, versions=3, max_lost=0)],
    ids=["dcc-events", "two-cads"],
)
def test_dense_equals_the_explorer_at_larger_bounds(variant: str, bounds: Bounds) -> None:
    for python, dense in both(variant, bounds):
        assert differences(python, dense) == [], python.system.describe()
        assert_paths_are_real(dense)


@pytest.mark.slow
@pytest.mark.parametrize("variant", DOCS_VARIANTS)
def test_dense_equals_the_explorer_on_every_documented_variant(variant: str) -> None:
    for python, dense in both(variant, Bounds(dcc_events=True)):
        assert differences(python, dense) == [], python.system.describe()
        assert_paths_are_real(dense)


@settings(max_examples=8, deadline=None)
@given(
    variant=st.sampled_from(["baseline", "mp105", "mp178", *DOCS_VARIANTS]),
    versions=st.integers(1, 3),
    max_lost=st.integers(0, 2),
    dcc_events=st.booleans(),
)
def test_dense_equals_the_explorer_at_any_small_bounds(
    variant: str, versions: int, max_lost: int, dcc_events: bool
) -> None:
    bounds = Bounds(versions=versions, max_lost=max_lost, dcc_events=dcc_events)
    v = load_variant(variant)
    system = default_systems(v)[0]
    python = explore(v, bounds, system=system, engine="python")
    dense = explore_dense(v, bounds, tuple(PROPERTY_IDS), None, system)
    assert differences(python, dense) == []


def test_the_comparison_catches_a_dense_explorer_that_drops_the_cpl_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A seeded defect: without the CPL changes' transitions the dense explorer reaches
    fewer states, and ``differences`` says so."""
    empty = (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    def no_cpl_changes(self, states, index, base, rows):  # type: ignore[no-untyped-def]
        return (*empty, np.zeros(0, np.int32))

    monkeypatch.setattr(dense_search.DenseSearch, "_cpl_edges", no_cpl_changes)
    [(python, dense), *_] = both("baseline", Bounds(dcc_events=True))
    assert differences(python, dense)


def test_the_comparison_catches_a_dense_explorer_that_loses_no_response(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A seeded defect: a dense explorer that never loses a response misses the
    violations that need one."""
    monkeypatch.setattr(dense_search.DenseSearch, "__init__", _max_lost_zero(dense_search))
    [(python, dense), *_] = both("baseline", Bounds())
    assert any("recoverable" in d for d in differences(python, dense))


def _max_lost_zero(module):  # type: ignore[no-untyped-def]
    original = module.DenseSearch.__init__

    def init(self, successors, space, max_lost, violations, progress=None):  # type: ignore[no-untyped-def]
        original(self, successors, space, 0, violations, progress)

    return init


def test_check_at_two_meters_runs_the_dense_explorer_by_default() -> None:
    """``explore`` picks the dense explorer from 2 meters (its states are numbered level
    by level, so its decoder reads a numpy array)."""
    exploration = explore(load_variant("mp178"), Bounds(meters=2, versions=1, max_lost=0))
    from checker.dense import Keys
    from checker.packing import Decoder

    assert isinstance(exploration.decode, Decoder)
    assert isinstance(exploration.decode.keys, Keys)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 300), st.integers(0, 2), st.integers(0, 1)),
        min_size=1,
        max_size=60,
    )
)
def test_the_dense_index_is_one_to_one_and_the_bitmap_a_set(
    fields: list[tuple[int, int, int, int]],
) -> None:
    """However the fields' values arrive (the space growing as they do), distinct states
    get distinct indices within the space, and the bitmap holds exactly what was added."""
    layout = Layout(devices=1, pairs=1, versions=2, setups=2)
    space = DenseSpace(layout, max_lost=1)
    states = np.array(
        sorted(
            {
                layout.pack(setup, cpl, [dev], [join], lost)
                for join, dev, cpl, lost in fields
                for setup in (0, 1)
            }
        ),
        dtype=np.uint64,
    )
    seen: set[int] = set()
    bitmap = Bitmap(0)
    for at in range(0, len(states), 7):
        chunk = states[at : at + 7]
        if space.learn(chunk):
            bitmap = Bitmap(space.size)
            if seen:
                bitmap.add(space.index(np.array(sorted(seen), dtype=np.uint64)))
        seen |= {int(s) for s in chunk}
        bitmap.add(space.index(chunk))
    index = space.index(states)
    assert len(set(index.tolist())) == len(states)
    assert index.min() >= 0 and index.max() < space.size
    assert bitmap.has(index).all()
    others = np.setdiff1d(np.arange(space.size), index)
    assert not bitmap.has(others).any() and bitmap.lacks(others).all()


@pytest.mark.slow
def test_dense_equals_the_explorer_at_two_meters() -> None:
    bounds = Bounds(meters=2)
    variant = load_variant("baseline")
    python = explore(variant, bounds, engine="python")
    dense = explore(variant, bounds, engine="dense")
    assert differences(python, dense) == []
    assert_paths_are_real(dense)


@pytest.mark.parametrize("variant", ["baseline", "mp105", "mp178"])
def test_dense_equals_the_explorer_at_two_meters_with_meters_swapped(variant: str) -> None:
    """At 2 meters the dense explorer tells the second meter's transitions from the first's
    (checker/dense_symmetry.py) and computes rows once per class of setups: the same
    states, verdicts, story lengths and armed counts as the explorer, which computes each."""
    for python, dense in both(variant, Bounds(meters=2, versions=1, max_lost=0, dcc_events=True)):
        assert differences(python, dense) == [], python.system.describe()
        assert_paths_are_real(dense)


def test_the_comparison_catches_a_swap_that_leaves_the_joins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A seeded defect: a swap of the meters that moves their states but leaves their
    joins where they were tells the second meter's Joins from the wrong pair, and the
    comparison says so."""
    import checker.dense_symmetry as symmetry

    def state(self, packed):  # type: ignore[no-untyped-def]
        setup, cpl, devices, joins, lost = self.layout.unpack(packed)
        swapped = [devices[self.devices[d]] for d in range(len(devices))]
        return self.layout.pack(self.setups[setup], cpl, swapped, joins, lost)

    monkeypatch.setattr(symmetry.Swap, "state", state)
    [(python, dense), *_] = both("baseline", Bounds(meters=2, versions=1, max_lost=1))
    assert differences(python, dense)
