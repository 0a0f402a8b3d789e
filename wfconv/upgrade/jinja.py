"""Removed context and template variables (UG401-UG404): what each one becomes
in Airflow 3, for the schedule of the DAG that renders it.

Airflow 2.10.5 computes them from the run's logical date (``ds``) and the DAG's
schedule (docs/semantics.md §1); Airflow 3 keeps ``logical_date``,
``data_interval_start``/``end``, ``prev_data_interval_start_success`` and the
``macros``. For a scheduled run of a data-interval timetable (what ``upgrade``
writes by default, UG501/UG502):

- ``execution_date`` is ``logical_date``;
- ``next_execution_date`` is the next run's logical date, that is
  ``data_interval_end``;
- ``prev_execution_date`` is the previous schedule tick: ``logical_date`` minus
  the period, when the schedule has a fixed one;
- ``yesterday_ds``/``tomorrow_ds`` are ``ds`` ∓ one day whatever the schedule;
- a manual DAG's runs have ``prev_*`` = ``next_*`` = their own date.

With ``--timetable trigger`` (UG506) the run's own date moves to
``data_interval_start`` and every variable that reads the logical date is
rewritten to read it from there.

Everything here is plain text: the rewrite works on the source text of a
string literal (so f-strings with ``{{{{ ds }}}}`` work too) and never
introduces a quote or a brace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wfconv.frontends.airflow.reader import REMOVED_TEMPLATE_VARS

# Every name Airflow 3 removed from the context: the list the Airflow reader
# reports as AF205 (and the audit as AU205).
REMOVED = REMOVED_TEMPLATE_VARS

# Names whose value is the run's own date: rewritten only in trigger mode.
RUN_DATE = ("ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "logical_date")


@dataclass(frozen=True)
class Schedule:
    """What the rewrite needs to know of the DAG that renders a template.

    ``kind``: ``periodic`` (a cron/timedelta schedule in the data-interval
    model), ``manual`` (``schedule=None``), ``once``, ``datasets``, or
    ``unknown`` (the template's DAG or its schedule could not be told);
    ``period``: the fixed period in seconds, when it has one; ``trigger``: the
    DAG was moved to a trigger timetable with ``interval=`` its period (UG506).
    """

    kind: str
    period: float | None = None
    trigger: bool = False


UNKNOWN = Schedule("unknown")


def timedelta_args(seconds: float) -> str:
    """``days=1`` / ``hours=6`` / ``seconds=90``: the shortest exact spelling."""
    s = int(seconds)
    if s != seconds:
        return f"seconds={seconds!r}"
    for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s % size == 0:
            return f"{unit}={s // size}"
    return f"seconds={s}"


def _date(s: Schedule) -> str:
    """The Airflow 3 expression of Airflow 2's logical date for this DAG."""
    return "data_interval_start" if s.trigger else "logical_date"


def _ds(s: Schedule) -> str:
    return "data_interval_start | ds" if s.trigger else "ds"


def template_replacement(name: str, s: Schedule) -> tuple[str | None, str]:
    """(Airflow 3 Jinja expression, why) for a removed or moved variable; the
    expression is None when there is none for this schedule."""
    date = _date(s)
    if name == "execution_date":
        return date, "the same datetime"
    if name in ("yesterday_ds", "tomorrow_ds"):
        sign = "-" if name.startswith("yesterday") else ""
        if s.trigger:
            return f"macros.ds_add(data_interval_start | ds, {sign}1)", "ds ∓ 1 day"
        return f"macros.ds_add(ds, {sign}1)", "ds ∓ 1 day"
    if name in ("yesterday_ds_nodash", "tomorrow_ds_nodash"):
        op = "-" if name.startswith("yesterday") else "+"
        return f"({date} {op} macros.timedelta(days=1)) | ds_nodash", "ds ∓ 1 day"
    if name == "conf":
        return None, "Airflow's configuration is no longer in the context"
    if s.kind == "unknown":
        return None, "the schedule of the DAG that renders it is not known"
    if name == "prev_execution_date_success":
        if s.kind == "datasets":
            return None, "an asset-triggered run's interval is not its logical date"
        return "prev_data_interval_start_success", "the previous successful run's logical date"
    if s.kind not in ("periodic", "manual"):
        return None, f"a {s.kind} schedule has no next or previous run date"
    if name == "next_execution_date":
        return "data_interval_end", "the next run's logical date"
    if name in ("next_ds", "next_ds_nodash"):
        fmt = "ds_nodash" if name.endswith("nodash") else "ds"
        return f"data_interval_end | {fmt}", "the next run's date"
    # prev_execution_date, prev_ds, prev_ds_nodash
    if s.kind == "manual":
        return {
            "prev_execution_date": date,
            "prev_ds": _ds(s),
            "prev_ds_nodash": ("data_interval_start | ds_nodash" if s.trigger else "ds_nodash"),
        }[name], ("a manual run is its own previous run")
    if s.period is None:
        return None, "the schedule has no fixed period (months, weekdays, daylight saving time)"
    delta = f"macros.timedelta({timedelta_args(s.period)})"
    if name == "prev_ds" and s.period == 86400 and not s.trigger:
        return "macros.ds_add(ds, -1)", "the previous tick of a daily schedule"
    prev = f"({date} - {delta})"
    if name == "prev_execution_date":
        return prev, "the previous schedule tick"
    return (
        f"{prev} | {'ds_nodash' if name.endswith('nodash') else 'ds'}",
        "the previous schedule tick",
    )


def trigger_replacement(name: str) -> str:
    """A run-date variable read from the data interval (trigger mode)."""
    return "data_interval_start" if name == "logical_date" else f"data_interval_start | {name}"


_SPAN = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
# An identifier that is not an attribute, a keyword argument name, a filter
# name or inside a Jinja string literal.
# Jinja string literals and filter names (``| ds``) are matched first and kept.
_TOKEN = re.compile(r"""'[^']*'|"[^"]*"|\|\s*\w+|(?<![\w.])([A-Za-z_]\w*)(?!\w)(?!\s*=[^=])""")
_ATTR = re.compile(r"\b(dag_run|ti|task_instance)\.(execution_date)\b")


@dataclass
class TemplateEdit:
    name: str
    replacement: str | None
    why: str


def rewrite(text: str, s: Schedule) -> tuple[str, list[TemplateEdit]]:
    """The template text with every removed variable replaced (where ``s``
    allows), and one edit per distinct variable met (replacement None: left
    as it is, to be reported)."""
    if "{" not in text:
        return text, []
    edits: dict[str, TemplateEdit] = {}

    def span(m: re.Match) -> str:
        body_index = 1 if m.group(1) is not None else 2
        body = m.group(body_index)
        whole = body.strip().strip("{}").strip()  # f-strings double the braces

        def token(t: re.Match) -> str:
            name = t.group(1)
            if name is None:
                return t.group(0)
            if name in REMOVED:
                new, why = template_replacement(name, s)
            elif s.trigger and name in RUN_DATE:
                new, why = trigger_replacement(name), "the run's date is data_interval_start"
            else:
                return name
            edits.setdefault(name, TemplateEdit(name, new, why))
            if new is None:
                return name
            simple = re.fullmatch(r"\w+", new) is not None
            return new if simple or whole == name else f"({new})"

        def attr(a: re.Match) -> str:
            if a.group(1) == "dag_run":
                edits.setdefault(
                    "dag_run.execution_date",
                    TemplateEdit(
                        "dag_run.execution_date", "dag_run.logical_date", "the same datetime"
                    ),
                )
                return "dag_run.logical_date"
            key = f"{a.group(1)}.execution_date"
            edits.setdefault(
                key, TemplateEdit(key, None, "the task instance has no logical date attribute")
            )
            return a.group(0)

        new_body = _ATTR.sub(attr, _TOKEN.sub(token, body))
        if new_body == body:
            return m.group(0)
        open_, close = ("{{", "}}") if body_index == 1 else ("{%", "%}")
        return open_ + new_body + close

    out = _SPAN.sub(span, text)
    return out, list(edits.values())


def has_template(text: str) -> bool:
    return "{{" in text or "{%" in text
