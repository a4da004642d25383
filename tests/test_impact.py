"""Fleet impact, computed with Storm (docs/fleet.md), checked against hand-computed chains."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from checker.explorer import System
from checker.impact import binomial_interval, type_impact
from model.data_files import read_data
from model.rates import parse_rates
from model.variant import load_variant
from tests.conftest import assert_one_line_error, cli, cli_json


def joins_only(join_rate: float, loss: float, share: float) -> dict[str, object]:
    """Rates under which a strand is hand-computable: only SR8.7.2 Joins happen. A
    non-compliant meter strands when its first Join loses its response (it refuses the
    re-sent Join, seed:MP178); any first Join that is answered ends the story. So
    P(strand within a year) = loss * (1 - exp(-join_rate)); a compliant meter never strands."""
    document = read_data("rates.json")
    for row in document["actions"]:
        row["per_year"] = join_rate if row["action"] == "8.7.2" else 0.0
    document["loss"]["response"]["value"] = loss
    document["non_compliant_fraction"]["value"] = share
    return document


@pytest.mark.parametrize(("join_rate", "loss", "share"), [(0.5, 0.01, 0.05), (2.0, 0.3, 1.0)])
def test_join_strand_matches_the_hand_computed_chain(join_rate, loss, share):
    rates = parse_rates("test", joins_only(join_rate, loss, share))
    found = type_impact(load_variant("baseline"), System("ESME", "CAD"), rates, 1000)
    by_hand = loss * (1 - math.exp(-join_rate))
    assert found.compliant == 0
    assert found.non_compliant == pytest.approx(by_hand, rel=1e-5)
    assert found.expected == pytest.approx(1000 * share * by_hand, rel=1e-5)
    assert found.cost == pytest.approx(2000 * found.expected, rel=1e-9)
    # MP178 lets the Unjoin through: no strand at all.
    fixed = type_impact(load_variant("mp178"), System("ESME", "CAD"), rates, 1000)
    assert fixed.probability == 0


def test_impact_and_diff_in_json_against_the_hand_computed_case(tmp_path: Path):
    file = tmp_path / "rates.json"
    file.write_text(json.dumps(joins_only(0.5, 0.01, 0.05)), encoding="utf-8")
    by_hand = 30_000_000 * 0.05 * 0.01 * (1 - math.exp(-0.5))
    report = cli_json(
        "impact", "--variant", "baseline", "--fleet", "30000000", "--rates", str(file)
    )
    esme = next(t for t in report["types"] if t["device_type"] == "ESME")
    assert esme["expected_stranded"] == pytest.approx(by_hand, rel=1e-5)
    assert esme["expected_cost_gbp"] == pytest.approx(2000 * by_hand, rel=1e-5)
    low, high = esme["interval_99"]
    assert low < by_hand < high
    sources = {row["name"]: row["source"] for row in report["rates"]}
    assert sources["cost_per_manual_correction_gbp"] == "seed:MP178"
    assert sources["per_year.8.7.2"] == "assumption"
    saving = cli_json(
        "impact", "--diff", "baseline", "mp178", "--fleet", "30000000", "--rates", str(file)
    )
    esme_saved = next(t for t in saving["types"] if t["device_type"] == "ESME")
    assert esme_saved["stranded_saved"] == pytest.approx(by_hand, rel=1e-5)
    assert esme_saved["gbp_saved"] == pytest.approx(2000 * by_hand, rel=1e-5)


def test_the_issue_command_prints_each_type_with_the_sources():
    result = cli("impact", "--variant", "baseline", "--fleet", "30000000", "--loss", "0.0001")
    assert result.returncode == 0, result.stderr
    for shown in ("ESME with CAD", "GSME with IHD", "PPMID with CAD", "seed:MP178", "assumption"):
        assert shown in result.stdout
    assert "…" not in result.stdout  # at 80 columns every figure is whole (wrapped)
    saving = cli_json("impact", "--diff", "baseline", "mp105", "--loss", "0.0001")
    assert saving["stranded_saved"] > 0  # MP105 removes the firmware strands of the meters


def test_calibrate_finds_the_loss_that_gives_the_incident_count():
    # 0.3 joins a year: the rates file's SR8.7.1 and SR8.7.2 rates together, so the rates
    # calibrated are the file's own.
    found = cli_json("impact", "--calibrate", "--fleet", "1000000", "--installation-rate", "0.3")
    rates = parse_rates("test", read_data("rates.json")).with_loss(response=found["loss"])
    system = System("ESME", "CAD")
    strands = type_impact(load_variant("baseline"), system, rates, 1_000_000)
    per_year = 1_000_000 * strands.by_property["join-recoverable"]
    assert per_year == pytest.approx(found["incidents_per_year"], rel=1e-3)
    assert found["incidents_per_year"] == pytest.approx(4 / (348 / 365.25), rel=0.01)


@pytest.mark.parametrize(
    ("n", "p", "interval"), [(10, 0.5, (1, 9)), (100, 0.0, (0, 0)), (20, 0.1, (0, 6))]
)
def test_binomial_interval_by_hand(n, p, interval):
    # Binomial(10, 0.5): P(X <= 0) = 1/1024 < 0.005 < P(X <= 1) = 11/1024, so 1..9.
    # Binomial(20, 0.1): P(X >= 7) = 0.0024 < 0.005 < P(X >= 6) = 0.0113, so 0..6.
    assert binomial_interval(n, p) == interval


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--loss", "2"), "--loss"),
        (("--fleet", "0"), "--fleet"),
        (("--rates", "/nonexistent/rates.json"), "cannot read"),
    ],
)
def test_bad_input_is_one_line(args, fragment):
    assert_one_line_error(cli("impact", *args), fragment)


def test_a_rates_row_without_a_source_is_refused(tmp_path: Path):
    document = read_data("rates.json")
    del document["actions"][0]["source"]
    file = tmp_path / "rates.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    assert_one_line_error(cli("impact", "--rates", str(file)), "source")


@pytest.mark.parametrize("variant", ["baseline", "mp105"])
@pytest.mark.parametrize("compliant", [True, False])
def test_the_chain_strands_exactly_where_the_replay_finds_no_way_back(variant, compliant):
    """The chain's strands come from a backward search over the whole graph; the replay's
    verdicts from a forward search per state. They agree on every state, and the ones that
    fail are absorbing."""
    from checker.fleet_chain import _graph, build_chain
    from checker.replay import recoverability

    loaded = load_variant(variant)
    graph = _graph(loaded, System("ESME", "CAD"), compliant)
    for world, failed in zip(graph.worlds, graph.failed, strict=True):
        verdicts = recoverability(graph.setup, world, loaded, graph.versions)
        assert failed == tuple(p for p, ok in verdicts.items() if ok is False), world
    chain = build_chain(
        loaded, System("ESME", "CAD"), compliant, parse_rates("t", read_data("rates.json"))
    )
    assert all(not chain.rates[n] for n in chain.absorbing)
    if variant == "baseline":
        assert chain.absorbing  # the MP105 strand is there to be found
