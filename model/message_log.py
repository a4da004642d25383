"""DUIS message logs (JSON Lines, format in docs/replay.md): loading and validation.

Line 1 is the starting inventory, a scenario document without steps plus an optional
``eui64`` map from EUI-64 to device id. Each later line is one event: a DUIS request (a file
read with :mod:`model.duis`, or inline), a response or a lost response paired with an
earlier request, a CPL change, a manual SMI fix or a DCC status event.

The inventory and the events are validated by :func:`model.scenario.load_scenario` itself:
the log is turned into a scenario document (each request with its logged fate, response
lost or not) and loaded, so the two formats cannot drift apart. Every problem is an
InputError naming the log file and the line.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from model.catalogue import normalise_srv
from model.dsp import JOIN_SRVS, UNJOIN_SRVS, UPDATE_FIRMWARE
from model.duis import DuisError, RequestId, read_request, read_response
from model.errors import InputError, ScenarioError
from model.scenario import Scenario, load_scenario
from model.variant import Variant, load_variant
from model.world import Action, Setup, World

#: The largest log accepted (assumption: bounds memory; a log of a million events fits).
MAX_LOG_BYTES: Final = 64 * 1024 * 1024

_EUI64: Final = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}")
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
    "response": {"response", "note"},
    "response_lost": {"response_lost", "note"},
    "cpl_remove": {"cpl_remove", "note"},
    "cpl_add": {"cpl_add", "note"},
    "manual_smi_fix": {"manual_smi_fix", "note"},
    "event": {"event", "target", "note"},
}
_INLINE_KEYS: Final = {"srv", "target", "command_variant", "other", "image"}
_LOGGED_KEYS: Final = {"accepted", "response_code", "firmware_version"}


class LogError(InputError):
    """A log the replay cannot accept; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Logged:
    """What the log says happened to a request (``has_code``: the log gives a code; a code of
    None then means the response was lost)."""

    accepted: bool
    response_code: str | None = None
    has_code: bool = False
    firmware_version: str | None = None
    line: int = 0

    @property
    def lost(self) -> bool:
        return self.has_code and self.response_code is None


LOST: Final = Logged(accepted=True, response_code=None, has_code=True)


def accepted_by(code: str) -> bool:
    """A response code means the DSP accepted the request unless it is an E... code
    (assumption: E codes are the DSP's rejections or errors; I0 and a device's refusal,
    which DUIS carries in the GBCS payload, mean the request was forwarded)."""
    return not code.startswith("E")


@dataclass
class Event:
    """One log line after the inventory, resolved to device ids."""

    line: int
    kind: str
    raw: dict[str, Any]
    srv: str | None = None
    device: str | None = None
    other: str | None = None
    image: str | None = None
    command_variant: int | None = None
    request_id: RequestId | None = None
    logged: Logged | None = None
    paired_with: int | None = None
    step: int | None = None
    versions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_request(self) -> bool:
        return self.kind in ("request", "inline")


@dataclass(frozen=True)
class MessageLog:
    """A loaded log: its setup and start (as a scenario), and each event with its action."""

    path: str
    variant_ref: str
    setup: Setup
    start: World
    events: tuple[Event, ...]
    actions: tuple[Action | None, ...]
    versions: tuple[str, ...]
    inventory_line: int = 1

    def variant(self, override: str | None = None) -> Variant:
        """The variant to replay under: ``override``, else the inventory's."""
        if override is not None:
            return load_variant(override)
        try:
            return load_variant(self.variant_ref)
        except InputError as exc:
            raise _fail(self.path, self.inventory_line, f"inventory: variant: {exc}") from None


def _fail(path: str, line: int, message: str) -> LogError:
    return LogError(f"{path}: line {line}: {message}")


def load_log(file: str) -> MessageLog:
    """Read, validate and resolve a message log; raises LogError naming file and line."""
    path = Path(file)
    name = str(path)
    lines = _read_lines(path)
    numbered = [(n, text) for n, text in enumerate(lines, 1) if text.strip()]
    if not numbered:
        raise LogError(f'{name}: empty log: line 1 must be {{"inventory": {{...}}}}')
    documents = [(n, _json(name, n, text)) for n, text in numbered]
    first_line, first = documents[0]
    if set(first) - {"note"} != {"inventory"} or not isinstance(first["inventory"], dict):
        raise _fail(name, first_line, 'the first line must be {"inventory": {...}}')
    inventory = dict(first["inventory"])
    if "steps" in inventory:
        raise _fail(name, first_line, "inventory: has no steps; events follow, one a line")
    eui64 = _eui64_map(name, first_line, inventory.pop("eui64", {}), inventory)
    variant = inventory.get("variant", "baseline")
    if isinstance(variant, str) and variant.endswith(".toml") and not Path(variant).is_absolute():
        inventory["variant"] = str((path.parent / variant).resolve())
    events = [_event(name, path.parent, n, raw, eui64) for n, raw in documents[1:]]
    _pair_responses(name, events)
    steps: list[dict[str, Any]] = []
    for event in events:
        if event.kind in ("response", "response_lost"):
            continue
        event.step = len(steps)
        steps.append(_scenario_step(event))
    scenario = _load_as_scenario(name, first_line, {**inventory, "steps": steps}, events)
    actions: list[Action | None] = [None] * len(events)
    for index, event in enumerate(events):
        if event.step is not None:
            actions[index] = scenario.steps[event.step][1]
    versions = {v for v in scenario.start.cpl}
    for state in scenario.start.devices:
        versions |= {v for v in (state.firmware, state.smi_firmware, state.image) if v}
    for event in events:
        versions |= set(event.versions)
    return MessageLog(
        name,
        scenario.variant_ref,
        scenario.setup,
        scenario.start,
        tuple(events),
        tuple(actions),
        tuple(sorted(versions)),
        first_line,
    )


def _read_lines(path: Path) -> list[str]:
    try:
        if not path.is_file():
            raise LogError(f"{path}: cannot read: not a regular file")
        if path.stat().st_size > MAX_LOG_BYTES:
            raise LogError(f"{path}: too large (more than {MAX_LOG_BYTES} bytes)")
        with path.open("rb") as handle:
            data = handle.read(MAX_LOG_BYTES + 1)
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_LOG_BYTES:
        raise LogError(f"{path}: too large (more than {MAX_LOG_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(str(path), line, "not UTF-8 text") from None
    return text.splitlines()


def _json(path: str, line: int, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise _fail(path, line, f"not a JSON object: {reason}") from None
    if not isinstance(value, dict):
        raise _fail(path, line, "not a JSON object")
    return value


def _eui64_map(path: str, line: int, raw: Any, inventory: dict[str, Any]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _fail(
            path, line, 'inventory: eui64 must map EUI-64s to device ids {"00-DB-…": "esme1"}'
        )
    devices = inventory.get("devices")
    ids = (
        {d.get("id") for d in devices if isinstance(d, dict)}
        if isinstance(devices, list)
        else set()
    )
    mapping = {}
    for key, value in raw.items():
        if not _EUI64.fullmatch(key):
            raise _fail(
                path, line, f"inventory: eui64: {key!r} is not an EUI-64 (90-B3-D5-1F-30-01-00-00)"
            )
        if value not in ids:
            raise _fail(
                path, line, f"inventory: eui64: {key} names no device of the inventory ({value!r})"
            )
        mapping[key.upper()] = value
    return mapping


def _kind(path: str, line: int, raw: dict[str, Any]) -> str:
    kinds = [k for k in _KINDS if k in raw]
    if len(kinds) != 1:
        raise _fail(path, line, f"not an event: expected exactly one of {', '.join(_KINDS)}")
    unknown = set(raw) - _KEYS[kinds[0]]
    if unknown:
        raise _fail(path, line, f"{kinds[0]} event: unknown key {sorted(unknown)[0]!r}")
    return kinds[0]


def _event(path: str, base: Path, line: int, raw: dict[str, Any], eui64: dict[str, str]) -> Event:
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
        raise _fail(path, line, str(exc)) from None
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
        event.logged = Logged(
            accepted_by(response.response_code),
            response.response_code,
            True,
            response.firmware_version,
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


def _pair_responses(path: str, events: list[Event]) -> None:
    """Give each response line to the latest earlier request still without an outcome: the
    same RequestID for a response file, else the same SRV and device (assumption)."""
    for index, event in enumerate(events):
        if event.kind not in ("response", "response_lost"):
            continue
        assert event.logged is not None
        match = None
        for earlier in reversed(events[:index]):
            if not earlier.is_request or earlier.logged is not None:
                continue
            if event.request_id is not None:
                if earlier.request_id == event.request_id:
                    match = earlier
                    break
            elif (earlier.srv, earlier.device) == (event.srv, event.device):
                match = earlier
                break
        if match is None:
            what = (
                f"RequestID {event.request_id}"
                if event.request_id is not None
                else f"SR{event.srv} to {event.device}"
            )
            raise _fail(
                path,
                event.line,
                f"this response ({what}) answers no earlier request still waiting for its outcome",
            )
        if event.srv is not None and match.srv != event.srv:
            raise _fail(
                path,
                event.line,
                f"this response is for SR{event.srv}, but its request (line {match.line}) "
                f"is SR{match.srv}",
            )
        match.logged = Logged(**{**_fields(event.logged), "line": event.line})
        event.paired_with = match.line
        event.device = match.device


def _fields(logged: Logged) -> dict[str, Any]:
    return {
        "accepted": logged.accepted,
        "response_code": logged.response_code,
        "has_code": logged.has_code,
        "firmware_version": logged.firmware_version,
    }


def _scenario_step(event: Event) -> dict[str, Any]:
    if not event.is_request:
        return {k: v for k, v in event.raw.items() if k != "note"}
    step: dict[str, Any] = {"sr": event.srv, "target": event.device}
    if event.command_variant is not None:
        step["command_variant"] = event.command_variant
    if event.other is not None:
        step["other"] = event.other
    if event.image is not None:
        step["image"] = event.image
    if event.logged is not None and event.logged.lost:
        step["lose_response"] = True
    return step


def _load_as_scenario(
    path: str, first_line: int, document: dict[str, Any], events: list[Event]
) -> Scenario:
    with tempfile.TemporaryDirectory(prefix="smi-spec-replay-") as directory:
        temp = Path(directory) / "log.json"
        temp.write_text(json.dumps(document), encoding="utf-8")
        try:
            return load_scenario(str(temp))
        except InputError as exc:
            raise LogError(_relocate(str(exc), str(temp), path, first_line, events)) from None


def _relocate(message: str, temp: str, path: str, first_line: int, events: list[Event]) -> str:
    """Turn the scenario loader's 'TEMP: step N: ...' into 'LOG: line L: ...'."""
    lines = {e.step + 1: e.line for e in events if e.step is not None}
    found = re.match(rf"{re.escape(temp)}: step (\d+): (.*)", message, re.DOTALL)
    if found and int(found.group(1)) in lines:
        return f"{path}: line {lines[int(found.group(1))]}: {found.group(2)}"
    rest = message.removeprefix(f"{temp}: ")
    return f"{path}: line {first_line}: inventory: {rest}"
