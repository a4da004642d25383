"""What the rulebook costs (issue 18): ``smi-spec check --variant all`` on this checkout
against an earlier checkout, interleaved in one run, as a ratio of medians.

    .venv/bin/python bench/rulebook_overhead.py --before /work/main [--runs 7]

``--before`` is a checkout with its own ``.venv`` (the main branch before the rulebook).
Both processes are started the same way, one after the other, ``--runs`` times each, so
that a busy host slows both alike. Prints each median, the worst run of each and the ratio;
the target is a ratio of at most 1.20 (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(checkout: Path) -> float:
    command = [str(checkout / ".venv" / "bin" / "smi-spec"), "check", "--variant", "all"]
    # An empty result cache for each run: every run explores, in a checkout with the
    # cache (smi_spec/check_cache.py) or without it (which ignores the variable).
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SMI_SPEC_CACHE_DIR": cache}
        start = time.perf_counter()
        done = subprocess.run(
            command, cwd=checkout, capture_output=True, text=True, check=False, env=env
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: check --variant all exited {done.returncode}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before: list[float] = []
    after: list[float] = []
    for _ in range(args.runs):
        before.append(timed(args.before))
        after.append(timed(ROOT))
    result = {
        "runs": args.runs,
        "before_median_s": round(statistics.median(before), 3),
        "after_median_s": round(statistics.median(after), 3),
        "before_worst_s": round(max(before), 3),
        "after_worst_s": round(max(after), 3),
        "ratio_of_medians": round(statistics.median(after) / statistics.median(before), 3),
    }
    print(
        json.dumps(result, indent=1)
        if args.json
        else "\n".join(f"{k}: {v}" for k, v in result.items())
    )


if __name__ == "__main__":
    main()
