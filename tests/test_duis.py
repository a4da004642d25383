"""The DUIS reader: real templates, the project's own fixtures, hostile and malformed XML."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import duis
from model.catalogue import catalogue
from model.duis import (
    MAX_BYTES,
    BodyMismatchError,
    DuisError,
    DuisRequest,
    DuisResponse,
    HostileXmlError,
    NotDuisError,
    NotXmlError,
    RequestId,
    TooLargeError,
    TruncatedError,
    UnknownSrvError,
    UnreadableError,
    parse_message,
    read_message,
    read_request,
    read_response,
)
from tests.conftest import ROOT, SHARED, needs_shared

FIXTURES = ROOT / "tests" / "fixtures" / "duis"
BAD = FIXTURES / "bad"
TEMPLATES = SHARED / "reference" / "duis-templates"
ESME = "00-DB-00-00-00-00-00-01"
USER = "90-B3-D5-1F-30-01-00-00"

READ_FIRMWARE = DuisRequest(
    service_reference="11.2",
    srv="11.2",
    command_variant=1,
    request_id=RequestId(USER, ESME, 2001),
    body="ReadFirmwareVersion",
)


# ---------------------------------------------------------------------------------------
# The project's own fixtures


def test_a_request_gives_srv_command_variant_ids_and_body() -> None:
    request = read_request(FIXTURES / "sr11.2-read-firmware-version.xml")
    assert request == READ_FIRMWARE
    assert (request.originator, request.target) == (USER, ESME)
    assert (request.entry.name, request.entry.critical) == ("Read Firmware Version", False)


def test_a_default_namespace_reordered_and_spaced_reads_the_same() -> None:
    assert read_request(FIXTURES / "sr11.2-default-namespace.xml") == READ_FIRMWARE


def test_an_unjoin_gives_the_other_device_id_upper_cased() -> None:
    request = read_request(FIXTURES / "sr8.8.2-unjoin.xml")
    assert (request.srv, request.service_reference) == ("8.8.2", "8.8")
    assert request.other_device_id == "00-DB-00-00-00-00-00-0C"
    assert request.body == "UnjoinServiceNonCritical"


def test_a_non_device_request_names_its_business_target_in_the_body() -> None:
    request = read_request(FIXTURES / "sr11.1-update-firmware.xml")
    assert request.target == "90-B3-D5-1F-30-00-00-02"
    assert request.device_ids == (ESME,)
    assert (request.command_variant, request.firmware_version) == (8, "00000002")


def test_responses_give_code_srv_and_request_id() -> None:
    ok = read_response(FIXTURES / "response-11.2-I0.xml")
    # A schema-valid response carries the device's version only in its GBCS payload.
    assert (ok.response_code, ok.success, ok.srv, ok.firmware_version) == (
        "I0",
        True,
        "11.2",
        None,
    )
    assert ok.request_id == READ_FIRMWARE.request_id
    rejected = read_response(FIXTURES / "response-E51.xml")
    assert (rejected.response_code, rejected.success) == ("E51", False)


def test_a_request_is_not_a_response_and_back() -> None:
    with pytest.raises(NotDuisError, match="not a response"):
        read_response(FIXTURES / "sr11.2-read-firmware-version.xml")
    with pytest.raises(NotDuisError, match="not a request"):
        read_request(FIXTURES / "response-E51.xml")


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [
        ("not-xml.xml", NotXmlError, "not XML"),
        ("truncated.xml", TruncatedError, "truncated XML"),
        ("not-duis.xml", NotDuisError, "not a DUIS message"),
        ("billion-laughs.xml", HostileXmlError, "entity"),
        ("doctype.xml", HostileXmlError, "DOCTYPE"),
        ("unknown-srv.xml", UnknownSrvError, "unknown SRV '99.9'"),
        ("body-mismatch.xml", BodyMismatchError, "the SRV and the body disagree"),
    ],
)
def test_each_bad_fixture_is_its_own_error_naming_the_file(
    name: str, error: type[DuisError], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        read_message(BAD / name)
    message = str(caught.value)
    assert message.startswith(str(BAD / name) + ": ")
    assert fragment in message and "\n" not in message


def test_a_body_element_duis_does_not_know_is_accepted() -> None:
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_bytes()
    request = parse_message(data.replace(b"ReadFirmwareVersion", b"SomeFutureBody"))
    assert isinstance(request, DuisRequest) and request.body == "SomeFutureBody"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (b"<sr:CommandVariant>1<", b"<sr:CommandVariant>9<", "CommandVariant '9'"),
        (b"<sr:CommandVariant>1<", b"<sr:CommandVariant>one<", "CommandVariant 'one'"),
        (b":2001<", b"<", "RequestID"),
        (b"90-B3-D5-1F-30-01-00-00:", b"90-B3-D5-1F-30-01-00:", "RequestID"),
        (b"<sr:ServiceReference>11.2<", b"<sr:ServiceReference>11.3<", "ServiceReference"),
        (b"<sr:ReadFirmwareVersion/>", b"", "sr:Body has no element"),
        (b"<sr:ReadFirmwareVersion/>", b'<x:Read xmlns:x="urn:x"/>', "not in the DUIS namespace"),
        (b"dccinterface.co.uk/ServiceUserGateway", b"example.com/Other", "not a DUIS message"),
    ],
)
def test_broken_headers_and_bodies_are_not_duis(old: bytes, new: bytes, fragment: str) -> None:
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_bytes()
    assert old in data
    with pytest.raises(DuisError, match=fragment):
        parse_message(data.replace(old, new, 1))


# ---------------------------------------------------------------------------------------
# Bounded time and memory


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_BYTES + 1)
    started = time.perf_counter()
    with pytest.raises(TooLargeError, match="too large"):
        read_message(big)
    assert time.perf_counter() - started < 1


def test_the_size_limit_is_well_above_the_largest_real_template() -> None:
    assert MAX_BYTES >= 100 * 26 * 1024


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_something_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableError, match="not a regular file"):
        read_message("/dev/zero")
    with pytest.raises(UnreadableError, match="not a regular file"):
        read_message(tmp_path)
    with pytest.raises(UnreadableError, match="cannot read"):
        read_message(tmp_path / "missing.xml")


@pytest.mark.parametrize(
    "data",
    [
        b"<a>" * 1_000_000 + b"</a>" * 1_000_000,
        b"<a>" + b"<b/>" * 1_000_000 + b"</a>",
    ],
    ids=["deep", "wide"],
)
def test_deep_or_wide_xml_stops_early(data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(TooLargeError):
        parse_message(data)
    assert time.perf_counter() - started < 2


# ---------------------------------------------------------------------------------------
# Hypothesis: malformed and hostile input never crashes the reader


def _parse_or_error(data: bytes) -> duis.DuisMessage | None:
    try:
        return parse_message(data)
    except DuisError as error:
        assert "\n" not in str(error)
        return None


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_message_or_an_input_error(data: bytes) -> None:
    _parse_or_error(data)


def test_every_truncation_of_a_fixture_is_an_input_error_or_the_same_message() -> None:
    for name in ("sr11.2-read-firmware-version.xml", "response-11.2-I0.xml"):
        data = (FIXTURES / name).read_bytes()
        whole = parse_message(data)
        for length in range(len(data)):
            found = _parse_or_error(data[:length])
            assert found is None or found == whole, length


@settings(max_examples=200)
@given(st.data())
def test_mutated_fixtures_never_crash(data: st.DataObject) -> None:
    raw = bytearray((FIXTURES / "sr8.8.2-unjoin.xml").read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw)))
        match data.draw(st.sampled_from(["flip", "insert", "delete"])):
            case "flip" if at < len(raw):
                raw[at] = data.draw(st.integers(0, 255))
            case "insert":
                raw[at:at] = data.draw(st.sampled_from([b"<", b">", b"&", b"]]>", b"\x00", b"<x>"]))
            case _:
                del raw[at : at + data.draw(st.integers(1, 20))]
    _parse_or_error(bytes(raw))


DTD_PARTS = st.sampled_from(
    [
        '<!ENTITY a "aaaaaaaaaa">',
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',
        '<!ENTITY ext SYSTEM "file:///etc/passwd">',
        '<!ENTITY % pe SYSTEM "http://example.invalid/x.dtd"> %pe;',
        "<!ELEMENT Request ANY>",
        '<!ATTLIST Request schemaVersion CDATA "5.4">',
    ]
)


@settings(max_examples=100)
@given(st.lists(DTD_PARTS, max_size=6), st.sampled_from(["&b;", "&ext;", "&a;", ""]))
def test_any_doctype_or_entity_is_refused(parts: list[str], use: str) -> None:
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_text()
    head, _, rest = data.partition("\n")
    doctype = (
        f"<!DOCTYPE Request [{''.join(parts)}]>" if parts else '<!DOCTYPE Request SYSTEM "x.dtd">'
    )
    srv = "11.2</sr:ServiceReferenceVariant>"
    hostile = f"{head}\n{doctype}\n{rest.replace(srv, use + srv)}"
    with pytest.raises(HostileXmlError):
        parse_message(hostile.encode())


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3000))
def test_nesting_inside_the_body_is_bounded(depth: int) -> None:
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_bytes()
    nested = b"<sr:X>" * depth + b"</sr:X>" * depth
    data = data.replace(
        b"<sr:ReadFirmwareVersion/>",
        b"<sr:ReadFirmwareVersion>" + nested + b"</sr:ReadFirmwareVersion>",
    )
    if depth + 3 > duis.MAX_DEPTH:
        with pytest.raises(TooLargeError):
            parse_message(data)
    else:
        assert parse_message(data) == READ_FIRMWARE


@settings(max_examples=15, deadline=None)
@given(st.integers(0, MAX_BYTES + 1000))
def test_huge_attribute_values_read_the_same_or_are_too_large(size: int) -> None:
    data = (FIXTURES / "sr11.2-read-firmware-version.xml").read_bytes()
    data = data.replace(b'schemaVersion="5.4"', b'schemaVersion="5.4" note="' + b"x" * size + b'"')
    if len(data) > MAX_BYTES:
        with pytest.raises(TooLargeError):
            parse_message(data)
    else:
        assert parse_message(data) == READ_FIRMWARE


NCNAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True).filter(
    lambda p: not p.lower().startswith("xml")
)
SPACE = st.sampled_from(["", " ", "\n", "\t", "  \n  ", "\r\n"])


def render(
    prefix: str | None,
    header_order: list[int],
    pads: list[str],
    attributes: list[tuple[str, str]],
) -> bytes:
    """SR11.2 written with any prefix (None: the default namespace), any header order, any
    whitespace around values and between elements, and any extra attributes in any order."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{duis.NAMESPACE}"' if prefix else f'xmlns="{duis.NAMESPACE}"'
    attrs = " ".join([xmlns, *(f'{k}="{v}"' for k, v in attributes)])
    fields = [
        ("RequestID", f"{USER}:{ESME}:2001"),
        ("CommandVariant", "1"),
        ("ServiceReference", "11.2"),
        ("ServiceReferenceVariant", "11.2"),
    ]
    header = "".join(
        f"{pads[i]}<{p}{fields[i][0]}>{pads[i + 1]}{fields[i][1]}{pads[i + 2]}</{p}{fields[i][0]}>"
        for i in header_order
    )
    body = f"<{p}Body>{pads[0]}<{p}ReadFirmwareVersion/>{pads[1]}</{p}Body>"
    request = f"{pads[2]}<{p}Header>{header}</{p}Header>{pads[3]}{body}"
    return f"<{p}Request {attrs}>{request}</{p}Request>".encode()


@settings(max_examples=200)
@given(
    st.one_of(st.none(), NCNAME),
    st.permutations(range(4)),
    st.lists(SPACE, min_size=6, max_size=6),
    st.lists(
        st.tuples(
            st.sampled_from(["schemaVersion", "a", "b", "zz", "id"]), st.text("abc 1.", max_size=8)
        ),
        max_size=4,
        unique_by=lambda kv: kv[0],
    ),
)
def test_prefix_header_order_whitespace_and_attributes_do_not_matter(
    prefix: str | None, order: list[int], pads: list[str], attributes: list[tuple[str, str]]
) -> None:
    assert parse_message(render(prefix, order, pads, attributes)) == READ_FIRMWARE


# ---------------------------------------------------------------------------------------
# The DCC's reference templates (../shared)


def _matrix() -> dict[str, dict]:
    rows = json.loads((SHARED / "reference" / "duis-request-matrix.json").read_text())
    return {row["Service Reference Variant"]: row for row in rows}


@needs_shared()
def test_every_request_template_reads_with_the_matrix_srv_and_criticality() -> None:
    matrix = _matrix()
    files = sorted(TEMPLATES.glob("*REQUEST*.XML"))
    assert len(files) >= 297
    seen = set()
    for path in files:
        request = read_request(path)
        row = matrix[request.srv]
        assert request.entry.critical == (row["Critical"] == "Yes"), path.name
        assert request.srv in path.name.split("_") or path.name.startswith("ECS21a_5.1._"), (
            path.name
        )
        seen.add(request.srv)
    assert seen == set(matrix) == set(catalogue())


@needs_shared()
def test_the_reference_responses_read_as_responses() -> None:
    codes = {}
    for name in (
        "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML",
        "duis-parser-readfw-response.xml",
        "duis-parser-acknowledgement-error.xml",
    ):
        response = read_response(TEMPLATES / name)
        assert isinstance(response, DuisResponse) and response.srv == "11.2"
        codes[name] = response.response_code
    assert sorted(codes.values()) == ["E65", "I0", "I0"]


@needs_shared()
def test_the_body_mapping_is_what_the_templates_say() -> None:
    for path in sorted(TEMPLATES.glob("*REQUEST*.XML")):
        request = read_request(path)
        assert request.srv in duis.body_srvs()[request.body], path.name


@needs_shared()
def test_a_template_with_a_swapped_body_is_a_disagreement() -> None:
    rng = random.Random(5)
    files = sorted(TEMPLATES.glob("*REQUEST*.XML"))
    bodies = duis.body_srvs()
    for path in rng.sample(files, 20):
        request = read_request(path)
        other = rng.choice([b for b, srvs in bodies.items() if request.srv not in srvs])
        data = path.read_bytes().replace(f"sr:{request.body}".encode(), f"sr:{other}".encode())
        with pytest.raises(BodyMismatchError):
            parse_message(data, path.name)
