"""The one input boundary: every file and document a user hands the tool passes here first.

A file is opened only if it is a regular file (a directory, a device such as ``/dev/zero``
or a named pipe is refused at once, without blocking), and read only up to its kind's size
cap. A JSON or TOML document is then bounded in nesting depth, integer width and string
content (no NUL, no lone surrogate) before any model code looks at it. Every failure is an
:class:`~model.errors.InputError` of one line naming the file (and the line, for a log) and
the problem; the caps are documented in docs/formats.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

from model.errors import InputError

#: Size caps per input kind, in bytes (assumption: generous for hand-written files, small
#: enough that a parse stays well under a second and a few hundred MB).
MAX_VARIANT_BYTES: Final = 1024 * 1024
MAX_SCENARIO_BYTES: Final = 16 * 1024 * 1024
#: One line of a message log; a log as a whole is streamed and has no total cap.
MAX_LOG_LINE_BYTES: Final = 1024 * 1024
#: Nesting of arrays and objects in a JSON or TOML document (the formats need 4 levels).
MAX_DEPTH: Final = 32
#: Decimal digits of an integer (Python refuses above 4,300; the formats need 1 or 2).
MAX_INT_DIGITS: Final = 18


class TooLarge(InputError):
    """A file or line over its kind's size cap."""


class Unreadable(InputError):
    """A file that is missing, not a regular file, or cannot be opened."""


#: Longest path component and whole path, in bytes (Linux NAME_MAX and PATH_MAX): checked
#: before the path is used, so an over-long name is one line, not an OSError (issue 25).
MAX_NAME_BYTES: Final = 255
MAX_PATH_BYTES: Final = 4096


def check_name(name: str) -> None:
    """A file name may not hold a NUL or an unencodable character, nor be longer than the
    system allows (the OS cannot open it; Python would raise)."""
    if "\x00" in name:
        raise InputError(f"{name!r}: a NUL character is not allowed in a file name")
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:
        raise InputError(f"{name!r}: not a file name this system can encode") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise InputError(f"{name[:64]!r}...: a path longer than {MAX_PATH_BYTES} bytes")
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > MAX_NAME_BYTES:
        shown = os.fsdecode(longest[:32])
        raise InputError(
            f"{shown!r}...: a path component of {len(longest)} bytes "
            f"(at most {MAX_NAME_BYTES} on this system's file systems)"
        )


@contextmanager
def open_regular(path: str | os.PathLike[str], limit: int | None = None) -> Iterator[IO[bytes]]:
    """Open ``path`` for reading if it is a regular file (after symlinks) of at most ``limit``
    bytes. The open is non-blocking, so a named pipe is refused instead of waited on."""
    name = os.fspath(path)
    check_name(name)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Unreadable(f"{name}: cannot read: no such file") from None
    except OSError as exc:
        raise Unreadable(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device or pipe"
            raise Unreadable(f"{name}: cannot read: not a regular file ({kind})")
        if limit is not None and info.st_size > limit:
            raise TooLarge(f"{name}: too large ({info.st_size} bytes; at most {limit} here)")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (reads at most limit + 1: a
    file may grow, or lie about its size)."""
    name = os.fspath(path)
    with open_regular(name, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise Unreadable(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise TooLarge(f"{name}: too large (more than {limit} bytes)")
    return data


def decode(data: bytes, where: str) -> str:
    """UTF-8 text, or an error naming the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{where}: line {line}: not UTF-8 text") from None


def read_text(path: str | os.PathLike[str], limit: int) -> str:
    """A regular file of at most ``limit`` bytes, as UTF-8 text."""
    return decode(read_bytes(path, limit), os.fspath(path))


# ---------------------------------------------------------------------------------------
# Documents


def kind_of(value: Any) -> str:
    """What a value in a document is, in the words of an error line ("a list where a string
    belongs"): never the value itself, which may be long."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return "true or false" if value is not None else "null"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


class _Refused(Exception):
    """Raised from inside a parser hook; turned into an InputError by the caller."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_constant(text: str) -> float:
    raise _Refused(f"{text} is not a number JSON allows")


_Trail = tuple[Any, str | int] | None  # (parent trail, key): built cheaply, read on error


def _where(trail: _Trail) -> str:
    parts: list[str | int] = []
    while trail is not None:
        trail, key = trail
        parts.append(key)
    text = ""
    for part in reversed(parts):
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "top level"


def check_value(value: Any, dates: bool = False) -> None:
    """Bound a parsed document without recursion: depth, integer width, strings without NUL
    or lone surrogates; TOML dates and times only where ``dates`` allows them. Raises
    :class:`_Refused` naming where in the document the problem is."""
    stack: list[tuple[Any, int, _Trail]] = [(value, 0, None)]
    while stack:
        item, depth, trail = stack.pop()
        if isinstance(item, str):
            _check_string(item, trail)
        elif isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
            for key, child in item.items():
                _check_string(key, trail)
                stack.append((child, depth + 1, (trail, key)))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1, (trail, n)) for n, child in enumerate(item))
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) >= 10**MAX_INT_DIGITS:
                raise _Refused(f"{_where(trail)}: an integer wider than {MAX_INT_DIGITS} digits")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise _Refused(f"{_where(trail)}: not a finite number")
        elif isinstance(item, dt.date | dt.time) and not dates:
            raise _Refused(f"{_where(trail)}: a TOML date or time where text is expected")


def _check_string(text: str, trail: _Trail) -> None:
    if "\x00" in text:
        raise _Refused(f"{_where(trail)}: a NUL character is not allowed")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused(f"{_where(trail)}: a lone surrogate (not a Unicode character)") from None


_DECODER: Final = json.JSONDecoder(parse_int=_parse_int, parse_constant=_parse_constant)


def parse_json(text: str, where: str) -> Any:
    """A JSON value from ``text``, bounded as :func:`check_value` says; ``where`` names the
    file (and line) in the error."""
    try:
        value = _DECODER.decode(text)
        check_value(value)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except _Refused as exc:
        raise InputError(f"{where}: {exc}") from None
    return value


def parse_toml(text: str, where: str, dates: bool = False) -> dict[str, Any]:
    """A TOML document from ``text``, bounded as :func:`check_value` says."""
    try:
        value = tomllib.loads(text)
        check_value(value, dates)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # Python's limit on the digits of an integer
        raise InputError(f"{where}: not valid TOML: {str(exc).splitlines()[0]}") from None
    except _Refused as exc:
        raise InputError(f"{where}: {exc}") from None
    return value


def read_document(path: str | os.PathLike[str], limit: int = MAX_SCENARIO_BYTES) -> Any:
    """A JSON or TOML file (by suffix; JSON otherwise), read and bounded."""
    name = os.fspath(path)
    text = read_text(name, limit)
    if name.endswith(".toml"):
        return parse_toml(text, name)
    return parse_json(text, name)
