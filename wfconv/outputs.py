"""The one door through which wfconv writes files (docs/outputs.md).

Every command that writes a file goes through this module: ``convert -o DIR``
(a *set* of generated files plus the ledger) and the ``-o FILE`` of ``parse``,
``graph``, ``audit``, ``verify``, ``compare`` and ``run``. It keeps four
promises:

- **A user's file is never overwritten.** A file may be replaced only when
  wfconv wrote it and nobody changed it since. wfconv knows its own files from
  a manifest, ``.wfconv-manifest.json``, kept in the folder it writes into: the
  name and SHA-256 of every file it wrote there. A file that is not listed, or
  whose bytes changed since, is refused (``--force`` overrides).
- **An input is never overwritten** (``--force`` overrides): a destination that
  is the same file as one the command read is refused.
- **Links are never followed out of the output folder.** Folders below the
  output folder are opened one component at a time with ``O_NOFOLLOW``, so a
  symbolic link anywhere on the way is refused (even with ``--force``); a link
  at the destination itself is refused, and with ``--force`` the link is
  replaced, never written through.
- **Writes are atomic**: each file is written to a temporary file beside it and
  renamed over the destination, so a killed wfconv leaves either the old file
  or the new one. The folder is locked (``flock``) while its manifest is read
  and rewritten, so two wfconv processes writing into one folder do not lose
  each other's entries.

Every refusal is found before anything is written and reported together.

A *set* (``convert -o DIR``, ``FolderSet``) is staged file by file as it is
produced (nothing held in memory) and placed together at the end.

A set owns the files it wrote the last time: written
again into the same folder from fewer inputs, the files of the earlier run that
this run does not write are removed when unchanged (and kept, with a note, when
the user changed them), so the folder and the ledger describe the same run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import shutil
import stat as _stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.errors import UsageError

MANIFEST = ".wfconv-manifest.json"
MANIFEST_VERSION = 1
# Longest file name most file systems accept (bytes of one path component).
NAME_MAX = 255

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_O_NEW = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class OutputRefused(UsageError):
    """Some destinations may not be written; nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Written:
    """What a write did (paths as the user gave them, joined with the folder)."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # stale files of an earlier run
    kept: list[str] = field(default_factory=list)  # stale, but changed by the user: left alone

    def notes(self) -> list[str]:
        """One line per stale file removed or kept (for stderr)."""
        out = [f"removed {p} (written by an earlier run, not by this one)" for p in self.removed]
        out += [
            f"kept {p}: written by an earlier run but changed since; remove it by hand"
            for p in self.kept
        ]
        return out


def _safe_relative(rel: str) -> list[str]:
    """The components of a relative path inside the output folder; anything
    that climbs out (absolute, ``..``) or that no file system can hold is refused."""
    norm = posixpath.normpath(rel)
    parts = norm.split("/")
    if norm.startswith("/") or norm in ("", ".") or ".." in parts or "\0" in norm:
        raise UsageError(f"refusing to write outside the output folder: {rel!r}")
    for p in parts:
        if len(p.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise UsageError(f"file name longer than {NAME_MAX} bytes: {p[:40]}...")
    return parts


def _input_keys(inputs: Iterable[str | os.PathLike]) -> set[tuple[int, int]]:
    keys = set()
    for p in inputs:
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        keys.add((st.st_dev, st.st_ino))
    return keys


def _open_root(root: Path) -> int:
    """The output folder, created if needed, opened (a new fd). The folder
    the user named may itself be a link (they chose it); below it nothing is."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"{root}: cannot write here ({exc.strerror or exc})") from None


@contextlib.contextmanager
def _folder(root: Path) -> Iterator[int]:
    """The output folder, created if needed, opened and locked."""
    fd = _open_root(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


class _Blocked(Exception):
    """A component of the way is a link or a file."""


def _open_dir(parent: int, name: str, create: bool) -> int | None:
    """A sub-folder opened without following links; None when it does not
    exist (and ``create`` is off). A link or a file on the way is refused."""
    try:
        return os.open(name, _O_DIR, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _Blocked(name) from None
        raise
    os.mkdir(name, 0o777, dir_fd=parent)
    return os.open(name, _O_DIR, dir_fd=parent)


def _dir_fd(root_fd: int, dirs: list[str], create: bool) -> int | None:
    """The folder ``root/dirs...`` (a new fd the caller closes), or None when
    it does not exist and ``create`` is off."""
    fd = os.dup(root_fd)
    for name in dirs:
        try:
            nxt = _open_dir(fd, name, create)
        finally:
            os.close(fd)
        if nxt is None:
            return None
        fd = nxt
    return fd


def _read_manifest(root_fd: int) -> dict[str, dict]:
    """The manifest's entries; an absent, linked or unreadable manifest lists
    nothing (so nothing in the folder counts as wfconv's)."""
    try:
        fd = os.open(MANIFEST, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=root_fd)
    except OSError:
        return {}
    try:
        with os.fdopen(fd, "rb") as fh:
            doc = json.loads(fh.read(16 * 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, dict)}


def _file_sha(dir_fd: int, name: str) -> str | None:
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=dir_fd)
    except OSError:
        return None
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _check(
    root_fd: int,
    rel: str,
    parts: list[str],
    manifest: Mapping[str, dict],
    inputs: set[tuple[int, int]],
    force: bool,
) -> str | None:
    """Why ``rel`` may not be written (None when it may)."""
    try:
        dfd = _dir_fd(root_fd, parts[:-1], create=False)
    except _Blocked as b:
        return (
            f"not written: {b!s} on the way is a link or a file; wfconv never writes through links"
        )
    if dfd is None:
        return None
    try:
        try:
            st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if _stat.S_ISLNK(st.st_mode):
            return (
                None
                if force
                else "not overwritten: it is a symbolic link (--force replaces the link, never its target)"
            )
        if not _stat.S_ISREG(st.st_mode):
            return "not written: it exists and is not a regular file"
        if force:
            return None
        if (st.st_dev, st.st_ino) in inputs:
            return "not overwritten: it is an input of this command (--force overwrites it)"
        entry = manifest.get(rel)
        if entry is None:
            return "not overwritten: wfconv did not write this file (--force overwrites it)"
        if _file_sha(dfd, parts[-1]) != entry.get("sha256"):
            return "not overwritten: it changed since wfconv wrote it (--force overwrites it)"
        return None
    finally:
        os.close(dfd)


def _temporary(dir_fd: int, name: str) -> tuple[str, int]:
    """A new temporary file beside ``name`` (never following a link): (its name, fd)."""
    for n in range(100):
        tmp = f".{name[:200]}.wfconv-{os.getpid()}-{n}.tmp"
        try:
            return tmp, os.open(tmp, _O_NEW, 0o666, dir_fd=dir_fd)
        except FileExistsError:
            continue
    raise UsageError(f"{name}: cannot create a temporary file beside it")  # pragma: no cover


def _write_atomic(root_fd: int, parts: list[str], data: bytes) -> None:
    dfd = _dir_fd(root_fd, parts[:-1], create=True)
    assert dfd is not None
    name = parts[-1]
    try:
        tmp, fd = _temporary(dfd, name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
    finally:
        os.close(dfd)


def _remove_stale(root_fd: int, rel: str, sha: str | None) -> bool | None:
    """Remove an earlier run's file if unchanged: True removed, False kept
    (changed by the user), None already gone. Empty folders it leaves go too."""
    parts = rel.split("/")
    try:
        dfd = _dir_fd(root_fd, parts[:-1], create=False)
    except _Blocked:
        return False
    if dfd is None:
        return None
    try:
        current = _file_sha(dfd, parts[-1])
        if current is None:
            return None
        if current != sha:
            return False
        os.unlink(parts[-1], dir_fd=dfd)
    finally:
        os.close(dfd)
    for depth in range(len(parts) - 1, 0, -1):  # sub-folders the set leaves empty
        parent = _dir_fd(root_fd, parts[: depth - 1], create=False)
        if parent is None:
            break
        try:
            os.rmdir(parts[depth - 1], dir_fd=parent)
        except OSError:
            break
        finally:
            os.close(parent)
    return True


def _encode(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def write_folder(
    root: str | os.PathLike,
    files: Mapping[str, str | bytes],
    *,
    force: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    owner: str = "convert",
) -> Written:
    """Write a set of files (relative paths) into ``root``; remove what the
    previous set written there by ``owner`` held and this one does not."""
    for rel in files:
        _set_member(rel)
    with FolderSet(root, force=force, owner=owner) as out:
        staged = {rel: out.stage(text) for rel, text in files.items()}
        return out.commit(staged, inputs=inputs)


def _set_member(rel: str) -> list[str]:
    parts = _safe_relative(rel)
    if parts == [MANIFEST]:
        raise UsageError(f"{MANIFEST} is wfconv's own manifest and cannot be an output")
    return parts


STAGING_PREFIX = ".wfconv-staging-"


class FolderSet:
    """A set of files written into ``root`` as they are produced, placed
    together at the end: what ``convert -o DIR`` streams into (docs/outputs.md).

    ``stage(content)`` writes one file into a hidden staging folder inside
    ``root`` (so placing it is a rename on the same file system) and returns
    its key; nothing is held in memory. ``commit({rel: key})`` then does what
    ``write_folder`` does with the staged files: every destination is checked
    under the folder's lock before any is placed (a refusal leaves the folder
    as it was), each is renamed into place, the earlier set's stale files go,
    the manifest is rewritten. Leaving the ``with`` block removes whatever is
    still staged (a failed or refused run); a staging folder left by a killed
    wfconv is removed by the next set written there."""

    def __init__(self, root: str | os.PathLike, *, force: bool = False, owner: str = "convert"):
        self.root = Path(root)
        self.force = force
        self.owner = owner
        self._root_fd: int | None = None
        self._stage_fd: int | None = None
        self._stage_name = ""
        self._created = False
        self._sha: dict[str, str] = {}

    def __enter__(self) -> FolderSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self) -> int:
        if self._root_fd is None:
            self._created = not self.root.exists()
            self._root_fd = _open_root(self.root)
        return self._root_fd

    def _stage_dir(self) -> int:
        if self._stage_fd is None:
            fd = self._open()
            _sweep_staging(fd)
            for n in range(100):
                name = f"{STAGING_PREFIX}{os.getpid()}-{n}"
                try:
                    os.mkdir(name, 0o700, dir_fd=fd)
                except FileExistsError:
                    continue
                self._stage_name = name
                self._stage_fd = os.open(name, _O_DIR, dir_fd=fd)
                break
            else:  # pragma: no cover
                raise UsageError(f"{self.root}: cannot create a staging folder in it")
        return self._stage_fd

    def stage(self, content: str | bytes | Iterable[str]) -> str:
        """Write ``content`` (or its pieces, as they come) to a new staged
        file; its key for ``commit``."""
        stage_fd = self._stage_dir()
        key = str(len(self._sha))
        pieces = [content] if isinstance(content, (str, bytes)) else content
        digest = hashlib.sha256()
        fd = os.open(key, _O_NEW, 0o666, dir_fd=stage_fd)
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                data = _encode(piece)
                fh.write(data)
                digest.update(data)
        self._sha[key] = digest.hexdigest()
        return key

    def commit(
        self, files: Mapping[str, str], *, inputs: Iterable[str | os.PathLike] = ()
    ) -> Written:
        """Place the staged files (relative path -> key), keep the manifest."""
        planned = [(rel, _set_member(rel), key) for rel, key in files.items()]
        keys = _input_keys(inputs)
        fd = self._open()
        if planned:
            self._stage_dir()
        done = Written()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            manifest = _read_manifest(fd)
            problems = []
            for rel, parts, _ in planned:
                why = _check(fd, "/".join(parts), parts, manifest, keys, self.force)
                if why is not None:
                    problems.append(f"{self.root / rel}: {why}")
            if problems:
                raise OutputRefused(problems + ["nothing was written"])
            new_entries: dict[str, dict] = {}
            try:
                for rel, parts, key in planned:
                    dfd = _dir_fd(fd, parts[:-1], create=True)
                    assert dfd is not None
                    try:
                        os.replace(key, parts[-1], src_dir_fd=self._stage_fd, dst_dir_fd=dfd)
                    finally:
                        os.close(dfd)
                    new_entries["/".join(parts)] = {"sha256": self._sha[key], "owner": self.owner}
                    done.written.append(str(self.root / rel))
            except BaseException:
                if new_entries:  # what was placed is wfconv's: say so
                    with contextlib.suppress(OSError):
                        _write_manifest(fd, {**manifest, **new_entries})
                raise
            entries = {k: v for k, v in manifest.items() if k not in new_entries}
            for rel, entry in sorted(manifest.items()):
                if rel in new_entries or entry.get("owner") != self.owner:
                    continue
                gone = _remove_stale(fd, rel, entry.get("sha256"))
                entries.pop(rel, None)
                if gone is True:
                    done.removed.append(str(self.root / rel))
                elif gone is False:
                    done.kept.append(str(self.root / rel))
            entries.update(new_entries)
            _write_manifest(fd, entries)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._created = False  # the folder is the user's output now, empty or not
        return done

    def close(self) -> None:
        """Remove what is still staged; a folder this set created and left
        empty goes too."""
        if self._stage_fd is not None:
            os.close(self._stage_fd)
            self._stage_fd = None
            with contextlib.suppress(OSError):
                shutil.rmtree(self._stage_name, dir_fd=self._root_fd)
        if self._root_fd is not None:
            os.close(self._root_fd)
            self._root_fd = None
            if self._created:
                with contextlib.suppress(OSError):
                    self.root.rmdir()


def _sweep_staging(root_fd: int) -> None:
    """Remove the staging folders of wfconv processes that no longer run
    (killed before they could clean up)."""
    for name in os.listdir(root_fd):
        if not name.startswith(STAGING_PREFIX):
            continue
        pid = name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(name, dir_fd=root_fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _one_file(path: Path) -> tuple[Path, str]:
    name = path.name
    if not name or name in (".", ".."):
        raise UsageError(f"{path}: not a file name")
    if name == MANIFEST:
        raise UsageError(f"{MANIFEST} is wfconv's own manifest and cannot be an output")
    _safe_relative(name)
    return path.parent, name


def check_file(
    path: str | os.PathLike, *, force: bool = False, inputs: Iterable[str | os.PathLike] = ()
) -> None:
    """Refuse now what ``write_file`` would refuse later (before a long command runs)."""
    folder, name = _one_file(Path(path))
    if not folder.is_dir():
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        why = _check(fd, name, [name], _read_manifest(fd), _input_keys(inputs), force)
    finally:
        os.close(fd)
    if why is not None:
        raise OutputRefused([f"{path}: {why}"])


def write_file(
    path: str | os.PathLike,
    content: str | bytes,
    *,
    force: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Written:
    """Write one file (``-o FILE``) under the same promises; its folder is
    created when missing."""
    data = content if isinstance(content, str) else content.decode("utf-8")
    with stream_file(path, force=force, inputs=inputs) as write:
        write(data)
    return Written(written=[str(path)])


@contextlib.contextmanager
def stream_file(
    path: str | os.PathLike, *, force: bool = False, inputs: Iterable[str | os.PathLike] = ()
) -> Iterator[Callable[[str], Any]]:
    """A ``write(text)`` into ``path`` for a command that prints as it goes:
    refused at once if ``write_file`` would refuse it, written to a temporary
    file beside it, and renamed over it (then recorded in the manifest) only
    when the command is done; a command that fails leaves the old file."""
    path = Path(path)
    folder, name = _one_file(path)
    keys = _input_keys(inputs)

    def refuse_if_needed(fd: int, manifest: Mapping[str, dict]) -> None:
        why = _check(fd, name, [name], manifest, keys, force)
        if why is not None:
            raise OutputRefused([f"{path}: {why}"])

    with _folder(folder) as fd:
        refuse_if_needed(fd, _read_manifest(fd))
        tmp, tmp_fd = _temporary(fd, name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(tmp_fd, "w", encoding="utf-8", newline="") as fh:

            def write(text: str) -> None:
                fh.write(text)
                digest.update(text.encode("utf-8", "surrogatepass"))

            yield write
        with _folder(folder) as fd:  # checked again: the command may have run for minutes
            manifest = _read_manifest(fd)
            refuse_if_needed(fd, manifest)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            manifest[name] = {"sha256": digest.hexdigest(), "owner": None}
            _write_manifest(fd, manifest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(folder / tmp)
        raise


def _write_manifest(root_fd: int, entries: Mapping[str, dict]) -> None:
    doc = {
        "wfconv_manifest": MANIFEST_VERSION,
        "about": "files wfconv wrote in this folder; it overwrites only these, unchanged",
        "files": dict(sorted(entries.items())),
    }
    _write_atomic(root_fd, [MANIFEST], (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
