"""``run`` and ``replay`` print their records as they go (smi_spec/streamed_json.py): as one
JSON document, or as JSON Lines (a head line, one line per step or event, a summary line).
Bad input met after the output has begun still leaves whole JSON on stdout, ended by an
``"error"`` member that says where it stopped, with exit code 2 and one line on stderr
(docs/formats.md, "Streamed output")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, assert_one_line_error, cli

REPLAY = ROOT / "docs" / "replay"
SCENARIOS = ROOT / "docs" / "scenarios"
STORY = (REPLAY / "mp105-story.jsonl").read_text().splitlines()

#: Log lines the replay cannot accept: not JSON, a bad event, a request file that is not
#: there (both found when the line is read), a device the inventory lacks (found when the
#: line is stepped).
BAD_LINES = (
    "not json",
    '{"cpl_remove": 3}',
    '{"request": "messages/none.xml"}',
    '{"inline": {"srv": "11.2", "target": "esme9"}}',
)


def bad_log(directory: Path, position: int, bad: str) -> tuple[str, int]:
    """The MP105 story with ``bad`` as line ``position`` (2: the first after the inventory),
    beside the story's DUIS messages; and the bad line's number."""
    shutil.copytree(REPLAY / "messages", directory / "messages", dirs_exist_ok=True)
    lines = [*STORY[: position - 1], bad, *STORY[position - 1 :]]
    path = directory / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path), position


def lines_of(stdout: str) -> list[Any]:
    """Every line of JSON Lines output, each parsed (a line that is not JSON fails)."""
    return [json.loads(line) for line in stdout.splitlines()]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(2, len(STORY) + 1), bad=st.sampled_from(BAD_LINES))
def test_replay_json_cut_short_by_a_bad_line_is_whole_json_naming_the_line(
    tmp_path: Path, position: int, bad: str
) -> None:
    log, line = bad_log(tmp_path, position, bad)
    result = cli("replay", log, "--format", "json")
    assert_one_line_error(result, f"line {line}")
    document = json.loads(result.stdout)
    assert document["error"]["line"] == line
    assert f"line {line}" in document["error"]["message"]
    assert all(event["line"] < line for event in document["events"])
    assert "clean" not in document  # the summary needs the whole log


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(2, len(STORY) + 1), bad=st.sampled_from(BAD_LINES))
def test_replay_jsonl_cut_short_by_a_bad_line_ends_with_the_error_line(
    tmp_path: Path, position: int, bad: str
) -> None:
    log, line = bad_log(tmp_path, position, bad)
    result = cli("replay", log, "--format", "jsonl")
    assert_one_line_error(result, f"line {line}")
    head, *events, last = lines_of(result.stdout)
    assert set(head) == {"log", "variant", "start"}
    assert last["error"]["line"] == line
    assert all(event["line"] < line for event in events)


def bad_scenario(directory: Path, position: int) -> tuple[str, int]:
    """The MP105 story under baseline with, as step ``position``, an SR11.1 that names no
    image: a step the model does not allow, met only when the step runs."""
    scenario = json.loads((SCENARIOS / "mp105-story-baseline.json").read_text())
    scenario["steps"].insert(position - 1, {"sr": "11.1", "target": "esme1"})
    path = directory / "scenario.json"
    path.write_text(json.dumps(scenario))
    return str(path), position


STORY_STEPS = len(json.loads((SCENARIOS / "mp105-story-baseline.json").read_text())["steps"])


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(1, STORY_STEPS + 1), format=st.sampled_from(["json", "jsonl"]))
def test_run_cut_short_by_a_step_is_whole_json_naming_the_step(
    tmp_path: Path, position: int, format: str
) -> None:
    scenario, step = bad_scenario(tmp_path, position)
    result = cli("run", scenario, "--format", format)
    assert_one_line_error(result, f"step {step}")
    if format == "json":
        document = json.loads(result.stdout)
        error, steps = document["error"], document["steps"]
    else:
        _, *steps, last = lines_of(result.stdout)
        error = last["error"]
    assert error["step"] == step
    assert len(steps) == step - 1
    assert "needs the image version" in error["message"]


@pytest.mark.parametrize(
    "scenario", ["mp105-story-baseline.json", "cpl-entries.json", "change-of-supplier.json"]
)
def test_run_jsonl_lines_carry_the_json_document(scenario: str) -> None:
    path = str(SCENARIOS / scenario)
    document = cli("run", path, "--format", "json")
    lines = cli("run", path, "--format", "jsonl")
    assert lines.returncode == document.returncode
    head, *steps, last = lines_of(lines.stdout)
    assert {**head, "steps": steps, **last["summary"]} == json.loads(document.stdout)


@pytest.mark.parametrize("log", ["mp105-story.jsonl", "mp178-story.jsonl"])
def test_replay_jsonl_lines_carry_the_json_document(log: str) -> None:
    path = str(REPLAY / log)
    document = json.loads(cli("replay", path, "--format", "json").stdout)
    head, *events, last = lines_of(cli("replay", path, "--format", "jsonl").stdout)
    assert head == {k: document[k] for k in ("log", "variant", "start")}
    assert [e["line"] for e in events] == [e["line"] for e in document["events"]]
    summary = last["summary"]
    assert summary["disagreements"] == len(document["disagreements"])
    for key in ("versions", "violated", "points_of_no_return", "clean"):
        assert summary[key] == document[key]
