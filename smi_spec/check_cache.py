"""``check``'s on-disk result cache: an unchanged check is free on the next run (issue 23).

An entry holds what ``check`` printed on the standard output and whether every verdict was
as expected (the exit code). Its key is made of everything that can change either:

- the code version: the bytes of every file of ``model/`` (with ``model/data/*.json`` and
  the built-in variants), ``properties/``, ``checker/`` and ``smi_spec/``, and Python's
  version (:func:`code_version`, computed once per process);
- the bytes of each variant file checked and of every file its ``extends`` chain reads
  (:func:`variant_files`), and of the ``--properties`` file;
- the options that change the result or its rendering (properties, bounds, traces,
  coverage, devices, brief, format) and the console's width, colours and terminal.

Entries live in ``$SMI_SPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/smi-spec``, else
``~/.cache/smi-spec`` (docs/tester.md). Each is written through a temporary and a rename;
an entry that cannot be read or parsed is a miss, and a directory that cannot be written
is skipped: the cache never stops a check.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Final

from rich.console import Console

from model.errors import InputError
from model.variant import BUILTIN, load_variants, resolve

#: Where the cache lives when set (tests point it at a temporary directory).
CACHE_ENV: Final = "SMI_SPEC_CACHE_DIR"
#: The packages whose source is the code version.
PACKAGES: Final = ("model", "properties", "checker", "smi_spec")
#: The layout of an entry; a new layout makes every older entry a miss.
ENTRY_FORMAT: Final = 1


def cache_dir() -> Path:
    """``$SMI_SPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/smi-spec``, else
    ``~/.cache/smi-spec``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "smi-spec" if xdg else Path.home() / ".cache" / "smi-spec"


@cache
def code_version() -> str:
    """A hash of the source of every package whose code decides what ``check`` prints,
    over file bytes (about a megabyte: milliseconds), and of Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for package in PACKAGES:
        spec = find_spec(package)
        for root in spec.submodule_search_locations or [] if spec else []:
            for path in sorted(Path(root).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    digest.update(f"{package}/{path.relative_to(root)}\0".encode())
                    digest.update(path.read_bytes())
    return digest.hexdigest()


def variant_files(ref: str) -> list[Path]:
    """The variant file ``ref`` names and every file its ``extends`` chain reads, in that
    order, as far as they can be read (a chain broken by a bad save ends there)."""
    try:
        path = resolve(ref).resolve()
    except InputError:
        return []
    files: list[Path] = []
    while path not in files:
        files.append(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            parent = data.get("extends")
            if not isinstance(parent, str):
                break
            path = resolve(parent, relative_to=path.parent).resolve()
        except (OSError, ValueError, InputError):
            break
    return files


def checked_files(ref: str) -> list[Path] | None:
    """Every variant file a ``check --variant ref`` reads, once the variants load (their
    warnings on standard error, as a check prints them); None when they do not: the check
    itself then says why, in its own order, uncached."""
    try:
        load_variants(ref)
    except InputError:
        return None
    refs = BUILTIN if ref == "all" else (ref,)
    return list(dict.fromkeys(path for r in refs for path in variant_files(r)))


def entry_key(options: Mapping[str, object], files: Iterable[Path], console: Console) -> str:
    """The key of a check: the code version, the options, each file's path and bytes, and
    how the console renders (width, colours, terminal). A file that cannot be read is an
    OSError: no key, no cache."""
    document = {
        "format": ENTRY_FORMAT,
        "code": code_version(),
        "options": options,
        "files": [[str(p), hashlib.sha256(p.read_bytes()).hexdigest()] for p in files],
        "console": [console.width, console.color_system, console.is_terminal, console.encoding],
    }
    text = json.dumps(document, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What a check printed on the standard output, and whether all was as expected."""

    stdout: str
    ok: bool


def read_entry(key: str) -> Entry | None:
    """The entry under ``key``; None when there is none, or it cannot be read or parsed."""
    try:
        document = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        stdout, ok = document["stdout"], document["ok"]
        if document["key"] != key or not isinstance(stdout, str) or not isinstance(ok, bool):
            return None
        return Entry(stdout, ok)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_entry(key: str, entry: Entry) -> None:
    """Store ``entry`` under ``key`` through a temporary and a rename, or nothing at all
    when the directory cannot be written."""
    directory = cache_dir()
    temporary = directory / f".{key}.{os.getpid()}.tmp"
    document = {"key": key, "ok": entry.ok, "stdout": entry.stdout}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, directory / f"{key}.json")
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def printed(console: Console, json_output: bool, run: Callable[[], bool]) -> Entry:
    """What ``run`` prints, captured rather than written: the JSON document it writes on
    the standard output, or the text it prints through ``console`` (rendered as the console
    would write it)."""
    if json_output:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            ok = run()
        return Entry(buffer.getvalue(), ok)
    with console.capture() as captured:
        ok = run()
    return Entry(captured.get(), ok)


def cached(
    console: Console,
    options: Mapping[str, object],
    files: Iterable[Path] | None,
    json_output: bool,
    run: Callable[[], bool],
) -> bool:
    """Print what ``run`` prints and return what it returns, from the cache when an entry
    has the same key, else by running it and storing the result. Bad input raises from
    ``run`` as it would without the cache, and nothing is stored; so do ``files`` None."""
    if files is None:
        return run()
    try:
        key = entry_key(options, files, console)
    except OSError:
        return run()
    entry = read_entry(key)
    if entry is None:
        entry = printed(console, json_output, run)
        write_entry(key, entry)
    console.file.write(entry.stdout)
    return entry.ok
