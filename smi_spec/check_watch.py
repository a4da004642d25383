"""``smi-spec check --variant FILE --watch``: check, then check again on every save of the
file or of a file it extends, until Ctrl-C (issue 23).

The files are polled (modification time and size) every half second: no library, and
the same on every platform. A save that does not load prints its one-line error and the
watch goes on.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from rich.console import Console

from model.errors import InputError
from model.variant import forget_loaded
from smi_spec.check_cache import variant_files
from smi_spec.plain import error_line

#: Seconds between two looks at the files.
POLL_SECONDS: Final = 0.5
#: A test hook: stop after this many checks instead of waiting for Ctrl-C.
ROUNDS_ENV: Final = "SMI_SPEC_WATCH_ROUNDS"

Snapshot = dict[Path, tuple[int, int] | None]


def snapshot(files: list[Path]) -> Snapshot:
    """Each file's modification time and size; None for a file that is not there."""
    seen: Snapshot = {}
    for path in files:
        try:
            stat = path.stat()
            seen[path] = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            seen[path] = None
    return seen


def wait_for_change(before: Snapshot, poll: float = POLL_SECONDS) -> Path:
    """Wait until one of the files of ``before`` differs from it (changed, appeared or
    gone); return that file."""
    while True:
        now = snapshot(list(before))
        changed = [path for path in before if now[path] != before[path]]
        if changed:
            return changed[0]
        time.sleep(poll)


def _check_once(run: Callable[[], object]) -> None:
    """One check; bad input is its one-line error on standard error, and the watch goes on."""
    try:
        run()
    except InputError as exc:
        print(error_line(exc), file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()


def watch(console: Console, ref: str, run: Callable[[], object]) -> None:
    """Check with ``run``, then again after each change to the variant file ``ref`` or a
    file of its ``extends`` chain (read again each time), each round under a line with the
    time; Ctrl-C ends the watch."""
    rounds = int(os.environ.get(ROUNDS_ENV) or 0)
    done = 0
    files = variant_files(ref)
    try:
        while True:
            # Before the check: a save while it runs is a change too.
            files = variant_files(ref) or files
            before = snapshot(files)
            _check_once(run)
            done += 1
            if rounds and done >= rounds:
                return
            changed = wait_for_change(before)
            forget_loaded()
            at = datetime.now().strftime("%H:%M:%S")
            console.print(
                f"--- {at}: {changed} changed; checking again ---",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    except KeyboardInterrupt:
        return
