"""Every applicability row is proven by the reference data (issue 19).

``model/data/applicability.json`` lists, for each SRV, the device types it applies to and
for each type its evidence: the DUIS reference templates addressed to a device of the type,
the GBCS use cases whose titles name it, a seed's words, or an assumption with why. These
tests read the reference data at run time (GPL-3.0: never copied here) with the product's
own DUIS reader, and check every claim against it, so a heuristic that contradicts a
template fails CI:

- every reference template whose target type is known is accepted for that type by the
  applicability check of every built-in variant, unless a tagged seed row says otherwise;
- every ``duis`` piece of evidence says what the templates and the mapping table say;
- the device IDs' types are read from the templates as the data file claims;
- the committed file is what ``scripts/import_applicability.py`` derives.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.checks import check_applicable
from model.duis import DuisRequest, read_message
from model.variant import load_variant
from tests.conftest import ROOT, SHARED, cli_json, needs_shared

REFERENCE = SHARED / "reference"
TEMPLATES = REFERENCE / "duis-templates"
DATA = json.loads((ROOT / "model" / "data" / "applicability.json").read_text(encoding="utf-8"))
ROWS = {row["srv"]: row for row in DATA["requests"]}
BUILT_IN = ("baseline", "mp105", "mp178")
#: The DCC's own ID: a Non-Device Request's RequestID target (its body names the devices).
DCC = "90-B3-D5-1F-30-00-00-02"

pytestmark = needs_shared()


@cache
def requests() -> dict[str, DuisRequest]:
    """Every request template of the reference data, read by the product's reader."""
    found = {}
    for path in sorted(TEMPLATES.glob("*.XML")):
        message = read_message(path)
        if isinstance(message, DuisRequest):
            found[path.name] = message
    return found


def targets(message: DuisRequest) -> list[str]:
    """The devices a request is for: its RequestID target, or a Non-Device Request's body."""
    return list(message.device_ids) if message.target == DCC else [message.target]


@cache
def known_targets() -> list[tuple[str, str, str]]:
    """(template, SRV, device type) for every template addressed to a device whose type
    the data file's ``targets`` give."""
    return [
        (name, message.srv, DATA["targets"][device]["device_type"])
        for name, message in requests().items()
        for device in targets(message)
        if device in DATA["targets"]
    ]


def contradictions(rows: dict[str, Any]) -> list[str]:
    """Templates whose target type their SRV's row leaves out."""
    return [
        f"{name}: SR{srv} to a {device_type}, but the row says {rows[srv]['device_types']}"
        for name, srv, device_type in known_targets()
        if device_type not in rows[srv]["device_types"]
    ]


@cache
def mapping() -> dict[str, list[str]]:
    """GBCS use case code -> its titles (the mapping table repeats some codes)."""
    table = json.loads((REFERENCE / "gbcs-mapping-table.json").read_text(encoding="utf-8"))
    titles: dict[str, list[str]] = {}
    for row in table:
        titles.setdefault(row["Code"], []).append(row["Use Case Title"])
    return titles


NAMES = {
    "ESME": ("ESME",),
    "GSME": ("GSME",),
    "CHF": ("CHF", "Comms Hub", "Communications Hub"),
    "GPF": ("GPF",),
    "PPMID": ("PPMID",),
    "HCALCS": ("HCALCS",),
}


def names(title: str, device_type: str) -> bool:
    return any(
        re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", title) for n in NAMES[device_type]
    )


# --- the Done-when test ------------------------------------------------------------------


@pytest.mark.parametrize("variant_id", BUILT_IN)
def test_no_reference_template_is_refused_for_its_own_device_type(variant_id: str) -> None:
    """Every template whose target type is known passes the applicability check for that
    type, unless the variant's own row, tagged with a seed, says otherwise (DP105: SR11.2
    is only applicable to ESME and GSME)."""
    variant = load_variant(variant_id)
    checked, refused = 0, []
    for name, srv, device_type in known_targets():
        checked += 1
        decision = check_applicable(variant, srv, device_type)
        if not decision.accepted and not decision.rule.source.startswith("seed:"):
            refused.append(f"{name} ({device_type}): {decision.rule.text}")
    assert refused == []
    assert checked >= 270  # all but the few templates whose target type is unknown


def test_classify_accepts_the_ppmid_join_template() -> None:
    path = TEMPLATES / "CS03A2NonCritical_8.7.2_SUCCESS_REQUEST_DUIS.XML"
    records = cli_json(
        "classify",
        str(path),
        "--device-type",
        "PPMID",
        "--status",
        "commissioned",
        "--format",
        "json",
    )
    decision = records[0]["decisions"]["commissioned"]
    assert decision["accepted"], decision
    assert records[0]["target"] in DATA["targets"]


def test_the_data_files_rows_contradict_no_template() -> None:
    assert contradictions(ROWS) == []


@given(st.data())
def test_a_row_that_leaves_out_a_templates_type_is_caught(data: st.DataObject) -> None:
    """The seeded defect: the old heuristics left types out (a CHF for SR6.13, a GPF for
    SR4.17, a PPMID for SR8.7.2); dropping any template-shown type from its row is found."""
    name, srv, device_type = data.draw(st.sampled_from(known_targets()))
    row = ROWS[srv] | {"device_types": [t for t in ROWS[srv]["device_types"] if t != device_type]}
    found = contradictions(ROWS | {srv: row})
    assert any(line.startswith(f"{name}:") for line in found)


# --- each piece of evidence says what the reference data says ----------------------------


ORDER = ("seed:MP105", "seed:MP178", "duis", "assumption")


@pytest.mark.parametrize("srv", sorted(ROWS))
def test_every_row_cites_checked_evidence_for_each_type(srv: str) -> None:
    row = ROWS[srv]
    assert set(row["evidence"]) == set(row["device_types"])
    best = set()
    for device_type, entries in row["evidence"].items():
        assert entries, device_type
        for entry in entries:
            check_entry(srv, device_type, entry)
        best.add(min(ORDER.index(e["source"]) for e in entries))
    assert row["source"] == ",".join(ORDER[i] for i in sorted(best))
    assert not set(row["device_types"]) & set(row["excluded_by_roles"])


def check_entry(srv: str, device_type: str, entry: dict[str, Any]) -> None:
    """One piece of evidence: a template really is of ``srv`` and addressed to a device of
    the type; a use case title really names the type; a seed or assumption says why."""
    assert entry["source"] in ORDER
    if entry["source"] != "duis":
        assert entry.get("why"), entry
    if entry["source"].startswith("seed:"):
        assert "'" in entry["why"], "a seed's evidence quotes it"
    for name in entry.get("templates", []):
        message = requests()[name]
        assert message.srv == srv, name
        types = {DATA["targets"].get(d, {}).get("device_type") for d in targets(message)}
        assert device_type in types, name
        sources = {DATA["targets"][d]["source"] for d in targets(message) if d in DATA["targets"]}
        assert entry["source"] in sources, name
    for code in entry.get("titles", []):
        assert any(names(title, device_type) for title in mapping()[code]), code
        assert linked(code, srv), f"{code} is not linked to SR{srv} by the reference data"


def linked(code: str, srv: str) -> bool:
    """A use case is linked to an SRV by one of its templates, or (with none) by the
    mapping table's Service Reference."""
    own = [m.srv for n, m in requests().items() if n.startswith(code)]
    if own:
        return srv in own
    table = json.loads((REFERENCE / "gbcs-mapping-table.json").read_text(encoding="utf-8"))
    refs = {
        part.strip()
        for row in table
        if row["Code"] == code
        for part in str(row["Service Reference"]).split(",")
    }
    return srv in refs or srv.rsplit(".", 1)[0] in refs


def test_roles_exclude_the_meters_of_the_other_fuel() -> None:
    """The Eligible User Roles of the DUIS matrix: IS, ES and ED are electricity roles, GS
    and GT gas ones; RSA and OU serve either fuel. A row lists the meter types its roles
    exclude, and lists none of them as a type."""
    matrix = json.loads((REFERENCE / "duis-request-matrix.json").read_text(encoding="utf-8"))
    for entry in matrix:
        row = ROWS[entry["Service Reference Variant"]]
        roles = set(entry["Eligible User Roles"])
        assert set(row["roles"]) == roles
        if not roles or roles & {"RSA", "OU"}:
            assert row["excluded_by_roles"] == []
            continue
        gas, electricity = roles & {"GS", "GT"}, roles & {"IS", "ES", "ED"}
        expected = ([] if electricity else ["ESME"]) + ([] if gas else ["GSME", "GPF"])
        assert row["excluded_by_roles"] == expected, row["srv"]
    assert ROWS["1.1.2"]["excluded_by_roles"] == ["GSME", "GPF"]


# --- the device IDs' types ---------------------------------------------------------------


@pytest.mark.parametrize("device", sorted(DATA["targets"]))
def test_each_device_ids_type_is_read_from_the_templates(device: str) -> None:
    facts = DATA["targets"][device]
    device_type = facts["device_type"]
    addressed = {n: m for n, m in requests().items() if device in targets(m)}
    assert addressed, device
    if facts["source"] != "duis":
        assert facts["source"] == "assumption" and facts["why"]
        return
    shown = 0
    if facts.get("device_type_element"):
        assert any(pairs(name, device, device_type) for name in addressed), device
        shown += 1
    for body in facts.get("bodies", []):
        assert device_type in body
        assert any(m.body == body for m in addressed.values()), body
        shown += 1
    for code in facts.get("use_cases", []):
        assert any(n.startswith(code) for n in addressed), f"no {code} template to {device}"
        assert any(names(title, device_type) for title in mapping()[code]), code
        shown += 1
    assert shown >= 2, "two independent readings at least"


def pairs(name: str, device: str, device_type: str) -> bool:
    """The template's body gives ``device`` the DeviceType ``device_type``."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    found = re.search(
        rf"<sr:DeviceID>{re.escape(device)}</sr:DeviceID>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?"
        rf"<sr:DeviceType>{device_type}</sr:DeviceType>",
        text,
    )
    return found is not None


def test_the_templates_of_unknown_targets_are_named_and_few() -> None:
    """A template device ID the data file gives no type is listed with why, and holds only
    a few templates (the rest are checked above)."""
    every = {d for m in requests().values() for d in targets(m) if d.startswith("00-DB")}
    unknown = every - set(DATA["targets"])
    assert unknown == set(DATA["unknown_targets"])
    left_out = [n for n, m in requests().items() if set(targets(m)) & unknown]
    assert 0 < len(left_out) <= 3


# --- the committed file is derived --------------------------------------------------------


def import_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_applicability", ROOT / "scripts" / "import_applicability.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_file_is_what_the_script_derives(tmp_path: Path) -> None:
    module = import_script()
    data = ROOT / "model" / "data"
    (tmp_path / "catalogue.json").write_text(
        (data / "catalogue.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    module.OUT = tmp_path / "applicability.json"
    assert module.main(["import", str(REFERENCE)]) == 0
    assert json.loads(module.OUT.read_text(encoding="utf-8")) == DATA


def test_docs_name_every_assumed_applicability_row() -> None:
    """docs/assumptions.md names every SRV whose row rests on an assumption, and only
    those, in its applicability section."""
    doc = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")
    section = doc.split("## Device types and applicability", 1)[1].split("\n## ", 1)[0]
    listed = section.split("The rows tagged `assumption`", 1)[1].split("\n- The Eligible", 1)[0]
    named = set(re.findall(r"SR(\d+(?:\.\d+)+)", listed))
    assumed = {srv for srv, row in ROWS.items() if "assumption" in row["source"].split(",")}
    assert named == assumed
