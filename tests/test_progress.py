"""Progress bars: in a terminal when the work takes long, never when piped or in JSON."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = {
    "check": ["check", "--variant", "baseline"],
    "diff": ["diff", "baseline", "mp105"],
    "diagrams": ["diagrams", "--out", "{tmp}/d", "--variant", "baseline"],
    "report": ["report", "--out", "{tmp}/r", "--variant", "baseline"],
}


def in_terminal(args: list[str], until: tuple[str, ...] = ()) -> str:
    """Run ``smi-spec args`` with standard error on a pseudo-terminal; what it showed there.
    With ``until``, the run is stopped as soon as every one of those texts has shown."""
    leader, follower = pty.openpty()
    env = {**os.environ, "SMI_SPEC_PROGRESS_DELAY": "0", "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "smi_spec", *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        cwd=ROOT,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
        shown = b"".join(chunks).decode("utf-8", "replace")
        if until and all(text in shown for text in until):
            process.terminate()
            break
    process.wait(timeout=600)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


LIVE = "\x1b[?25l"  # rich hides the cursor while a live display runs


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bar_appears_in_a_terminal(command: str, tmp_path) -> None:
    shown = in_terminal([a.format(tmp=tmp_path) for a in COMMANDS[command]], (LIVE, command))
    assert LIVE in shown and command in shown


def test_no_bar_in_json_or_in_a_pipe() -> None:
    args = COMMANDS["check"]
    assert LIVE not in in_terminal([*args, "--format", "json"])
    piped = subprocess.run(
        [sys.executable, "-m", "smi_spec", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SMI_SPEC_PROGRESS_DELAY": "0"},
    )
    assert piped.returncode == 0 and LIVE not in piped.stderr and "check:" not in piped.stderr
