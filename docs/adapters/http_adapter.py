"""An adapter for a system under test that takes DUIS over HTTP (DCC Boxed style).

Use it as it is, or copy it and change what your system needs:

    SMI_SPEC_ENDPOINT=http://localhost:8079 \
        smi-spec conform PACK --adapter http_adapter:adapter    # with docs/adapters on PYTHONPATH

Each DUIS request of the pack is POSTed, as the XML it is, to ``ENDPOINT/duis``; the
body of the answer is the DUIS response. A case's start (its inventory: devices, EUI-64s,
statuses, firmware, the CPL) and the DCC's own actions (CPL changes, a manual SMI fix) are
not DUIS: this adapter POSTs them as JSON to ``ENDPOINT/harness/start`` and
``ENDPOINT/harness/dcc``, where your test harness sets the system up (for DCC Boxed, through
its own test tooling). A request whose response the case loses is POSTed with the header
``X-Lose-Response: true`` (or ``X-Lose-Alert``) so that the device simulator drops it.
Where ``ENDPOINT/harness/smi`` answers the SMI's view as JSON, every step's SMI state is
compared too.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 30


def _endpoint() -> str:
    return os.environ.get("SMI_SPEC_ENDPOINT", "http://127.0.0.1:8079").rstrip("/")


def _post(path: str, body: bytes, content_type: str, headers: dict[str, str]) -> bytes | None:
    request = urllib.request.Request(
        _endpoint() + path,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, **headers},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        data: bytes = answer.read()
        return data if answer.status == 200 and data else None


def _smi() -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(_endpoint() + "/harness/smi", timeout=TIMEOUT_SECONDS) as got:
            view: dict[str, Any] = json.loads(got.read())
            return view
    except urllib.error.HTTPError:
        return None  # the system cannot show its SMI: only response codes are compared


def adapter(event: dict[str, Any]) -> dict[str, Any]:
    """One event of a case (docs/tester.md, "Writing an adapter")."""
    if event["event"] == "request":
        headers = {}
        if event["lose_response"]:
            headers["X-Lose-Response"] = "true"
        if event["lose_alert"]:
            headers["X-Lose-Alert"] = "true"
        response = _post("/duis", event["xml"], "application/xml", headers)
        return {"response": response, "smi": _smi()}
    path = "/harness/start" if event["event"] == "start" else "/harness/dcc"
    _post(path, json.dumps(event).encode(), "application/json", {})
    return {"smi": _smi()}
