"""``smi-spec conform``: drive a system under test through a test pack and report where it
differs from what the rules require.

The adapter (``MODULE:FUNCTION``) is called once per event of a case: ``start`` with the
case's inventory, ``request`` with a DUIS request file's bytes, ``dcc`` with a DCC action
(a CPL change, a manual SMI fix, a status event). It answers a dict: ``response`` (the DUIS
response bytes, or None when none came back), optionally ``device_code`` (the device's own
answer, as the model names it) and ``smi`` (the SMI's view, as much of it as it can read).
Each step is compared on what the adapter gave: the DUIS response code, the device code,
and the status, prior status and firmware version of each device and each join in the SMI.
A case stops at its first step that differs (what follows was written for the state the rules
reach, not the one the system reached); the report names that step, what was expected and
what came back.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model import inputs
from model.duis import DuisError, parse_response
from model.errors import InputError
from smi_spec.outputs import inside
from smi_spec.testpack import INDEX, MANIFEST

Adapter = Callable[[dict[str, Any]], Any]
#: The largest index a pack may have (a pack of the default bounds is under 1 MiB).
MAX_INDEX_BYTES = 256 * 1024 * 1024
MAX_MESSAGE_BYTES = 5 * 1024 * 1024


def resolve_adapter(spec: str) -> Adapter:
    """``MODULE:FUNCTION`` -> the callable; any problem is one line (an input error)."""
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise InputError(f"--adapter {spec!r}: give MODULE:FUNCTION")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an adapter's import may fail in any way: one line
        raise InputError(f"--adapter {spec}: cannot import {module_name}: {exc}") from None
    found = getattr(module, name, None)
    if not callable(found):
        raise InputError(f"--adapter {spec}: {module_name} has no function {name}")
    return found  # type: ignore[no-any-return]


def load_pack(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The manifest and the cases of a pack; a directory that is not one is an input error."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a test pack directory")
    manifest = inputs.parse_json(
        inputs.read_text(directory / MANIFEST, MAX_MESSAGE_BYTES), str(directory / MANIFEST)
    )
    text = inputs.read_text(directory / INDEX, MAX_INDEX_BYTES)
    cases = []
    for number, line in enumerate(text.splitlines(), 1):
        case = inputs.parse_json(line, f"{directory / INDEX}: line {number}")
        if not isinstance(case, dict) or not {"case", "inventory", "steps"} <= case.keys():
            raise InputError(f"{directory / INDEX}: line {number}: not a test case")
        cases.append(case)
    if not isinstance(manifest, dict) or "variant" not in manifest:
        raise InputError(f"{directory / MANIFEST}: not a test pack manifest")
    return manifest, cases


def run(directory: Path, adapter: Adapter) -> dict[str, Any]:
    """Every case through the adapter; the first difference of each failing case."""
    manifest, cases = load_pack(directory)
    results = [run_case(directory, case, adapter) for case in cases]
    failed = [r for r in results if not r["passed"]]
    return {
        "pack": str(directory),
        "variant": manifest["variant"],
        "cases": results,
        "passed": len(results) - len(failed),
        "failed": len(failed),
        "first_difference": failed[0] if failed else None,
    }


def run_case(directory: Path, case: dict[str, Any], adapter: Adapter) -> dict[str, Any]:
    result: dict[str, Any] = {"case": case["case"], "passed": True, "steps_run": 0}
    start = {"event": "start", "case": case["case"], "inventory": case["inventory"]}
    answer = _call(adapter, start)
    if isinstance(answer, str):
        return {**result, "passed": False, "step": 0, "text": "start", "differences": [answer]}
    for step in case["steps"]:
        result["steps_run"] += 1
        differences = _run_step(directory, step, adapter)
        if differences:
            return {
                **result,
                "passed": False,
                "step": step["step"],
                "text": step["text"],
                "request": step.get("request"),
                "differences": differences,
            }
    return result


def _call(adapter: Adapter, event: dict[str, Any]) -> dict[str, Any] | str:
    """The adapter's answer, or what was wrong with it (the system under test failed)."""
    try:
        answer = adapter(event)
    except InputError:
        raise
    except Exception as exc:  # the system under test's failure is a finding, not a crash
        return f"the adapter raised {type(exc).__name__}: {exc}"
    if answer is None:
        return {}
    if not isinstance(answer, dict):
        return f"the adapter answered {type(answer).__name__}, not a dict"
    return answer


def _run_step(directory: Path, step: dict[str, Any], adapter: Adapter) -> list[Any]:
    expected = step["expected"]
    if step.get("request"):
        path = inside(directory, step["request"])
        event = {
            "event": "request",
            "file": str(path),
            "xml": inputs.read_bytes(path, MAX_MESSAGE_BYTES),
            "lose_response": step.get("lose_response", False),
            "lose_alert": step.get("lose_alert", False),
        }
    else:
        event = {"event": "dcc", "action": step["action"]}
    answer = _call(adapter, event)
    if isinstance(answer, str):
        return [answer]
    differences = []
    if step.get("request") and expected["duis_response_code"] is not None:
        differences += _response_differences(answer.get("response"), expected, event["file"])
    code, wanted = answer.get("device_code"), expected["response_code"]
    # A device's refusal travels in the GBCS payload: its DUIS code is I0 either way.
    if code is not None and wanted is not None and not differences and code != wanted:
        differences.append(_difference("device code", wanted, code))
    smi = answer.get("smi")
    if isinstance(smi, dict):
        differences += smi_differences(expected, smi)
    return differences


def _response_differences(response: Any, expected: dict[str, Any], source: str) -> list[Any]:
    if response is None:
        return [_difference("response code", expected["duis_response_code"], None)]
    if isinstance(response, str):
        response = response.encode()
    if not isinstance(response, bytes):
        return [f"the adapter's response is {type(response).__name__}, not DUIS XML bytes"]
    try:
        parsed = parse_response(response, f"the response to {source}")
    except DuisError as exc:
        return [f"not a DUIS response: {exc}"]
    if parsed.response_code != expected["duis_response_code"]:
        return [_difference("response code", expected["duis_response_code"], parsed.response_code)]
    return []


def _difference(what: str, expected: Any, actual: Any) -> dict[str, Any]:
    return {"what": what, "expected": expected, "actual": actual}


def smi_differences(expected: dict[str, Any], smi: dict[str, Any]) -> list[Any]:
    """Each field of the SMI view the adapter gave that differs from the expected one."""
    found = []
    for device, view in (smi.get("devices") or {}).items():
        want = expected["devices"].get(device)
        if want is None or not isinstance(view, dict):
            continue
        for key in ("status", "prior_status", "smi_firmware"):
            if key in view and view[key] != want[key]:
                found.append(_difference(f"SMI {key} of {device}", want[key], view[key]))
    wanted = {(j["target"], j["other"]): j["smi"] for j in expected["joins"]}
    for join in smi.get("joins") or []:
        pair = (join.get("target"), join.get("other"))
        if pair in wanted and "smi" in join and join["smi"] != wanted[pair]:
            found.append(_difference(f"SMI join {pair[0]}-{pair[1]}", wanted[pair], join["smi"]))
    return found


def describe(difference: Any) -> str:
    if isinstance(difference, str):
        return difference
    return (
        f"{difference['what']}: expected {json.dumps(difference['expected'])}, "
        f"got {json.dumps(difference['actual'])}"
    )
