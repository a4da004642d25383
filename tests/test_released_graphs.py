"""``check`` lets go of each variant's graph once its stories are told (issue 23), and the
report told from what it kept is the report told from the whole graph."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from checker.causes import Cause
from checker.compose import explore_variants, iter_explored
from checker.explorer import Bounds, Exploration, System, default_systems
from model.property_ids import PROPERTY_IDS
from model.variant import Variant, load_variant, load_variants
from smi_spec.checking import _causes, as_json, check, show, write_traces
from smi_spec.told import Recorded, VariantCheck


def _without_seconds(document: dict[str, Any]) -> dict[str, Any]:
    for v in document["variants"]:
        v.pop("seconds")
    return document


def _text(checks: list[VariantCheck]) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    show(console, checks)
    return "\n".join(line for line in out.getvalue().splitlines() if "seconds" not in line)


def _causes_in(checks: list[VariantCheck]) -> Callable[[Exploration, str], list[Cause]]:
    of = {id(e): c for c in checks for e in c.explorations}
    return lambda e, pid: of[id(e)].causes_of(e, pid)


@pytest.fixture(scope="module")
def both() -> tuple[list[VariantCheck], list[VariantCheck]]:
    """``check``'s result (graphs released), and the same variants with graphs held."""
    released = check("all", None, Bounds(), traces=2)
    variants = load_variants("all")
    explored = explore_variants(variants, Bounds(), PROPERTY_IDS, ())
    held = [VariantCheck(v, es, _causes(es, 2)) for v, es in zip(variants, explored, strict=True)]
    return released, held


def test_every_graph_is_released_and_an_unrecorded_look_up_is_refused(
    both: tuple[list[VariantCheck], list[VariantCheck]],
) -> None:
    released, _ = both
    for c in released:
        for e in c.explorations:
            assert isinstance(e.lookup, Recorded) and e.lookup.full is None
            assert isinstance(e.decode, Recorded) and e.decode.full is None
            with pytest.raises(LookupError, match="released"):
                e.decode(e.states - 1)


def test_the_report_from_released_graphs_is_the_report_from_whole_ones(
    both: tuple[list[VariantCheck], list[VariantCheck]], tmp_path: Path
) -> None:
    released, held = both
    assert _without_seconds(as_json(released)) == _without_seconds(as_json(held))
    assert _text(released) == _text(held)
    written = {}
    for name, checks in (("released", released), ("held", held)):
        out = tmp_path / name
        explored = [e for c in checks for e in c.explorations]
        paths = write_traces(out, explored, _causes_in(checks))
        written[name] = {p.name: p.read_bytes() for p in paths}
    assert written["released"] == written["held"] and written["held"]


def test_with_one_job_a_variant_is_explored_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``check`` lets go of a variant's graph before it asks for the next variant's."""
    from checker import compose

    asked: list[str] = []

    def explore_one(
        task: tuple[Any, ...], shared: object = None, finish: object = None
    ) -> list[Exploration]:
        asked.append(task[0].id)
        return []

    monkeypatch.setattr(compose, "_explore_one", explore_one)
    variants = load_variants("all")
    explored = iter_explored(variants, Bounds(), PROPERTY_IDS, ())
    assert asked == []
    next(explored)
    assert asked == [variants[0].id]
    assert list(explored) == [[]] * (len(variants) - 1)
    assert asked == [v.id for v in variants]


def test_each_graph_is_finished_before_the_next_is_explored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Within a variant too: a graph's explorations (the one explored, those told again
    from it) go to ``finish`` before the next system is explored."""
    from checker import compose

    events: list[tuple[str, ...]] = []
    real = compose.explore

    def explore(
        variant: Variant, bounds: Bounds, wanted: tuple[str, ...], *, system: System, **options: Any
    ) -> Exploration:
        events.append(("explore", system.describe()))
        return real(variant, bounds, wanted, system=system, **options)

    def finish(group: list[Exploration]) -> None:
        events.append(("finish", *(e.system.describe() for e in group)))

    monkeypatch.setattr(compose, "explore", explore)
    variant = load_variant("baseline")
    systems = default_systems(variant)
    got = compose.explore_systems(variant, Bounds(), PROPERTY_IDS, systems, finish=finish)
    assert [e.system for e in got] == list(systems)
    assert events == [
        ("explore", "ESME with CAD"),
        ("finish", "ESME with CAD", "GSME with IHD"),
        ("explore", "PPMID with CAD"),
        ("finish", "PPMID with CAD"),
        ("explore", "HCALCS alone"),
        ("finish", "HCALCS alone"),
    ]
