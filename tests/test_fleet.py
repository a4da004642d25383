"""Fleet scale: a simulated fleet's strands against the computed interval, and the fleet
replay on a real Dask LocalCluster against the single-process one (docs/fleet.md)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.explorer import System
from checker.fleet_replay import merge, replay_lines
from checker.fleet_sim import simulate, write_simulation
from checker.impact import type_impact
from model.message_log import read_lines
from model.rates import Figure, default_rates
from model.variant import load_variant
from tests.conftest import assert_one_line_error, cli, cli_process

ESME = System("ESME", "CAD")


def single_process(log: Path) -> dict[str, object]:
    lines = list(read_lines(str(log)))
    return merge([replay_lines(str(log), None, lines[0][1], lines[1:])])


def simulated_within_interval(tmp_path: Path, variant: str, fleet: int, seed: int) -> None:
    rates = default_rates()
    log = tmp_path / f"{variant}.jsonl"
    write_simulation(str(log), load_variant(variant), ESME, rates, fleet, 365.0, seed)
    found = single_process(log)
    year = dataclasses.replace(
        rates,
        figures={**rates.figures, "horizon_years": Figure(365 / 365.25, "assumption", "365 d")},
    )
    computed = type_impact(load_variant(variant), ESME, year, fleet)
    low, high = computed.interval(0.99)
    assert found["disagreement_count"] == 0  # the log holds what the DSP did
    assert low <= found["stranded_installations"] <= high, (found, computed.expected)


@pytest.mark.parametrize("variant", ["baseline", "mp105"])
def test_simulated_strands_of_ten_thousand_fall_in_the_computed_interval(tmp_path, variant):
    simulated_within_interval(tmp_path, variant, 10_000, seed=7)


@pytest.mark.slow  # 10^5 installations, about 10 s a variant
@pytest.mark.parametrize("variant", ["baseline", "mp105"])
def test_simulated_strands_of_a_hundred_thousand_fall_in_the_computed_interval(tmp_path, variant):
    simulated_within_interval(tmp_path, variant, 100_000, seed=11)


def order_sensitive(tmp_path: Path) -> Path:
    """A fleet-wide CPL removal between an installation's SR11.1 and SR11.3, and the same
    pair of requests with the removal after them: the order decides the strand."""
    header = {
        "fleet": {
            "variant": "baseline",
            "installations": [{"target": "ESME", "other": "CAD", "count": 4}],
        }
    }
    ok = {"accepted": True, "response_code": "I0"}
    lines = [
        {"inline": {"srv": "11.1", "target": "esme1-1", "image": "F2"}, "logged": ok},
        {"inline": {"srv": "11.1", "target": "esme1-2", "image": "F2"}, "logged": ok},
        {"inline": {"srv": "11.3", "target": "esme1-2"}, "lose_response": True},
        {"cpl_remove": "F1"},
        {"inline": {"srv": "11.3", "target": "esme1-1"}, "lose_response": True},
        {"inline": {"srv": "11.2", "target": "esme1-3"}, "logged": ok},
        {"cpl_add": "F1", "installation": 3},
    ]
    log = tmp_path / "order.jsonl"
    log.write_text("\n".join(json.dumps(x) for x in [header, *lines]) + "\n", encoding="utf-8")
    return log


def test_the_order_of_a_fleet_wide_cpl_change_decides(tmp_path):
    found = single_process(order_sensitive(tmp_path))
    # The fleet-wide removal of F1 (line 5) suspends installation 3, which never named it:
    # its SR11.2 (line 7) must then be rejected with E51 under baseline, so the log's
    # acceptance disagrees there, and only because the removal came first.
    assert [d["line"] for d in found["disagreements"]] == [7]
    assert "E51" in found["disagreements"][0]["why"]
    assert found["events"] == 7
    log = order_sensitive(tmp_path)
    lines = log.read_text().splitlines()
    lines.append(lines.pop(4))  # the removal after every request
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert single_process(log)["disagreement_count"] == 0


@pytest.mark.slow  # starts two Dask clusters, about 20 s
def test_dask_replay_equals_the_single_process_replay(tmp_path):
    """A real dask.distributed LocalCluster with 1 and with 2 workers, on a simulated fleet
    of about 10^6 events and on the order-sensitive log."""
    log = tmp_path / "fleet.jsonl"
    write_simulation(str(log), load_variant("baseline"), ESME, default_rates(), 125_000, 365.0, 3)
    for each in (log, order_sensitive(tmp_path)):
        expected = {"log": str(each), **single_process(each)}
        reports = []
        for workers in ("1", "2"):
            result = cli("replay", str(each), "--workers", workers, "--format", "json")
            assert result.returncode in (0, 1), result.stderr
            reports.append(json.loads(result.stdout))
        assert reports[0] == reports[1] == [expected]


@pytest.mark.slow  # a Dask cluster starts in about 10 s on a busy 2-core machine
def test_dask_replay_on_a_small_fleet(tmp_path):
    log = order_sensitive(tmp_path)
    result = cli("replay", str(log), "--workers", "2", "--format", "json")
    assert result.returncode == 1, result.stderr  # the disagreement at line 7
    assert json.loads(result.stdout) == [{"log": str(log), **single_process(log)}]
    # A bad line found on a worker is one line from smi-spec, not Dask's log (a process:
    # the workers write to the process's stderr).
    bad = tmp_path / "bad.jsonl"
    header = {"fleet": {"installations": [{"target": "ESME", "other": "CAD", "count": 3}]}}
    event = {"inline": {"srv": "11.2", "target": "esme1-9"}}
    bad.write_text(json.dumps(header) + "\n" + json.dumps(event) + "\n", encoding="utf-8")
    assert_one_line_error(cli_process("replay", str(bad), "--workers", "2"), "no installation 9")


def test_simulate_then_bad_input(tmp_path):
    out = tmp_path / "x.jsonl"
    result = cli("simulate", "--fleet", "50", "--seed", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text().splitlines()[0])["fleet"]["variant"] == "baseline"
    assert_one_line_error(cli("simulate", "--fleet", "0", "--out", str(out)), "--fleet")
    assert_one_line_error(
        cli("simulate", "--out", str(tmp_path / "missing" / "x.jsonl")), "cannot write"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"fleet": {"installations": []}}\n', encoding="utf-8")
    assert_one_line_error(cli("replay", str(bad), "--workers", "1"), "line 1")


@pytest.mark.slow  # a Dask cluster and three Storm runs, about 30 s
def test_the_shell_examples_of_the_fleet_guide_run():
    """docs/fleet.md: every `smi-spec` line of its sh blocks runs and exits 0, in order
    (simulate writes the log the replay then reads)."""
    import re
    import shlex

    guide = (Path(__file__).resolve().parent.parent / "docs" / "fleet.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", guide, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 4
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "smi-spec"
        result = cli(*words[1:])
        assert result.returncode == 0, (command, result.stderr)
    Path("/tmp/smi-spec-fleet.jsonl").unlink(missing_ok=True)


def as_plain_log(fleet_text: str) -> tuple[list[str], list[str]]:
    """A simulated fleet log, and the same events as today's replay reads them: the
    installations as one inventory, every CPL change fleet-wide in both (today's format has
    no scope)."""
    lines = fleet_text.splitlines()
    header = json.loads(lines[0])
    events = []
    for text in lines[1:]:
        event = json.loads(text)
        event.pop("installation", None)
        events.append(json.dumps(event))
    devices: list[dict[str, object]] = []
    number = 0
    for kind in header["fleet"]["installations"]:
        for _ in range(kind["count"]):
            number += 1
            devices.append(
                {
                    "id": f"esme1-{number}",
                    "type": "ESME",
                    "firmware": "F1",
                    "compliant": kind["compliant"],
                }
            )
            devices.append({"id": f"cad1-{number}", "type": "CAD"})
    inventory = {"variant": header["fleet"]["variant"], "cpl": ["F1", "F2"], "devices": devices}
    return [lines[0], *events], [json.dumps({"inventory": inventory}), *events]


def _verdicts(run) -> tuple[object, ...]:
    import re

    from model.errors import InputError

    try:
        found = run()
    except InputError as exc:
        return ("error", re.search(r"line (\d+)", str(exc)).group(1))  # type: ignore[union-attr]
    return (
        found["points_of_no_return"],
        {v["property"]: v["first_line"] for v in found["violated"]},
        [d["line"] for d in found["disagreements"]],
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    variant=st.sampled_from(["baseline", "mp105", "mp178"]),
    installations=st.integers(1, 2),
)
def test_the_fleet_replay_agrees_with_todays_replay(seed, variant, installations):
    """Per-installation replay gives today's whole-world replay's verdicts: the same points
    of no return, first violations and disagreeing lines, or the same refused line (a
    simulated SR11.1 of a version another installation's CPL change delisted)."""
    import io

    from checker.replay import replay
    from model.message_log import open_log

    out = io.StringIO()
    rates = default_rates().with_loss(response=0.2, alert=0.2)  # faults enough to strand
    simulate(load_variant(variant), ESME, rates, installations, 730.0, seed, out)
    fleet, plain = as_plain_log(out.getvalue())
    numbered = list(enumerate(fleet, 1))
    mine = _verdicts(lambda: merge([replay_lines("x", None, fleet[0], numbered[1:])]))
    theirs = _verdicts(
        lambda: replay(open_log("x", Path("."), list(enumerate(plain, 1))), load_variant(variant))
    )
    assert mine == theirs


@pytest.mark.slow  # a scheduler and two worker processes, about 20 s
def test_replay_on_a_scheduler_started_as_docs_replay_md_says(tmp_path):
    """docs/replay.md's multi-machine commands, on one machine: `dask scheduler`, then
    `dask worker ADDRESS --nthreads 1 --nworkers 2`, then `replay --scheduler ADDRESS`."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            dask,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
        ],
        **quiet,
    )
    workers = subprocess.Popen(
        [
            dask,
            "worker",
            address,
            "--nthreads",
            "1",
            "--nworkers",
            "2",
            "--dashboard-address",
            ":0",
        ],
        **quiet,
    )
    try:
        from dask.distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        log = order_sensitive(tmp_path)
        result = cli("replay", str(log), "--scheduler", address, "--format", "json")
        assert result.returncode == 1, result.stderr
        assert json.loads(result.stdout) == [{"log": str(log), **single_process(log)}]
    finally:
        for process in (workers, scheduler):
            process.terminate()
        for process in (workers, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
