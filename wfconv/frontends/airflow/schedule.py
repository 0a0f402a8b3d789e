"""An Airflow schedule's time model: explicit timetables, and what a bare value means.

Why apart from the reader: the model of a bare cron, preset or ``timedelta``
depends on the Airflow version the whole file is written for
(``version.py``), which is only known once the file has been read, while an
explicit timetable says its model itself. The reader records each DAG's
schedule as it meets it (``timetable_schedule``) and ``settle`` fills in the
model of bare values afterwards (docs/semantics.md R3, docs/codes/airflow.md
"Airflow 2 or 3").
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from wfconv.frontends.airflow.objects import TimetableObj, seconds, tz_name
from wfconv.frontends.airflow.version import Decision, describe
from wfconv.frontends.pyeval import InstanceValue
from wfconv.ir.model import CRON_PRESETS, DATA_INTERVAL, TRIGGER, Schedule, Workflow

# Codes of this module (docs/codes/airflow.md).
VERSION_READ = "AF214"  # info: the version the file shows (or the option gave)
VERSION_ASSUMED = "AF215"  # warning: assumed, or the file mixes both
TIMETABLE_LOST = "AF216"
DEFAULT_SCHEDULE = "AF217"

# Airflow's own timetables with an IR form, and the model each one means.
TIMETABLE_MODELS = {
    "CronDataIntervalTimetable": DATA_INTERVAL,
    "DeltaDataIntervalTimetable": DATA_INTERVAL,
    "CronTriggerTimetable": TRIGGER,
    "DeltaTriggerTimetable": TRIGGER,
    "MultipleCronTriggerTimetable": TRIGGER,
}
# What a bare cron / preset / timedelta means in each major version.
BARE_MODELS = {"2": DATA_INTERVAL, "3": TRIGGER}
# Airflow 2 schedules a DAG that names no schedule daily (Airflow 3: not at all).
AIRFLOW2_DEFAULT_S = 86400.0

Report = Callable[[str, str, str], None]  # (severity, code, message)


def _tz(value: Any) -> str | None:
    if isinstance(value, _dt.tzinfo):
        return tz_name(value)
    return value if isinstance(value, str) else None


def _arg(value: TimetableObj, index: int, *names: str) -> Any:
    if len(value.args) > index:
        return value.args[index]
    for n in names:
        if n in value.kwargs:
            return value.kwargs[n]
    return None


def is_airflow_timetable(value: TimetableObj) -> bool:
    """One of Airflow's timetables with an IR form (not a user class that
    happens to share a name)."""
    q = value.qualname or ""
    return value.cls in TIMETABLE_MODELS and (q == "airflow" or q.startswith("airflow."))


def timetable_schedule(value: TimetableObj, report: Report) -> Schedule:
    """An explicit Airflow timetable -> the IR schedule with its own model."""
    model = TIMETABLE_MODELS[value.cls]
    if value.cls == "MultipleCronTriggerTimetable":
        crons = [c for c in value.args if isinstance(c, str)]
        if len(crons) != len(value.args) or not crons:
            return custom_timetable(value, report)
        if len(set(crons)) > 1:
            report(
                "warning",
                TIMETABLE_LOST,
                f"MultipleCronTriggerTimetable({', '.join(map(repr, crons))}): the IR holds one "
                f"cron; only {crons[0]!r} is kept, the runs of the others are lost",
            )
        cron: Any = crons[0]
        tz = _tz(value.kwargs.get("timezone"))
    elif value.cls.startswith("Cron"):
        cron = _arg(value, 0, "cron", "expression")
        tz = _tz(_arg(value, 1, "timezone"))
    else:
        cron = None
        tz = None
    interval = seconds(value.kwargs.get("interval")) if model == TRIGGER else None
    if value.kwargs.get("interval") is not None and interval is None:
        report(
            "warning",
            TIMETABLE_LOST,
            f"{value.cls}: `interval=` is not a fixed timedelta; each run's data interval is "
            "read as zero-length",
        )
    if value.kwargs.get("run_immediately"):
        report(
            "warning",
            TIMETABLE_LOST,
            f"{value.cls}(run_immediately=...): the extra first run at deployment is not kept",
        )
    if cron is not None:
        if not isinstance(cron, str):
            return custom_timetable(value, report)
        sched = Schedule(kind="cron", cron=CRON_PRESETS.get(cron.strip(), cron.strip()))
    else:
        delta = seconds(_arg(value, 0, "delta"))
        if not delta:
            return custom_timetable(value, report)
        sched = Schedule(kind="interval", seconds=delta)
    sched.timezone = tz or "UTC"
    sched.model = model
    sched.interval_s = interval or None
    return sched


def custom_timetable(value: Any, report: Report) -> Schedule:
    """A timetable without an IR form: its runs are lost (warning), read as manual."""
    name = (
        value.cls
        if isinstance(value, TimetableObj)
        else value.cls.name
        if isinstance(value, InstanceValue)
        else "custom timetable"
    )
    report(
        "warning",
        TIMETABLE_LOST,
        f"{name}: a timetable the IR cannot express; the workflow is read as manual (no "
        "scheduled runs), the timetable is kept in workflow.extra.airflow.timetable",
    )
    return Schedule(kind="manual")


def settle(w: Workflow, bare: bool | None, decision: Decision, report: Report) -> None:
    """Fill in the model of a bare schedule value (``bare``: True), or of no
    schedule argument at all (``bare``: None), from the file's version."""
    s = w.schedule
    if bare is None and decision.version == "2":
        s.kind, s.seconds, s.cron = "interval", AIRFLOW2_DEFAULT_S, None
        report(
            "info",
            DEFAULT_SCHEDULE,
            "no schedule given: Airflow 2 runs the DAG daily (timedelta(days=1), a data interval)",
        )
        bare = True
    if bare and s.kind in ("cron", "interval"):
        s.model = BARE_MODELS[decision.version]
        report(
            "info" if decision.certain else "warning",
            VERSION_READ if decision.certain else VERSION_ASSUMED,
            describe(decision)
            + (
                "; a bare cron/timedelta means a data interval there"
                if decision.version == "2"
                else "; a bare cron/timedelta means a trigger at each tick there"
            ),
        )
    elif s.model is None:
        # once, manual, datasets/assets: runs that come from a trigger or an
        # event; their dates follow the version's model for manual runs.
        s.model = BARE_MODELS[decision.version]
