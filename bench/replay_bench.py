"""Benchmark: replay a generated message log of N events (default 1,000,000).

Not a test. Writes the log to a temporary directory, then runs
``/usr/bin/time -v smi-spec replay LOG --format jsonl > /dev/null`` RUNS times on one core
(``taskset -c 0`` where available) and prints the median and worst wall time, CPU time
(user + system: what the replay itself costs on a machine shared with other work) and peak
memory.

    .venv/bin/python bench/replay_bench.py [--events 1000000] [--runs 3]

The log: 4 meters, each with a CAD; requests written inline, half of them answered by a
later response line (so pairing is exercised), Joins and Unjoins, reads, activations and
CPL changes, interleaved across devices.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

METERS = 4


def inventory() -> dict[str, object]:
    devices: list[dict[str, object]] = []
    for n in range(1, METERS + 1):
        devices.append({"id": f"esme{n}", "type": "ESME", "firmware": "F1"})
        devices.append({"id": f"cad{n}", "type": "CAD"})
    return {"inventory": {"variant": "mp178", "cpl": ["F1", "F2"], "devices": devices}}


def events(count: int) -> Iterator[dict[str, object]]:
    """``count`` events (a response line counts as one)."""
    made = 0
    round_ = 0
    while made < count:
        meter = f"esme{round_ % METERS + 1}"
        cad = f"cad{round_ % METERS + 1}"
        cycle: list[dict[str, object]] = [
            {"inline": {"srv": "11.2", "target": meter}},
            {"response": {"srv": "11.2", "target": meter, "code": "I0", "firmware_version": "F1"}},
            {"inline": {"srv": "8.7.2", "target": meter, "other": cad}},
            {"inline": {"srv": "11.3", "target": meter}, "logged": {"accepted": True}},
            {"response": {"srv": "8.7.2", "target": meter, "code": "I0"}},
            {
                "inline": {"srv": "8.8.2", "target": meter, "other": cad},
                "logged": {"accepted": True},
            },
            {"cpl_remove": "F2"} if round_ % 2 else {"cpl_add": "F2"},
        ]
        yield from cycle[: count - made]
        made += len(cycle)
        round_ += 1


def write_log(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(inventory()) + "\n")
        for event in events(count):
            out.write(json.dumps(event) + "\n")


def measure(log: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds (user + system), peak resident kB) of one replay."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "smi_spec", "replay", str(log)]
    command += ["--format", "jsonl"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", result.stderr)
    assert wall and rss and len(cpu) == 2, result.stderr
    hours, minutes, seconds = wall.groups()
    elapsed = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return elapsed, sum(map(float, cpu)), int(rss.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smi-spec-replay-bench-") as directory:
        log = Path(directory) / "log.jsonl"
        write_log(log, args.events)
        size = log.stat().st_size
        runs = [measure(log) for _ in range(args.runs)]
    walls = [w for w, _, _ in runs]
    cpus = [c for _, c, _ in runs]
    peaks = [r / 1024 for _, _, r in runs]
    print(f"{args.events:,} events, {size / 1024**2:.0f} MiB log, {args.runs} runs")
    print(f"wall: median {statistics.median(walls):.1f} s, worst {max(walls):.1f} s")
    print(f"CPU (user + system): median {statistics.median(cpus):.1f} s, worst {max(cpus):.1f} s")
    print(f"peak memory: median {statistics.median(peaks):.0f} MB, worst {max(peaks):.0f} MB")


if __name__ == "__main__":
    main()
