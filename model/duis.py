"""Reading real DUIS messages: Service Requests and responses (source: duis).

A DUIS message is untrusted input. It is parsed with defusedxml only (DOCTYPE, entity
declarations and external references refused), after its size is checked and with at most
:data:`MAX_BYTES` + 1 bytes read, and the parse stops as soon as it passes
:data:`MAX_ELEMENTS` elements or :data:`MAX_DEPTH` levels: time and memory stay bounded
whatever the file holds.

Elements are matched by namespace URI (:data:`NAMESPACE`), never by prefix; whitespace around
values and the order of attributes do not matter. From a request the reader takes the
Service Reference, the Service Reference Variant (SRV), the Command Variant, the RequestID
(originator:target:counter, each an EUI-64), the body element's local name and, where
present, the Other Device ID, the body's Device IDs and a firmware version. From a response:
the response code, the SRV when the response names it, and the RequestID.

Every problem is an :class:`~model.errors.InputError` subclass whose message starts with the
file (or ``source``) it came from.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Final
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from model import inputs
from model.catalogue import ServiceRequest, lookup
from model.data_files import read_data
from model.errors import InputError

NAMESPACE: Final = "http://www.dccinterface.co.uk/ServiceUserGateway"
_NS: Final = f"{{{NAMESPACE}}}"

#: The largest message the reader accepts (assumption: the DCC's reference templates are at
#: most 26 KiB, an SR11.1 firmware image template 2 KiB; 5 MiB leaves room for a real image
#: while bounding memory).
MAX_BYTES: Final = 5 * 1024 * 1024
#: Parse limits (assumption: the reference templates have at most 435 elements, 10 deep).
MAX_ELEMENTS: Final = 20_000
MAX_DEPTH: Final = 64

#: DUIS writes Command Variants 1 to 8 (source: duis).
COMMAND_VARIANTS: Final = range(1, 9)
#: The response code of success (source: duis).
SUCCESS: Final = "I0"

_EUI64: Final = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}")
_COUNTER: Final = re.compile(r"[0-9]{1,20}")
_CODE: Final = re.compile(r"[A-Z][0-9A-Z]{0,15}")
_SRV: Final = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,3}")
#: expat error codes that mean the document stopped before it was complete.
_TRUNCATED_CODES: Final = frozenset({3, 5, 6})  # no element found, unclosed token, partial char


class DuisError(InputError):
    """A file that is not a DUIS message this reader can accept."""


class UnreadableError(DuisError):
    """The file cannot be read (missing, a directory, not a regular file, no permission)."""


class TooLargeError(DuisError):
    """The file is larger than :data:`MAX_BYTES`, or the XML is too deep or has too many
    elements."""


class NotXmlError(DuisError):
    """The file is not well-formed XML (or is empty)."""


class TruncatedError(NotXmlError):
    """The XML stops before the document is complete."""


class HostileXmlError(DuisError):
    """A DOCTYPE, an entity declaration or an external reference: refused, never expanded."""


class NotDuisError(DuisError):
    """Well-formed XML, but not a DUIS request or response."""


class UnknownSrvError(DuisError):
    """The message names an SRV that is not in the DUIS catalogue."""


class BodyMismatchError(DuisError):
    """The header's SRV and the body element disagree (duis-bodies.json)."""


@dataclass(frozen=True, slots=True)
class RequestId:
    """A DUIS RequestID: originator and target EUI-64s and a counter (source: duis)."""

    originator: str
    target: str
    counter: int

    def __str__(self) -> str:
        return f"{self.originator}:{self.target}:{self.counter}"


@dataclass(frozen=True, slots=True)
class DuisRequest:
    """What the model needs from a DUIS Service Request (source: duis).

    ``device_ids`` are the EUI-64s of the body's ``DeviceID`` and ``DeviceIDList`` elements:
    a Non-Device Request (SR11.1, SR8.3, ...) is addressed to the DCC and names its Business
    Target there. ``firmware_version`` is the body's ``FirmwareVersion`` (SR11.1's image).
    """

    service_reference: str
    srv: str
    command_variant: int
    request_id: RequestId
    body: str
    other_device_id: str | None = None
    device_ids: tuple[str, ...] = ()
    firmware_version: str | None = None

    @property
    def originator(self) -> str:
        return self.request_id.originator

    @property
    def target(self) -> str:
        return self.request_id.target

    @property
    def entry(self) -> ServiceRequest:
        return lookup(self.srv)


@dataclass(frozen=True, slots=True)
class DuisResponse:
    """What the model needs from a DUIS response (source: duis).

    ``srv`` is that of ``sr:Body/sr:ResponseMessage`` when the response names it.
    ``firmware_version`` is a ``FirmwareVersion`` element under the response message, when
    present (assumption: the reader does not decode the GBCS payload, where a device's
    answer otherwise is).
    """

    response_code: str
    request_id: RequestId
    srv: str | None = None
    service_reference: str | None = None
    firmware_version: str | None = None

    @property
    def success(self) -> bool:
        return self.response_code == SUCCESS

    @property
    def target(self) -> str:
        return self.request_id.target


DuisMessage = DuisRequest | DuisResponse


@cache
def body_srvs() -> dict[str, tuple[str, ...]]:
    """Body element local name -> the SRVs that use it (``model/data/duis-bodies.json``,
    derived from the DUIS templates by ``scripts/import_duis_bodies.py``; source: duis)."""
    return {name: tuple(srvs) for name, srvs in read_data("duis-bodies.json")["bodies"].items()}


# ---------------------------------------------------------------------------------------
# Reading files


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a message file, through the input boundary (:mod:`model.inputs`): a
    regular file only, refused if larger than :data:`MAX_BYTES` before it is read, and read
    at most MAX_BYTES + 1 bytes (a file may grow, or lie about its size)."""
    try:
        return inputs.read_bytes(path, MAX_BYTES)
    except inputs.TooLarge as exc:
        raise TooLargeError(str(exc)) from None
    except InputError as exc:
        raise UnreadableError(str(exc)) from None


def read_message(path: str | os.PathLike[str]) -> DuisMessage:
    """Read a DUIS request or response file."""
    return parse_message(read_bytes(path), os.fspath(path))


def read_request(path: str | os.PathLike[str]) -> DuisRequest:
    """Read a DUIS request file; a response is a NotDuisError."""
    return parse_request(read_bytes(path), os.fspath(path))


def read_response(path: str | os.PathLike[str]) -> DuisResponse:
    """Read a DUIS response file; a request is a NotDuisError."""
    return parse_response(read_bytes(path), os.fspath(path))


# ---------------------------------------------------------------------------------------
# Parsing


def parse_request(data: bytes, source: str = "<bytes>") -> DuisRequest:
    message = parse_message(data, source)
    if not isinstance(message, DuisRequest):
        raise NotDuisError(f"{source}: a DUIS response, not a request")
    return message


def parse_response(data: bytes, source: str = "<bytes>") -> DuisResponse:
    message = parse_message(data, source)
    if not isinstance(message, DuisResponse):
        raise NotDuisError(f"{source}: a DUIS request, not a response")
    return message


def parse_message(data: bytes, source: str = "<bytes>") -> DuisMessage:
    """Parse a DUIS request or response from ``data``; every problem is a DuisError."""
    if len(data) > MAX_BYTES:
        raise TooLargeError(f"{source}: too large (more than {MAX_BYTES} bytes)")
    root = _parse_xml(data, source)
    if root.tag == f"{_NS}Request":
        return _request(root, source)
    if root.tag == f"{_NS}Response":
        return _response(root, source)
    raise NotDuisError(
        f"{source}: not a DUIS message: the root element is {_show_tag(root.tag)}, not "
        f"Request or Response in namespace {NAMESPACE}"
    )


def _parse_xml(data: bytes, source: str) -> Element:
    if not data.strip():
        raise NotXmlError(f"{source}: not XML: the file is empty")
    head = data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if not head.startswith(b"<") and not utf16:
        raise NotXmlError(f"{source}: not XML: it does not start with a tag")
    try:
        return _bounded_tree(data, source)
    except DefusedXmlException as exc:
        reason = _defused_reason(exc)
        if b"<!ENTITY" in data:
            reason += " with entity declarations (an entity expansion attack?)"
        raise HostileXmlError(
            f"{source}: refused: {reason} (DOCTYPE, entities and external references are "
            "never processed)"
        ) from None
    except ParseError as exc:
        code = getattr(exc, "code", None)
        if code in _TRUNCATED_CODES:
            raise TruncatedError(
                f"{source}: truncated XML: the document ends before it is complete ({exc})"
            ) from None
        raise NotXmlError(f"{source}: not well-formed XML: {exc}") from None
    except (LookupError, UnicodeError, ValueError) as exc:
        raise NotXmlError(f"{source}: not well-formed XML: {exc}") from None


def _bounded_tree(data: bytes, source: str) -> Element:
    """Parse with defusedxml, stopping at once past the element and depth limits."""
    root: Element | None = None
    depth = elements = 0
    events: Iterator[tuple[str, Element]] = iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    for event, element in events:
        if event == "end":
            depth -= 1
            continue
        if root is None:
            root = element
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise TooLargeError(f"{source}: XML nested deeper than {MAX_DEPTH} levels")
        if elements > MAX_ELEMENTS:
            raise TooLargeError(f"{source}: XML with more than {MAX_ELEMENTS} elements")
    if root is None:  # pragma: no cover - expat reports "no element found" first
        raise NotXmlError(f"{source}: not XML: no element")
    return root


def _defused_reason(exc: DefusedXmlException) -> str:
    kind = type(exc).__name__
    return {
        "DTDForbidden": "a DOCTYPE declaration",
        "EntitiesForbidden": "an entity declaration",
        "ExternalReferenceForbidden": "an external reference",
        "NotSupportedError": "an unsupported XML feature",
    }.get(kind, kind)


def _show_tag(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{local!r} in namespace {uri!r}"[:200]
    return f"{tag!r} in no namespace"[:200]


def _text(parent: Element, path: str) -> str | None:
    """The stripped text of the element at ``path`` (DUIS names, no prefixes), if present."""
    element = parent.find("/".join(f"{_NS}{step}" for step in path.split("/")))
    if element is None:
        return None
    return (element.text or "").strip()


def _optional_text(element: Element | None) -> str | None:
    if element is None:
        return None
    return (element.text or "").strip() or None


def _required(parent: Element, path: str, source: str, kind: str) -> str:
    value = _text(parent, path)
    if not value:
        raise NotDuisError(f"{source}: not a DUIS {kind}: no sr:{path.replace('/', '/sr:')}")
    return value


def _short(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _request_id(header: Element, source: str, kind: str) -> RequestId:
    raw = _required(header, "RequestID", source, kind)
    parts = raw.split(":")
    if (
        len(parts) != 3
        or not all(_EUI64.fullmatch(p) for p in parts[:2])
        or not _COUNTER.fullmatch(parts[2])
    ):
        raise NotDuisError(
            f"{source}: RequestID {_short(raw)} is not originator:target:counter "
            "(two EUI-64s such as 90-B3-D5-1F-30-01-00-00, and a number)"
        )
    return RequestId(parts[0].upper(), parts[1].upper(), int(parts[2]))


def _srv(value: str, source: str) -> ServiceRequest:
    if not _SRV.fullmatch(value):
        raise UnknownSrvError(f"{source}: unknown SRV {_short(value)}: not an SRV such as 11.2")
    try:
        return lookup(value)
    except InputError as exc:
        raise UnknownSrvError(f"{source}: {exc}") from None


def _check_service_reference(srv: str, reference: str | None, source: str) -> None:
    """An SRV is its Service Reference, or that reference with one more number (duis).

    Checked against the SRV's own digits, not the catalogue's ``service_reference``: the
    DUIS matrix writes 6.2 for the Service Reference of SRV 6.20.1 and 6.20.2.
    """
    if reference is not None and srv != reference and not srv.startswith(f"{reference}."):
        raise BodyMismatchError(
            f"{source}: ServiceReference {_short(reference)} does not match SRV {srv}"
        )


def _eui64s(body: Element, *names: str) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        for element in body.iter(f"{_NS}{name}"):
            for token in (element.text or "").split():
                if _EUI64.fullmatch(token) and token.upper() not in found:
                    found.append(token.upper())
    return tuple(found)


def _request(root: Element, source: str) -> DuisRequest:
    header = root.find(f"{_NS}Header")
    if header is None:
        raise NotDuisError(f"{source}: not a DUIS request: no sr:Header")
    request_id = _request_id(header, source, "request")
    reference = _required(header, "ServiceReference", source, "request")
    srv = _required(header, "ServiceReferenceVariant", source, "request")
    entry = _srv(srv, source)
    _check_service_reference(srv, reference, source)
    raw_cv = _required(header, "CommandVariant", source, "request")
    if (  # the width first: int() of more than 4,300 digits raises (issue 25)
        len(raw_cv) > 2 or not raw_cv.isascii() or not raw_cv.isdigit()
    ) or int(raw_cv) not in COMMAND_VARIANTS:
        raise NotDuisError(
            f"{source}: CommandVariant {_short(raw_cv)} is not a DUIS Command Variant (1 to 8)"
        )
    body = root.find(f"{_NS}Body")
    if body is None:
        raise NotDuisError(f"{source}: not a DUIS request: no sr:Body")
    children = list(body)
    if not children:
        raise NotDuisError(f"{source}: not a DUIS request: sr:Body has no element")
    element = children[0]
    if not element.tag.startswith(_NS):
        raise NotDuisError(
            f"{source}: not a DUIS request: the body element {_show_tag(element.tag)} is not "
            "in the DUIS namespace"
        )
    name = element.tag.removeprefix(_NS)
    expected = body_srvs().get(name)
    if expected is not None and srv not in expected:
        raise BodyMismatchError(
            f"{source}: the SRV and the body disagree: SRV {srv} ({entry.name}) with body "
            f"element {name}, which DUIS uses for SRV {', '.join(expected)}"
        )
    other = _eui64s(element, "OtherDeviceID")
    return DuisRequest(
        service_reference=reference,
        srv=srv,
        command_variant=int(raw_cv),
        request_id=request_id,
        body=name,
        other_device_id=other[0] if other else None,
        device_ids=_eui64s(element, "DeviceID", "DeviceIDList"),
        firmware_version=_optional_text(element.find(f".//{_NS}FirmwareVersion")),
    )


def _response(root: Element, source: str) -> DuisResponse:
    header = root.find(f"{_NS}Header")
    if header is None:
        raise NotDuisError(f"{source}: not a DUIS response: no sr:Header")
    request_id = _request_id(header, source, "response")
    code = _required(header, "ResponseCode", source, "response")
    if not _CODE.fullmatch(code):
        raise NotDuisError(
            f"{source}: ResponseCode {_short(code)} is not a DUIS response code (I0, E51, ...)"
        )
    message = root.find(f"{_NS}Body/{_NS}ResponseMessage")
    srv = reference = firmware = None
    if message is not None:
        srv = _text(message, "ServiceReferenceVariant") or None
        reference = _text(message, "ServiceReference") or None
        if srv is not None:
            _srv(srv, source)
            _check_service_reference(srv, reference, source)
        firmware = _optional_text(message.find(f".//{_NS}FirmwareVersion"))
    return DuisResponse(code, request_id, srv, reference, firmware)
