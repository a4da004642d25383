"""Pairing a message log's response lines with their requests (docs/replay.md), streamed:
responses find their request through an index (linear time), and only the events after
the oldest request still waiting for its outcome are held, so memory grows with the
requests in flight, never with the length of the log.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, Final

from model.duis import RequestId
from model.log_event import Event, Logged, line_error

#: Events held while the oldest request waits for its response line (assumption: a DSP
#: answers within minutes, far fewer events than this in any real log). Past it, that
#: request is stepped with no outcome logged, and a late response is an error.
MAX_IN_FLIGHT: Final = 10_000


class Pairing:
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
            raise line_error(
                self.path,
                event.line,
                f"this response ({what}) answers no earlier request still waiting for its outcome",
            )
        match = candidates[next(reversed(candidates))]
        if event.srv is not None and match.srv != event.srv:
            raise line_error(
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
