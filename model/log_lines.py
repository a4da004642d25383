"""One line of a DUIS message log after the inventory (docs/replay.md), parsed and
validated: a DUIS request (a file read with :mod:`model.duis`, or inline), a response or
a lost response, a CPL change, a manual SMI fix or a DCC status event. Device ids come
from the inventory's ``eui64`` map where the line gives none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from model.catalogue import normalise_srv
from model.dsp_outcome import JOIN_SRVS, UNJOIN_SRVS, UPDATE_FIRMWARE
from model.duis import DuisError, read_request, read_response
from model.errors import InputError, ScenarioError
from model.log_event import LOST, Event, Logged, accepted_by, line_error

_KINDS: Final = (
    "request",
    "inline",
    "response",
    "response_lost",
    "cpl_remove",
    "cpl_add",
    "manual_smi_fix",
    "event",
)
_KEYS: Final = {
    "request": {"request", "device", "other", "image", "lose_response", "logged", "note"},
    "inline": {"inline", "lose_response", "logged", "note"},
    "response": {"response", "firmware_version", "note"},
    "response_lost": {"response_lost", "note"},
    "cpl_remove": {"cpl_remove", "note"},
    "cpl_add": {"cpl_add", "note"},
    "manual_smi_fix": {"manual_smi_fix", "note"},
    "event": {"event", "target", "note"},
}
_INLINE_KEYS: Final = {"srv", "target", "command_variant", "other", "image"}
_LOGGED_KEYS: Final = {"accepted", "response_code", "firmware_version"}


def _kind(path: str, line: int, raw: dict[str, Any]) -> str:
    kinds = [k for k in _KINDS if k in raw]
    if len(kinds) != 1:
        raise line_error(path, line, f"not an event: expected exactly one of {', '.join(_KINDS)}")
    unknown = set(raw) - _KEYS[kinds[0]]
    if unknown:
        raise line_error(path, line, f"{kinds[0]} event: unknown key {sorted(unknown)[0]!r}")
    return kinds[0]


def parse_event(
    path: str, base: Path, line: int, raw: dict[str, Any], eui64: dict[str, str]
) -> Event:
    """One log line after the inventory, validated, as an event (errors name the line)."""
    kind = _kind(path, line, raw)
    event = Event(line, kind, raw)
    try:
        if kind == "request":
            _from_duis(event, base, eui64)
        elif kind == "inline":
            _from_inline(event)
        elif kind == "response":
            _response(event, base, eui64)
        elif kind == "response_lost":
            _response_lost(event)
        elif kind in ("cpl_remove", "cpl_add"):
            if not isinstance(raw[kind], str):
                raise ScenarioError(f"{kind} must be a firmware version")
            event.versions = (raw[kind],)
        if event.is_request:
            event.logged = _logged(raw)
    except InputError as exc:
        raise line_error(path, line, str(exc)) from None
    return event


def _device_of(eui: str, eui64: dict[str, str], what: str) -> str:
    device = eui64.get(eui)
    if device is None:
        raise ScenarioError(
            f'{what} {eui} is not in the inventory\'s eui64 map: add it there, or give "device"'
        )
    return device


def _from_duis(event: Event, base: Path, eui64: dict[str, str]) -> None:
    raw = event.raw
    if not isinstance(raw["request"], str):
        raise ScenarioError("request must be the path of a DUIS request file")
    try:
        request = read_request(base / raw["request"])
    except DuisError as exc:
        raise ScenarioError(str(exc)) from None
    event.srv, event.command_variant, event.request_id = (
        request.srv,
        request.command_variant,
        request.request_id,
    )
    if "device" in raw:
        event.device = _name(raw["device"], "device")
    else:
        candidates = [request.target, *request.device_ids]
        known = [eui64[c] for c in candidates if c in eui64]
        if not known:
            _device_of(request.target, eui64, "the request's target")
        event.device = known[0]
    joins = request.srv in JOIN_SRVS or request.srv in UNJOIN_SRVS
    if "other" in raw:
        event.other = _name(raw["other"], "other")
        _check_other(request.srv)
    elif joins and request.other_device_id is not None:
        event.other = _device_of(request.other_device_id, eui64, "the Other Device")
    if "image" in raw:
        event.image = _name(raw["image"], "image")
        _check_image(request.srv)
    elif request.srv == UPDATE_FIRMWARE:
        event.image = request.firmware_version
    event.versions = (event.image,) if event.image else ()


def _from_inline(event: Event) -> None:
    inline = event.raw["inline"]
    if not isinstance(inline, dict):
        raise ScenarioError('inline must be {"srv": ..., "target": ...}')
    unknown = set(inline) - _INLINE_KEYS
    if unknown:
        raise ScenarioError(f"inline: unknown key {sorted(unknown)[0]!r}")
    if "srv" not in inline or "target" not in inline:
        raise ScenarioError('inline needs "srv" and "target"')
    event.srv = normalise_srv(_name(inline["srv"], "srv"))
    event.device = _name(inline["target"], "target")
    cv = inline.get("command_variant", 1)
    if not isinstance(cv, int) or isinstance(cv, bool) or not 1 <= cv <= 8:
        raise ScenarioError("command_variant must be a whole number from 1 to 8")
    event.command_variant = cv
    if "other" in inline:
        event.other = _name(inline["other"], "other")
        _check_other(event.srv)
    if "image" in inline:
        event.image = _name(inline["image"], "image")
        _check_image(event.srv)
        event.versions = (event.image,)


def _check_other(srv: str) -> None:
    if srv not in JOIN_SRVS and srv not in UNJOIN_SRVS:
        raise ScenarioError(f'"other" is only for a Join or Unjoin (8.7.x, 8.8.x), not SR{srv}')


def _check_image(srv: str) -> None:
    if srv != UPDATE_FIRMWARE:
        raise ScenarioError(f'"image" is only for SR11.1 Update Firmware, not SR{srv}')


def _name(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{key} must be a string")
    return value


def _logged(raw: dict[str, Any]) -> Logged | None:
    lose = raw.get("lose_response", False)
    if not isinstance(lose, bool):
        raise ScenarioError("lose_response must be true or false")
    logged = raw.get("logged")
    if logged is None:
        return LOST if lose else None
    if lose:
        raise ScenarioError('give either "logged" or "lose_response": true, not both')
    if not isinstance(logged, dict) or set(logged) - _LOGGED_KEYS:
        raise ScenarioError(
            'logged must be {"accepted": ..., "response_code": ..., "firmware_version": ...}'
        )
    accepted = logged.get("accepted")
    if not isinstance(accepted, bool):
        raise ScenarioError("logged: accepted must be true or false")
    code = logged.get("response_code")
    version = logged.get("firmware_version")
    if not all(v is None or isinstance(v, str) for v in (code, version)):
        raise ScenarioError("logged: response_code and firmware_version must be strings")
    if code is not None and accepted_by(code) != accepted:
        raise ScenarioError(f"logged: accepted is {str(accepted).lower()} but the code is {code}")
    return Logged(accepted, code, "response_code" in logged, version)


def _response(event: Event, base: Path, eui64: dict[str, str]) -> None:
    value = event.raw["response"]
    if isinstance(value, str):
        try:
            response = read_response(base / value)
        except DuisError as exc:
            raise ScenarioError(str(exc)) from None
        event.request_id = response.request_id
        event.srv = response.srv
        # A real response carries the device's version in its GBCS payload, which is not
        # decoded: the log line says it, as "firmware_version" beside the file.
        version = event.raw.get("firmware_version")
        event.logged = Logged(
            accepted_by(response.response_code),
            response.response_code,
            True,
            response.firmware_version if version is None else _name(version, "firmware_version"),
        )
    elif isinstance(value, dict):
        if set(value) - {"srv", "target", "code", "firmware_version"} or not {
            "srv",
            "target",
            "code",
        } <= set(value):
            raise ScenarioError(
                "response must be a DUIS response file or "
                '{"srv", "target", "code", "firmware_version"?}'
            )
        event.srv = _name(value["srv"], "srv")
        event.device = _name(value["target"], "target")
        code = _name(value["code"], "code")
        version = value.get("firmware_version")
        if version is not None:
            version = _name(version, "firmware_version")
        event.logged = Logged(accepted_by(code), code, True, version)
    else:
        raise ScenarioError("response must be a DUIS response file or an object")
    if event.logged.firmware_version:
        event.versions = (event.logged.firmware_version,)


def _response_lost(event: Event) -> None:
    value = event.raw["response_lost"]
    if not isinstance(value, dict) or set(value) != {"srv", "target"}:
        raise ScenarioError('response_lost must be {"srv": ..., "target": ...}')
    event.srv = _name(value["srv"], "srv")
    event.device = _name(value["target"], "target")
    event.logged = LOST
