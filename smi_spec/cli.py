"""The ``smi-spec`` command line (typer + rich).

Exit codes (docs/design.md): 0 all verdicts as expected; 1 a verdict not as expected; 2 bad
input or usage. Bad input is one line on stderr, never a traceback.

The app and its shared conventions are in ``smi_spec/app.py``; each command module
registers its commands on it when imported here, in the order ``--help`` lists them.
"""

from __future__ import annotations

from smi_spec.app import app, console

# In the order ``smi-spec --help`` lists them, so not sorted.
# isort: off
import smi_spec.inventory_commands  # catalogue, variants, rules, explain, run
import smi_spec.duis_commands  # classify, replay
import smi_spec.check_commands  # check, fuzz
import smi_spec.fleet_commands  # impact, simulate
import smi_spec.report_commands  # diagrams, diff, report
import smi_spec.testpack_commands  # noqa: F401  (testpack, conform)
# isort: on

__all__ = ["app", "console", "main"]


def main() -> None:
    """Entry point: bad input or an output that cannot be written becomes one line on
    stderr and exit code 2; a closed pipe 141 (smi_spec/exits.py)."""
    from smi_spec.exits import run_command_line

    run_command_line(app)
