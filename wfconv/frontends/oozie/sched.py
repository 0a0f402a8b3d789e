"""Coordinator frequency/start/end -> the IR's schedule (the trigger model).

Oozie runs action k at its nominal time N_k = start + k·f (while N_k < end)
and ``coord:nominalTime()`` is N_k: each run starts at its tick and sees it,
which is the IR's *trigger* time model (docs/semantics.md R3,
``schedule.model = "trigger"``, a zero-length data interval). So the IR
``start_date`` is the first nominal time, ``end_date`` the last nominal time
before ``end`` (trigger runs exist while T ≤ end_date), and
``coord:nominalTime()`` reads as ``data_interval_end``, which is the tick in
the trigger model and stays the run's start if a writer has to fall back on
data intervals. The coordinator's own start/end stay in
``extra.oozie.coordinator``.

Frequencies: ``coord:minutes/hours(n)`` are fixed durations (cron in UTC when
aligned, else an interval); ``coord:days(1)``, ``coord:days(7)`` and ``coord:months(n)`` keep
the wall-clock time across DST (cron in the coordinator's timezone);
``coord:days(n>1)`` becomes an interval (exact in UTC, drifts by an hour across
DST elsewhere: diagnostic); cron frequencies are kept.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from wfconv.ir.model import TRIGGER, Schedule
from wfconv.runtime.schedule import delta_cron

SCHEDULE_APPROX = "OZ501"

_UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}


@dataclass
class Frequency:
    unit: str  # minutes | hours | days | months | endOfDays | endOfMonths | cron
    n: int = 0
    cron: str | None = None


@dataclass
class Plan:
    schedule: Schedule
    start_date: str | None
    end_date: str | None
    first_nominal: str | None = None
    last_nominal: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)


def zone(tz: str | None):
    """A tzinfo for an Oozie timezone id (IANA names, UTC, GMT±hh:mm)."""
    if not tz or tz in ("UTC", "GMT", "Z"):
        return _dt.UTC
    if tz.startswith("GMT") and len(tz) > 3:
        sign = -1 if tz[3] == "-" else 1
        hh, _, mm = tz[4:].partition(":")
        try:
            return _dt.timezone(sign * _dt.timedelta(hours=int(hh), minutes=int(mm or 0)))
        except ValueError:
            return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def quartz_dow_to_unix(field_: str) -> str:
    """Oozie's cron day-of-week is Quartz's (1 = SUN ... 7 = SAT, ``L`` alone =
    SAT); the IR's is Unix cron's (0 = SUN ... 6 = SAT). Names, ``*``, steps,
    ``nL`` (last n-day) and ``n#k`` (k-th n-day) keep their form."""

    def day(tok: str) -> str:
        if tok.isdigit() and 1 <= int(tok) <= 7:
            return str(int(tok) - 1)
        return tok  # a name, '*', or out of range (cron reports it)

    def value(tok: str) -> str:
        if tok == "L":
            return "6"
        for mark in ("#", "L"):
            head, sep, tail = tok.partition(mark)
            if sep and head:
                return day(head) + sep + tail
        return day(tok)

    out = []
    for part in field_.split(","):
        base, sep, step = part.partition("/")
        lo, dash, hi = base.partition("-")
        out.append(value(lo) + (dash + value(hi) if dash else "") + sep + step)
    return ",".join(out)


def iso(d: _dt.datetime) -> str:
    return d.astimezone(_dt.UTC).isoformat()


def _dst_fold_note(tz, tzname: str, local: _dt.datetime, notes) -> None:
    """A wall-clock time that repeats or is skipped on a DST change day: Oozie
    (Java calendar arithmetic) and cron may pick different instants that day."""
    if tz is _dt.UTC or isinstance(tz, _dt.timezone):
        return
    for year in (local.year, local.year + 1):
        day = _dt.date(year, 1, 1)
        while day.year == year:
            wall = _dt.datetime(year, day.month, day.day, local.hour, local.minute)
            a, b = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
            if a.utcoffset() != b.utcoffset():
                notes.append(
                    (
                        "warning",
                        f"{local:%H:%M} does not exist once or happens twice on DST change days "
                        f"in {tzname} (e.g. {day}); Oozie and cron may pick different instants then",
                    )
                )
                return
            day += _dt.timedelta(days=1)


def _cron_plan(
    expr: str, tzname: str, tz, start: _dt.datetime, end: _dt.datetime | None, notes
) -> Plan:
    try:
        first = next(CronSim(expr, start.astimezone(tz) - _dt.timedelta(seconds=1)))
        prev = next(CronSim(expr, first, reverse=True))
    except (CronSimError, StopIteration, ValueError) as exc:
        notes.append(
            (
                "warning",
                f"cron frequency {expr!r} cannot be iterated ({exc}); the workflow is left unscheduled",
            )
        )
        return Plan(Schedule("manual"), iso(start), iso(end) if end else None, notes=notes)
    end_date = last = None
    if end is not None:
        lastn = next(CronSim(expr, end.astimezone(tz), reverse=True))
        if lastn >= first:
            last = end_date = iso(lastn)
        else:
            notes.append(
                ("warning", "the coordinator's end is not after its first nominal time: no run")
            )
            end_date = iso(prev)
    sched = Schedule("cron", cron=expr, timezone=tzname, model=TRIGGER)
    return Plan(sched, iso(first), end_date, iso(first), last, notes)


def _interval_plan(minutes: int, start: _dt.datetime, end: _dt.datetime | None, notes) -> Plan:
    f = _dt.timedelta(minutes=minutes)
    end_date = last = None
    if end is not None:
        k = (end - start - _dt.timedelta(microseconds=1)) // f if end > start else -1
        if k >= 0:
            last = end_date = iso(start + k * f)
        else:
            notes.append(("warning", "the coordinator's end is not after its start: no run"))
            end_date = iso(start - f)
    sched = Schedule("interval", seconds=float(minutes * 60), timezone="UTC", model=TRIGGER)
    return Plan(sched, iso(start), end_date, iso(start), last, notes)


def plan(freq: Frequency, tzname: str, start: _dt.datetime, end: _dt.datetime | None) -> Plan:
    """The IR schedule and dates reproducing the coordinator's nominal times."""
    notes: list[tuple[str, str]] = []
    tz = zone(tzname)
    if tz is None:
        notes.append(("warning", f"unknown timezone {tzname!r}; UTC is used"))
        tz, tzname = _dt.UTC, "UTC"
    local = start.astimezone(tz)
    utc = start.astimezone(_dt.UTC)
    n = freq.n
    if freq.unit == "cron":
        fields = ["*" if f == "?" else f for f in (freq.cron or "").split()]
        if len(fields) == 5:
            fields[4] = quartz_dow_to_unix(fields[4])
        expr = " ".join(fields)
        if any(c in expr for c in "LW#"):
            notes.append(
                (
                    "warning",
                    f"cron frequency {freq.cron!r} uses Quartz letters (L, W, #) cron cannot hold",
                )
            )
        return _cron_plan(expr, tzname, tz, start, end, notes)
    if n <= 0:
        notes.append(
            (
                "warning",
                f"coord:{freq.unit}({n}) is not a frequency; the workflow is left unscheduled",
            )
        )
        return Plan(Schedule("manual"), iso(start), iso(end) if end else None, notes=notes)
    if freq.unit == "days" and n == 7:
        # a week keeps its wall-clock time across DST, as a weekly cron in the timezone
        dow = local.isoweekday() % 7
        _dst_fold_note(tz, tzname, local, notes)
        return _cron_plan(f"{local.minute} {local.hour} * * {dow}", tzname, tz, start, end, notes)
    if freq.unit in ("minutes", "hours") or (freq.unit == "days" and n > 1):
        minutes = n * _UNIT_MINUTES[freq.unit]
        # A period dividing an hour or a day, aligned: the same ticks as a UTC cron.
        cron = delta_cron(minutes * 60.0, utc.replace(second=0, microsecond=0))
        if cron is not None and minutes < 1440:
            return _cron_plan(cron, "UTC", _dt.UTC, start, end, notes)
        if freq.unit == "days" and tz is not _dt.UTC:
            notes.append(
                (
                    "warning",
                    f"coord:days({n}) keeps the wall-clock time across DST in {tzname}; "
                    "the IR interval is a fixed duration and shifts by an hour after a DST change",
                )
            )
        return _interval_plan(minutes, start, end, notes)
    if freq.unit == "days":  # n == 1
        _dst_fold_note(tz, tzname, local, notes)
        return _cron_plan(f"{local.minute} {local.hour} * * *", tzname, tz, start, end, notes)
    if freq.unit == "months":
        if 12 % n != 0:
            notes.append(
                (
                    "warning",
                    f"coord:months({n}) has no cron form; approximated by an interval of {30 * n} days",
                )
            )
            return _interval_plan(n * 30 * 1440, start, end, notes)
        months = sorted({(local.month - 1 + k * n) % 12 + 1 for k in range(12 // n)})
        mfield = "*" if n == 1 else ",".join(str(m) for m in months)
        if local.day > 28:
            notes.append(
                (
                    "warning",
                    f"coord:months({n}) from day {local.day}: Oozie moves to the month's last day in "
                    "shorter months, cron skips them",
                )
            )
        _dst_fold_note(tz, tzname, local, notes)
        return _cron_plan(
            f"{local.minute} {local.hour} {local.day} {mfield} *", tzname, tz, start, end, notes
        )
    if freq.unit in ("endOfDays", "endOfMonths"):
        notes.append(
            (
                "warning",
                f"coord:{freq.unit}({n}) is anchored at the end of the period; approximated by a cron at "
                "midnight"
                + ("" if n == 1 else f" every {'day' if freq.unit == 'endOfDays' else 'month'}"),
            )
        )
        expr = "0 0 * * *" if freq.unit == "endOfDays" else "0 0 1 * *"
        if n != 1:
            notes.append(
                ("warning", f"coord:{freq.unit}({n}): only a period of 1 is translated exactly")
            )
        return _cron_plan(expr, tzname, tz, start, end, notes)
    notes.append(("warning", f"frequency unit {freq.unit!r} is not understood"))
    return Plan(Schedule("manual"), iso(start), iso(end) if end else None, notes=notes)
