"""DUIS message logs (JSON Lines, format in docs/replay.md): reading, streamed.

Line 1 is the starting inventory, a scenario document without steps plus an optional
``eui64`` map from EUI-64 to device id. Each later line is one event: a DUIS request (a file
read with :mod:`model.duis`, or inline), a response or a lost response paired with an
earlier request, a CPL change, a manual SMI fix or a DCC status event.

The log is read one line at a time through the input boundary (:mod:`model.inputs`): a
regular file only, each line capped, bounded in depth, integers and text. The inventory is
validated by the scenario loader's own functions, so the two formats cannot drift apart.
Responses find their request through an index (linear time), and only the events after the
oldest request still waiting for its outcome are held: memory grows with the requests in
flight, never with the length of the log. Every problem is an InputError naming the log file
and the line.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from model import inputs
from model.catalogue import normalise_srv
from model.dsp import JOIN_SRVS, UNJOIN_SRVS, UPDATE_FIRMWARE
from model.duis import DuisError, RequestId, read_request, read_response
from model.errors import InputError, ScenarioError
from model.scenario import Start, parse_start
from model.variant import Variant, load_variant

#: Events held while the oldest request waits for its response line (assumption: a DSP
#: answers within minutes, far fewer events than this in any real log). Past it, that
#: request is stepped with no outcome logged, and a late response is an error.
MAX_IN_FLIGHT: Final = 10_000

_INVENTORY_KEYS: Final = frozenset({"variant", "title", "description", "cpl", "devices", "joins"})
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
    "response": {"response", "firmware_version", "note"},
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
    waiting: bool = False

    @property
    def is_request(self) -> bool:
        return self.kind in ("request", "inline")


@dataclass
class MessageLog:
    """A log whose inventory has been read: its setup and start, and the lines still to read
    (consumed once, by :func:`events`)."""

    path: str
    base: Path
    inventory: Start
    eui64: dict[str, str]
    lines: Iterator[tuple[int, str]]
    inventory_line: int = 1

    @property
    def variant_ref(self) -> str:
        return self.inventory.variant_ref

    def variant(self, override: str | None = None) -> Variant:
        """The variant to replay under: ``override``, else the inventory's."""
        if override is not None:
            return load_variant(override)
        try:
            return load_variant(self.variant_ref)
        except InputError as exc:
            raise _fail(self.path, self.inventory_line, f"inventory: variant: {exc}") from None


def _fail(path: str, line: int, message: str) -> LogError:
    return LogError(f"{path}: line {line}: {message}").located(line=line)


def read_lines(file: str) -> Iterator[tuple[int, str]]:
    """The log's non-blank lines with their numbers, read one at a time (each at most
    :data:`model.inputs.MAX_LOG_LINE_BYTES`); the file is a regular file or refused."""
    cap = inputs.MAX_LOG_LINE_BYTES
    with inputs.open_regular(file) as handle:
        for number, data in enumerate(iter(lambda: handle.readline(cap + 1), b""), 1):
            if len(data) > cap and not data.endswith(b"\n"):
                raise _fail(file, number, f"longer than {cap} bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _fail(file, number, "not UTF-8 text") from None
            if text.strip():
                yield number, text


def load_log(file: str) -> MessageLog:
    """Open a log and read its inventory; the events are read as they are replayed."""
    return open_log(file, Path(file).parent, read_lines(file))


def open_log(name: str, base: Path, lines: Iterable[tuple[int, str]]) -> MessageLog:
    """A log from numbered lines (a file, a pipe, a generator); reads only the inventory.
    Relative paths in the log (variant, DUIS files) are relative to ``base``."""
    source = iter(lines)
    first = next(source, None)
    if first is None:
        raise LogError(f'{name}: empty log: line 1 must be {{"inventory": {{...}}}}')
    first_line, text = first
    document = _json(name, first_line, text)
    if set(document) - {"note"} != {"inventory"} or not isinstance(document["inventory"], dict):
        raise _fail(name, first_line, 'the first line must be {"inventory": {...}}')
    inventory = dict(document["inventory"])
    if "steps" in inventory:
        raise _fail(name, first_line, "inventory: has no steps; events follow, one a line")
    raw_eui64 = inventory.pop("eui64", {})
    try:  # the devices first: an eui64 value is checked against their (valid) ids
        start = parse_start(name, inventory, base, _INVENTORY_KEYS)
    except InputError as exc:
        rest = str(exc).removeprefix(f"{name}: ")
        raise _fail(name, first_line, f"inventory: {rest}") from None
    eui64 = _eui64_map(name, first_line, raw_eui64, inventory)
    return MessageLog(name, base, start, eui64, source, first_line)


def _json(path: str, line: int, text: str) -> dict[str, Any]:
    try:
        value = inputs.parse_json(text, f"{path}: line {line}")
    except InputError as exc:
        raise exc.located(line=line) from None
    if not isinstance(value, dict):
        raise _fail(path, line, "not a JSON object")
    return value


def events(log: MessageLog) -> Iterator[Event]:
    """Each event after the inventory, validated, in log order, once its request's outcome
    is known (see :class:`_Pairing`)."""
    pairing = _Pairing(log.path)
    for number, text in log.lines:
        event = _event(log.path, log.base, number, _json(log.path, number, text), log.eui64)
        yield from pairing.add(event)
    yield from pairing.finish()


def _eui64_map(path: str, line: int, raw: Any, inventory: dict[str, Any]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _fail(
            path, line, 'inventory: eui64 must map EUI-64s to device ids {"00-DB-…": "esme1"}'
        )
    devices = inventory.get("devices")
    ids = (  # only text ids: a list or table where an id belongs is refused later, in place
        {d.get("id") for d in devices if isinstance(d, dict) and isinstance(d.get("id"), str)}
        if isinstance(devices, list)
        else set()
    )
    mapping = {}
    for key, value in raw.items():
        if not _EUI64.fullmatch(key):
            raise _fail(
                path, line, f"inventory: eui64: {key!r} is not an EUI-64 (90-B3-D5-1F-30-01-00-00)"
            )
        if not isinstance(value, str):
            kind = inputs.kind_of(value)
            raise _fail(path, line, f"inventory: eui64: {key}: {kind} where a device id belongs")
        if value not in ids:
            raise _fail(
                path, line, f"inventory: eui64: {key} names no device of the inventory ({value!r})"
            )
        if key.upper() in mapping:
            raise _fail(
                path, line, f"inventory: eui64: {key} is given twice (EUI-64s ignore letter case)"
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


class _Pairing:
    """Gives each response line to the latest earlier request still without an outcome: the
    same RequestID for a response file, else the same SRV and device (assumption). Both are
    looked up in an index, so pairing is linear in the log. Events are released in log order
    as soon as no earlier request is still waiting; a request waiting for more than
    :data:`MAX_IN_FLIGHT` events is released with no outcome logged."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.held: deque[Event] = deque()
        self.by_id: dict[RequestId, dict[int, Event]] = {}
        self.by_key: dict[tuple[str | None, str | None], dict[int, Event]] = {}

    def add(self, event: Event) -> Iterator[Event]:
        if event.kind in ("response", "response_lost"):
            self._pair(event)
        elif event.is_request and event.logged is None:
            if event.request_id is not None:
                self.by_id.setdefault(event.request_id, {})[event.line] = event
            self.by_key.setdefault((event.srv, event.device), {})[event.line] = event
            event.waiting = True
        self.held.append(event)
        if len(self.held) > MAX_IN_FLIGHT:
            self._forget(self.held[0])
        return self._release()

    def finish(self) -> Iterator[Event]:
        for event in self.held:
            event.waiting = False
        return self._release()

    def _release(self) -> Iterator[Event]:
        while self.held and not self.held[0].waiting:
            yield self.held.popleft()

    def _forget(self, request: Event) -> None:
        if request.waiting:
            request.waiting = False
            if request.request_id is not None:
                _drop(self.by_id, request.request_id, request.line)
            _drop(self.by_key, (request.srv, request.device), request.line)

    def _pair(self, event: Event) -> None:
        assert event.logged is not None
        if event.request_id is not None:
            candidates = self.by_id.get(event.request_id)
        else:
            candidates = self.by_key.get((event.srv, event.device))
        if not candidates:
            what = (
                f"RequestID {event.request_id}"
                if event.request_id is not None
                else f"SR{event.srv} to {event.device}"
            )
            raise _fail(
                self.path,
                event.line,
                f"this response ({what}) answers no earlier request still waiting for its outcome",
            )
        match = candidates[next(reversed(candidates))]
        if event.srv is not None and match.srv != event.srv:
            raise _fail(
                self.path,
                event.line,
                f"this response is for SR{event.srv}, but its request (line {match.line}) "
                f"is SR{match.srv}",
            )
        self._forget(match)
        match.logged = Logged(**{**_fields(event.logged), "line": event.line})
        match.versions = (*match.versions, *event.versions)
        event.paired_with = match.line
        event.device = match.device


def _drop(index: dict[Any, dict[int, Event]], key: Any, line: int) -> None:
    entries = index[key]
    del entries[line]
    if not entries:
        del index[key]


def _fields(logged: Logged) -> dict[str, Any]:
    return {
        "accepted": logged.accepted,
        "response_code": logged.response_code,
        "has_code": logged.has_code,
        "firmware_version": logged.firmware_version,
    }


def scenario_step(event: Event) -> dict[str, Any]:
    """The event as a scenario step (not for a response line, which steps nothing)."""
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
