"""Compositional checking against the full product: the same verdicts and the same
shortest counterexample lengths wherever the product is feasible (docs/properties.md)."""

from __future__ import annotations

import pytest

from checker.compose import DeviceMix
from checker.explorer import Bounds, System, explore
from model.errors import InputError
from model.property_ids import PROPERTY_IDS
from model.variant import BUILTIN, load_variant
from tests.conftest import ROOT

#: (system, product bounds): the product holds several devices of the component's types.
FAST = [
    (System("ESME", "CAD"), Bounds(meters=1, cads=2, max_lost=2)),
    (System("GSME", "IHD"), Bounds(meters=1, cads=2, max_lost=1)),
    (System("PPMID"), Bounds(meters=2, max_lost=2)),
    (System("HCALCS"), Bounds(meters=2, max_lost=2)),
]
#: The 2-meter products take tens of seconds each: run by .ci/run's slow step
#: (pytest -m slow).
SLOW = [
    (System("ESME", "CAD"), Bounds(meters=2, cads=1, max_lost=1)),
    (System("ESME", "CAD"), Bounds(meters=2, cads=1, max_lost=2)),
]


def summary(variant_id: str, system: System, bounds: Bounds) -> dict[tuple[str, str], object]:
    e = explore(load_variant(variant_id), bounds, system=system)
    return {(p.id, p.subject or ""): (p.verdict, len(p.actions)) for p in e.properties}


def component(variant_id: str, system: System, bounds: Bounds) -> dict[tuple[str, str], object]:
    one = Bounds(meters=1, cads=1, versions=bounds.versions, max_lost=bounds.max_lost)
    return summary(variant_id, system, one)


@pytest.mark.parametrize("variant_id", BUILTIN)
@pytest.mark.parametrize(("system", "bounds"), FAST, ids=lambda x: getattr(x, "describe", str)())
def test_components_agree_with_the_product(variant_id: str, system: System, bounds: Bounds) -> None:
    assert component(variant_id, system, bounds) == summary(variant_id, system, bounds)


@pytest.mark.slow
@pytest.mark.parametrize("variant_id", BUILTIN)
@pytest.mark.parametrize(("system", "bounds"), SLOW, ids=lambda x: getattr(x, "describe", str)())
def test_components_agree_with_the_two_meter_product(
    variant_id: str, system: System, bounds: Bounds
) -> None:
    assert component(variant_id, system, bounds) == summary(variant_id, system, bounds)


def test_a_device_mix_is_checked_as_its_distinct_components() -> None:
    mix = DeviceMix.parse("ESME=8,GSME=1,PPMID=1,HCALCS=1,CAD=2,IHD=0")
    assert mix.components() == (
        System("ESME", "CAD"),
        System("GSME", "CAD"),
        System("PPMID", "CAD"),
        System("HCALCS"),
    )
    assert mix.devices() == 8 + 1 + 1 + 1 + 10 * 2  # ESME, GSME, PPMID: 2 CADs each


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ESME", "not TYPE=COUNT"),
        ("TOASTER=1", "unknown device type"),
        ("ESME=1,ESME=2", "given twice"),
        ("ESME=99999", "at most"),
        ("CAD=3", "no CPL-listed device"),
        ("ESME=" + "9" * 5000, "not TYPE=COUNT"),
    ],
)
def test_a_bad_device_mix_is_an_input_error(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        DeviceMix.parse(text)


VARIANT_FILES = [*BUILTIN, *(str(p) for p in sorted(ROOT.glob("docs/variants/*.toml")))]


@pytest.mark.parametrize("variant_ref", VARIANT_FILES)
def test_systems_the_rules_cannot_tell_apart_are_told_as_if_explored(variant_ref: str) -> None:
    from checker.compose import explore_systems
    from checker.explorer import default_systems
    from checker.narrate import story

    variant = load_variant(variant_ref)
    shared = explore_systems(variant, Bounds(), PROPERTY_IDS, default_systems())
    for told in shared:
        own = explore(variant, Bounds(), system=told.system)
        assert own.states == told.states
        for mine, theirs in zip(own.properties, told.properties, strict=True):
            assert (mine.id, mine.subject, mine.verdict, mine.expected) == (
                theirs.id,
                theirs.subject,
                theirs.verdict,
                theirs.expected,
            )
            assert story(own, mine.id) == story(told, theirs.id)


def test_both_cores_give_what_one_core_gives() -> None:
    from smi_spec.checking import as_json, check

    def verdicts(jobs: int) -> object:
        document = as_json(check("all", None, Bounds(), traces=1, jobs=jobs))
        for v in document["variants"]:
            v.pop("seconds")
        return document

    assert verdicts(2) == verdicts(1)
