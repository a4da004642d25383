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
  of a killed run: hidden directories named ``.<name>.smi-spec-new-*`` / ``-old-*`` that
  also hold the mark (:data:`MARK`) this module wrote in them, never one only named so.
- An existing output directory the user made read-only is refused, not replaced; files
  are written 0644 and directories 0755, less the user's umask.
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
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from model.errors import InputError
from model.inputs import check_name
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


def write_file(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` through a hidden temporary and one rename; the
    temporary never outlives an error."""
    path = inside(directory, name)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def check_out_file(path: Path, what: str) -> None:
    """Refuse, before any work, a file output the user named that cannot be written as a
    regular file: something there that is not one (a named pipe, a device such as
    ``/dev/null``, a directory: never replaced), a read-only file, a missing or unwritable
    directory, a path the system cannot hold. ``what`` starts the one-line error."""
    try:
        check_name(str(path))
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    try:
        if path.exists() or path.is_symlink():
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device or pipe"
                raise InputError(f"{what}: exists and is not a regular file ({kind}); not replaced")
            if read_only(path):
                raise InputError(f"{what}: a read-only file; not replaced")
        parent = path.absolute().parent
        if not parent.is_dir():
            raise InputError(f"{what}: cannot write: no such directory {parent}")
        if read_only(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"{what}: cannot write in {parent}")
    except OSError as exc:
        raise InputError(f"{what}: {exc.strerror or exc}") from None


def replace_file(path: Path, data: bytes, what: str) -> None:
    """Write the file the user named whole or not at all: checked as
    :func:`check_out_file` says (again: it may have changed during the work), written to a
    hidden temporary beside it, given :func:`file_mode` and renamed over it."""
    check_out_file(path, what)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.absolute().parent
        )
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise InputError(f"{what}: cannot write: {exc.strerror or exc}") from None


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


#: The file by which a leftover directory is known as this module's own: it lists the
#: names the directory may have while it is a leftover. A directory merely named like one
#: (``.rep.smi-spec-old-abcdef12``) is never touched (issue 25).
MARK: Final = ".smi-spec-leftover"


def _mark(directory: Path, *names: str) -> None:
    (directory / MARK).write_text("".join(f"{name}\n" for name in names), encoding="utf-8")


def _unmark(directory: Path) -> None:
    mark = directory / MARK
    if mark.is_file() and not mark.is_symlink():
        mark.unlink(missing_ok=True)


def _marked(path: Path) -> bool:
    """Whether ``path`` is a directory this module marked as a leftover under its own name."""
    mark = path / MARK
    if path.is_symlink() or not path.is_dir() or mark.is_symlink() or not mark.is_file():
        return False
    try:
        names = mark.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return path.name in names


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in ``target``'s place; afterwards ``staging`` holds the old one. The
    old directory is marked first, so that a run killed at any point leaves only marked
    leftovers; the new one is unmarked once in place."""
    old = target.with_name(f".{target.name}{_OLD}{secrets.token_hex(4)}")
    _mark(target, staging.name, old.name)
    try:
        if _exchange(staging, target):
            _unmark(target)
            return
        os.rename(target, old)
    except BaseException:
        _unmark(target)
        raise
    try:
        os.rename(staging, target)  # killed before this: the next run's recover() restores ``old``
    except BaseException:
        os.rename(old, target)
        _unmark(target)
        raise
    _unmark(target)
    os.rename(old, staging)


def leftovers(target: Path) -> list[Path]:
    """Hidden directories beside ``target`` that a killed run of this module left: named as
    it names them and holding its mark."""
    kinds = f"{re.escape(_NEW)}|{re.escape(_OLD)}"
    pattern = re.compile(rf"\.{re.escape(target.name)}({kinds}){_RANDOM}")
    if not target.parent.is_dir():
        return []
    found = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and _marked(p)]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def recover(target: Path) -> None:
    """Undo what a killed run left: put back an old directory that was moved aside and never
    replaced, then remove every other leftover and the mark a kill may have left in
    ``target`` itself."""
    found = leftovers(target)
    old = [p for p in found if _OLD in p.name]
    if old and not target.exists() and not target.is_symlink():
        os.rename(old[-1], target)
        found.remove(old[-1])
    if target.is_dir() and not target.is_symlink():
        _unmark(target)
    for path in found:
        shutil.rmtree(path, ignore_errors=True)


def check_out_directory(out: Path, what: str = "--out") -> None:
    """Refuse, before any work, an output directory that cannot be replaced as asked: a
    path the system cannot hold (a component over 255 bytes), something there that is not
    a directory, or a directory the user made read-only (it is refused, never replaced
    through its writable parent)."""
    try:
        check_name(str(out))
    except InputError as exc:
        raise InputError(f"{what} {visible(str(out))}: {exc}") from None
    try:
        if out.is_symlink() and not out.exists():
            raise InputError(f"{what} {out}: a broken symbolic link")
        if out.exists() and not out.is_dir():
            raise InputError(f"{what} {out}: exists and is not a directory")
        if out.is_dir() and (read_only(out) or not os.access(out, os.W_OK | os.X_OK)):
            raise InputError(f"{what} {out}: a read-only directory; not replaced")
    except OSError as exc:
        raise InputError(f"{what} {out}: cannot use it: {exc.strerror or exc}") from None


def read_only(path: Path) -> bool:
    """Whether the owner took away their own write permission (root can still write, but a
    user who made it so means "do not change this")."""
    return not path.stat().st_mode & stat.S_IWUSR


def file_mode() -> int:
    """The mode of a file the tool writes: 0644 less the user's umask."""
    return 0o644 & ~_umask()


def directory_mode() -> int:
    """The mode of a directory the tool writes: 0755 less the user's umask."""
    return 0o755 & ~_umask()


def _umask() -> int:
    """The process's umask: read from the kernel where it says (setting it to read it back
    would change it for a moment under the progress bar's thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_directory(
    out: Path, files: Mapping[str, bytes], keep: Iterable[str] = (), what: str = "--out"
) -> None:
    """Make ``out`` hold exactly ``files`` (relative name -> bytes) and the entries ``keep``
    names from the current directory (hard links: the very files, untouched), in one swap.

    The caller has checked that everything else in the current ``out`` is its own to remove.
    """
    check_out_directory(out, what)
    target = out.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_NEW}", dir=target.parent))
        _mark(staging, staging.name)
    except OSError as exc:
        raise InputError(f"{what} {out}: cannot write beside it: {exc.strerror or exc}") from None
    try:
        for name in keep:
            os.link(inside(target, name), inside(staging, name), follow_symlinks=False)
        for name, data in files.items():
            path = inside(staging, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, file_mode())
        for directory in {inside(staging, n).parent for n in files} - {staging}:
            os.chmod(directory, directory_mode())
        os.chmod(staging, directory_mode())
        if target.exists():
            _swap(staging, target)
        else:
            os.rename(staging, target)
            _unmark(target)
    except OSError as exc:
        raise InputError(f"{what} {out}: cannot write: {exc.strerror or exc}") from None
    finally:
        # The new files after a failure, or the old directory after the swap.
        shutil.rmtree(staging, ignore_errors=True)
