"""Benchmark of memory (not a test): peak resident memory of ``smi-spec check`` per case.

    .venv/bin/python bench/memory_bench.py [--meters 1 2] [--max-lost 1 2] [--json]

Runs ``python -m smi_spec check --variant V --meters M --max-lost L --jobs 1 --no-cache
--format json`` in a fresh process, from this checkout (``-m`` puts it first on the path),
for V in ``all`` and ``baseline``, and reads that process's own peak resident memory from
the kernel (``os.wait4``: the child's ``ru_maxrss``, as ``/usr/bin/time -v`` reports it),
beside ``checker.estimate.estimated_peak_bytes`` for the same bounds and number of
variants. Prints a Markdown table to paste into docs/performance.md ("Memory per variant
(issue 23)") with the machine and load it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.explorer import Bounds  # noqa: E402
from model.variant import load_variants  # noqa: E402


def peak(args: list[str]) -> tuple[int, float]:
    """Peak resident bytes and wall seconds of one ``smi-spec`` process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "smi_spec", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"smi-spec {' '.join(args)} failed")
    return usage.ru_maxrss * 1024, seconds


def estimate(bounds: Bounds, variants: int) -> int | None:
    """The estimate of ``checker.estimate``, where this version of it has one."""
    try:
        from checker.estimate import estimated_peak_bytes
    except ImportError:
        return None
    return estimated_peak_bytes(bounds, variants)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--max-lost", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    rows = []
    for meters in options.meters:
        for lost in options.max_lost:
            bounds = Bounds(meters=meters, max_lost=lost)
            for variant in ("all", "baseline"):
                args = ["check", "--variant", variant, "--meters", str(meters)]
                args += ["--max-lost", str(lost), "--jobs", "1", "--no-cache", "--format", "json"]
                used, seconds = peak(args)
                guess = estimate(bounds, len(load_variants(variant)))
                rows.append(
                    {
                        "command": "smi-spec " + " ".join(args),
                        "meters": meters,
                        "max_lost": lost,
                        "variant": variant,
                        "peak_mib": round(used / 2**20),
                        "estimate_mib": None if guess is None else round(guess / 2**20),
                        "seconds": round(seconds, 1),
                    }
                )
                print(rows[-1], file=sys.stderr, flush=True)
    if options.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| meters | max-lost | --variant | peak RSS MiB | estimate MiB | wall s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['meters']} | {r['max_lost']} | {r['variant']} | {r['peak_mib']} | "
            f"{r['estimate_mib'] or '-'} | {r['seconds']} |"
        )


if __name__ == "__main__":
    main()
