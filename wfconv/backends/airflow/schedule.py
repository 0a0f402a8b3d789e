"""The DAG's own arguments: schedule (in the source's time model), dates,
catchup and the rest of ``DAG(...)``."""

from __future__ import annotations

import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfconv.backends.airflow.context import Ctx, airflow_keys, seconds
from wfconv.backends.airflow.tables import BARE_MODEL
from wfconv.backends.common import Code, loss, py_literal
from wfconv.errors import InputError
from wfconv.ir.model import DATA_INTERVAL
from wfconv.runtime.schedule import (
    CATCHUP_BY_DEFAULT,
    delta_cron,
    effective_catchup,
    parse_datetime,
)

# --- workflow-level --------------------------------------------------------------


def _tz(ctx: Ctx) -> str:
    tz = ctx.workflow.schedule.timezone or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        ctx.add(
            loss(
                "BA201",
                f"timezone {tz!r} is unknown; UTC used",
                source=ctx.workflow,
                target="start_date",
            )
        )
        return "UTC"
    return tz


def _shifted(ctx: Ctx, text: str | None) -> str | None:
    """A source date, moved back one interval when data intervals stand in
    for trigger ticks (BA207): the run for [T - d, T] starts at the source's
    tick T and exists while T - d is at or before the end date."""
    if not text or not ctx.shift_s:
        return text
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return (moment - _dt.timedelta(seconds=ctx.shift_s)).isoformat()


def _date(ctx: Ctx, text: str | None, what: str) -> Code | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        ctx.add(
            loss(
                "BA204",
                f"{what} {text!r} is not ISO-8601; dropped",
                source=ctx.workflow,
                target=what,
            )
        )
        return None
    tz = _tz(ctx)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    local = value.astimezone(ZoneInfo(tz))
    parts = [
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
    ]
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    ctx.needs_pendulum = True
    return Code(f"pendulum.datetime({', '.join(str(p) for p in parts)}, tz={py_literal(tz)})")


def _schedule(ctx: Ctx) -> Any:
    s = ctx.workflow.schedule
    if s.kind in ("cron", "interval") and s.datasets and (s.cron or s.seconds):
        return _or_time_schedule(ctx, s)
    if (s.kind == "cron" and s.cron) or (s.kind == "interval" and s.seconds):
        return _time_schedule(ctx, s, bare_ok=True)
    if s.kind == "once":
        return "@once"
    if s.kind in ("datasets", "assets") and s.datasets:
        ctx.use("Asset")
        cls = "Asset" if ctx.version >= 3 else "Dataset"
        return Code("[" + ", ".join(f"{cls}({py_literal(d)})" for d in s.datasets) + "]")
    if s.kind == "manual" and _continuous(ctx):
        return "@continuous"
    return None


def _continuous(ctx: Ctx) -> bool:
    """An Airflow source's ``@continuous`` (the IR reads it as manual, AF207,
    and keeps it in extra): Airflow 2.6+ and 3 say it as such, one run at a
    time."""
    extra = ctx.workflow.extra.get("airflow") if isinstance(ctx.workflow.extra, dict) else None
    return (
        isinstance(extra, dict)
        and extra.get("schedule") == "@continuous"
        and ctx.workflow.max_active_runs == 1
    )


def _time_schedule(ctx: Ctx, s: Any, bare_ok: bool) -> Any:
    """The construct that starts each run when the source does and shows it
    the same logical date and data interval (docs/semantics.md R3): a bare
    cron/timedelta where the target version gives it the source's time
    model, else the timetable that says it (``bare_ok=False``: always the
    timetable)."""
    model = s.time_model
    tz = py_literal(s.timezone or "UTC")
    interval = f", interval={seconds(ctx, s.interval_s)}" if s.interval_s else ""
    # A bare value means a data interval in Airflow 2 and a trigger in 3; a
    # bare cron takes the DAG's timezone, which is start_date's.
    bare = (
        bare_ok
        and not interval
        and BARE_MODEL[ctx.version] == model
        and (s.kind == "interval" or (s.timezone or "UTC") == "UTC" or ctx.workflow.start_date)
    )
    if bare:
        return s.cron if s.kind == "cron" else seconds(ctx, s.seconds)
    if model == DATA_INTERVAL:
        if s.kind == "cron":
            return Code(
                f"{ctx.use('CronDataIntervalTimetable')}({py_literal(s.cron)}, timezone={tz})"
            )
        return Code(f"{ctx.use('DeltaDataIntervalTimetable')}({seconds(ctx, s.seconds)})")
    if s.kind == "cron":
        return Code(
            f"{ctx.use('CronTriggerTimetable')}({py_literal(s.cron)}, timezone={tz}{interval})"
        )
    if ctx.version >= 3:
        delta = seconds(ctx, s.seconds)
        return Code(f"{ctx.use('DeltaTriggerTimetable')}({delta}{interval})")
    # Airflow 2 has no DeltaTriggerTimetable: the same ticks as a cron, else
    # data intervals ending at the ticks (start_date moves back, _start_date).
    start = None
    if ctx.workflow.start_date:
        try:
            start = parse_datetime(ctx.workflow.start_date, s.timezone or "UTC")
        except InputError:
            pass
    cron = delta_cron(float(s.seconds), start) if start is not None else None
    if cron is not None:
        trigger = ctx.use("CronTriggerTimetable")
        return Code(f"{trigger}({py_literal(cron)}, timezone={py_literal('UTC')}{interval})")
    ctx.shift_s = float(s.seconds)
    if float(s.interval_s or 0) != float(s.seconds):  # else the same dates, exactly
        ctx.add(
            loss(
                "BA207",
                "Airflow 2 has no DeltaTriggerTimetable: a timedelta data interval ending at "
                "each tick starts the same runs, but their logical_date/ds/data_interval_start "
                "are one interval earlier than the source's",
                source=ctx.workflow,
                target="schedule=timedelta",
            )
        )
    return seconds(ctx, s.seconds)


def _or_time_schedule(ctx: Ctx, s: Any) -> Code:
    """A time schedule that also runs on dataset/asset updates: Airflow 3's
    AssetOrTimeSchedule (2.9+: DatasetOrTimeSchedule) over the timetable of
    the schedule's time model."""
    v3 = ctx.version >= 3
    timetable = _time_schedule(ctx, s, bare_ok=False)
    ctx.use("Asset")
    asset = "Asset" if v3 else "Dataset"
    events = "[" + ", ".join(f"{asset}({py_literal(d)})" for d in s.datasets) + "]"
    if v3:
        return Code(f"{ctx.use('AssetOrTimeSchedule')}(timetable={timetable}, assets={events})")
    ctx.add(
        loss(
            "BA206",
            "DatasetOrTimeSchedule needs Airflow 2.9 or later",
            source=ctx.workflow,
            severity="info",
            target="DatasetOrTimeSchedule",
        )
    )
    return Code(f"{ctx.use('DatasetOrTimeSchedule')}(timetable={timetable}, datasets={events})")


def _catchup(ctx: Ctx) -> bool | None:
    """``catchup=`` to write: the source's, or its engine's default when the
    target version's default differs (Airflow 2: on, Airflow 3: off)."""
    w = ctx.workflow
    if w.catchup is not None:
        return bool(w.catchup)
    if w.schedule.kind not in ("cron", "interval") or not w.start_date:
        return None  # Airflow refuses catchup=True without a start_date
    meant = effective_catchup(w)
    return meant if meant != CATCHUP_BY_DEFAULT[BARE_MODEL[ctx.version]] else None


def dag_arguments(ctx: Ctx) -> list[tuple[str, Any]]:
    w = ctx.workflow
    dag_id = airflow_keys([w.id])[w.id]
    if dag_id != w.id:
        ctx.add(
            loss(
                "BA119",
                f"Airflow DAG ids allow only letters, digits, '_', '.', '-': {w.id!r} emitted as {dag_id!r}",
                source=w,
                target="dag_id",
            )
        )
    kw: list[tuple[str, Any]] = [("dag_id", dag_id)]
    if w.description:
        kw.append(("description", w.description))
    kw.append(("schedule", _schedule(ctx)))
    start = _date(ctx, _shifted(ctx, w.start_date), "start_date")
    if start is not None:
        kw.append(("start_date", start))
    elif w.schedule.kind not in ("manual", "once", "datasets", "assets"):
        ctx.add(
            loss(
                "BA203",
                "scheduled workflow without start_date: Airflow needs one to schedule runs",
                source=w,
                target="DAG(start_date=...)",
            )
        )
    end = _date(ctx, _shifted(ctx, w.end_date), "end_date")
    if end is not None:
        kw.append(("end_date", end))
    catchup = _catchup(ctx)
    if catchup is not None:
        kw.append(("catchup", catchup))
    if w.max_active_runs is not None:
        kw.append(("max_active_runs", int(w.max_active_runs)))
    if w.timeout_s is not None:
        kw.append(("dagrun_timeout", seconds(ctx, w.timeout_s)))
    if w.params:
        kw.append(("params", dict(w.params)))
    if ctx.shared_owner:
        kw.append(("default_args", {"owner": ctx.shared_owner}))
    if w.tags:
        kw.append(("tags", list(w.tags)))
    return kw
