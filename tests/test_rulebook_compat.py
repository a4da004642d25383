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

from tests.conftest import ROOT, cli_json

FIXTURE = json.loads(
    (ROOT / "tests" / "fixtures" / "verdicts_before_rulebook.json").read_text(encoding="utf-8")
)


def verdicts(document: dict[str, Any]) -> dict[str, Any]:
    (variant,) = document["variants"]
    return {
        "states": variant["states"],
        "transitions": variant["transitions"],
        "verdicts": {
            p["id"]: {s: r["verdict"] for s, r in sorted(p.get("by_subject", {}).items())}
            or p["verdict"]
            for p in variant["properties"]
        },
    }


@pytest.mark.parametrize("name", sorted(FIXTURE["variants"]))
def test_a_variant_of_before_the_rulebook_keeps_its_verdicts(name: str) -> None:
    ref = name if not name.endswith(".toml") else f"docs/variants/{name}"
    document = cli_json("check", "--variant", ref, "--format", "json")
    assert verdicts(document) == FIXTURE["variants"][name]


def test_the_fixture_covers_every_built_in_and_names_a_violation() -> None:
    """A fixture of only 'holds' could not tell a broken comparison from a kept meaning."""
    assert {"baseline", "mp105", "mp178"} <= set(FIXTURE["variants"])
    flat = json.dumps(FIXTURE["variants"])
    assert "violated" in flat and "holds" in flat
