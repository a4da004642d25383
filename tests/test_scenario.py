"""smi-spec run: the report's shape, and bad scenarios as one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, assert_one_line_error, cli, cli_json

DEVICES = [{"id": "esme1", "type": "ESME", "firmware": "F1"}, {"id": "cad1", "type": "CAD"}]


def write(tmp_path: Path, doc: object, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_report_has_design_md_shape_for_every_step() -> None:
    report = cli_json("run", str(SCENARIOS / "mp178-story-baseline-manual-fix.json"))
    assert set(report) >= {"variant", "steps", "manual_fixes", "manual_fix_cost_gbp"}
    for record in report["steps"]:
        assert set(record) >= {"step", "accepted", "response_code", "devices", "joins"}
        assert set(record["devices"]["esme1"]) == {
            "status",
            "prior_status",
            "smi_firmware",
            "device_firmware",
            "compliant",
        }
        assert set(record["joins"][0]) == {"target", "other", "smi", "device"}
    fix = report["steps"][3]
    assert (fix["accepted"], fix["response_code"]) == (None, None)
    assert (report["manual_fixes"], report["manual_fix_cost_gbp"]) == (1, 2000)


def test_toml_scenarios_run_like_json(tmp_path: Path) -> None:
    toml = (
        'variant = "mp105"\ncpl = ["F1", "F2"]\n'
        '[[devices]]\nid = "esme1"\ntype = "ESME"\nstatus = "suspended"\n'
        'prior_status = "installed_not_commissioned"\nfirmware = "F2"\nsmi_firmware = "F1"\n'
        '[[steps]]\nsr = "11.2"\ntarget = "esme1"\n'
    )
    report = cli_json("run", write(tmp_path, toml, "s.toml"))
    view = report["steps"][0]["devices"]["esme1"]
    assert (view["status"], view["smi_firmware"]) == ("installed_not_commissioned", "F2")


def test_variant_option_overrides_the_scenario() -> None:
    report = cli_json("run", str(SCENARIOS / "mp105-story-baseline.json"), "--variant", "mp105")
    assert report["variant"] == "mp105"
    assert report["steps"][-1]["devices"]["esme1"]["status"] == "commissioned"


BAD = {
    "unknown device": (
        {"devices": DEVICES, "steps": [{"sr": "11.2", "target": "esme9"}]},
        ["step 1", "unknown device 'esme9'"],
    ),
    "unknown srv": (
        {"devices": DEVICES, "steps": [{"sr": "99.9", "target": "esme1"}]},
        ["step 1", "unknown SRV '99.9'"],
    ),
    "not allowed": (
        {"devices": DEVICES, "steps": [{"sr": "11.3", "target": "esme1", "lose_alert": True}]},
        ["step 1", "sends no device alert to lose"],
    ),
    "image off cpl": (
        {
            "cpl": ["F1"],
            "devices": DEVICES,
            "steps": [{"sr": "11.1", "target": "esme1", "image": "F9"}],
        },
        ["step 1", "not on the CPL"],
    ),
    "event not allowed": (
        {"devices": DEVICES, "steps": [{"event": "join_han", "target": "esme1"}]},
        ["step 1", "not allowed from status commissioned"],
    ),
    "unknown step": (
        {"devices": DEVICES, "steps": [{"teleport": "esme1"}]},
        ["step 1", "not a step"],
    ),
    "bad status": ({"devices": [{"id": "e", "type": "ESME", "status": "asleep"}]}, ["devices[1]"]),
    "suspended without prior": (
        {"devices": [{"id": "e", "type": "ESME", "status": "suspended"}]},
        ["prior_status"],
    ),
    "bad type": ({"devices": [{"id": "e", "type": "TOASTER"}]}, ["type must be"]),
    "unknown key": ({"devices": DEVICES, "stepz": []}, ["unknown key 'stepz'"]),
    "malformed json": ('{"devices": [', ["not valid JSON"]),
    "not an object": ("[1, 2]", ["expected an object"]),
    "cpl version not a string": (
        {"devices": DEVICES, "steps": [{"cpl_remove": 3}]},
        ["cpl_remove must be a firmware version string"],
    ),
    "image not a string": (
        {"devices": DEVICES, "steps": [{"sr": "11.1", "target": "esme1", "image": 2}]},
        ["image must be a firmware version string"],
    ),
    "lose a non-device response": (
        {"devices": DEVICES, "steps": [{"sr": "8.3", "target": "esme1", "lose_response": True}]},
        ["Non-Device Request"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_give_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    doc, fragments = BAD[case]
    path = write(tmp_path, doc)
    assert_one_line_error(cli("run", path), path, *fragments)
    assert_one_line_error(cli("run", path, "--format", "json"), *fragments)


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(cli("run", str(tmp_path / "nope.json")), "cannot read")
