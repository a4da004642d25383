"""smi-spec replay: the MP105 and MP178 stories, disagreements, bad logs as one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.replay import replay
from model.errors import InputError
from model.message_log import load_log, open_log
from tests.conftest import ROOT, assert_one_line_error, cli

REPLAY = ROOT / "docs" / "replay"
MP105_LOG = REPLAY / "mp105-story.jsonl"
MP178_LOG = REPLAY / "mp178-story.jsonl"
FIXTURES = ROOT / "tests" / "fixtures" / "duis"

INVENTORY = {
    "inventory": {
        "variant": "baseline",
        "cpl": ["F1", "F2"],
        "devices": [
            {"id": "esme1", "type": "ESME", "firmware": "F1"},
            {"id": "cad1", "type": "CAD"},
        ],
        "eui64": {"00-DB-00-00-00-00-00-01": "esme1", "00-DB-00-00-00-00-00-0C": "cad1"},
    }
}


def write_log(tmp_path: Path, *lines: Any, name: str = "log.jsonl") -> str:
    """A log beside copies of the DUIS fixtures (so that request paths are relative)."""
    shutil.copytree(FIXTURES, tmp_path / "duis", dirs_exist_ok=True)
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def replay_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = cli("replay", *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def event(report: dict[str, Any], line: int) -> dict[str, Any]:
    return next(e for e in report["events"] if e["line"] == line)


# ---------------------------------------------------------------------------------------
# The done-when: the MP105 story


def test_mp105_story_under_baseline_flags_the_lost_activation_as_the_point_of_no_return() -> None:
    code, report = replay_json(str(MP105_LOG), "--variant", "baseline")
    assert code == 1 and not report["clean"]
    assert report["points_of_no_return"] == {"firmware-recoverable": 4}
    lost = event(report, 4)
    assert lost["srv"] == "11.3" and lost["model"]["response_code"] is None
    assert lost["point_of_no_return"] == ["firmware-recoverable"]
    assert event(report, 3)["recoverable"]["firmware-recoverable"] is True
    assert all(not e.get("point_of_no_return") for e in report["events"] if e["line"] != 4)
    assert report["disagreements"] == [
        {"line": 5, "why": event(report, 5)["disagreement"]},
    ]
    why = event(report, 5)["disagreement"]
    assert why.startswith("logged acceptance, model says the DSP must reject with E51")
    assert [v["property"] for v in report["violated"]] == ["firmware-recoverable"]
    assert report["violated"][0]["expected_by_variant"] is True
    final = report["events"][-1]["devices"]["esme1"]
    assert (final["status"], final["smi_firmware"], final["device_firmware"]) == (
        "suspended",
        "F1",
        "F2",
    )


def test_mp105_story_under_mp105_replays_clean() -> None:
    code, report = replay_json(str(MP105_LOG))
    assert code == 0 and report["clean"] and report["variant"] == "mp105"
    assert report["disagreements"] == [] and report["violated"] == []
    requests = [e for e in report["events"] if e["kind"] == "request"]
    assert [e["agrees"] for e in requests] == [True, True, True, True]
    assert event(report, 6)["paired_with"] == 5
    assert event(report, 5)["logged"] == {
        "accepted": True,
        "response_code": "I0",
        "firmware_version": "F2",
        "from_line": 6,
    }
    final = report["events"][-1]["devices"]["esme1"]
    assert (final["status"], final["smi_firmware"]) == ("commissioned", "F2")


def test_the_text_report_names_the_point_of_no_return() -> None:
    result = cli("replay", str(MP105_LOG), "--variant", "baseline")
    assert result.returncode == 1, result.stderr
    text = " ".join(result.stdout.split())
    assert "firmware-recoverable: after line 4 the device and the SMI part ways" in text
    clean = cli("replay", str(MP105_LOG))
    assert clean.returncode == 0 and "replays clean" in clean.stdout


def test_mp178_story_baseline_stuck_at_the_lost_join_and_mp178_gives_up_unjoin_validated() -> None:
    code, baseline = replay_json(str(MP178_LOG), "--variant", "baseline")
    assert code == 1
    assert baseline["points_of_no_return"] == {"join-recoverable": 2}
    assert [d["line"] for d in baseline["disagreements"]] == [5]
    assert "E080801" in baseline["disagreements"][0]["why"]
    code, mp178 = replay_json(str(MP178_LOG))
    # Not clean, but every verdict is as mp178's [expect] says: exit 0 (README's rule).
    assert code == 0 and not mp178["clean"] and mp178["disagreements"] == []
    assert mp178["points_of_no_return"] == {}
    assert [
        (v["property"], v["first_line"], v["expected_by_variant"]) for v in mp178["violated"]
    ] == [("unjoin-validated", 5, True)]


# ---------------------------------------------------------------------------------------
# Disagreements


@pytest.mark.parametrize(
    ("outcome", "why"),
    [
        (
            {"logged": {"accepted": False, "response_code": "E51"}},
            "logged rejection E51, model says the DSP must accept",
        ),
        (
            {"logged": {"accepted": True, "response_code": "E51"}},
            "accepted is true but the code is E51",
        ),
        ({"logged": {"accepted": True, "response_code": "I99"}}, "logged I99, model says I0"),
        (
            {"logged": {"accepted": True, "firmware_version": "F9"}},
            "logged firmware version F9, but in the model the device runs F1",
        ),
        ({"lose_response": True}, None),
    ],
)
def test_a_logged_outcome_is_compared_with_the_model(
    tmp_path: Path, outcome: dict[str, Any], why: str | None
) -> None:
    log = write_log(
        tmp_path, INVENTORY, {"request": "duis/sr11.2-read-firmware-version.xml", **outcome}
    )
    if why and "but the code" in why:
        assert_one_line_error(cli("replay", log), "line 2", why)
        return
    code, report = replay_json(log)
    record = event(report, 2)
    assert record["device"] == "esme1" and record["srv"] == "11.2"
    if why is None:
        assert code == 0 and record["agrees"] is True
    else:
        assert code == 1 and record["agrees"] is False and record["disagreement"].startswith(why)


def test_a_response_file_pairs_by_request_id_and_an_e51_response_disagrees(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        INVENTORY,
        {"request": "duis/sr11.2-read-firmware-version.xml"},
        {"cpl_add": "F3"},
        {"response": "duis/response-E51.xml"},
    )
    code, report = replay_json(log)
    assert code == 1
    assert event(report, 4)["paired_with"] == 2
    assert event(report, 2)["logged"]["response_code"] == "E51"
    assert event(report, 2)["disagreement"].startswith("logged rejection E51")


def test_a_duis_unjoin_and_an_inline_one_find_the_same_pair(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        {
            **INVENTORY,
            "inventory": {
                **INVENTORY["inventory"],
                "joins": [{"target": "esme1", "other": "cad1", "smi": True, "device": True}],
            },
        },
        {"request": "duis/sr8.8.2-unjoin.xml", "logged": {"accepted": True, "response_code": "I0"}},
        {"inline": {"srv": "8.8.2", "target": "esme1", "other": "cad1"}},
        {"response": {"srv": "8.8.2", "target": "esme1", "code": "E080801"}},
    )
    code, report = replay_json(log)
    assert code == 0, report
    assert event(report, 2)["other"] == "cad1" and event(report, 3)["other"] == "cad1"
    assert report["events"][-2]["joins"] == [
        {"target": "esme1", "other": "cad1", "smi": False, "device": False}
    ]


# ---------------------------------------------------------------------------------------
# Bad logs: one line naming the file and the line, exit 2


GOOD_REQUEST = {"request": "duis/sr11.2-read-firmware-version.xml"}


@pytest.mark.parametrize(
    ("lines", "where", "fragment"),
    [
        ([], "log.jsonl", "empty log"),
        (["{not json"], "line 1", "not valid JSON"),
        ([{"devices": []}], "line 1", 'the first line must be {"inventory"'),
        ([{"inventory": {"devices": []}}], "line 1", "inventory: devices"),
        (
            [{"inventory": {"devices": [{"id": "e", "type": "ESME"}], "steps": []}}],
            "line 1",
            "has no steps",
        ),
        (
            [{"inventory": {**INVENTORY["inventory"], "eui64": {"xyz": "esme1"}}}],
            "line 1",
            "not an EUI-64",
        ),
        (
            [
                {
                    "inventory": {
                        **INVENTORY["inventory"],
                        "eui64": {"00-DB-00-00-00-00-00-09": "nobody"},
                    }
                }
            ],
            "line 1",
            "names no device",
        ),
        (
            [{"inventory": {**INVENTORY["inventory"], "variant": "nope"}}],
            "line 1",
            "unknown variant",
        ),
        ([INVENTORY, GOOD_REQUEST, "[1, 2]"], "line 3", "not a JSON object"),
        ([INVENTORY, "", {"what": 1}], "line 3", "not an event"),
        ([INVENTORY, {**GOOD_REQUEST, "colour": "red"}], "line 2", "unknown key 'colour'"),
        (
            [INVENTORY, {"inline": {"srv": "11.2", "target": "esme9"}}],
            "line 2",
            "unknown device 'esme9'",
        ),
        ([INVENTORY, {"inline": {"srv": "99.9", "target": "esme1"}}], "line 2", "unknown SRV"),
        (
            [INVENTORY, {"inline": {"srv": "11.2", "target": "esme1", "other": "cad1"}}],
            "line 2",
            '"other" is only for',
        ),
        (
            [INVENTORY, {"inline": {"srv": "11.2", "target": "esme1", "command_variant": 9}}],
            "line 2",
            "command_variant",
        ),
        (
            [INVENTORY, {**GOOD_REQUEST, "lose_response": True, "logged": {"accepted": True}}],
            "line 2",
            "not both",
        ),
        ([INVENTORY, {"request": "duis/missing.xml"}], "line 2", "cannot read"),
        ([INVENTORY, {"request": "duis/bad/billion-laughs.xml"}], "line 2", "refused"),
        ([INVENTORY, {"request": "duis/response-E51.xml"}], "line 2", "not a request"),
        (
            [{"inventory": {**INVENTORY["inventory"], "eui64": {}}}, GOOD_REQUEST],
            "line 2",
            "not in the inventory's eui64 map",
        ),
        (
            [INVENTORY, {"response": "duis/response-E51.xml"}],
            "line 2",
            "answers no earlier request",
        ),
        (
            [INVENTORY, {"response_lost": {"srv": "11.3", "target": "esme1"}}],
            "line 2",
            "answers no earlier request",
        ),
        (
            [
                INVENTORY,
                {**GOOD_REQUEST, "logged": {"accepted": True}},
                {"response": "duis/response-E51.xml"},
            ],
            "line 3",
            "answers no earlier request",
        ),
        (
            [INVENTORY, {"inline": {"srv": "11.1", "target": "esme1", "image": "F9"}}],
            "line 2",
            "not on the CPL",
        ),
        ([INVENTORY, {"cpl_remove": 3}], "line 2", "firmware version"),
    ],
)
def test_a_bad_log_line_is_one_line_naming_the_line(
    tmp_path: Path, lines: list[Any], where: str, fragment: str
) -> None:
    log = write_log(tmp_path, *lines)
    assert_one_line_error(cli("replay", log), f"smi-spec: error: {log}", where, fragment)


def test_a_missing_log_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(cli("replay", str(tmp_path / "none.jsonl")), "cannot read")


def test_a_log_of_bytes_that_are_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(json.dumps(INVENTORY).encode() + b'\n{"cpl_add": "\xff"}\n')
    assert_one_line_error(cli("replay", str(path)), "line 2", "not UTF-8")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.sampled_from(
        [
            "11.2",
            "esme1",
            "cad1",
            "F1",
            "F2",
            "x",
            "E51",
            "I0",
            "duis/sr11.2-read-firmware-version.xml",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "request",
                    "inline",
                    "response",
                    "response_lost",
                    "cpl_add",
                    "cpl_remove",
                    "srv",
                    "target",
                    "other",
                    "logged",
                    "accepted",
                    "response_code",
                    "lose_response",
                    "code",
                    "image",
                    "command_variant",
                    "event",
                    "manual_smi_fix",
                    "device",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(JSON, max_size=5))
def test_any_log_replays_or_is_an_input_error(tmp_path: Path, events: list[Any]) -> None:
    log = write_log(tmp_path, INVENTORY, *events)
    try:
        loaded = load_log(log)
        report = replay(loaded, loaded.variant())
    except InputError as error:
        message = str(error)
        assert message.startswith(log) and "\n" not in message
        return
    assert len(report["events"]) == len(events)


def _many_versions_log(rounds: int) -> list[tuple[int, str]]:
    """Every round names a new firmware version: CPL add, SR11.1 with it, activation, a
    read, and the previous version off the CPL every third round (issue 25)."""
    devices = [{"id": f"esme{n}", "type": "ESME", "firmware": "V0"} for n in (1, 2)]
    lines = [json.dumps({"inventory": {"variant": "mp105", "cpl": ["V0"], "devices": devices}})]
    for n in range(1, rounds + 1):
        meter = f"esme{n % 2 + 1}"
        lines += [
            json.dumps({"cpl_add": f"V{n}"}),
            json.dumps({"inline": {"srv": "11.1", "target": meter, "image": f"V{n}"}}),
            json.dumps({"inline": {"srv": "11.3", "target": meter}}),
            json.dumps({"inline": {"srv": "11.2", "target": meter}}),
            json.dumps({"cpl_remove": f"V{n - 1}"} if n % 3 == 0 else {"cpl_add": f"V{n - 1}"}),
        ]
    return list(enumerate(lines, 1))


def test_a_replay_naming_many_versions_searches_a_bounded_few_with_the_same_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions are symbols: past EXACT_VERSIONS, each event's recoverability search runs
    over the versions the devices hold and a few spare ones, and says what the search over
    every version said."""
    from checker import replay as replay_module
    from checker import replay_versions
    from checker.replay import Replay

    searched: list[tuple[int, int]] = []
    real = replay_module.recoverability

    def counting(setup: Any, world: Any, variant: Any, versions: tuple[str, ...]) -> Any:
        searched.append((len(versions), len(world.cpl)))
        return real(setup, world, variant, versions)

    monkeypatch.setattr(replay_module, "recoverability", counting)
    numbered = _many_versions_log(40)

    def records(full: bool) -> list[dict[str, Any]]:
        log = open_log("log.jsonl", tmp_path, numbered)
        run = Replay(log, log.variant(), full_views=full)
        return [*run.records(), run.summary()]

    cut = records(full=True)
    # two meters hold at most 3 versions each (firmware, SMI's, image), plus the spares
    assert max(n for n, _ in searched) <= 3 * 2 + 2 * replay_versions.SPARE
    assert max(n for _, n in searched) <= 3 * 2 + replay_versions.SPARE
    assert cut[-1]["versions"] == sorted(f"V{n}" for n in range(41))
    assert sorted(cut[-2]["cpl"]) == sorted(f"V{n}" for n in range(41) if n % 3 != 2 or n == 40)
    monkeypatch.setattr(replay_versions, "EXACT_VERSIONS", 10_000)
    assert records(full=True) == cut
