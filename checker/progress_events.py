"""Where a long search reports how far it has come, without knowing who is watching.

The command line sets a reporter for the work it starts (``smi_spec/progress_bars.py``); the
explorer calls it every 10,000 states with the states so far. No reporter, no cost.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

Reporter = Callable[[str, int], None]

REPORTER: ContextVar[Reporter | None] = ContextVar("smi_spec_progress", default=None)


def reporter_for(label: str) -> Callable[[int], None] | None:
    """A per-search callback that tells the current reporter, or None when nobody listens."""
    report = REPORTER.get()
    if report is None:
        return None
    return lambda states: report(label, states)
