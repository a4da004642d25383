"""Guard rails of the open rulebook (issue 18, part 8): a row that can never fire is a
warning naming its own file and line (the file that wrote it, also when a variant inherits
it through ``extends``); an unknown key, table, message, check, status or device type is an
error at its own line, one line on stderr, exit code 2.

Each variant below marks the line the message must name with ``#!``; the test finds it, so a
locator that names the table's line, the file's first line or the child's file for a
parent's row fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.variant import BUILTIN, _builtin_path
from tests.conftest import assert_one_line_error, cli

HEAD = 'id = "v"\nextends = "mp105"\n'
#: Before the November 2021 release (SECMP0007's SR11.4 for PPMIDs, in mp105): a variant on
#: baseline, where SR11.4 applies to no device type and no rule reads the CS09 alert.
BEFORE_SR11_4 = 'id = "v"\nextends = "baseline"\n'


def _marked(text: str) -> int:
    """The line number of the line marked ``#!``."""
    (line,) = [n for n, t in enumerate(text.splitlines(), start=1) if "#!" in t]
    return line


def _explain(path: Path) -> tuple[int, str]:
    result = cli("explain", "11.2", "--variant", str(path), "--status", "commissioned")
    return result.returncode, result.stderr


WARNINGS = {
    "a Type 1 device type no closed system contains": (
        HEAD + '[device_types.SAPC]  #!\nkind = "type-1"\ncpl_listed = false\n',
        "device_types.SAPC: no closed system of check contains SAPC",
    ),
    "a deny entry for a request no explored type receives": (
        BEFORE_SR11_4 + '[e5.installed_not_commissioned]\nadmits = "all"\nreject_code = "E51"\n'
        'deny = [\n  { srv = "8.11" },\n  { srv = "11.4" },  #!\n]\n',
        "e5.installed_not_commissioned.deny: SR11.4 applies to no device type the closed "
        "systems hold: this deny entry can never fire",
    ),
    "a route whose alert no rule reads": (
        BEFORE_SR11_4
        + '[applicability."11.4"]\ndevice_types = ["PPMID"]\n[firmware.routes.PPMID]\n'
        'deliver = "11.4"\nactivate = "11.4"\nreport = "alert:CS09"  #!\n',
        "firmware.routes.PPMID.report: no update_smi_on rule reads CS09",
    ),
    "a declared request nobody sends": (
        HEAD + '[requests."11.8"]  #!\nname = "x"\ncritical = false\nroles = ["IS"]\n'
        '[applicability."11.8"]\ndevice_types = ["IHD"]\n',
        "requests.11.8: SR11.8 applies to no device type the closed systems hold",
    ),
    "a message row nobody sends": (
        BEFORE_SR11_4 + '[messages."11.4"]  #!\nmulti_device = true\n',
        "messages.11.4: SR11.4 applies to no device type the closed systems hold",
    ),
}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_a_row_that_can_never_fire_is_a_warning_at_its_line(case: str, tmp_path: Path) -> None:
    text, message = WARNINGS[case]
    path = tmp_path / "v.toml"
    path.write_text(text)
    code, stderr = _explain(path)
    assert code == 0, stderr
    assert f"smi-spec: warning: {path}:{_marked(text)}: {message}" in stderr


def test_a_parents_row_that_can_never_fire_names_the_parents_file_and_line(
    tmp_path: Path,
) -> None:
    """SR11.2 made applicable to IHDs only: mp105's SR11.2 exception and its SR11.2 update
    rule can never fire. The warnings name mp105.toml and the lines of those rows, not the
    child's first line; each names its entry's own line in the multi-line array."""
    path = tmp_path / "v.toml"
    path.write_text(HEAD + '[applicability."11.2"]\ndevice_types = ["IHD"]\n')
    code, stderr = _explain(path)
    assert code == 0, stderr
    parent = _builtin_path("mp105").resolve()
    lines = parent.read_text(encoding="utf-8").splitlines()
    rule = next(n for n, t in enumerate(lines, 1) if '{ message = "11.2:with-version"' in t)
    entry = next(n for n, t in enumerate(lines, 1) if '{ srv = "11.2"' in t)
    assert f"{parent}:{rule}: firmware.update_smi_on: 11.2:with-version can never fire" in stderr
    assert f"{parent}:{entry}: suspended.exceptions: SR11.2 applies to no" in stderr
    assert f"{path}:1:" not in stderr


ERRORS = {
    "an unknown table": (HEAD + "\n[actors]  #!\nx = 1\n", "actors: unknown table"),
    "an unknown key of a CPL reason": (
        HEAD + "[cpl.reasons.lapse]\nsuspends = true\nbogus = 1  #!\n",
        "cpl.reasons.lapse.bogus: unknown key",
    ),
    "an unknown message in [messages]": (
        HEAD + '\n[messages."99.9"]  #!\ndoes = "join"\n',
        "messages.99.9: unknown SRV '99.9'",
    ),
    "an unknown message in [roles]": (
        HEAD + '\n[roles."99.9"]  #!\nroles = ["IS"]\n',
        "roles.99.9: unknown SRV '99.9'",
    ),
    "an unknown check": (
        HEAD + '[pipeline]\nchecks = [\n  { check = "e5" },\n  { check = "magic" },  #!\n]\n',
        "pipeline.checks: entry 2: unknown check 'magic'",
    ),
    "an unknown alert in update_smi_on": (
        HEAD + '[firmware]\nupdate_smi_on = ["11.3:success", "alert:CS99"]  #!\n',
        "unknown alert 'CS99'",
    ),
    "an unknown status": (
        HEAD + '[e5.suspendedx]  #!\nadmits = "all"\nreject_code = "E51"\n',
        "e5.suspendedx: unknown status",
    ),
    "an unknown status chart event": (
        HEAD + "[cascades.explode]  #!\nunjoin = true\n",
        "cascades.explode: unknown status chart event",
    ),
    "an unknown device type's route": (
        HEAD + '[firmware.routes.FOO]  #!\ndeliver = "11.1"\nactivate = "11.3"\n'
        'report = "response"\n',
        "firmware.routes.FOO: routes are for device types",
    ),
    "an unknown device type in applicability": (
        HEAD + '[applicability."11.2"]\ndevice_types = ["ESME", "FOO"]  #!\n',
        "applicability.11.2.device_types: must be a list of device types",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_an_unknown_name_is_an_error_at_its_own_line(case: str, tmp_path: Path) -> None:
    text, message = ERRORS[case]
    path = tmp_path / "v.toml"
    path.write_text(text)
    result = cli("explain", "11.2", "--variant", str(path))
    assert_one_line_error(result, f"{path}:{_marked(text)}: ", message)


@pytest.mark.parametrize("variant", BUILTIN)
def test_the_built_ins_warn_of_nothing(variant: str) -> None:
    result = cli("explain", "11.2", "--variant", variant)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
