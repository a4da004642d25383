"""How the command line ends: the exit codes of docs/design.md, whatever went wrong.

0, 1 and 2 as the commands decide; bad input is one line on stderr and exit code 2. A
standard output that cannot be written (``/dev/full``, a full disk, a closed descriptor)
is also exit code 2 with one line, never a traceback and never a success with the output
silently lost: the output is flushed before the exit code is decided. A reader that closed
the pipe early (``smi-spec run x.json | head``) is the conventional 141 (128 + SIGPIPE), as
a shell tool killed by the signal would report, with nothing more printed (issue 25).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Final, NoReturn

from rich.console import Console

from model.errors import InputError
from smi_spec.plain import error_line

#: The exit code of a process whose reader went away (128 + SIGPIPE).
CLOSED_PIPE: Final = 141

#: Errors that mean "this output cannot be written" rather than a bug in the tool.
_WRITE_ERRORS: Final = frozenset(
    {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EBADF, errno.EROFS}
)


class OutputConsole(Console):
    """A rich console whose closed pipe is the closed pipe, not rich's own exit code 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def _quiet_stdout() -> None:
    """Point the standard output at /dev/null so that the interpreter's own flush at exit
    does not print "Exception ignored" about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        pass


def _failed_output(exc: OSError) -> int:
    if isinstance(exc, BrokenPipeError):
        _quiet_stdout()
        return CLOSED_PIPE
    print(error_line(f"cannot write the output: {exc.strerror or exc}"), file=sys.stderr)
    _quiet_stdout()
    return 2


def _pacified(stream: object) -> bool:
    """Whether typer (click) caught a closed pipe itself and wrapped the standard output to
    silence it, which it does before exiting with 1."""
    return type(stream).__name__ == "PacifyFlushWrapper" and hasattr(stream, "wrapped")


def run_command_line(app: Callable[[], object]) -> NoReturn:
    """Run ``app`` (typer, which ends in SystemExit) and exit with the code it meant, or 2
    for bad input, or as :func:`_failed_output` says for an output that cannot be written."""
    code: int | str | None = 0
    try:
        app()
    except SystemExit as stopped:
        code = stopped.code
        if _pacified(sys.stdout):  # typer's own handling of a closed pipe: exit 1
            sys.stdout = getattr(sys.stdout, "wrapped", sys.__stdout__)
            sys.exit(_failed_output(BrokenPipeError(errno.EPIPE, "closed pipe")))
    except InputError as exc:
        print(error_line(exc), file=sys.stderr)
        code = 2
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError) and exc.errno not in _WRITE_ERRORS:
            raise
        sys.exit(_failed_output(exc))
    try:
        sys.stdout.flush()
    except OSError as exc:
        sys.exit(_failed_output(exc))
    sys.exit(code)
