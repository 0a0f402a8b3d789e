"""Schedule arithmetic for the scheduling checks (cronsim, timezone-aware).

Counting catch-up runs is exact up to ``EXACT_TICKS`` ticks; beyond that the
count is extrapolated from the average spacing of those ticks (the message
says "about"), so that an hourly DAG started in 2015 costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from wfconv.ir.model import Schedule
from wfconv.runtime.schedule import CRON_FLOOR

EXACT_TICKS = 1000

# cronsim's messages for expressions that parse but name a date that never exists.
_IMPOSSIBLE = ("Bad day-of-month",)


def parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _tz(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except Exception:  # unknown zone: count in UTC (the frontend reports the zone)
        return UTC


@dataclass(frozen=True)
class CronCheck:
    ok: bool
    impossible: bool = False
    error: str | None = None


@lru_cache(maxsize=4096)
def check_cron(expr: str) -> CronCheck:
    """Is the expression valid, and can it ever fire?"""
    try:
        it = CronSim(expr, datetime(2000, 1, 1, tzinfo=UTC))
        next(it)
    except CronSimError as exc:
        msg = str(exc)
        return CronCheck(False, impossible=msg in _IMPOSSIBLE, error=msg)
    except StopIteration:
        return CronCheck(False, impossible=True, error="no fire time")
    return CronCheck(True)


def first_tick(s: Schedule, start: datetime) -> datetime | None:
    start = max(start, CRON_FLOOR)  # datetime(1, 1, 1) cannot be stepped from
    if s.kind == "cron" and s.cron:
        try:
            return next(CronSim(s.cron, start.astimezone(_tz(s.timezone))))
        except (CronSimError, StopIteration):
            return None
    if s.kind == "interval" and s.seconds and s.seconds > 0:
        return start
    return None


@dataclass
class RunCount:
    runs: int
    exact: bool


def count_ticks(s: Schedule, start: datetime, stop: datetime) -> RunCount | None:
    """Schedule ticks in [start, stop]: the runs catch-up would create (one per
    tick; Airflow 2's data-interval model creates one fewer, which the message
    does not pretend to know)."""
    if stop < start:
        return RunCount(0, True)
    if s.kind == "interval":
        if not s.seconds or s.seconds <= 0:
            return None
        return RunCount(int((stop - start).total_seconds() // s.seconds) + 1, True)
    if s.kind != "cron" or not s.cron:
        return None
    # Ticks before 1900 are estimated (datetime(1, 1, 1) cannot be stepped from).
    before = max((CRON_FLOOR - start).total_seconds(), 0.0)
    start = max(start, CRON_FLOOR)
    try:
        it = CronSim(s.cron, start.astimezone(_tz(s.timezone)) - timedelta(microseconds=1))
        n = 0
        last = start
        for tick in it:
            if tick > stop:
                if not before:
                    return RunCount(n, True)
                break
            n += 1
            last = tick
            if n >= EXACT_TICKS:
                break
    except (CronSimError, StopIteration):
        return None
    # n ticks from the first one to `last` span n - 1 intervals.
    first = next(CronSim(s.cron, start.astimezone(_tz(s.timezone)) - timedelta(microseconds=1)))
    span = (last - first).total_seconds()
    if span <= 0:
        return RunCount(n, False)
    total = (stop - first).total_seconds() + before
    return RunCount(1 + int((n - 1) * total / span), False)
