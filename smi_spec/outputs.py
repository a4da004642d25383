"""Where the tool writes: only inside the output directory the user named, all or nothing.

- File names are built from :func:`slug` of an id, never from the id itself, and
  :func:`inside` refuses a name that is not a plain relative name resolving inside its
  directory (no ``..``, no absolute path, no symbolic link leading out).
- A generated directory (the report, the diagrams) is written in full beside its place and
  then swapped in by one atomic rename (Linux ``renameat2(RENAME_EXCHANGE)``): whoever looks
  sees the old directory or the new one, never none and never a half-written one, and a
  failure (a full disk) leaves the old one as it was.
- Where the exchange is not available (another kernel, a file system without it), the swap
  is two renames; a run killed between them leaves the old directory beside its place, and
  the next run puts it back before it starts. Either way the next run removes the leftovers
  of a killed run (hidden directories named ``.<name>.smi-spec-new-*`` / ``-old-*``).
- A single file (an ITF trace) is written to a hidden temporary beside it and renamed over
  it; the temporary is removed on any error, and leftovers of a killed run by the next run.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from model.errors import InputError
from smi_spec.plain import visible

#: One plain path component: letters, digits, ``.``, ``_``, ``-``; never ``.`` or ``..``.
_NAME: Final = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}")
_NEW: Final = ".smi-spec-new-"
_OLD: Final = ".smi-spec-old-"
#: mkstemp/mkdtemp's random part, and our own token for the fallback's old directory.
_RANDOM: Final = r"[A-Za-z0-9_]{6,16}"


def slug(text: str, limit: int = 64) -> str:
    """A file-name part for an id: lower-case letters, digits, ``.``, ``_`` and ``-`` only,
    starting and ending with a letter or digit, at most ``limit`` characters. For a valid
    variant id (docs/formats.md) it is the id itself."""
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("._-")
    return cleaned[:limit].strip("._-") or "unnamed"


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, where ``name`` is plain relative names joined by ``/``; refused
    (an input error) unless the path resolves inside ``directory``."""
    parts = name.split("/")
    if not all(_NAME.fullmatch(part) for part in parts):
        raise InputError(f"{directory}: refusing to write {visible(name)!r}: not a plain file name")
    path = directory.joinpath(*parts)
    if directory.resolve() not in path.resolve().parents:
        raise InputError(f"{directory}: refusing to write {visible(name)!r}: it leads outside")
    return path


# ---------------------------------------------------------------------------------------
# One file


def writable_directory(directory: Path, refusal: str, *, create: bool) -> None:
    """Refuse, before any work is done, an output directory that cannot be written: a
    search of seconds should not end in "cannot write". With ``create`` the directory is
    made now; without, nothing is made (its nearest existing ancestor must be a directory
    this process can write). ``refusal`` starts the one-line error."""
    try:
        existing = directory
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{existing} exists and is not a directory")
        if create:
            directory.mkdir(parents=True, exist_ok=True)
            existing = directory
        if existing == directory:
            with tempfile.TemporaryFile(dir=directory):
                pass
        elif not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(f"{refusal}: {reason}") from None


def _temporaries(path: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(path.name)}\.{_RANDOM}\.tmp")


def write_file(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` through a hidden temporary and one rename; the
    temporary never outlives an error."""
    path = inside(directory, name)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def remove_temporaries(directory: Path, suffix: str) -> list[Path]:
    """Remove the temporaries a killed :func:`write_file` left for files ending in
    ``suffix``; only regular files named exactly as it names them."""
    pattern = re.compile(rf"\.{_NAME.pattern}{re.escape(suffix)}\.{_RANDOM}\.tmp")
    removed = []
    for entry in directory.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


# ---------------------------------------------------------------------------------------
# A whole directory


_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in ``target``'s place; afterwards ``staging`` holds the old one."""
    if _exchange(staging, target):
        return
    old = target.with_name(f".{target.name}{_OLD}{secrets.token_hex(4)}")
    os.rename(target, old)
    try:
        os.rename(staging, target)  # killed before this: the next run's recover() restores ``old``
    except BaseException:
        os.rename(old, target)
        raise
    os.rename(old, staging)


def leftovers(target: Path) -> list[Path]:
    """Hidden directories beside ``target`` that a killed run of this module left."""
    kinds = f"{re.escape(_NEW)}|{re.escape(_OLD)}"
    pattern = re.compile(rf"\.{re.escape(target.name)}({kinds}){_RANDOM}")
    if not target.parent.is_dir():
        return []
    found = [
        p
        for p in target.parent.iterdir()
        if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def recover(target: Path) -> None:
    """Undo what a killed run left: put back an old directory that was moved aside and never
    replaced, then remove every other leftover."""
    found = leftovers(target)
    old = [p for p in found if _OLD in p.name]
    if old and not target.exists() and not target.is_symlink():
        os.rename(old[-1], target)
        found.remove(old[-1])
    for path in found:
        shutil.rmtree(path, ignore_errors=True)


def replace_directory(
    out: Path, files: Mapping[str, bytes], keep: Iterable[str] = (), what: str = "--out"
) -> None:
    """Make ``out`` hold exactly ``files`` (relative name -> bytes) and the entries ``keep``
    names from the current directory (hard links: the very files, untouched), in one swap.

    The caller has checked that everything else in the current ``out`` is its own to remove.
    """
    target = out.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_NEW}", dir=target.parent))
    except OSError as exc:
        raise InputError(f"{what} {out}: cannot write beside it: {exc.strerror or exc}") from None
    try:
        for name in keep:
            os.link(inside(target, name), inside(staging, name), follow_symlinks=False)
        for name, data in files.items():
            path = inside(staging, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.chmod(staging, 0o755)
        if target.exists():
            _swap(staging, target)
        else:
            os.rename(staging, target)
    except OSError as exc:
        raise InputError(f"{what} {out}: cannot write: {exc.strerror or exc}") from None
    finally:
        # The new files after a failure, or the old directory after the swap.
        shutil.rmtree(staging, ignore_errors=True)
