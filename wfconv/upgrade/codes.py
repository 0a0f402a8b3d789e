"""The codes of ``wfconv upgrade``: one table, the single source of truth.

``docs/upgrade.md`` holds the same table (``python -m wfconv.upgrade.codes``
prints it; a test keeps the two equal), and ``wfconv explain CODE`` reads it
through the table of every code (``wfconv.codes``). Codes are stable: a code's meaning never
changes and a retired code is not reused.

Every code has a *kind*:

- ``fix``: the change is made and keeps what the DAG does;
- ``lossy``: the change is made because Airflow 3 forces it, but something the
  DAG did in Airflow 2 is gone (an SLA, a callback): a person should look;
- ``manual``: nothing is changed; the report says why and a person must act.

``wfconv upgrade`` exits 1 when a ``lossy`` or ``manual`` finding is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("fix", "lossy", "manual")
# The severity `wfconv explain` and the code table show for each kind.
SEVERITY_OF_KIND = {"fix": "info", "lossy": "warning", "manual": "error"}


@dataclass(frozen=True)
class Code:
    kind: str
    area: str
    title: str
    why: str
    fix: str


def _c(kind: str, area: str, title: str, why: str, fix: str) -> Code:
    assert kind in KINDS
    return Code(kind, area, title, why, fix)


CODES: dict[str, Code] = {
    # -- imports ---------------------------------------------------------------
    "UG101": _c(
        "fix",
        "imports",
        "import moved to `airflow.sdk` or a provider package",
        "Airflow 3 removed the module, or keeps it only as a deprecated alias that a later release drops",
        "import from the new place (the names stay the same)",
    ),
    "UG102": _c(
        "fix",
        "imports",
        "imported name renamed in Airflow 3 (`DummyOperator` → `EmptyOperator`, `Dataset` → `Asset`, …)",
        "the old name does not exist in Airflow 3",
        "import the new name and use it where the old one was used",
    ),
    "UG103": _c(
        "manual",
        "imports",
        "import removed in Airflow 3 with no replacement wfconv can write",
        "the DAG file fails to import on Airflow 3",
        "replace what the name did by hand (the message says what Airflow 3 offers instead)",
    ),
    "UG104": _c(
        "fix",
        "imports",
        "removed helper replaced by what it did (`is_venv_installed()`)",
        "Airflow 3 removed the helper; its test is one line of the standard library",
        '`bool(shutil.which("virtualenv") or importlib.util.find_spec("virtualenv"))`',
    ),
    # -- DAG arguments --------------------------------------------------------
    "UG201": _c(
        "fix",
        "dag",
        "`schedule_interval=` renamed `schedule=`",
        "Airflow 3 removed `schedule_interval` (TypeError at import)",
        "pass the same value as `schedule=` (see UG501/UG502 for what the value means)",
    ),
    "UG202": _c(
        "fix",
        "dag",
        "`timetable=` renamed `schedule=`",
        "Airflow 3 removed `timetable` (TypeError at import)",
        "pass the timetable as `schedule=`",
    ),
    "UG203": _c(
        "fix",
        "dag",
        "`concurrency=` renamed `max_active_tasks=`",
        "Airflow 3 removed `concurrency` (TypeError at import)",
        "use `max_active_tasks=` with the same value",
    ),
    "UG204": _c(
        "fix",
        "dag",
        "`fail_stop=` renamed `fail_fast=`",
        "Airflow 3 removed `fail_stop` (TypeError at import)",
        "use `fail_fast=` with the same value",
    ),
    "UG205": _c(
        "fix",
        "dag",
        "UI-only DAG argument removed (`default_view`, `orientation`, `full_filepath`)",
        "Airflow 3 removed them (TypeError at import); they never changed what runs",
        "delete the argument",
    ),
    "UG206": _c(
        "lossy",
        "dag",
        "`sla_miss_callback=` removed",
        "Airflow 3 removed SLAs: the callback would never be called again",
        "the argument is deleted; rebuild the alert with a deadline alert (Airflow 3.1+) or a monitoring task",
    ),
    "UG207": _c(
        "manual",
        "dag",
        "DAG arguments passed as `**kwargs`: schedule and catch-up cannot be seen",
        "wfconv cannot tell whether Airflow 2's defaults (a daily schedule, catch-up on) applied",
        "spell `schedule=` and `catchup=` out, then run `wfconv upgrade` again",
    ),
    "UG208": _c(
        "fix",
        "dag",
        "`days_ago(n)` replaced by an explicit date",
        "Airflow 3 removed `airflow.utils.dates.days_ago`; a start date that moves at every parse also makes runs unpredictable",
        "as a start date: `pendulum.datetime(...)` of the day the upgrade ran minus n days, which is what "
        'Airflow 2 computed that day; elsewhere: `pendulum.today("UTC").add(days=-n)`, the same value',
    ),
    # -- operators -------------------------------------------------------------
    "UG301": _c(
        "fix",
        "operators",
        "`DummyOperator` replaced by `EmptyOperator`",
        "Airflow 3 removed `DummyOperator`; `EmptyOperator` is the same class",
        "import `EmptyOperator` from `airflow.providers.standard.operators.empty` and use it",
    ),
    "UG302": _c(
        "fix",
        "operators",
        "`SubDagOperator` replaced by a TaskGroup",
        "Airflow 3 removed SubDAGs; a TaskGroup shows the same tasks as one box, inside the parent DAG",
        "the sub-DAG factory makes a `TaskGroup` whose id is the old task id; its tasks become `group.task`",
    ),
    "UG303": _c(
        "manual",
        "operators",
        "`SubDagOperator` that cannot be turned into a TaskGroup safely",
        "Airflow 3 removed SubDAGs; this one is built in a way wfconv cannot rewrite (another module, "
        "a factory of an unknown shape, arguments of the operator itself)",
        "move the sub-DAG's tasks into a `TaskGroup` by hand (or a separate DAG started by `TriggerDagRunOperator`)",
    ),
    "UG304": _c(
        "lossy",
        "operators",
        "`sla=` removed",
        "Airflow 3 removed SLAs: the argument is ignored with a warning and no SLA miss is ever recorded",
        "the argument is deleted; rebuild the alert with a deadline alert (Airflow 3.1+)",
    ),
    "UG305": _c(
        "fix",
        "operators",
        "`task_concurrency=` renamed `max_active_tis_per_dag=`",
        "Airflow 3 removed the old name (TypeError at import; ignored silently in `default_args`)",
        "use `max_active_tis_per_dag=` with the same value",
    ),
    "UG306": _c(
        "fix",
        "operators",
        "`provide_context=` removed",
        "Airflow 2 always passes the context; Airflow 3 refuses the argument (TypeError at import)",
        "delete the argument",
    ),
    "UG307": _c(
        "fix",
        "operators",
        "trigger rule removed in Airflow 3 renamed (`dummy` → `always`, `none_failed_or_skipped` → `none_failed_min_one_success`)",
        "Airflow 3 refuses the old names; the new ones behave the same",
        "use the new name",
    ),
    "UG308": _c(
        "fix",
        "operators",
        "operator argument renamed (`execution_date` → `logical_date`, `use_task_execution_day` → `use_task_logical_date`)",
        "Airflow 3 refuses the old names",
        "use the new name with the same value",
    ),
    # -- context and template variables ---------------------------------------
    "UG401": _c(
        "fix",
        "context",
        "template variable removed in Airflow 3 rewritten (`execution_date`, `next_ds`, `prev_ds`, `yesterday_ds`, …)",
        "Airflow 3 renders the old names as errors, at run time, long after the DAG imported fine",
        "the Airflow 3 expression that gives the same text for this DAG's schedule (docs/upgrade.md lists them)",
    ),
    "UG402": _c(
        "manual",
        "context",
        "template variable removed in Airflow 3 with no equivalent for this DAG's schedule",
        "rendering fails at run time in Airflow 3 (`conf`; `prev_ds` of an irregular schedule; …)",
        "compute the value in the task, or use `data_interval_start`/`end`, `prev_data_interval_start_success`",
    ),
    "UG403": _c(
        "fix",
        "context",
        'removed context key rewritten in Python (`context["execution_date"]`, a parameter named `execution_date`, …)',
        "Airflow 3 no longer puts the key in the task context (KeyError, or a missing argument)",
        "the Airflow 3 key or expression that gives the same value",
    ),
    "UG404": _c(
        "manual",
        "context",
        "removed context key in Python with no rewrite wfconv can make safely",
        "Airflow 3 no longer puts the key in the task context",
        "compute the value from `logical_date` / `data_interval_start` / `data_interval_end` by hand",
    ),
    # -- the time model (docs/semantics.md R3) ----------------------------------
    "UG501": _c(
        "fix",
        "time",
        "cron or preset schedule keeps Airflow 2's data-interval meaning (`CronDataIntervalTimetable`)",
        "in Airflow 3 a bare cron string means a trigger timetable: every run would start one period "
        "earlier and see a zero-length data interval (docs/semantics.md R3)",
        "`schedule=CronDataIntervalTimetable(<cron>, timezone=<the DAG's timezone>)`; "
        "or `--timetable trigger` for Airflow 3's model with the templates rewritten",
    ),
    "UG502": _c(
        "fix",
        "time",
        "timedelta schedule keeps Airflow 2's data-interval meaning (`DeltaDataIntervalTimetable`)",
        "in Airflow 3 a bare timedelta means `DeltaTriggerTimetable`: runs move by one period and the "
        "data interval has zero length (docs/semantics.md R3)",
        "`schedule=DeltaDataIntervalTimetable(<delta>)`; or `--timetable trigger`",
    ),
    "UG503": _c(
        "fix",
        "time",
        "DAG without a schedule: Airflow 2's implicit daily schedule made explicit",
        "Airflow 2 runs a DAG that names no schedule once a day; Airflow 3 never schedules it",
        "`schedule=DeltaDataIntervalTimetable(timedelta(days=1))` (or `schedule=None` by hand if it was never meant to run by itself)",
    ),
    "UG504": _c(
        "fix",
        "time",
        "catch-up default made explicit (`catchup=True`)",
        "Airflow 2 catches up by default (`catchup_by_default = True`), Airflow 3 does not",
        "`catchup=True`; set it to False by hand if the DAG should not run its missed intervals",
    ),
    "UG505": _c(
        "manual",
        "time",
        "schedule whose value wfconv cannot see, or that takes values of several kinds",
        "its meaning changes in Airflow 3 (docs/semantics.md R3) and wfconv cannot write the timetable that keeps it",
        "write `CronDataIntervalTimetable(...)` / `DeltaDataIntervalTimetable(...)` (or `None`) explicitly",
    ),
    "UG506": _c(
        "fix",
        "time",
        "`--timetable trigger`: Airflow 3's trigger timetable, with the templates rewritten to the same dates",
        "asked for: each run starts at the same time and renders the same dates as in Airflow 2",
        "`CronTriggerTimetable`/`DeltaTriggerTimetable` with `interval=` the period, the start date one period "
        "later, and `ds`/`ts`/`logical_date` read from `data_interval_start`",
    ),
    "UG507": _c(
        "manual",
        "time",
        "`--timetable trigger` not possible for this DAG: the data-interval timetable is kept",
        "the schedule has no fixed period (months, weekdays, a timezone with daylight saving time) or its "
        "start date is not a literal, so a trigger timetable cannot give every run the same dates",
        "keep the data-interval timetable (done), or move templates to the trigger model by hand",
    ),
}


# The audit findings (docs/audit.md) that `wfconv upgrade` fixes, and the
# upgrade code that does it: `wfconv audit` marks them fixable, as ruff marks
# what `--fix` would change. A finding whose fix depends on the DAG (an import
# with no replacement, a SubDAG, a template variable that depends on the
# schedule) is only marked when its message says the fix applies.
AUDIT_FIXES: dict[str, str] = {
    "AU201": "UG201",  # schedule_interval=
    "AU202": "UG301",  # DummyOperator
    "AU203": "UG101",  # moved import (not for a removed module)
    "AU205": "UG401",  # removed template variable (schedule-independent ones)
    "AU206": "UG307",  # removed trigger rule
    "AU102": "UG208",  # days_ago(n) as a start date
    "AF206": "UG202",  # timetable=
}
_SCHEDULE_FREE_VARS = frozenset(
    {"execution_date", "yesterday_ds", "yesterday_ds_nodash", "tomorrow_ds", "tomorrow_ds_nodash"}
)


def fixes_audit_finding(code: str, message: str) -> str | None:
    """The upgrade code that fixes an audit finding, or None."""
    fix = AUDIT_FIXES.get(code)
    if fix is None:
        return None
    if code == "AU203":
        # "`airflow.operators.subdag` was removed or moved in Airflow 3: use (removed: ...)"
        return None if "use (removed" in message else fix
    if code == "AU205":
        # "task 't': template variable(s) execution_date, prev_ds removed in Airflow 3"
        names = message.split("template variable(s) ", 1)[-1].split(" removed", 1)[0]
        return fix if {n.strip() for n in names.split(",")} <= _SCHEDULE_FREE_VARS else None
    if code == "AU102":
        return fix if "days_ago(" in message else None
    if code == "AF206":
        return fix if message.startswith("`timetable=` was removed") else None
    return fix


AREAS = {
    "imports": "Imports",
    "dag": "DAG arguments",
    "operators": "Operators",
    "context": "Context and template variables",
    "time": "The time model",
}


def markdown_table() -> str:
    """The table of docs/upgrade.md, generated so that code and docs agree."""
    lines = ["| code | kind | what | why | what upgrade does |", "|---|---|---|---|---|"]
    for area, title in AREAS.items():
        lines.append(f"| **{title}** | | | | |")
        for code, c in CODES.items():
            if c.area == area:
                cells = [code, c.kind, c.title, c.why, c.fix]
                lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(markdown_table(), end="")
