"""Today's variant files keep their meaning under the rulebook (issue 18).

``tests/fixtures/verdicts_before_rulebook.json`` holds the verdicts, state and transition
counts ``smi-spec check`` gave on the main branch before the rulebook (its ``how`` says how
it was produced); each built-in variant and each of those docs/variants files must give the
same today.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from checker.compose import explore_systems
from checker.explorer import Bounds, default_systems
from model.property_ids import PROPERTY_IDS
from model.variant import load_variant
from tests.conftest import ROOT

FIXTURE = json.loads(
    (ROOT / "tests" / "fixtures" / "verdicts_before_rulebook.json").read_text(encoding="utf-8")
)


def verdicts(name: str) -> dict[str, Any]:
    """What ``check`` reports for a variant, computed as ``check`` does it (the same
    systems, the same graphs) without the cause search, which the fixture does not hold."""
    ref = name if not name.endswith(".toml") else str(ROOT / "docs" / "variants" / name)
    variant = load_variant(ref)
    explorations = explore_systems(variant, Bounds(), PROPERTY_IDS, default_systems(variant))
    by_property: dict[str, dict[str, str]] = {}
    for e in explorations:
        for p in e.properties:
            if p.subject is not None:
                by_property.setdefault(p.id, {})[p.subject] = p.verdict
    return {
        "states": sum(e.states for e in explorations),
        "transitions": sum(e.transitions for e in explorations),
        "verdicts": {k: dict(sorted(v.items())) for k, v in by_property.items()},
    }


def expected(name: str) -> dict[str, Any]:
    """The fixture's verdicts, with each change since (``changed_since``, each with its why,
    explained in docs/properties.md) applied: a change must be listed to be accepted."""
    want = json.loads(json.dumps(FIXTURE["variants"][name]))
    for change in FIXTURE.get("changed_since", []):
        if change["variant"] != name:
            continue
        if "field" in change:  # a size: states or transitions
            assert want[change["field"]] == change["before"], change
            want[change["field"]] = change["after"]
            continue
        row = want["verdicts"][change["property"]]
        assert row[change["subject"]] == change["before"], change
        row[change["subject"]] = change["after"]
    return want


@pytest.mark.parametrize("name", sorted(FIXTURE["variants"]))
def test_a_variant_of_before_the_rulebook_keeps_its_verdicts(name: str) -> None:
    assert verdicts(name) == expected(name)


def test_every_changed_verdict_is_explained_in_the_properties_doc() -> None:
    doc = (ROOT / "docs" / "properties.md").read_text(encoding="utf-8")
    for change in FIXTURE.get("changed_since", []):
        assert change["why"]
        if "field" in change:
            assert f"`{change['variant']}` {change['field']}" in doc, change
            continue
        assert f"`{change['variant']}` `{change['property']}` {change['subject']}" in doc


def test_the_fixture_covers_every_built_in_and_names_a_violation() -> None:
    """A fixture of only 'holds' could not tell a broken comparison from a kept meaning."""
    assert {"baseline", "mp105", "mp178"} <= set(FIXTURE["variants"])
    flat = json.dumps(FIXTURE["variants"])
    assert "violated" in flat and "holds" in flat
