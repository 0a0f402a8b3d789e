"""Durations and times as people read them, for the terminal and the pages.

A hand-made formatter on purpose: ``humanize`` spells units out in words
("0.83 milliseconds", "4 minutes and 58 seconds"), too long for a table
column; here a duration is at most two short units ("825 ms", "4m 58s").
"""

from __future__ import annotations

from datetime import UTC, datetime


def duration(seconds: float | None) -> str:
    """``825 ms``, ``1.2 s``, ``42 s``, ``4m 58s``, ``2h 05m``, ``3d 4h``; ``-`` for unknown."""
    if seconds is None:
        return "-"
    if seconds < 0:
        return "-" + duration(-seconds)
    if seconds < 0.001:
        return "<1 ms" if seconds > 0 else "0 s"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d {whole % 86400 // 3600}h"


def span(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    return duration(end - start)


def when(t: float | None, seconds: bool = True) -> str:
    """A POSIX time as UTC ``2024-03-01 06:00:00`` (``-`` for unknown)."""
    if t is None:
        return "-"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(t, UTC).strftime(fmt)


def date(t: float | None) -> str:
    if t is None:
        return "-"
    d = datetime.fromtimestamp(t, UTC)
    return d.strftime("%Y-%m-%d") if (d.hour, d.minute, d.second) == (0, 0, 0) else when(t)


def counts(states: dict[str, int]) -> str:
    """``5 success, 1 failed`` in a stable order (most common first)."""
    items = sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{n} {s}" for s, n in items if n)
