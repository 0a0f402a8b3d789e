"""What a DAG's schedule means, for the time-model rewrites (UG501-UG507).

An Airflow 2 cron string, preset or ``timedelta`` is a data-interval timetable;
the same value in Airflow 3 is a trigger timetable (docs/semantics.md §1, R3).
``classify`` tells which kind of value a DAG passes (from the literal when
there is one, else from the values wfconv's Airflow reader found for that
``DAG(...)`` call, which sees through factories and constants), its timezone
(Airflow 2: the start date's, else UTC) and whether it has a fixed period
(what ``prev_ds`` and ``--timetable trigger`` need).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import libcst as cst
from cronsim import CronSim, CronSimError

from wfconv.frontends.airflow.reader import CRON_PRESETS
from wfconv.upgrade import jinja
from wfconv.upgrade.scan import Scan, code_of, keyword, string_value

SCHEDULE_ARGS = ("schedule", "schedule_interval", "timetable")

# Timezones without daylight saving time: a cron tick's UTC spacing is its
# wall-clock spacing only there.
FIXED_ZONES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Universal", "Zulu"}


@dataclass(frozen=True)
class SiteTime:
    """The schedule of one ``DAG(...)`` call or ``@dag`` decorator.

    ``kind``: ``cron`` | ``delta`` (a cron string/preset or a timedelta, the two
    kinds whose meaning changed), ``none`` (``schedule=None``), ``once``,
    ``continuous``, ``datasets``, ``timetable`` (an explicit timetable object),
    ``absent`` (no schedule argument: Airflow 2's daily default) or ``unknown``.
    """

    kind: str
    period: float | None = None
    tz: str | None = None

    def for_templates(self, trigger: bool = False) -> jinja.Schedule:
        if self.kind in ("cron", "delta", "absent"):
            return jinja.Schedule("periodic", self.period, trigger)
        if self.kind == "none":
            return jinja.Schedule("manual", None, trigger)
        if self.kind in ("once", "datasets"):
            return jinja.Schedule(self.kind)
        return jinja.UNKNOWN


@functools.lru_cache(maxsize=256)
def cron_period(expr: str, tz: str | None) -> float | None:
    """The fixed spacing of a cron expression's ticks in seconds, or None when
    the spacing varies (months, weekday lists, hours that do not divide the
    day) or the timezone has daylight saving time."""
    expr = CRON_PRESETS.get(expr.strip(), expr.strip())
    if tz not in FIXED_ZONES and not (tz or "").startswith(("+", "-", "Etc/GMT")):
        return None
    try:
        it = CronSim(expr, datetime(2024, 1, 1, tzinfo=UTC))
        ticks = [next(it)]
        # Enough ticks to cross day, month and leap-year boundaries.
        while len(ticks) < 1500 and (ticks[-1] - ticks[0]).days < 4 * 366:
            ticks.append(next(it))
    except (CronSimError, StopIteration, ValueError):
        return None
    gaps = {(b - a).total_seconds() for a, b in zip(ticks, ticks[1:], strict=False)}
    return gaps.pop() if len(gaps) == 1 else None


def is_cron_value(text: str) -> bool:
    v = text.strip()
    return v in CRON_PRESETS or len(v.split()) in (5, 6)


def classify_literal(value: object) -> str | None:
    """The kind of a literal schedule value (a string), or None."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if v == "@once":
        return "once"
    if v == "@continuous":
        return "continuous"
    return "cron" if is_cron_value(v) else "unknown"


def from_ir(schedules: list) -> tuple[str, float | None, str | None]:
    """(kind, period, timezone) from the IR schedules wfconv's Airflow reader
    found for one DAG call (several for a factory); kind ``unknown`` when they
    disagree or there are none."""
    if not schedules:
        return "unknown", None, None
    kinds = set()
    for s in schedules:
        kinds.add(
            {"cron": "cron", "interval": "delta", "once": "once", "manual": "none"}.get(
                s.kind, "datasets" if s.kind in ("datasets", "assets") else "unknown"
            )
        )
    zones = {s.timezone for s in schedules}
    tz = zones.pop() if len(zones) == 1 else None
    if len(kinds) != 1:
        return "unknown", None, tz
    kind = kinds.pop()
    periods = set()
    for s in schedules:
        if s.kind == "cron":
            periods.add(cron_period(s.cron, s.timezone or "UTC"))
        elif s.kind == "interval":
            periods.add(s.seconds)
    period = periods.pop() if len(periods) == 1 else None
    return kind, period, tz


def site_times(scan: Scan, ir_workflows) -> dict[int, SiteTime]:
    """Each site's schedule kind, period and timezone."""
    by_line: dict[int, list] = {}
    by_id: dict[str, list] = {}
    for w in ir_workflows:
        if w.source and w.source.line:
            by_line.setdefault(w.source.line, []).append(w)
        by_id.setdefault(w.id, []).append(w)
    out: dict[int, SiteTime] = {}
    for site in scan.sites:
        call = site.call
        if site.name is not None:  # @dag: the reader reports the DAG where it is called
            dag_id = keyword(call, "dag_id") if call is not None else None
            wid = string_value(dag_id.value) if dag_id is not None else site.name
            workflows = by_id.get(wid, [])
        else:
            workflows = by_line.get(site.line, [])
        ir_kind, ir_period, ir_tz = from_ir([w.schedule for w in workflows])
        value = None
        if call is not None:
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value in SCHEDULE_ARGS:
                    value = arg.value
            if value is None:
                positional = [a for a in call.args if a.keyword is None and not a.star]
                if len(positional) >= 3 and site.name is None:
                    value = positional[2].value
        tz = ir_tz
        if value is None:
            out[id(site.node)] = SiteTime("absent", 86400.0, tz)
            continue
        kind = _literal_kind(value)
        period = None
        if kind == "cron":
            period = cron_period(string_value(value), tz or "UTC")
        elif kind in (None, "delta"):
            kind, period = (
                (ir_kind, ir_period) if kind is None or ir_kind == "delta" else (kind, None)
            )
            if kind == "delta" and period is None:
                period = ir_period
        out[id(site.node)] = SiteTime(kind, period, tz)
    return out


def _literal_kind(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.Name) and value.value == "None":
        return "none"
    s = string_value(value)
    if s is not None:
        return classify_literal(s)
    if isinstance(value, (cst.List, cst.Tuple, cst.BinaryOperation)):
        return "datasets"
    if isinstance(value, cst.Call):
        func = code_of(value.func)
        last = func.rsplit(".", 1)[-1]
        if last in ("timedelta", "relativedelta"):
            return "delta"
        if last.endswith("Timetable") or last.endswith("Schedule"):
            return "timetable"
        if last in ("Dataset", "Asset", "DatasetAll", "DatasetAny", "AssetAll", "AssetAny"):
            return "datasets"
    return None
