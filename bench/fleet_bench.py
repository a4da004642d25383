"""Benchmark: fleet replay per CPU second, against today's replay in the same run, and the
speed-up from 1 to 2 Dask workers. Not a test.

    .venv/bin/python bench/fleet_bench.py [--fleet 125000] [--events 200000]

1. Simulates a baseline fleet (about 8 events an installation a year: 125,000 installations
   make about 10^6 events) and replays it single-process, pinned to one core.
2. Replays bench/replay_bench.py's log of ``--events`` events with today's ``smi-spec
   replay --format jsonl``, pinned to the same core.
3. Replays the fleet log with ``--workers 1`` and ``--workers 2`` (wall time, Dask startup
   included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_bench import measure, write_log

SIMULATE = (sys.executable, "-m", "smi_spec", "simulate")


def fleet_single(log: Path) -> tuple[int, float]:
    """(events, CPU seconds) of one single-process fleet replay, in a pinned child."""
    code = (
        "import resource, sys\n"
        "from model.message_log import read_lines\n"
        "from checker.fleet_replay import merge, replay_lines\n"
        "lines = list(read_lines(sys.argv[1]))\n"
        "r = merge([replay_lines(sys.argv[1], None, lines[0][1], lines[1:])])\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(r['events'], u.ru_utime + u.ru_stime)\n"
    )
    command = [sys.executable, "-c", code, str(log)]
    if os.path.exists("/usr/bin/taskset"):
        command = ["taskset", "-c", "0", *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1])


def workers(log: Path, count: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "smi_spec", "replay", str(log), "--workers", str(count)],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=125_000)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smi-spec-fleet-bench-") as directory:
        fleet = Path(directory) / "fleet.jsonl"
        subprocess.run(
            [*SIMULATE, "--fleet", str(args.fleet), "--seed", "1", "--out", str(fleet)],
            check=True,
            capture_output=True,
        )
        events, cpu = fleet_single(fleet)
        today_log = Path(directory) / "today.jsonl"
        write_log(today_log, args.events)
        _, today_cpu, _ = measure(today_log)
        one, two = workers(fleet, 1), workers(fleet, 2)
    fast, slow = events / cpu, args.events / today_cpu
    print(f"fleet replay: {events:,} events in {cpu:.1f} CPU s = {fast:,.0f} events/CPU s")
    print(f"today's replay: {args.events:,} events in {today_cpu:.1f} CPU s = {slow:,.0f}/CPU s")
    print(f"ratio: {fast / slow:.1f}x")
    print(f"--workers 1: {one:.1f} s wall, --workers 2: {two:.1f} s wall, speed-up {one / two:.2f}")


if __name__ == "__main__":
    main()
