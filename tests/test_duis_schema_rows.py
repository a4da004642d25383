"""Rows tagged ``duis`` about alerts, backed by the DUIS XML Schema V5.4 itself.

The schema is GPL-3.0 reference data beside the project (``../shared/reference``), read here
at test time and never copied. Each test reads the schema's own declarations (an element, its
children, an enumeration) and compares them with what a ``duis`` row says: the CS09
activation outcomes, the Communications Hub's FirmwareTransferAlert, and the
MeterDecommissioningOrWithdrawal status-change alert (with DeviceSuspended and
DeviceRestored, the other DCC alerts tagged ``duis``). A row whose name, outcome or shape the
schema does not have fails here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from defusedxml import ElementTree

from model.alerts import dcc_alerts, device_alerts
from model.rule_tables import PipelineCheck
from model.variant import BUILTIN, load_variant
from tests.conftest import ROOT, SHARED, needs_shared

SCHEMA = SHARED / "reference" / "duis-schema" / "DUIS Schema V5.4.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
VARIANTS = ROOT / "docs" / "variants"

pytestmark = needs_shared()


@cache
def _schema() -> Any:
    return ElementTree.parse(str(SCHEMA)).getroot()


def _type(name: str) -> Any:
    """The schema's named complex type ``name``."""
    found = _schema().findall(f"{XS}complexType[@name='{name}']")
    assert len(found) == 1, f"the DUIS schema declares no complex type {name}"
    return found[0]


def _children(type_name: str) -> dict[str, Any]:
    """The elements a complex type declares (in its sequence or choice), by name."""
    return {e.get("name"): e for e in _type(type_name).iter(f"{XS}element")}


def _enumeration(element: Any) -> set[str]:
    return {e.get("value") for e in element.iter(f"{XS}enumeration")}


def _update_outcomes(variant_file: str) -> set[str]:
    variant = load_variant(str(VARIANTS / variant_file))
    return {r.outcome for r in variant.update_smi_on if r.outcome is not None}


def test_cs09_outcomes_are_the_schemas_activation_result_codes() -> None:
    """alerts.json's CS09 row (duis): the PPMID's firmware upgrade alert carries a
    FirmwareVersion and ActivateImageResultCode, whose values are the row's two outcomes;
    the docs variant that updates the SMI on ActivationSuccess names one of them."""
    row = device_alerts()["CS09"]
    assert row.source == "duis"
    children = _children("PPMIDFirmwareUpgradeAlert")
    assert row.carries_version == ("FirmwareVersion" in children)
    codes = _enumeration(children["ActivateImageResultCode"])
    assert set(row.outcomes.values()) == codes
    assert set(row.outcomes) == {"success", "failure"}
    assert _update_outcomes("cs09-activation-success-only.toml") <= codes
    # The alert reaches the DSP inside a PPMID alert, as a device alert does.
    assert "PPMIDFirmwareUpgradeAlert" in _children("PPMIDAlert")


def test_firmware_transfer_alert_is_the_schemas() -> None:
    """The FirmwareTransferAlert row (duis) of docs/variants/dcc-alert-updates-smi-firmware:
    the schema's FirmwareTransferAlert carries a FirmwareVersion and a TransferResponseCode
    whose values include the row's success and failure outcomes."""
    variant = load_variant(str(VARIANTS / "dcc-alert-updates-smi-firmware.toml"))
    row = variant.alerts["FirmwareTransferAlert"]
    assert row.source == "duis"
    children = _children("FirmwareTransferAlert")
    assert "FirmwareVersion" in children
    codes = _enumeration(children["TransferResponseCode"])
    assert set(row.outcomes.values()) <= codes
    assert row.outcomes["success"] == "FileTransferSuccess"
    assert _update_outcomes("dcc-alert-updates-smi-firmware.toml") <= codes


def test_meter_decommissioning_alert_names_up_to_seven_associated_devices() -> None:
    """alerts.json's MeterDecommissioningOrWithdrawal row (duis) says it is a
    DeviceStatusChangeEvent naming the meter and up to 7 AssociatedType1Device: the schema's
    own declaration; the decommission-unjoins cascade raises it under that name."""
    row = dcc_alerts()["MeterDecommissioningOrWithdrawal"]
    assert row["source"] == "duis"
    assert "DeviceStatusChange" in _children("DeviceStatusChangeEvent")
    assert "MeterDecommissioningOrWithdrawal" in _children("DeviceStatusChange")
    associated = _children("MeterDecommissioningOrWithdrawal")["AssociatedType1Device"]
    assert associated.get("maxOccurs") == "7" and "up to 7" in row["why"]
    variant = load_variant(str(VARIANTS / "decommission-unjoins.toml"))
    assert {c.alert for c in variant.cascades.values()} == {"MeterDecommissioningOrWithdrawal"}


@pytest.mark.parametrize("name", sorted(dcc_alerts()))
def test_every_duis_dcc_alert_is_a_status_change_of_the_schema(name: str) -> None:
    """A DCC alert row tagged duis names a DeviceStatusChange of the schema; one the schema
    does not name must say it is the model's (assumption)."""
    row = dcc_alerts()[name]
    in_schema = name in _children("DeviceStatusChange")
    if row["source"] == "duis":
        assert in_schema, f"{name} is tagged duis but the DUIS schema has no such alert"
    else:
        assert row["source"] == "assumption" and row["why"]


def _response_codes() -> set[str]:
    (code_type,) = _schema().findall(f"{XS}simpleType[@name='ResponseCode']")
    return _enumeration(code_type)


def test_no_reference_code_means_an_image_off_the_cpl() -> None:
    """Why the built-ins keep an off-CPL image as bad input (docs/assumptions.md): the
    schema lists SR11.1's own codes (E110101-E110106, W110101) without their meanings, and
    no reference file ties any code to the CPL (the schema's only CPL element is a Device's
    CPLStatus). The cpl-image check's default code is the model's, not a DUIS one, so no
    built-in runs it (a test pack must validate against the schema). If the reference data
    ever names the code, this fails and the built-ins should take the check."""
    codes = _response_codes()
    assert {"E110101", "E110103", "W110101"} <= codes
    reference = SHARED / "reference"
    texts = [p for p in reference.rglob("*") if p.is_file() and p.suffix.lower() != ".xsd"]
    assert texts
    for path in texts:
        assert "CPL" not in path.read_text(encoding="utf-8", errors="replace"), path
    schema_text = SCHEMA.read_text(encoding="utf-8")
    assert set(re.findall(r'name="(\w*CPL\w*)"', schema_text)) == {"CPLStatus"}
    assert PipelineCheck("cpl-image", "assumption", "").reject_code not in codes
    for variant in BUILTIN:
        assert "cpl-image" not in {row.check for row in load_variant(variant).pipeline}
    # The warning list a multi-device SR11.1 may name for it does exist.
    assert "NotApplicableFirmwareDeviceIDList" in _children("DSPUpdateFirmwareWarning")
