"""smi-spec classify: what each DUIS file is, check E5's decision, bad files one line each."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.catalogue import catalogue
from model.duis import MAX_BYTES, body_srvs, parse_message
from model.status_chart import STATUSES
from model.variant import load_variant
from smi_spec.duis_commands import classify_message
from tests.conftest import ROOT, SHARED, assert_one_line_error, cli, needs_shared

FIXTURES = ROOT / "tests" / "fixtures" / "duis"
BAD = FIXTURES / "bad"
TEMPLATES = SHARED / "reference" / "duis-templates"

#: MP105's exception list, written here from seed:MP105 (not read from the variant file),
#: and SR11.4, which mp105 (the November 2021 release) adds for SECMP0007 (assumption,
#: docs/assumptions.md): SRV -> (Command Variant, SMETS) conditions, None for none.
MP105_EXCEPTIONS: dict[str, tuple[int | None, int | None]] = {
    "11.1": (None, None),
    "6.23": (None, None),
    "2.2": (2, 1),
    "11.2": (None, None),
    "11.4": (None, None),
}


UNGATED_NON_DEVICE = {"8.2", "8.3", "8.4", "5.2", "5.3"}


def expected_suspended_mp105(critical: bool, srv: str, command_variant: int, smets: int):
    """Check E5 for a Suspended device under mp105, computed from the matrix's criticality
    and the exception list alone, and the Non-Device Requests the Suspended row does not gate
    (each an assumption of baseline.toml): (accepted, response code)."""
    if critical or srv in UNGATED_NON_DEVICE:
        return True, None
    if srv in MP105_EXCEPTIONS:
        cv, version = MP105_EXCEPTIONS[srv]
        if cv in (None, command_variant) and version in (None, smets):
            return True, None
    return False, "E51"


def bad_error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------
# The done-when: every reference template under mp105, Suspended


@needs_shared()
@pytest.mark.parametrize("smets", [2, 1])
def test_every_template_is_classified_and_decided_as_the_matrix_and_mp105_say(smets: int) -> None:
    matrix = {
        row["Service Reference Variant"]: row
        for row in json.loads((SHARED / "reference" / "duis-request-matrix.json").read_text())
    }
    files = sorted(str(p) for p in TEMPLATES.glob("*.XML"))
    args = ["classify", *files, "--status", "suspended", "--variant", "mp105"]
    started = time.perf_counter()
    result = cli(*args, "--smets", str(smets), "--format", "json")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = json.loads(result.stdout)
    assert [r["file"] for r in records] == files
    requests = [r for r in records if r["kind"] == "request"]
    responses = [r for r in records if r["kind"] == "response"]
    assert {Path(r["file"]).name for r in requests} == {
        p.name for p in TEMPLATES.glob("*REQUEST*.XML")
    }
    assert [Path(r["file"]).name for r in responses] == ["ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"]
    for record in requests:
        row = matrix[record["srv"]]
        critical = row["Critical"] == "Yes"
        name = " ".join(row["Service Request Name"].split())
        assert (record["name"], record["critical"]) == (name, critical)
        decision = record["decisions"]["suspended"]
        expected = expected_suspended_mp105(
            critical, record["srv"], record["command_variant"], smets
        )
        assert (decision["accepted"], decision["response_code"]) == expected, record["file"]
        assert decision["source"]
    accepted = {r["srv"] for r in requests if r["decisions"]["suspended"]["accepted"]}
    assert {"11.1", "11.2", "6.23"} <= accepted
    top_ups = {r["command_variant"] for r in requests if r["srv"] == "2.2"}
    assert ("2.2" in accepted) == (smets == 1 and 2 in top_ups)  # the templates use CV 1
    assert elapsed < 30


@needs_shared()
def test_the_response_and_acknowledgement_files_classify_as_responses() -> None:
    names = ["duis-parser-readfw-response.xml", "duis-parser-acknowledgement-error.xml"]
    result = cli("classify", *(str(TEMPLATES / n) for n in names), "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [(r["kind"], r["srv"], r["response_code"]) for r in records] == [
        ("response", "11.2", "I0"),
        ("response", "11.2", "E65"),
    ]


# ---------------------------------------------------------------------------------------
# The project's own fixtures (no ../shared needed)


def test_every_status_is_decided_by_default() -> None:
    result = cli("classify", str(FIXTURES / "sr11.2-read-firmware-version.xml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    assert set(record) >= {
        "file",
        "srv",
        "name",
        "critical",
        "command_variant",
        "target",
        "decisions",
    }
    assert list(record["decisions"]) == list(STATUSES)
    assert record["decisions"]["suspended"]["response_code"] == "E51"  # baseline
    assert record["decisions"]["commissioned"]["accepted"] is True
    for decision in record["decisions"].values():
        assert set(decision) >= {"accepted", "response_code", "rule", "source"}


def test_mp105_accepts_11_2_and_smets1_top_up_with_command_variant_2() -> None:
    files = [
        str(FIXTURES / "sr11.2-read-firmware-version.xml"),
        str(FIXTURES / "sr2.2-top-up-cv2.xml"),
    ]
    for smets, top_up in ((1, True), (2, False)):
        result = cli(
            "classify",
            *files,
            "--variant",
            "mp105",
            "--status",
            "suspended",
            "--smets",
            str(smets),
            "--format",
            "json",
        )
        read, top = json.loads(result.stdout)
        assert read["decisions"]["suspended"]["accepted"] is True
        assert top["decisions"]["suspended"]["accepted"] is top_up


def test_text_output_is_a_table() -> None:
    result = cli(
        "classify",
        str(FIXTURES / "sr8.8.2-unjoin.xml"),
        str(FIXTURES / "response-E51.xml"),
        "--status",
        "suspended",
    )
    assert result.returncode == 0, result.stderr
    assert "8.8.2" in result.stdout and "E51" in result.stdout and "response" in result.stdout


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(body_srvs().items())),
    st.integers(1, 8),
    st.sampled_from([1, 2]),
)
def test_any_srv_is_decided_as_the_exception_list_says(
    body: tuple[str, tuple[str, ...]], command_variant: int, smets: int
) -> None:
    name, srvs = body
    srv = srvs[0]
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_text()
    data = (
        data.replace("ReadFirmwareVersion", name)
        .replace(">11.2<", f">{srv}<")  # ServiceReference and ServiceReferenceVariant
        .replace("<sr:CommandVariant>1<", f"<sr:CommandVariant>{command_variant}<")
    )
    message = parse_message(data.encode())
    record = classify_message("x.xml", message, load_variant("mp105"), ("suspended",), smets)
    decision = record["decisions"]["suspended"]
    expected = expected_suspended_mp105(catalogue()[srv].critical, srv, command_variant, smets)
    assert (decision["accepted"], decision["response_code"]) == expected


# ---------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("not-xml.xml", "not XML"),
        ("truncated.xml", "truncated XML"),
        ("not-duis.xml", "not a DUIS message"),
        ("billion-laughs.xml", "entity"),
        ("doctype.xml", "DOCTYPE"),
        ("unknown-srv.xml", "unknown SRV"),
        ("body-mismatch.xml", "the SRV and the body disagree"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_exit_2(name: str, fragment: str) -> None:
    path = str(BAD / name)
    result = cli("classify", path, "--format", "json")
    assert_one_line_error(result, f"smi-spec: error: {path}: ", fragment)
    assert json.loads(result.stdout) == []


def test_good_files_are_still_classified_beside_bad_ones() -> None:
    bad = sorted(str(p) for p in BAD.iterdir())
    good = [
        str(FIXTURES / "sr11.2-read-firmware-version.xml"),
        str(FIXTURES / "response-11.2-I0.xml"),
    ]
    files = [good[0], *bad, good[1]]
    for fmt in ("json", "text"):
        result = cli("classify", *files, "--status", "suspended", "--format", fmt)
        assert result.returncode == 2
        lines = bad_error_lines(result)
        assert len(lines) == len(bad)
        for line, path in zip(lines, bad, strict=True):
            assert line.startswith(f"smi-spec: error: {path}: ")
        if fmt == "json":
            assert [r["file"] for r in json.loads(result.stdout)] == good
        else:
            assert "Read Firmware" in result.stdout


def test_a_file_far_too_large_is_refused_at_once(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(50 * MAX_BYTES)
    started = time.perf_counter()
    result = cli("classify", str(big))
    assert_one_line_error(result, str(big), "too large")
    assert time.perf_counter() - started < 10


def test_a_file_name_with_a_newline_is_still_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "two\nlines.xml"
    odd.write_text("nonsense")
    assert_one_line_error(cli("classify", str(odd)), "two\\nlines.xml", "not XML")


def test_missing_files_and_directories_are_one_line_each(tmp_path: Path) -> None:
    result = cli("classify", str(tmp_path / "missing.xml"), str(tmp_path))
    lines = bad_error_lines(result)
    assert result.returncode == 2 and len(lines) == 2
    assert "cannot read" in lines[0] and "not a regular file" in lines[1]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--status", "asleep"], "unknown status 'asleep'"),
        (["--variant", "nope"], "unknown variant 'nope'"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], fragment: str) -> None:
    result = cli("classify", str(FIXTURES / "sr11.2-read-firmware-version.xml"), *args)
    assert_one_line_error(result, fragment)
