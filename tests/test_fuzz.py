"""Hypothesis stateful fuzzing per built-in variant, against the explorer's verdicts.

Budget: 200 examples of up to 20 steps, seed 0 (derandomised runs, so CI is repeatable).
"""

from __future__ import annotations

import pytest

from model.variant import BUILTIN, load_variant
from properties.explorer import DEFAULT_SYSTEM, explore, subject_of
from properties.fuzz import fuzz
from properties.ids import PROPERTY_IDS

BUDGET = {"max_examples": 200, "step_count": 20, "seed": 0}


def _expected(variant_id: str, property_id: str) -> str:
    """What [expect] says for the fuzzed system's device type or pair type."""
    return load_variant(variant_id).expected(property_id, subject_of(DEFAULT_SYSTEM, property_id))


def _cases() -> list[tuple[str, str]]:
    return [(v, p) for v in BUILTIN for p in PROPERTY_IDS if _expected(v, p) == "violated"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c[0]}-{c[1]}")
def test_fuzzing_finds_each_expected_violation_and_shrinks_it_to_the_shortest(case) -> None:
    variant_id, property_id = case
    variant = load_variant(variant_id)
    result = fuzz(variant, (property_id,), **BUDGET)
    assert result.found == property_id, f"not found within {BUDGET}"
    shortest = explore(variant, properties=[property_id]).result(property_id)
    assert len(result.trace) == len(shortest.actions)


@pytest.mark.parametrize("variant_id", BUILTIN)
def test_fuzzing_finds_nothing_the_variant_expects_to_hold(variant_id: str) -> None:
    variant = load_variant(variant_id)
    holding = tuple(p for p in PROPERTY_IDS if _expected(variant_id, p) == "holds")
    result = fuzz(variant, holding, **BUDGET)
    assert result.found is None, (result.found, result.trace)
    assert result.steps > 1000  # the budget was really spent


def test_the_fuzzer_can_fail_a_broken_rule(tmp_path) -> None:
    """A variant that accepts SR11.2 only through a broken exception list still can't
    restore: fuzzing reports firmware-recoverable, which mp105 itself keeps."""
    path = tmp_path / "broken.toml"
    path.write_text(
        'id = "broken"\nextends = "mp105"\n[firmware]\nupdate_smi_on = ["11.3:success"]\n'
    )
    result = fuzz(load_variant(str(path)), ("firmware-recoverable",), **BUDGET)
    assert result.found == "firmware-recoverable"


def test_fuzz_command_exit_codes(tmp_path) -> None:
    from tests.conftest import cli

    ok = cli(
        "fuzz", "--variant", "mp178", "--max-examples", "100", "--database", str(tmp_path / "db")
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "unjoin-validated violated" in ok.stdout and "reproduce:" in ok.stdout
    assert (tmp_path / "db").is_dir()
