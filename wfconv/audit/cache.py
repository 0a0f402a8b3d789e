"""On-disk cache of per-file audit results.

Key: a hash of the file's bytes, its path (findings name it), the audit
configuration (reference date) and a fingerprint of the code that produces
findings (wfconv's version plus the content of every module under
``wfconv/audit``, ``wfconv/frontends`` and ``wfconv/ir``), so that a changed
frontend or check never serves stale findings. One SQLite file holds every entry: a warm audit
does one indexed read per file instead of opening thousands of small files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from pathlib import Path

import wfconv

_FINGERPRINTED = ("audit", "frontends", "ir")


@functools.cache
def code_fingerprint(parts: tuple[str, ...] = _FINGERPRINTED) -> str:
    """wfconv's version and the source of the subpackages (or modules) in
    ``parts``: what the cached results depend on."""
    h = hashlib.blake2b(digest_size=16)
    h.update(wfconv.__version__.encode())
    root = Path(wfconv.__file__).parent
    for sub in parts:
        where = root / sub
        for p in sorted(where.rglob("*.py")) if where.is_dir() else [where]:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def content_key(path: str, data: bytes, config: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(code_fingerprint().encode())
    h.update(b"\0" + config.encode() + b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
    h.update(data)
    return h.hexdigest()


class Cache:
    """get/put JSON-able dicts by key; writes are committed in batches."""

    BATCH = 256

    def __init__(self, directory: str | Path, name: str = "audit-cache.sqlite"):
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(d / name), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._pending: list[tuple[str, str]] = []

    def get(self, key: str) -> dict | None:
        row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        self._pending.append((key, json.dumps(value, separators=(",", ":"))))
        if len(self._pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)", self._pending)
            self._pending.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()
