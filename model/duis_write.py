"""Writing DUIS messages: a request in the shape of a DCC reference template, and a response.

A request is built from the DCC Reference Test Data Set template for its SRV (the
first request template, by file name, whose header names that SRV), read at run time from
the reference directory beside the project (``../shared/reference/duis-templates``, or
``SMI_SPEC_REFERENCE``): the templates are GPL-3.0 and are never copied into the project.
Only the values a test case decides are replaced: the RequestID (originator, target,
counter), the Command Variant, and in the body every ``DeviceID``, ``DeviceIDList`` (the
Business Target), ``OtherDeviceID`` and ``FirmwareVersion`` (the image). A Non-Device Request
(SR11.1, ...) keeps the template's RequestID target, the DCC (source: duis).

A response is the DUIS shape every schema-valid response has (DUIS XML Schema V5.4,
``sr:Response``): the RequestID, a ResponseID, the ResponseCode, the ResponseDateTime and a
``sr:ResponseMessage`` naming the Service Reference and SRV (source: duis). The device's own
answer (a firmware version, a refusal) travels in the GBCS payload, which this project does
not encode (assumption): a forwarded request's DUIS response code is I0 whatever the device
answered.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring, iterparse

from model.catalogue import lookup
from model.duis import NAMESPACE, SUCCESS, RequestId
from model.errors import InputError

_NS: Final = f"{{{NAMESPACE}}}"
#: The Service User the pack's requests come from (the originator of the DCC's templates).
ORIGINATOR: Final = "90-B3-D5-1F-30-01-00-00"
#: The reference data beside the project: ``../shared/reference`` of the repository.
DEFAULT_REFERENCE: Final = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
#: The first ResponseDateTime of a pack; a response's time is this plus its counter in
#: seconds, so packs are byte-identical from run to run (assumption: any time will do).
EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)


def reference_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The reference data: ``explicit``, else ``SMI_SPEC_REFERENCE``, else beside the project."""
    chosen = explicit or os.environ.get("SMI_SPEC_REFERENCE") or DEFAULT_REFERENCE
    path = Path(chosen)
    if not (path / "duis-templates").is_dir():
        raise InputError(
            f"{path}: no duis-templates directory: the DUIS reference templates are needed to "
            "write requests (give --reference DIR, or set SMI_SPEC_REFERENCE)"
        )
    return path


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    data: bytes


#: Template flavours (file name parts) passed over while another serves the SRV: a pack
#: asks for the immediate effect, not a future-dated one or its cancellation.
_LATER_FLAVOURS: Final = ("CANCELLATION", "FUTURE_DATED")
#: Fixed prefixes, so a pack's bytes do not depend on which templates were read before.
PREFIXES: Final = {
    "sr": NAMESPACE,
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}


def _preference(path: Path) -> tuple[bool, str]:
    return (any(f in path.name.upper() for f in _LATER_FLAVOURS), path.name)


@cache
def templates(reference: Path) -> dict[str, Template]:
    """SRV -> its request template (the first by file name, an immediate one before a
    future-dated one or a cancellation), read once per directory."""
    found: dict[str, Template] = {}
    for path in sorted((reference / "duis-templates").iterdir(), key=_preference):
        if not path.name.upper().endswith(".XML"):
            continue
        data = path.read_bytes()
        try:
            root = fromstring(data, forbid_dtd=True)
        except Exception:  # a file that is not a template: not ours to judge
            continue
        if root.tag != f"{_NS}Request":
            continue
        srv = (root.findtext(f"{_NS}Header/{_NS}ServiceReferenceVariant") or "").strip()
        found.setdefault(srv, Template(path.name, data))
    return found


def template_for(reference: Path, srv: str) -> Template:
    found = templates(reference).get(srv)
    if found is None:
        raise InputError(f"{reference}: no DUIS request template for SR{srv}")
    return found


def _namespaces(data: bytes) -> list[tuple[str, str]]:
    return [
        value for _, value in iterparse(io.BytesIO(data), events=("start-ns",), forbid_dtd=True)
    ]


def _serialise(root: ElementTree.Element, data: bytes) -> bytes:
    fixed = set(PREFIXES.values())
    for prefix, uri in _namespaces(data):
        if prefix and uri not in fixed and prefix not in PREFIXES:
            ElementTree.register_namespace(prefix, uri)
    for prefix, uri in PREFIXES.items():
        ElementTree.register_namespace(prefix, uri)
    text = ElementTree.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode()


def request_xml(
    template: Template,
    request_id: RequestId,
    command_variant: int,
    target: str | None,
    other: str | None = None,
    image: str | None = None,
) -> bytes:
    """The template with the case's values; ``target`` is the Business Target's EUI-64,
    written in the body of a Non-Device Request (whose RequestID names the DCC)."""
    root = fromstring(template.data, forbid_dtd=True)
    header = root.find(f"{_NS}Header")
    body = root.find(f"{_NS}Body")
    if header is None or body is None:
        raise InputError(f"{template.name}: not a DUIS request template")
    _set(header, "RequestID", str(request_id))
    _set(header, "CommandVariant", str(command_variant))
    for name, value in (
        ("DeviceID", target),
        ("DeviceIDList", target),
        ("OtherDeviceID", other),
        ("FirmwareVersion", image),
    ):
        if value is None:
            continue
        for element in body.iter(f"{_NS}{name}"):
            element.text = value
    return _serialise(root, template.data)


def _set(parent: ElementTree.Element, name: str, value: str) -> None:
    element = parent.find(f"{_NS}{name}")
    if element is None:
        raise InputError(f"no sr:{name} in the template's header")
    element.text = value


def response_code(model_code: str) -> str:
    """The DUIS ResponseCode for the model's response code: the DSP's own codes (I0, E51,
    E080801, ...) as they are; a device's refusal (``DEVICE:...``) is I0, the refusal being
    in the GBCS payload (assumption, ``model/device.py``)."""
    return SUCCESS if model_code.startswith("DEVICE:") else model_code


def response_xml(request_id: RequestId, model_code: str, srv: str) -> bytes:
    """A schema-valid DUIS response to the request ``request_id`` names."""
    ElementTree.register_namespace("sr", NAMESPACE)
    root = ElementTree.Element(f"{_NS}Response", {"schemaVersion": "5.4"})
    header = ElementTree.SubElement(root, f"{_NS}Header")
    response_id = f"{request_id.target}:{request_id.originator}:{request_id.counter}"
    when = EPOCH + timedelta(seconds=request_id.counter % 10**9)
    for name, value in (
        ("RequestID", str(request_id)),
        ("ResponseID", response_id),
        ("ResponseCode", response_code(model_code)),
        ("ResponseDateTime", when.strftime("%Y-%m-%dT%H:%M:%SZ")),
    ):
        ElementTree.SubElement(header, f"{_NS}{name}").text = value
    body = ElementTree.SubElement(root, f"{_NS}Body")
    message = ElementTree.SubElement(body, f"{_NS}ResponseMessage")
    ElementTree.SubElement(message, f"{_NS}ServiceReference").text = lookup(srv).service_reference
    ElementTree.SubElement(message, f"{_NS}ServiceReferenceVariant").text = srv
    text = ElementTree.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode()


def eui64(type_number: int, device_number: int) -> str:
    """A device's EUI-64 in a pack: ``00-DB-12-00-00-00-TT-NN`` by type and number."""
    return f"00-DB-12-00-00-00-{type_number:02X}-{device_number:02X}"
