"""The input boundary (model/inputs.py): every kind of hostile input of issues 13 and 14 is
refused with one line naming the file, exit code 2, in bounded time and memory."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.estimate import estimated_states, require_fits
from checker.explorer import Bounds
from checker.replay import Replay
from model import inputs
from model.errors import InputError
from model.log_pairing import MAX_IN_FLIGHT
from model.message_log import open_log
from model.scenario import load_scenario
from model.scenario_start import MAX_PAIRS
from model.variant import load_variant
from model.variant_file import MAX_EXTENDS
from tests.conftest import assert_one_line_error, cli

DEVICES = [{"id": "esme1", "type": "ESME", "firmware": "F1"}, {"id": "cad1", "type": "CAD"}]
SCENARIO = {"cpl": ["F1"], "devices": DEVICES, "steps": [{"sr": "11.2", "target": "esme1"}]}
INVENTORY = {"inventory": {"cpl": ["F1"], "devices": DEVICES}}


def refused(call: Any, *fragments: str) -> str:
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------------------
# Not a regular file: refused before any read, so no hang and no unbounded read


def test_dev_zero_a_symlink_to_it_and_a_fifo_are_refused_at_once(tmp_path: Path) -> None:
    link = tmp_path / "scenario.json"
    link.symlink_to("/dev/zero")
    fifo = tmp_path / "log.jsonl"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(link), str(fifo), str(tmp_path)):
        refused(lambda p=path: load_scenario(p), "not a regular file")
    refused(lambda: open_log(str(fifo), tmp_path, _numbered_file(str(fifo))), "not a regular file")
    assert_one_line_error(cli("run", "/dev/zero"), "/dev/zero", "not a regular file")
    assert_one_line_error(cli("run", str(link)), "not a regular file")
    assert_one_line_error(cli("replay", str(fifo)), "not a regular file")


def _numbered_file(path: str) -> Iterator[tuple[int, str]]:
    from model.message_log import read_lines

    return read_lines(path)


def test_a_missing_variant_file_is_no_such_file_not_a_bad_suffix(tmp_path: Path) -> None:
    refused(lambda: load_variant(str(tmp_path / "missing.toml")), "no such file")
    assert_one_line_error(cli("check", "--variant", str(tmp_path / "x.toml")), "no such file")


def test_a_nul_byte_in_a_path_or_an_id_is_refused(tmp_path: Path) -> None:
    refused(lambda: load_scenario("a\x00b.json"), "NUL")
    refused(lambda: load_variant("a\x00b.toml"), "NUL")
    doc = {**SCENARIO, "devices": [{"id": "e\x00", "type": "ESME"}]}
    path = write(tmp_path, "s.json", json.dumps(doc))
    refused(lambda: load_scenario(path), path, "NUL")


# ---------------------------------------------------------------------------------------
# Size, nesting, integers, text


def test_over_the_size_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:  # sparse: no disk, no read
        handle.truncate(inputs.MAX_SCENARIO_BYTES + 1)
    refused(lambda: load_scenario(str(path)), "too large")
    variant = tmp_path / "big.toml"
    variant.write_text('id = "x"\n' + "# padding\n" * (inputs.MAX_VARIANT_BYTES // 10 + 1))
    refused(lambda: load_variant(str(variant)), "too large")
    line = json.dumps({"cpl_add": "F" * (inputs.MAX_LOG_LINE_BYTES + 1)})
    log = write(tmp_path, "log.jsonl", json.dumps(INVENTORY) + "\n" + line + "\n")
    assert_one_line_error(cli("replay", log), "line 2", "longer than")


@pytest.mark.parametrize("depth", [inputs.MAX_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_refused_in_every_format(tmp_path: Path, depth: int) -> None:
    deep_json = "[" * depth + "]" * depth
    scenario = write(tmp_path, "s.json", f'{{"devices": {deep_json}}}')
    refused(lambda: load_scenario(scenario), "nested deeper")
    deep_toml = "[" * depth + "]" * depth
    toml = write(tmp_path, "s.toml", f"devices = {deep_toml}\n")
    refused(lambda: load_scenario(toml), "nested deeper")
    variant = write(tmp_path, "v.toml", f'id = "v"\nsources = {deep_toml}\n')
    refused(lambda: load_variant(variant), "nested deeper")
    log = f'{{"inventory": {deep_json}}}'
    refused(lambda: open_log("log", tmp_path, [(1, log)]), "log: line 1", "nested deeper")


def test_integers_of_thousands_of_digits_are_refused(tmp_path: Path) -> None:
    huge = "9" * 5_000
    scenario = write(tmp_path, "s.json", f'{{"devices": [], "x": {huge}}}')
    refused(lambda: load_scenario(scenario), "5000 digits")
    toml = write(tmp_path, "s.toml", f"x = {huge}\n")
    refused(lambda: load_scenario(toml), toml)
    variant = write(
        tmp_path,
        "v.toml",
        f'id = "v"\n[suspended]\nexceptions = [{{srv = "11.1", smets = {huge}}}]\n',
    )
    refused(lambda: load_variant(variant), variant)
    wide = write(tmp_path, "w.toml", f"x = {'9' * 40}\n")
    refused(lambda: load_scenario(wide), "wider than")


def test_lone_surrogates_nan_and_bad_utf8_are_refused(tmp_path: Path) -> None:
    surrogate = write(tmp_path, "s.json", '{"devices": [{"id": "\\ud800", "type": "ESME"}]}')
    refused(lambda: load_scenario(surrogate), "devices[1].id", "surrogate")
    log = [(1, json.dumps(INVENTORY)), (2, '{"cpl_add": "\\udfff"}')]
    refused(
        lambda: list(Replay(open_log("log", tmp_path, log), load_variant("baseline")).records()),
        "log: line 2",
        "surrogate",
    )
    nan = write(tmp_path, "n.json", '{"devices": NaN}')
    refused(lambda: load_scenario(nan), "NaN")
    latin = write(tmp_path, "l.json", b'{"devices": []}\n{"\xff"}')
    refused(lambda: load_scenario(latin), "line 2", "not UTF-8")


def test_a_toml_date_where_text_is_expected_is_refused_not_a_crash(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        "s.toml",
        'cpl = ["F1"]\n[[devices]]\nid = "esme1"\ntype = "ESME"\nfirmware = "F1"\n'
        '[[steps]]\nsr = "11.2"\ntarget = "esme1"\nnote = 2024-01-01\n',
    )
    refused(lambda: load_scenario(toml), "steps[1].note", "date")
    assert_one_line_error(cli("run", toml, "--format", "json"), "date")


# ---------------------------------------------------------------------------------------
# Structure: extends chains, repeated options, caps, the state-space budget


def test_a_chain_of_a_thousand_extends_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    for n in range(1_000):
        parent = f'extends = "v{n + 1}.toml"\n' if n < 999 else ""
        (tmp_path / f"v{n}.toml").write_text(f'id = "v{n}"\n{parent}')
    message = refused(lambda: load_variant(str(tmp_path / "v0.toml")), "extends")
    assert f"more than {MAX_EXTENDS}" in message
    assert_one_line_error(cli("check", "--variant", str(tmp_path / "v0.toml")), "extends")


def test_check_with_two_variants_is_an_error_not_a_silent_drop() -> None:
    assert_one_line_error(
        cli("check", "--variant", "baseline", "--variant", "mp105"), "--variant given 2 times"
    )


def test_very_many_pairs_are_refused_before_running(tmp_path: Path) -> None:
    cads = MAX_PAIRS // 2 + 1  # two meters, each joined to every CAD
    devices = [{"id": "m1", "type": "ESME"}, {"id": "m2", "type": "ESME"}]
    devices += [{"id": f"cad{n}", "type": "CAD"} for n in range(cads)]
    steps = [
        {"sr": "8.7.2", "target": meter, "other": f"cad{n}"}
        for meter in ("m1", "m2")
        for n in range(cads)
    ]
    path = write(tmp_path, "s.json", json.dumps({"devices": devices, "steps": steps}))
    refused(lambda: load_scenario(path), f"more than {MAX_PAIRS} join pairs")
    assert_one_line_error(cli("run", path, "--format", "json"), "join pairs")


def test_check_refuses_bounds_that_cannot_fit_with_the_estimate() -> None:
    assert estimated_states(Bounds()) == 2_688  # the default bounds, measured exactly
    assert require_fits(Bounds(2, 1, 2, 1), budget=1024**3) > 700_000
    refused(lambda: require_fits(Bounds(2, 1, 2, 1), budget=100 * 1024**2), "states", "GiB")
    result = cli(
        "check",
        "--meters",
        "3",
        "--cads",
        "3",
        "--versions",
        "4",
        "--max-lost",
        "4",
        "--dcc-events",
    )
    assert_one_line_error(result, "about", "states")


# ---------------------------------------------------------------------------------------
# Streaming replay


def test_replay_streams_the_first_results_come_before_the_last_line_is_read(
    tmp_path: Path,
) -> None:
    read: list[int] = []
    total = 2_000

    def lines() -> Iterator[tuple[int, str]]:
        yield 1, json.dumps(INVENTORY)
        request = {"inline": {"srv": "11.2", "target": "esme1"}}
        response = {"response": {"srv": "11.2", "target": "esme1", "code": "I0"}}
        for n in range(2, total + 1):
            read.append(n)
            yield n, json.dumps(request if n % 2 == 0 else response)

    run = Replay(open_log("pipe", tmp_path, lines()), load_variant("baseline"), full_views=False)
    records = run.records()
    first = next(records)
    assert first["line"] == 2 and len(read) < 10, len(read)
    assert sum(1 for _ in records) == total - 2 and len(read) == total - 1


def test_a_response_pairs_with_the_latest_waiting_request_through_the_index(
    tmp_path: Path,
) -> None:
    n = 3_000  # reversed pairs: quadratic pairing took minutes at 30,000
    requests = [
        (k + 2, json.dumps({"inline": {"srv": "11.2", "target": "esme1"}})) for k in range(n)
    ]
    response = json.dumps({"response": {"srv": "11.2", "target": "esme1", "code": "E51"}})
    responses = [(n + 2 + k, response) for k in range(n)]
    log = open_log("log", tmp_path, [(1, json.dumps(INVENTORY)), *requests, *responses])
    records = list(Replay(log, load_variant("baseline"), full_views=False).records())
    paired = {r["line"]: r["paired_with"] for r in records if r["kind"] == "response"}
    assert paired[n + 2] == n + 1 and paired[2 * n + 1] == 2  # latest first
    assert [r["logged"]["from_line"] for r in records[:2]] == [2 * n + 1, 2 * n]


def test_a_request_never_answered_is_released_after_the_window(tmp_path: Path) -> None:
    lines = [
        (1, json.dumps(INVENTORY)),
        (2, json.dumps({"inline": {"srv": "11.2", "target": "esme1"}})),
    ]
    lines += [(k, json.dumps({"cpl_add": "F1"})) for k in range(3, MAX_IN_FLIGHT + 5)]
    records = Replay(open_log("log", tmp_path, iter(lines)), load_variant("baseline"), False)
    first = next(records.records())
    assert first["line"] == 2 and first["logged"] is None


def test_replay_jsonl_is_one_record_a_line_between_a_start_and_a_summary() -> None:
    result = cli("replay", "docs/replay/mp105-story.jsonl", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["variant"] == "mp105" and "start" in lines[0]
    assert [r["line"] for r in lines[1:-1]] == [2, 3, 4, 5, 6, 7]
    assert lines[-1]["summary"]["clean"] is True and lines[-1]["summary"]["disagreements"] == 0


def test_run_json_is_streamed_and_is_the_same_document_as_the_whole_report() -> None:
    from checker.run_verdicts import verdicts
    from model.scenario import run
    from model.variant import load_variant
    from tests.conftest import SCENARIOS, cli_json

    for path in sorted(SCENARIOS.glob("*.json"))[:3]:
        scenario = load_scenario(str(path))
        judged = verdicts(scenario, load_variant(scenario.variant_ref))
        whole = {**run(scenario), **judged}  # the verdicts on the path follow the steps
        assert cli_json("run", str(path)) == json.loads(json.dumps(whole))
