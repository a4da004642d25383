"""The events of a DUIS message log (docs/replay.md): one log line after the inventory,
resolved to device ids (:class:`Event`), what the log says happened to a request
(:class:`Logged`), the error that names the log file and line, and an event as a scenario
step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from model.duis import RequestId
from model.errors import InputError


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


def line_error(path: str, line: int, message: str) -> LogError:
    """The error for ``line`` of the log ``path``, saying where (streamed output names it)."""
    return LogError(f"{path}: line {line}: {message}").located(line=line)


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
