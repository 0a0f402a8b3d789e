"""``--timetable trigger`` (UG506, UG507): Airflow 3's trigger model with every
run keeping its Airflow 2 start time and dates.

In Airflow 2 the run for the interval [X, X + P) starts at X + P and sees
``ds`` = X. A trigger timetable starts the run for tick T at T. So, for a
schedule with a fixed period P (docs/semantics.md R3):

- ``CronTriggerTimetable(cron, timezone=..., interval=P)`` (or
  ``DeltaTriggerTimetable(delta, interval=delta)``) gives the run at T the data
  interval [T - P, T], Airflow 2's interval for the same run;
- the start date moves one period later, so that the first run is Airflow 2's
  first run (at X₀ + P, not X₀), and so does the end date;
- every template or context read of the run's own date (``ds``, ``ts``,
  ``logical_date``, ``execution_date``, ...) reads ``data_interval_start``
  instead (wfconv/upgrade/jinja.py).

A schedule without a fixed period (months, weekday lists, a timezone with
daylight saving time), or whose start date is not written in the ``DAG(...)``
call or its own ``default_args``, keeps the data-interval timetable (UG507).
"""

from __future__ import annotations

import libcst as cst

from wfconv.upgrade.jinja import timedelta_args
from wfconv.upgrade.scan import Site, keyword
from wfconv.upgrade.timemodel import SiteTime


def _start_arg(call: cst.Call | None) -> tuple[str, cst.CSTNode] | None:
    """Where the DAG's start date is written: ("kwarg", Arg) or ("dict", DictElement)."""
    if call is None:
        return None
    arg = keyword(call, "start_date")
    if arg is not None:
        return "kwarg", arg
    default_args = keyword(call, "default_args")
    if default_args is not None and isinstance(default_args.value, cst.Dict):
        for el in default_args.value.elements:
            if (
                isinstance(el, cst.DictElement)
                and isinstance(el.key, cst.SimpleString)
                and el.key.evaluated_value == "start_date"
            ):
                return "dict", el
    return None


def why_not(site: Site, t: SiteTime) -> str | None:
    """None when the site can move to a trigger timetable, else why not."""
    if t.kind not in ("cron", "delta", "absent"):
        return None if t.kind != "unknown" else "its schedule is not known statically"
    if t.period is None:
        return "the schedule has no fixed period (months, weekday lists, daylight saving time)"
    if _start_arg(site.call) is None:
        return "its start date is not written in the DAG call (or its own default_args)"
    return None


def timetable(kind: str, expr: str, tz: str, period: float) -> str:
    """The Airflow 3 schedule expression with Airflow 2's intervals."""
    delta = f"timedelta({timedelta_args(period)})"
    if kind == "cron":
        return f'CronTriggerTimetable({expr}, timezone="{tz}", interval={delta})'
    return f"DeltaTriggerTimetable({expr}, interval={delta})"


def shift_dates(call: cst.Call, period: float) -> cst.Call:
    """The call with its start (and end) date one period later."""
    delta = f"timedelta({timedelta_args(period)})"

    def later(value: cst.BaseExpression) -> cst.BaseExpression:
        code = cst.Module([]).code_for_node(value)
        if not isinstance(value, (cst.Call, cst.Name, cst.Attribute)):
            code = f"({code})"
        return cst.parse_expression(f"{code} + {delta}")

    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value in ("start_date", "end_date"):
            args[i] = arg.with_changes(value=later(arg.value))
        elif (
            arg.keyword is not None
            and arg.keyword.value == "default_args"
            and isinstance(arg.value, cst.Dict)
            and keyword(call, "start_date") is None
        ):
            elements = [
                el.with_changes(value=later(el.value))
                if isinstance(el, cst.DictElement)
                and isinstance(el.key, cst.SimpleString)
                and el.key.evaluated_value in ("start_date", "end_date")
                else el
                for el in arg.value.elements
            ]
            args[i] = arg.with_changes(value=arg.value.with_changes(elements=elements))
    return call.with_changes(args=args)
