"""Shared test helpers: where ../shared is, and running the CLI in-process or as a process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SCENARIOS = ROOT / "docs" / "scenarios"


def needs_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (SHARED / "reference").is_dir(),
        reason=f"../shared/reference is not beside this checkout ({SHARED}); "
        "the cross-check against the DCC's reference data needs it",
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``smi-spec`` as a user would, in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "smi_spec", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def cli_json(*args: str) -> Any:
    result = cli(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Bad input: exit code 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
