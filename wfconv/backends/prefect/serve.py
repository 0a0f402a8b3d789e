"""The Prefect target's schedules: ``flow.serve(...)`` in ``__main__``.

A cron schedule with start/end dates becomes an ``RRule`` (DTSTART/UNTIL);
otherwise ``cron=``/``interval=`` or a ``Cron``/``Interval`` schedule with
its timezone or anchor; ``@once`` an RRule that occurs once (COUNT=1) at the
start date. What Prefect cannot say (catch-up, dataset triggers, ``@once``
without a start date) is a ledger entry.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfconv.backends.common import compact_number, cron_field_values, loss, py_literal, py_str
from wfconv.backends.prefect.actions import Ctx
from wfconv.backends.pycode import Brackets, Expr, Kw, call
from wfconv.errors import InputError
from wfconv.ir.model import Workflow
from wfconv.runtime.schedule import run_after_bounds

# Prefect refuses these in flow and deployment names (prefect.types.BANNED_CHARACTERS).
BANNED_NAME_CHARACTERS = "/%&<>"


def flow_name(w: Workflow, flow_fn: str) -> str:
    """The flow's (and its deployment's) name: the id, without what Prefect refuses."""
    return "".join("_" if c in BANNED_NAME_CHARACTERS else c for c in (w.id or flow_fn))


def _tz(ctx: Ctx) -> str:
    tz = ctx.workflow.schedule.timezone or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        ctx.add(
            loss(
                "BP206", f"timezone {tz!r} is unknown; UTC used", source=ctx.workflow, target="Cron"
            )
        )
        return "UTC"
    return tz


def _datetime_code(ctx: Ctx, text: str | None) -> str | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    value = value.astimezone(_dt.UTC)
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    ctx.need("datetime")
    ctx.need("zoneinfo", "ZoneInfo")
    return f"datetime.datetime({', '.join(map(str, parts))}, tzinfo=ZoneInfo({py_str('UTC')}))"


_RRULE_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")


def cron_to_rrule(cron: str) -> str | None:
    """The RRULE (without DTSTART/UNTIL) matching exactly the times of a
    5-field cron line, or None: every-minute rules and cron's day-of-month OR
    day-of-week (both restricted) have no RRULE spelling."""
    values = cron_field_values(cron)
    if values is None:
        return None
    minute, hour, dom, month, dow = values
    full = [len(v) == n for v, n in zip(values, (60, 24, 31, 12), strict=False)]
    full_dow = len(dow) == 7
    if full[0] or (not full[2] and not full_dow):
        return None
    parts = ["FREQ=HOURLY" if full[1] else "FREQ=DAILY"]
    if not full[1]:
        parts.append("BYHOUR=" + ",".join(map(str, hour)))
    parts.append("BYMINUTE=" + ",".join(map(str, minute)))
    parts.append("BYSECOND=0")
    if not full[2]:
        parts.append("BYMONTHDAY=" + ",".join(map(str, dom)))
    if not full[3]:
        parts.append("BYMONTH=" + ",".join(map(str, month)))
    if not full_dow:
        parts.append("BYDAY=" + ",".join(_RRULE_DAYS[d] for d in dow))
    return ";".join(parts)


def _wall_clock(text: str, tz: str) -> str | None:
    """An ISO date-time as the schedule timezone's wall clock, RRULE style
    (Prefect reads DTSTART/UNTIL in the schedule's timezone)."""
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value.astimezone(ZoneInfo(tz)).strftime("%Y%m%dT%H%M%S")


def _dated_rrule(w: Workflow, tz: str) -> str | None:
    """A cron or whole-minute interval schedule with its dates as one RRule
    text: DTSTART and UNTIL are the first and last run's start in the
    source's time model (docs/semantics.md R3), which is when a Prefect run
    must be scheduled (an Airflow 2 run starts when its interval ends)."""
    s = w.schedule
    rule = cron_to_rrule(s.cron or "") if s.kind == "cron" else None
    if s.kind == "interval" and s.seconds and float(s.seconds) % 60 == 0:
        rule = f"FREQ=MINUTELY;INTERVAL={int(float(s.seconds) // 60)};BYSECOND=0"
    first, last = w.start_date, w.end_date
    try:
        bounds = run_after_bounds(w) if w.start_date else None
    except InputError:
        bounds = None
    if bounds is not None:
        first = bounds[0].isoformat()
        last = bounds[1].isoformat() if bounds[1] is not None else None
    start = _wall_clock(first, tz) if first else None
    end = _wall_clock(last, tz) if last else None
    if rule is None or (first and not start) or (last and not end):
        return None
    if bounds is not None and start:
        rule = _implied_by_start(rule, start)
    if end:
        rule += f";UNTIL={end}"
    return (f"DTSTART:{start}\n" if start else "") + f"RRULE:{rule}"


def _implied_by_start(rule: str, start: str) -> str:
    """The rule without the BYSECOND/BYMINUTE/BYHOUR parts that only repeat
    DTSTART's (a tick of the schedule): an RRULE takes what it does not say
    from DTSTART, so ``FREQ=DAILY`` from 06:00 runs at 06:00 every day."""
    at = {"BYSECOND": int(start[13:15]), "BYMINUTE": int(start[11:13]), "BYHOUR": int(start[9:11])}
    parts = rule.split(";")
    freq = parts[0].removeprefix("FREQ=")
    # a part is implied only when the frequency is coarser than its field
    coarser = {
        "BYSECOND": freq != "SECONDLY",
        "BYMINUTE": freq in ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"),
        "BYHOUR": freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"),
    }
    kept = []
    for part in parts:
        key, _, value = part.partition("=")
        if key in at and coarser[key] and value == str(at[key]):
            continue
        kept.append(part)
    return ";".join(kept)


def main_call(ctx: Ctx, flow_fn: str) -> Expr:
    """What ``if __name__ == "__main__":`` runs: ``flow.serve(...)`` with the schedule."""
    w = ctx.workflow
    s = w.schedule
    kwargs: list[tuple[str, Expr]] = [("name", py_str(flow_name(w, flow_fn)))]
    tz = _tz(ctx) if (s.kind == "cron" and s.cron) or s.kind == "once" else "UTC"
    # A cron schedule with dates becomes an RRule (DTSTART/UNTIL); otherwise
    # Prefect schedules have no start or end (an interval's anchor is the
    # closest thing to a start date).
    dated = _dated_rrule(w, tz) if (w.start_date or w.end_date) else None
    lost = [
        name
        for name, value in (("start_date", w.start_date), ("end_date", w.end_date))
        if value
        and not (name == "start_date" and s.kind == "interval" and s.seconds)
        and not (name == "start_date" and s.kind == "once")
        and dated is None
    ]
    if lost:
        ctx.add(
            loss(
                "BP202",
                f"{' and '.join(lost)} cannot be expressed in Prefect (schedules run from now on)",
                source=w,
                target="flow.serve",
            )
        )
    if dated is not None:
        ctx.need("prefect.schedules", "RRule")
        kwargs.append(
            ("schedules", Brackets("[", "]", [call("RRule", py_str(dated), timezone=py_str(tz))]))
        )
    elif s.kind == "cron" and s.cron:
        if tz == "UTC":
            kwargs.append(("cron", py_str(s.cron)))
        else:
            ctx.need("prefect.schedules", "Cron")
            kwargs.append(
                (
                    "schedules",
                    Brackets("[", "]", [call("Cron", py_str(s.cron), timezone=py_str(tz))]),
                )
            )
    elif s.kind == "interval" and s.seconds:
        anchor = _datetime_code(ctx, w.start_date)
        if anchor:
            ctx.need("prefect.schedules", "Interval")
            every = repr(compact_number(float(s.seconds)))
            schedule = call("Interval", every, anchor_date=anchor)
            kwargs.append(("schedules", Brackets("[", "]", [schedule])))
        else:
            kwargs.append(("interval", repr(compact_number(float(s.seconds)))))
    elif s.kind == "once":
        once = _wall_clock(w.start_date, tz) if w.start_date else None
        if once is None:
            ctx.add(
                loss(
                    "BP204",
                    "schedule @once without a start date: the flow runs once when the module "
                    "is executed (no deployment schedule)",
                    source=w,
                    target="__main__",
                )
            )
            return f"{flow_fn}()"
        # One run at the start date: a rule that occurs once (COUNT=1).
        ctx.need("prefect.schedules", "RRule")
        rule = call(
            "RRule", py_str(f"DTSTART:{once}\nRRULE:FREQ=DAILY;COUNT=1"), timezone=py_str(tz)
        )
        kwargs.append(("schedules", Brackets("[", "]", [rule])))
        ctx.add(
            loss(
                "BP208",
                "schedule @once: one run at the start date (RRule COUNT=1); Prefect creates no "
                "run for a time already past, where Airflow runs it at once: run the flow by "
                "hand then",
                source=w,
                target="flow.serve",
            )
        )
    elif s.kind in ("datasets", "assets"):
        ctx.add(
            loss(
                "BP203",
                f"runs triggered by {', '.join(s.datasets)} need a Prefect automation; served without schedule",
                source=w,
                target="flow.serve",
            )
        )
    if s.kind in ("cron", "interval") and s.datasets:
        ctx.add(
            loss(
                "BP203",
                f"runs triggered by {', '.join(s.datasets)} need a Prefect automation; served "
                "on the time schedule only",
                source=w,
                target="flow.serve",
            )
        )
    scheduled = (s.kind == "cron" and s.cron) or (s.kind == "interval" and s.seconds)
    if w.catchup or (w.catchup is None and scheduled):
        said = "catchup=True" if w.catchup else "catchup not set (Airflow 2 catches up by default)"
        ctx.add(
            loss(
                "BP201",
                f"{said}: Prefect never creates runs for past schedule times; "
                + (
                    f"call {flow_fn}() once per past tick (its runs read no date)"
                    if not ctx.dated
                    else "the module's wfconv_backfill(first, last) runs them, oldest first"
                    if w.catchup
                    else f"call {flow_fn}(logical_date=...) for each past tick"
                ),
                source=w,
                target="flow.serve",
            )
        )
    if w.tags:
        kwargs.append(("tags", py_literal(list(w.tags))))
    if w.max_active_runs is not None:
        kwargs.append(("global_limit", str(int(w.max_active_runs))))
    return call(f"{flow_fn}.serve", *(Kw(k, v) for k, v in kwargs))
