"""Progress bars for long commands: shown in a terminal when the work takes more than a
second, never when piped or with ``--format json``."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from checker.progress_events import REPORTER

#: Seconds of work before a bar appears: a quick command prints nothing extra (tests set
#: SMI_SPEC_PROGRESS_DELAY to see it at once).
DELAY = float(os.environ.get("SMI_SPEC_PROGRESS_DELAY", "1.0"))


class _Bar:
    """A spinner, what is being done (the system explored, states so far, states per
    second) and the time elapsed; it appears only after ``DELAY`` seconds."""

    def __init__(self, console: Console, what: str) -> None:
        self.started = time.perf_counter()
        self.what = what
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),  # no total: it pulses, as the states to come are not known
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task(f"{what}: starting", total=None)
        self.lock = threading.Lock()
        self.shown = False
        self.timer = threading.Timer(DELAY, self.show)
        self.timer.daemon = True
        self.timer.start()

    def show(self) -> None:
        with self.lock:
            if not self.shown:
                self.progress.start()
                self.shown = True

    def __call__(self, label: str, states: int) -> None:
        elapsed = time.perf_counter() - self.started
        rate = states / elapsed if elapsed else 0.0
        self.progress.update(
            self.task,
            description=f"{self.what}: {label}, {states:,} states, {rate:,.0f} states/s",
        )

    def stop(self) -> None:
        self.timer.cancel()
        with self.lock:
            if self.shown:
                self.progress.stop()
            self.shown = True  # a late timer must not start it


@contextmanager
def shown_progress(what: str, enabled: bool = True) -> Iterator[None]:
    """Show a bar on standard error for the work inside, in a terminal only."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield
        return
    bar = _Bar(console, what)
    token = REPORTER.set(bar)
    try:
        yield
    finally:
        REPORTER.reset(token)
        bar.stop()
