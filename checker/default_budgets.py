"""The default budgets of the checks, kept apart so the command line can show them without
importing the engines (start-up time)."""

from __future__ import annotations

from typing import Final

#: The default budget of ``smi-spec fuzz``: examples per run, steps per example. At 1,000
#: examples every expected violation of the built-in variants is found for every seed in
#: 0..99 (bench/fuzz_sweep.py, docs/performance.md).
MAX_EXAMPLES: Final = 1000
STEP_COUNT: Final = 20
