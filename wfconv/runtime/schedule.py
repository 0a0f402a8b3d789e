"""Run generation: which runs a schedule creates, with which time anchors.

Two models (docs/semantics.md §6 R3), chosen with ``timetable``:

- ``"data_interval"`` (Airflow 2): the run for the interval
  [X, next(X)) has ``logical_date`` = X and is triggered at next(X). X₀ is
  the first tick ≥ start_date (for an interval schedule, start_date itself);
  a run exists while X ≤ end_date. ``catchup=False`` starts at the latest
  completed interval (Airflow's ``_skip_to_latest``: for intervals, "now" is
  first rounded down to a multiple of the interval since the epoch).
- ``"trigger"`` (Airflow 3 ``CronTriggerTimetable``, Prefect, Oozie): a run
  at each tick T with data_interval_end = T and logical_date =
  data_interval_start = T - ``schedule.interval_s`` (= T when the interval is
  zero-length, the default); ``catchup=False`` keeps only the latest tick ≤ now.

The model is the workflow's own (``schedule.model``, docs/architecture.md §4)
unless a caller asks for the other one (``wfconv run --timetable``).

Cron ticks come from cronsim on the wall clock of the schedule's timezone,
localized the way Airflow's ``CronMixin`` does: a cron that fires every hour
(hour field ``*``) steps in absolute time so a DST change neither drops nor
doubles a run; other crons are computed on the wall clock and localized
(a time in the spring-forward gap moves forward by the gap, an ambiguous
autumn time takes its first occurrence).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from wfconv.errors import InputError
from wfconv.ir.model import CRON_PRESETS, DATA_INTERVAL, TIME_MODELS, TRIGGER

if TYPE_CHECKING:
    from cronsim import CronSim

# zoneinfo and cronsim are imported by the schedules that need them: a run
# of a manual workflow on a date needs neither (2.7 ms of `wfconv run`'s start).

TIMETABLES = TIME_MODELS
CATCHUP_BY_DEFAULT = {DATA_INTERVAL: True, TRIGGER: False}  # Airflow 2 / Airflow 3


@dataclass(frozen=True)
class RunInfo:
    """One run to create: its anchors and when the scheduler triggers it."""

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_after: datetime  # trigger time: when the scheduler may start it
    run_type: str = "scheduled"  # scheduled | backfill | manual

    @property
    def run_id(self) -> str:
        return f"{self.run_type}__{self.logical_date.isoformat()}"


# Where Python's datetime ends. A tick after it does not exist: ``next``
# answers END_OF_TIME, later than any run's bounds, so every loop over ticks
# stops there (Airflow's example DAGs start at datetime.min; users ask for
# --date 9999-12-31).
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
START_OF_TIME = datetime.min.replace(tzinfo=UTC)


def parse_datetime(text: str, tz: str = "UTC") -> datetime:
    """ISO date or datetime; a naive value is read in ``tz``."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(None, None, f"not an ISO date/time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise InputError(
            None, None, f"{text!r} in {dt.tzinfo} is outside the years 1 to 9999 in UTC"
        ) from None


def later(t: datetime, delta: timedelta) -> datetime:
    """``t + delta``, or END_OF_TIME (START_OF_TIME) past datetime's range."""
    try:
        return t + delta
    except OverflowError:
        return END_OF_TIME if delta > timedelta(0) else START_OF_TIME


def zone(name: str | None) -> tzinfo:
    if not name or name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(None, None, f"unknown timezone {name!r}") from None


class CronTicks:
    """Cron tick arithmetic in a timezone, Airflow's way (see module doc)."""

    def __init__(self, expr: str, tz: str = "UTC"):
        expr = CRON_PRESETS.get(expr.strip(), expr.strip())
        self.expr = expr
        self.tz = zone(tz)
        from cronsim import CronSim, CronSimError

        self._cronsim = CronSim
        try:
            CronSim(expr, datetime(2000, 1, 1))
        except CronSimError as exc:
            raise InputError(None, None, f"bad cron expression {expr!r}: {exc}") from None
        fields = expr.split()
        self.every_hour = len(fields) >= 2 and fields[1] == "*"
        # One CronSim per direction, kept while steps chain (see _step), and
        # the answers of the last few steps: run generation asks next/prev of
        # the same ticks again (align_prev of each interval's end), and
        # building a CronSim per question cost 3 per run (issue 19).
        self._cursor: dict[bool, tuple[datetime, CronSim, datetime] | None] = {}
        self._memo: dict[tuple[datetime, bool], datetime] = {}

    def _naive(self, t: datetime) -> datetime:
        return t.astimezone(self.tz).replace(tzinfo=None)

    def _aware(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def _step(self, t: datetime, reverse: bool) -> datetime:
        try:
            return self._step_from(t, reverse)
        except (OverflowError, StopIteration):
            self._cursor[reverse] = None
            if not reverse:
                return END_OF_TIME  # no tick after t before the end of time
            if t < END_OF_TIME - timedelta(days=2):
                return START_OF_TIME  # none before t since the year 1
            # the wall time of the last two days may not exist in the zone
            return self._step(END_OF_TIME - timedelta(days=2), True)

    def _step_from(self, t: datetime, reverse: bool) -> datetime:
        memo = self._memo
        known = memo.get((t, reverse))
        if known is not None:
            return known
        cursor = self._cursor.get(reverse)
        if cursor is not None and cursor[0] == t:
            # t is this iterator's last tick and its wall time is the
            # iterator's position: continuing equals starting afresh from t.
            _, it, naive = cursor
            chained = True
        else:
            naive = self._naive(t)
            it = self._cronsim(self.expr, naive, reverse=reverse)
            chained = False
        scheduled = next(it)
        if self.every_hour:
            result = t.astimezone(UTC) + (scheduled - naive)
        else:
            result = self._aware(scheduled)
        if len(memo) > 64:
            memo.clear()
        memo[(t, reverse)] = result
        if self._naive(result) == scheduled:
            self._cursor[reverse] = (result, it, scheduled)
            if chained:
                # t and result are consecutive ticks whose wall times round
                # trip, so stepping back from result gives t.
                memo[(result, not reverse)] = t
        else:  # a DST gap or fold moved it: the next step starts afresh
            self._cursor[reverse] = None
        return result

    def next(self, t: datetime) -> datetime:
        """First tick strictly after ``t``."""
        return self._step(t, False)

    def prev(self, t: datetime) -> datetime:
        """Last tick strictly before ``t``."""
        return self._step(t, True)

    def align_next(self, t: datetime) -> datetime:
        """``t`` if it is a tick, else the next tick."""
        return t if self._is_tick(t) else self.next(t)

    def align_prev(self, t: datetime) -> datetime:
        """``t`` if it is a tick, else the previous tick."""
        return t if self._is_tick(t) else self.prev(t)

    def _is_tick(self, t: datetime) -> bool:
        before = self.prev(t)
        if before == START_OF_TIME:  # none since the year 1: ask from after t
            return self.prev(self.next(t)) == t
        return self.next(before) == t


class DeltaTicks:
    """Fixed-interval schedule (``timedelta``)."""

    def __init__(self, seconds: float):
        if not seconds or seconds <= 0:
            raise InputError(None, None, f"interval schedule needs seconds > 0, got {seconds!r}")
        self.delta = timedelta(seconds=seconds)

    def next(self, t: datetime) -> datetime:
        return later(t, self.delta)

    def prev(self, t: datetime) -> datetime:
        return later(t, -self.delta)

    def align_next(self, t: datetime) -> datetime:
        return t

    def align_prev(self, t: datetime) -> datetime:
        return t

    def round_epoch(self, t: datetime) -> datetime:
        secs = t.timestamp()
        step = self.delta.total_seconds()
        return datetime.fromtimestamp(secs - secs % step, tz=UTC)


def ticks_for(schedule) -> CronTicks | DeltaTicks | None:
    if schedule.kind == "cron":
        if not schedule.cron:
            raise InputError(None, None, "cron schedule without an expression")
        return CronTicks(schedule.cron, schedule.timezone or "UTC")
    if schedule.kind == "interval":
        return DeltaTicks(float(schedule.seconds or 0))
    return None


@dataclass
class RunPlan:
    """Inputs of run generation that do not come from the IR."""

    now: datetime
    # None: the workflow's own model (schedule.time_model).
    timetable: str | None = None
    # None: the workflow's own; when the IR says nothing either, the default of
    # the Airflow version whose model is used ([scheduler] catchup_by_default:
    # True in 2.x, False in 3.x).
    catchup: bool | None = None


def _interval_run(ticks, start: datetime, run_type: str) -> RunInfo:
    end = ticks.next(start)
    return RunInfo(start, start, end, end, run_type)


def _trigger_run(t: datetime, run_type: str, interval: timedelta = timedelta(0)) -> RunInfo:
    return RunInfo(t - interval, t - interval, t, t, run_type)


def effective_catchup(workflow, timetable: str | None = None) -> bool:
    """The workflow's catchup, or when it is unset the default of the Airflow
    release the DAG was read as (``catchup_by_default``: on in 2.x, off in
    3.x, whatever timetable it names), else of the engine whose time model it
    follows; ``timetable`` (a model asked for) means that model's release."""
    if workflow.catchup is not None:
        return bool(workflow.catchup)
    extra = workflow.extra.get("airflow") if isinstance(workflow.extra, dict) else None
    version = extra.get("source_version") if isinstance(extra, dict) else None
    if timetable is None and version in ("2", "3"):
        return version == "2"
    return CATCHUP_BY_DEFAULT[model_of(workflow, timetable)]


def model_of(workflow, timetable: str | None = None) -> str:
    """The time model runs follow: ``timetable`` when given, else the
    schedule's own (docs/semantics.md R3)."""
    return timetable or workflow.schedule.time_model


def trigger_interval(workflow) -> timedelta:
    """A trigger schedule's data-interval length (zero unless ``interval_s``)."""
    return timedelta(seconds=float(workflow.schedule.interval_s or 0))


def _latest_data_interval_start(ticks, now: datetime) -> datetime:
    """Airflow's ``_skip_to_latest`` without the earliest bound."""
    if isinstance(ticks, DeltaTicks):
        return ticks.prev(ticks.round_epoch(now))
    last_start = ticks.prev(now)
    nxt = ticks.next(last_start)
    return last_start if nxt == now else ticks.prev(last_start)


CRON_FLOOR = datetime(1900, 1, 1, tzinfo=UTC)


def scheduled_runs(workflow, plan: RunPlan) -> Iterator[RunInfo]:
    """The runs the scheduler has created by ``plan.now``, ascending."""
    sched = workflow.schedule
    tz = sched.timezone or "UTC"
    start = parse_datetime(workflow.start_date, tz) if workflow.start_date else None
    end = parse_datetime(workflow.end_date, tz) if workflow.end_date else None
    model = model_of(workflow, plan.timetable)
    catchup = (
        plan.catchup if plan.catchup is not None else effective_catchup(workflow, plan.timetable)
    )
    now = plan.now
    ticks = ticks_for(sched)
    if (
        start is not None
        and start < CRON_FLOOR
        and ticks is not None
        and not isinstance(ticks, DeltaTicks)
    ):
        # datetime.min (Airflow's examples) cannot be stepped back from; no cron
        # tick before 1900 changes which runs exist after it.
        start = CRON_FLOOR
    if ticks is None:
        if sched.kind == "once":
            t = start or now
            if t <= now and (end is None or t <= end):
                yield _trigger_run(t, "scheduled")
            return
        # manual, datasets/assets: one manual run now.
        yield manual_run(workflow, now, model)
        return
    if model == TRIGGER:
        interval = trigger_interval(workflow)
        if catchup:
            if start is None:
                return
            t = ticks.align_next(start)
        else:
            t = ticks.align_prev(now)
            if start is not None:
                t = max(t, ticks.align_next(start))
        while t <= now and (end is None or t <= end) and t < END_OF_TIME:
            yield _trigger_run(t, "scheduled", interval)
            t = ticks.next(t)
        return
    if catchup:
        if start is None:
            return
        x = ticks.align_next(start)
    else:
        x = _latest_data_interval_start(ticks, now)
        if start is not None:
            x = max(x, ticks.align_next(start))
    while end is None or x <= end:
        info = _interval_run(ticks, x, "scheduled")
        if info.run_after > now or info.run_after == END_OF_TIME:
            return
        yield info
        if isinstance(ticks, DeltaTicks):
            x = info.data_interval_end
        else:
            aligned = ticks.align_prev(info.data_interval_end)
            # A DST change on a day the cron skips can align back onto this
            # very run ("*/20 * * * 1-5" in Europe/Berlin looped for ever).
            x = aligned if aligned > x else info.data_interval_end


def manual_run(workflow, now: datetime, timetable: str | None = None) -> RunInfo:
    """A manual trigger at ``now``: data_interval covers the last complete
    period before it (Airflow 2), or is empty at ``now`` (Airflow 3)."""
    ticks = ticks_for(workflow.schedule)
    if ticks is None or model_of(workflow, timetable) == TRIGGER:
        return RunInfo(now, now, now, now, "manual")
    if isinstance(ticks, DeltaTicks):
        return RunInfo(ticks.prev(now), ticks.prev(now), now, now, "manual")
    end = ticks.align_prev(now)
    start = ticks.prev(end)
    return RunInfo(start, start, end, now, "manual")


def run_for_date(workflow, date: datetime, timetable: str | None = None) -> RunInfo:
    """The run whose logical_date is ``date`` (``--date``). A date off the
    schedule keeps its value as logical date; the interval ends at the next
    tick (data-interval model) or ``interval_s`` later (trigger model)."""
    ticks = ticks_for(workflow.schedule)
    if ticks is None:
        return RunInfo(date, date, date, date, "manual")
    if model_of(workflow, timetable) == TRIGGER:
        end = later(date, trigger_interval(workflow))
    else:
        end = ticks.next(date)
    if end == END_OF_TIME:
        raise InputError(
            None, None, f"the run for {date.isoformat()} would end after the year 9999"
        )
    return RunInfo(date, date, end, end, "manual")


def backfill_runs(
    workflow, first: datetime, last: datetime, timetable: str | None = None
) -> Iterator[RunInfo]:
    """Runs whose logical date lies in [first, last] (inclusive), ascending.
    Without a schedule, one run per calendar day (like Luigi's RangeDaily)."""
    ticks = ticks_for(workflow.schedule) or DeltaTicks(86400)
    trigger = model_of(workflow, timetable) == TRIGGER
    interval = trigger_interval(workflow) if trigger else timedelta(0)
    t = ticks.align_next(later(first, interval))
    while t < END_OF_TIME and t - interval <= last:
        if trigger:
            yield _trigger_run(t, "backfill", interval)
        else:
            run = _interval_run(ticks, t, "backfill")
            if run.data_interval_end == END_OF_TIME:
                return  # its interval would end after the year 9999
            yield run
        t = ticks.next(t)


def _last_tick(ticks, start: datetime, end: datetime) -> datetime:
    """The last tick at or before ``end`` (an interval's ticks start at ``start``)."""
    if isinstance(ticks, DeltaTicks):
        k = (end - start) // ticks.delta
        return start + k * ticks.delta
    return ticks.align_prev(end)


def run_after_bounds(workflow) -> tuple[datetime, datetime | None] | None:
    """When the first and the last scheduled run start (``run_after``), with
    catch-up, under the workflow's own time model: what an engine without
    data intervals (an Oozie coordinator's nominal times, a Prefect schedule)
    must tick at to start the same runs. None without a time schedule or a
    start date; the last is None without an end date, and before the first
    when no run exists."""
    ticks = ticks_for(workflow.schedule)
    if ticks is None or not workflow.start_date:
        return None
    tz = workflow.schedule.timezone or "UTC"
    start = parse_datetime(workflow.start_date, tz)
    end = parse_datetime(workflow.end_date, tz) if workflow.end_date else None
    if start < CRON_FLOOR and not isinstance(ticks, DeltaTicks):
        start = CRON_FLOOR  # as scheduled_runs does
    first = ticks.align_next(start)
    last = _last_tick(ticks, first, end) if end is not None else None
    if workflow.schedule.time_model == TRIGGER:
        return first, last
    return ticks.next(first), (ticks.next(last) if last is not None else None)


def delta_cron(seconds: float, anchor: datetime) -> str | None:
    """A fixed interval from ``anchor`` as a UTC cron with the same ticks, when
    there is one: a period that divides an hour or a day (or is a day or a
    week) and an anchor on that period's grid."""
    if seconds <= 0 or seconds % 60:
        return None
    minutes = int(seconds // 60)
    t = anchor.astimezone(UTC)
    if t.second or t.microsecond:
        return None
    if minutes < 60:
        if 60 % minutes or t.minute % minutes:
            return None
        return f"{'*' if minutes == 1 else f'*/{minutes}'} * * * *"
    if minutes % 60:
        return None
    hours = minutes // 60
    if hours < 24:
        if 24 % hours or t.hour % hours:
            return None
        return f"{t.minute} {'*' if hours == 1 else f'*/{hours}'} * * *"
    if hours == 24:
        return f"{t.minute} {t.hour} * * *"
    if hours == 24 * 7:
        return f"{t.minute} {t.hour} * * {t.isoweekday() % 7}"
    return None
