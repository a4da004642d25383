"""Stories end in the ways back, failing (issue 22): after the point of no return, the
requests the seeds name are tried (model/data/recovery_attempts.json), each with its
answer, then the manual SMI correction and its cost (model/data/rates.json)."""

from __future__ import annotations

from checker.explorer import System, explore
from checker.narrate import story
from model.rates import default_rates
from model.variant import load_variant
from tests.conftest import SCENARIOS, cli, cli_json

COST = int(default_rates().figure("cost_per_manual_correction_gbp"))


def _ending(variant: str, property_id: str, system: System) -> dict:
    e = explore(load_variant(variant), properties=[property_id], system=system)
    told = story(e, property_id)
    assert told is not None
    return told


def test_a_stranded_meter_tries_sr11_2_and_the_sr11_3_re_attempt_then_a_manual_fix() -> None:
    # The firmware story: the lost SR11.3 response, so the meter is not Suspended (F1 is
    # still listed): SR11.2 is answered, but under baseline no rule updates the SMI from it.
    told = _ending("baseline", "firmware-recoverable", System("ESME", "CAD"))
    tried = {a["srv"]: a for a in told["aftermath"]["attempts"]}
    assert tried["11.2"]["response_code"] == "I0" and not tried["11.2"]["fixed"]
    assert tried["11.3"]["accepted"] is True and not tried["11.3"]["fixed"]
    # The suspension story: the meter is Suspended, and check E5 refuses SR11.2 (E51).
    suspended = _ending("baseline", "suspension-recoverable", System("ESME", "CAD"))
    tried = {a["srv"]: a for a in suspended["aftermath"]["attempts"]}
    assert tried["11.2"]["response_code"] == "E51" and tried["11.2"]["accepted"] is False
    assert all(a["source"] == "seed:MP105" for a in tried.values())
    manual = told["aftermath"]["manual"]
    assert manual["stranded"] == ["esme1"] and manual["cost_gbp"] == COST == 2000
    assert manual["cost_source"] == "seed:MP178"
    assert 0 < told["point_of_no_return"] <= len(told["steps"])


def test_a_stranded_join_tries_the_join_the_device_refuses_and_the_unjoin_e080801() -> None:
    told = _ending("baseline", "join-recoverable", System("ESME", "CAD"))
    codes = {a["srv"]: a["response_code"] for a in told["aftermath"]["attempts"]}
    assert codes["8.8.2"] == "E080801"
    assert codes["8.7.2"] == "DEVICE:ALREADY_JOINED"
    assert told["aftermath"]["manual"]["stranded"] == ["esme1-cad1"]


def test_a_ppmid_has_no_way_back_the_dsp_accepts() -> None:
    told = _ending("mp105", "firmware-recoverable", System("PPMID"))
    assert told["aftermath"]["attempts"]
    assert all(a["accepted"] is False for a in told["aftermath"]["attempts"])


def test_a_property_that_holds_has_no_aftermath_and_safety_has_none() -> None:
    e = explore(
        load_variant("mp178"), properties=["unjoin-validated"], system=System("ESME", "CAD")
    )
    told = story(e, "unjoin-validated")
    assert told is not None and "aftermath" not in told


def test_run_counts_one_manual_correction_per_stranded_device_and_states_verdicts() -> None:
    one = cli_json("run", str(SCENARIOS / "mp178-story-baseline.json"))
    assert one["manual_fixes_needed"] == 1 and one["manual_fixes_needed_cost_gbp"] == COST
    verdicts = {v["property"]: v for v in one["verdicts"]}
    assert verdicts["join-recoverable"]["verdict"] == "violated"
    assert one["points_of_no_return"]["join-recoverable"] >= 1
    two = cli_json("run", str(SCENARIOS / "mp105-story-baseline.json"))
    assert two["needing_correction"] == ["esme1", "esme2"]  # both meters stranded
    assert two["manual_fixes_needed_cost_gbp"] == 2 * COST
    fixed = cli_json("run", str(SCENARIOS / "mp105-story-baseline.json"), "--variant", "mp105")
    assert fixed["manual_fixes_needed"] == 0 and fixed["points_of_no_return"] == {}


def test_run_text_ends_with_the_verdicts_and_the_corrections_needed() -> None:
    text = cli("run", str(SCENARIOS / "mp178-story-baseline.json")).stdout
    tail = " ".join(text.split()[-60:])
    assert "join-recoverable: violated; point of no return after step" in tail
    assert "Manual SMI corrections needed: 1 (about £2,000 at £2,000 each" in tail
