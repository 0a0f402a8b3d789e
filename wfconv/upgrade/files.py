"""Which files ``wfconv upgrade`` reads, and how it writes them.

Only Airflow DAG files are touched: a file the user named, or a ``.py`` file
inside a folder the user named, whose imports say Airflow (the engine
detection of ``wfconv.frontends``). A file is written in place atomically: the
new text goes to a temporary file in the same folder, which replaces the
original (keeping its permission bits) only if the original has not changed
since it was read. Symbolic links are never written through: the target may
lie outside the folders the user named.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wfconv.errors import InputError
from wfconv.frontends import _read, detect_engine, iter_workflow_files


@dataclass
class Source:
    path: str
    text: str


def collect(paths) -> Iterator[Source | InputError | tuple[str, str]]:
    """Each Airflow file under ``paths`` (in order, once) as a Source; an
    unreadable one as an InputError; a named file that is not an Airflow DAG
    file as (path, why) so that it can be mentioned."""
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            yield InputError(str(raw), None, "no such file or directory")
            continue
        named = not p.is_dir()
        files = (
            [p]
            if named
            else [f for f in iter_workflow_files(p) if f.is_file() and f.suffix == ".py"]
        )
        for f in files:
            key = os.path.realpath(f)
            if key in seen:
                continue
            seen.add(key)
            try:
                text = _read(f)
            except InputError as exc:
                yield exc
                continue
            if detect_engine(str(f), text) != "airflow":
                if named:
                    yield (str(f), "not an Airflow DAG file (it imports no airflow): left alone")
                continue
            yield Source(str(f), text)


def write_atomic(path: str, old: str, new: str) -> None:
    """Replace the file's text ``old`` by ``new`` in one step. Raises
    InputError when the file is a symbolic link or changed meanwhile."""
    p = Path(path)
    if p.is_symlink():
        raise InputError(
            path, None, "is a symbolic link: not written (upgrade the file it points to)"
        )
    if _read(p) != old:
        raise InputError(path, None, "changed while it was being upgraded: not written")
    mode = p.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".wfconv-tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
