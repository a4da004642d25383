"""Benchmark of scale (not a test): whole-process time and peak memory of ``smi-spec check``.

    .venv/bin/python bench/scale.py [--runs N] [--max-devices N] [--json]

Measures, each command in a fresh process pinned to one core where ``taskset`` exists, its
wall time (minimum and median of N runs) and peak resident memory (from the kernel's
accounting of the child, as ``/usr/bin/time -v`` reports it):

- ``smi-spec check --variant all`` at the default bounds (every device type), start-up
  included, and ``smi-spec --help`` (start-up alone);
- 8 meters with 2 CADs each and 2 lost messages, every variant, checked compositionally;
- the growth curve: 1..N devices of every CPL-listed type, each meter with 2 CADs and 2
  IHDs, checked compositionally, beside the product of N meters where its estimated state
  space fits (``checker.estimate``);
- the explorer's states per second on the largest product measured.

Prints a Markdown table to paste into docs/performance.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from checker.estimate import estimated_states, require_fits
from checker.explorer import Bounds
from model.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).with_name("smi-spec"))


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def one_run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident KiB of one ``smi-spec`` process (a ``check``
    without the result cache: each run explores)."""
    command = [EXE, *args, *(["--no-cache"] if args[0] == "check" else [])]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"smi-spec {' '.join(args)} failed")
    return seconds, usage.ru_maxrss


def measure(args: list[str], runs: int) -> dict[str, float]:
    results = [one_run(args) for _ in range(runs)]
    times = [t for t, _ in results]
    return {
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "peak_mb": round(max(m for _, m in results) / 1024, 1),
        "runs": runs,
    }


def growth(max_devices: int, runs: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in range(1, max_devices + 1):
        mix = f"ESME={n},GSME={n},PPMID={n},HCALCS={n},CAD=2,IHD=2"
        row: dict[str, object] = {
            "devices per type": n,
            "compositional": measure(
                ["check", "--variant", "all", "--devices", mix, "--max-lost", "2"], runs
            ),
        }
        bounds = Bounds(meters=n, cads=1)
        try:
            states = require_fits(bounds)
            row["product"] = {
                "estimated states": states,
                **measure(["check", "--variant", "baseline", "--meters", str(n)], 1),
            }
        except InputError:
            row["product"] = {"refused": f"refused: about {estimated_states(bounds):,} states"}
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-devices", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    report = {
        "machine": machine(),
        "check --variant all": measure(["check", "--variant", "all"], options.runs),
        "start-up (--help)": measure(["--help"], options.runs),
        "8 meters x 2 CADs, 2 lost, all variants": measure(
            ["check", "--variant", "all", "--devices", "ESME=8,CAD=2", "--max-lost", "2"],
            options.runs,
        ),
        "growth": growth(options.max_devices, max(1, options.runs // 2)),
    }
    if options.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Machine: {report['machine']}\n")
    print("| command | min s | median s | max s | peak MB |\n|---|---|---|---|---|")
    for name in (
        "check --variant all",
        "start-up (--help)",
        "8 meters x 2 CADs, 2 lost, all variants",
    ):
        m = report[name]
        assert isinstance(m, dict)
        print(f"| {name} | {m['min_s']} | {m['median_s']} | {m['max_s']} | {m['peak_mb']} |")
    print(
        "\n| devices per type | compositional median s | peak MB "
        "| product (N meters x 1 CAD, baseline) |"
    )
    print("|---|---|---|---|")
    for row in report["growth"]:  # type: ignore[union-attr]
        c = row["compositional"]
        p = row["product"]
        product = p.get("refused") or (
            f"{p['estimated states']:,} states (estimate), {p['median_s']} s, {p['peak_mb']} MB"
        )
        print(f"| {row['devices per type']} | {c['median_s']} | {c['peak_mb']} | {product} |")


if __name__ == "__main__":
    main()
