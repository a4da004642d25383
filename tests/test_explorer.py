"""The exhaustive explorer: expected verdicts computed, shortest traces, variant edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.explorer import Bounds, explore
from checker.narrate import as_scenario, story
from model.property_ids import PROPERTY_IDS
from model.variant import load_variant
from tests.conftest import cli, cli_json

EXPECTED_VIOLATIONS = {
    "baseline": {"firmware-recoverable", "join-recoverable", "suspension-recoverable"},
    "mp105": {"join-recoverable"},
    "mp178": {"unjoin-validated"},
}


@pytest.mark.parametrize("variant", sorted(EXPECTED_VIOLATIONS))
def test_each_built_in_variant_gets_its_seed_verdicts(variant: str) -> None:
    result = explore(load_variant(variant))
    violated = {p.id for p in result.properties if p.verdict == "violated"}
    assert violated == EXPECTED_VIOLATIONS[variant]
    assert result.as_expected


def test_done_when_check_json_gives_expected_verdicts_and_traces() -> None:
    result = cli("check", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [v["variant"] for v in report["variants"]] == ["baseline", "mp105", "mp178"]
    for variant in report["variants"]:
        assert variant["states"] > 0 and variant["transitions"] > 0 and variant["seconds"] >= 0
        assert [p["id"] for p in variant["properties"]] == list(PROPERTY_IDS)
        for p in variant["properties"]:
            assert p["verdict"] == p["expected"]
            assert bool(p["trace"]) == (p["verdict"] == "violated")


SHORTEST = {
    ("baseline", "firmware-recoverable"): 2,
    ("baseline", "join-recoverable"): 1,
    ("mp105", "join-recoverable"): 1,
    ("mp178", "unjoin-validated"): 2,
}


@pytest.mark.parametrize("case", sorted(SHORTEST))
def test_traces_are_shortest(case: tuple[str, str]) -> None:
    """Breadth-first: no counterexample is shorter than the one reported (checked by
    exploring with every shorter path length cut off)."""
    variant, property_id = case
    result = explore(load_variant(variant), properties=[property_id]).result(property_id)
    assert len(result.actions) == SHORTEST[case]


def test_the_mp105_story_is_a_firmware_counterexample_under_baseline(tmp_path: Path) -> None:
    """The seed's own story, replayed: baseline can't get out of it; mp105 can."""
    result = explore(load_variant("baseline"), properties=["firmware-recoverable"])
    told = story(result, "firmware-recoverable")
    assert told is not None and told["steps"]
    final = told["final"]["devices"]["esme1"]
    assert final["smi_firmware"] != final["device_firmware"] or final["status"] == "suspended"


def write_variant(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'id = "{name}"\nextends = "mp105"\n{body}')
    return str(path)


DROP_11_2 = """[suspended]
exceptions = [{ srv = "11.1" }, { srv = "6.23" }, { srv = "2.2", command_variant = 2, smets = 1 }]
[firmware]
update_smi_on = ["11.3:success", "11.3:with-version", "11.2:with-version"]
"""
SUCCESS_ONLY = """[firmware]
update_smi_on = ["11.3:success"]
"""


def test_done_when_dropping_11_2_but_keeping_the_reattempt_keeps_firmware_recoverable(
    tmp_path,
) -> None:
    path = write_variant(tmp_path, "no-11-2", DROP_11_2)
    result = explore(load_variant(path))
    assert result.result("firmware-recoverable").verdict == "holds"
    # mp105's [expect] is not inherited: join-recoverable is violated but not expected
    assert cli("check", "--variant", path).returncode == 1


def test_done_when_success_only_updates_break_firmware_recoverable(tmp_path) -> None:
    path = write_variant(tmp_path, "success-only", SUCCESS_ONLY)
    result = explore(load_variant(path))
    assert result.result("firmware-recoverable").verdict == "violated"
    run = cli("check", "--variant", path, "--format", "json")
    assert run.returncode == 1
    verdicts = {
        p["id"]: (p["verdict"], p["expected"])
        for p in json.loads(run.stdout)["variants"][0]["properties"]
    }
    assert verdicts["firmware-recoverable"] == ("violated", "holds")


def test_an_expect_table_that_says_so_makes_it_exit_0(tmp_path) -> None:
    path = write_variant(
        tmp_path,
        "declared",
        SUCCESS_ONLY + '[expect]\nfirmware-recoverable = "violated"\n'
        'join-recoverable = "violated"\nsuspension-recoverable = "violated"\n',
    )
    assert cli("check", "--variant", path).returncode == 0


def test_removing_unjoin_validation_changes_exactly_the_join_verdicts(tmp_path) -> None:
    path = write_variant(tmp_path, "no-e080801", "[joins]\nunjoin_requires_smi_join = false\n")
    result = explore(load_variant(path))
    assert result.result("join-recoverable").verdict == "holds"
    assert result.result("unjoin-validated").verdict == "violated"
    assert result.result("firmware-recoverable").verdict == "holds"


def test_reconciling_from_the_device_log_also_recovers_joins(tmp_path) -> None:
    path = write_variant(tmp_path, "reconcile", "[joins]\nreconcile_smi_from_8_9 = true\n")
    result = explore(load_variant(path))
    assert result.result("join-recoverable").verdict == "holds"
    assert result.result("unjoin-validated").verdict == "holds"


def test_a_counterexample_replays_as_a_scenario(tmp_path: Path) -> None:
    result = explore(load_variant("mp105"), properties=["join-recoverable"])
    scenario = as_scenario(result, "join-recoverable")
    path = tmp_path / "cx.json"
    path.write_text(json.dumps(scenario))
    report = cli_json("run", str(path))
    joins = report["steps"][-1]["joins"]
    assert any(j["smi"] != j["device"] for j in joins)


def test_itf_traces_are_written_for_each_violation(tmp_path: Path) -> None:
    result = cli("check", "--itf", str(tmp_path), "--format", "json")
    assert result.returncode == 0
    violated = {
        f"{v['variant']}-{p['id']}-{subject.lower()}.itf.json"
        for v in json.loads(result.stdout)["variants"]
        for p in v["properties"]
        for subject, s in p["by_subject"].items()
        if s["verdict"] == "violated"
    }
    causes = {
        f"{v['variant']}-{p['id']}-{subject.lower()}-cause-{n}.itf.json"
        for v in json.loads(result.stdout)["variants"]
        for p in v["properties"]
        for subject, s in p["by_subject"].items()
        if s["verdict"] == "violated"
        for n in range(1, len(s["causes"]) + 1)
    }
    assert "baseline-join-recoverable-esme-cad.itf.json" in violated
    assert "baseline-firmware-recoverable-esme-cause-3.itf.json" in causes  # every cause
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(violated | causes)
    doc = json.loads((tmp_path / "baseline-join-recoverable-esme-cad.itf.json").read_text())
    assert doc["vars"] == ["action", "act", "cpl", "devices", "joins"]
    assert doc["states"][0]["action"] == "init" and len(doc["states"]) == 2
    assert doc["states"][-1]["joins"]["#map"][0][1] == "device_only"
    # The action as a record beside its prose: SRV, target, other, image, lost or not.
    act = doc["states"][-1]["act"]
    assert act["kind"] == "request" and act["srv"] in doc["states"][-1]["action"].replace("SR", "")
    assert act["target"] == "esme1" and act["other"] == "cad1" and act["lost"] is True
    traces = [
        json.loads(path.read_text())
        for path in sorted(tmp_path.glob("baseline-firmware-recoverable-esme-cause-*.itf.json"))
    ]
    assert all(t["#meta"]["cause"] for t in traces)
    assert any(s["act"]["lost"] for t in traces for s in t["states"])  # the seeds' story


@pytest.mark.parametrize("variant", sorted(EXPECTED_VIOLATIONS))
def test_larger_bounds_keep_the_verdicts(variant: str) -> None:
    bounds = Bounds(versions=3, max_lost=2, dcc_events=True)
    result = explore(load_variant(variant), bounds)
    violated = {p.id for p in result.properties if p.verdict == "violated"}
    assert violated == EXPECTED_VIOLATIONS[variant]


def test_bad_check_input_is_one_line_and_exit_2(tmp_path) -> None:
    from tests.conftest import assert_one_line_error

    assert_one_line_error(cli("check", "--property", "no-such"), "unknown property")
    assert_one_line_error(cli("check", "--variant", "nope"), "unknown variant")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(cli("check", "--itf", str(blocker / "sub")), "cannot write ITF")


def test_an_itf_directory_that_cannot_be_written_is_refused_before_the_search(
    tmp_path, monkeypatch
) -> None:
    from smi_spec import checking
    from tests.conftest import assert_one_line_error

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the search ran before --itf was found unwritable")

    monkeypatch.setattr(checking, "check", no_search)
    blocker = tmp_path / "file"
    blocker.write_text("")
    refused = cli("check", "--itf", str(blocker / "sub" / "deeper"))
    assert_one_line_error(refused, "cannot write ITF", "is not a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing made
