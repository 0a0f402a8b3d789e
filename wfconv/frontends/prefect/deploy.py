"""Prefect deployments and schedules -> ``Workflow.schedule`` (and friends).

A Prefect flow has no schedule of its own: schedules belong to deployments,
declared in Python (``flow.serve(...)``, ``flow.deploy(...)``,
``flow.to_deployment(...)``) or in a ``prefect.yaml`` beside the code. The
Prefect frontend (``wfconv.frontends.prefect``) reads the Python calls and
builds ``Deployment`` values; this module reads ``prefect.yaml`` and applies
every deployment of a flow to its workflow:

- the first active schedule becomes ``workflow.schedule`` (the IR holds one);
  every schedule of every deployment stays in ``workflow.extra["prefect"]``;
- Prefect never catches up (missed runs become Late), so ``catchup`` is False;
- deployment ``parameters`` override the flow's defaults in
  ``workflow.params``; deployment ``tags`` become workflow tags; a
  deployment's ``concurrency_limit`` (``global_limit`` for ``serve``) is
  ``max_active_runs``;
- an ``Interval`` anchor becomes ``start_date`` (Prefect aligns runs to
  anchor + k * interval, the runtime aligns them to ``start_date``);
- an RRule is translated to cron when it is exactly expressible, otherwise the
  workflow stays ``manual`` with a warning and the rule is kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfconv.errors import InputError
from wfconv.ir.model import (
    CRON_PRESETS,
    DATA_INTERVAL,
    TIME_MODELS,
    TRIGGER,
    Diagnostic,
    Schedule,
    Workflow,
)

# Diagnostic codes (docs/codes/prefect.md).
SEVERAL_SCHEDULES = "PF301"
RRULE_NOT_CRON = "PF302"
BAD_PREFECT_YAML = "PF303"
PAUSED = "PF304"
SCHEDULE_UNKNOWN = "PF305"
CRON_ODD = "PF306"


@dataclass
class ScheduleSpec:
    """One Prefect schedule as written (cron / interval / rrule)."""

    kind: str
    value: Any
    timezone: str | None = None
    anchor_date: str | None = None
    day_or: bool | None = None
    active: bool = True
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, self.kind: self.value}
        if self.timezone is not None:
            out["timezone"] = self.timezone
        if self.anchor_date is not None:
            out["anchor_date"] = self.anchor_date
        if self.day_or is not None:
            out["day_or"] = self.day_or
        if not self.active:
            out["active"] = False
        return out


@dataclass
class Deployment:
    """A deployment of one flow, from Python or from prefect.yaml."""

    flow: str  # the flow's function name
    via: str  # serve | deploy | to_deployment | prefect.yaml
    name: str | None = None
    schedules: list[ScheduleSpec] = field(default_factory=list)
    paused: bool | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"via": self.via, "name": self.name}
        out["schedules"] = [s.to_json() for s in self.schedules]
        if self.paused is not None:
            out["paused"] = self.paused
        if self.parameters:
            out["parameters"] = self.parameters
        if self.tags:
            out["tags"] = list(self.tags)
        out.update(self.settings)
        if self.via == "prefect.yaml":
            out["path"] = self.path
        return out


# ---------------------------------------------------------------------------
# cron and rrule


def normalize_cron(expr: str) -> str:
    """Presets to 5 fields, whitespace collapsed."""
    text = " ".join(expr.split())
    return CRON_PRESETS.get(text.lower(), text)


_RRULE_DAYS = {"SU": "0", "MO": "1", "TU": "2", "WE": "3", "TH": "4", "FR": "5", "SA": "6"}
_RRULE_OK_KEYS = {
    "FREQ",
    "INTERVAL",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSECOND",
    "UNTIL",
    "WKST",
}


@dataclass
class RRuleCron:
    """An RRule translated: the cron line, plus what it said about dates."""

    cron: str
    start: str | None = None
    until: str | None = None
    timezone: str | None = None


def _rrule_time(text: str, tz: str | None) -> str:
    """``20240101T060000Z`` / ``20240101T060000`` -> ISO-8601 with offset."""
    utc = text.endswith("Z")
    raw = text.rstrip("Z")
    fmt = "%Y%m%dT%H%M%S" if "T" in raw else "%Y%m%d"
    dt = datetime.datetime.strptime(raw, fmt)
    if utc or not tz:
        return dt.replace(tzinfo=datetime.UTC).isoformat()
    return dt.replace(tzinfo=ZoneInfo(tz)).isoformat()


def _split_rrule(text: str) -> tuple[str | None, str | None, dict[str, str]]:
    """(DTSTART value, its TZID, the RRULE's parts) of an RRule text."""
    dtstart: str | None = None
    tzid: str | None = None
    rule = ""
    for raw in text.replace("\\n", "\n").splitlines():
        line = raw.strip()
        if line.upper().startswith("DTSTART"):
            head, _, value = line.partition(":")
            for part in head.split(";")[1:]:
                k, _, v = part.partition("=")
                if k.upper() == "TZID":
                    tzid = v
            dtstart = value
        elif line.upper().startswith("RRULE:"):
            rule = line[6:]
        elif line.upper().startswith("FREQ="):
            rule = line
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not item:
            continue
        k, _, v = item.partition("=")
        parts[k.upper()] = v.upper() if k.upper() != "UNTIL" else v
    return dtstart, tzid, parts


_INTERVAL_UNITS = {"MINUTELY": 60, "HOURLY": 3600}


def rrule_to_interval(text: str, timezone: str | None = None) -> RRuleCron | None:
    """``FREQ=MINUTELY|HOURLY;INTERVAL=n`` from a DTSTART, nothing else (what
    wfconv writes for a dated interval schedule): a fixed interval, read as
    the IR's ``interval`` schedule (``cron`` holds the seconds)."""
    dtstart, tzid, parts = _split_rrule(text)
    if not dtstart or set(parts) - {"FREQ", "INTERVAL", "UNTIL", "BYSECOND"}:
        return None
    unit = _INTERVAL_UNITS.get(parts.get("FREQ", ""))
    n = parts.get("INTERVAL", "1")
    if unit is None or not n.isdigit() or int(n) < 1 or parts.get("BYSECOND", "0") != "0":
        return None
    zone = timezone or tzid
    until = parts.get("UNTIL")
    try:
        start = _rrule_time(dtstart.rstrip("Z") if timezone else dtstart, zone)
        end = _rrule_time(until.rstrip("Z") if timezone else until, zone) if until else None
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return RRuleCron(str(unit * int(n)), start, end, zone)


def rrule_once(text: str, timezone: str | None = None) -> str | None:
    """The date of a rule that occurs once (``COUNT=1`` from a DTSTART, what
    wfconv writes for Airflow's ``@once``), ISO-8601, or None."""
    dtstart, tzid, parts = _split_rrule(text)
    if not dtstart or parts.get("COUNT") != "1" or set(parts) - {"FREQ", "COUNT"}:
        return None
    try:
        return _rrule_time(dtstart.rstrip("Z") if timezone else dtstart, timezone or tzid)
    except (ValueError, ZoneInfoNotFoundError):
        return None


def rrule_to_cron(text: str, timezone: str | None = None) -> tuple[RRuleCron | None, str]:
    """Translate an iCalendar RRULE to cron when it is exactly expressible.

    Returns (translation, "") or (None, reason). Only INTERVAL=1 rules with
    plain BY* lists qualify; hour and minute must be fixed by BYHOUR/BYMINUTE
    or by DTSTART (without them the rule depends on when it was created).
    With the schedule's ``timezone``, DTSTART and UNTIL are wall-clock times
    there, whatever their own zone says: Prefect's ``RRuleSchedule.to_rrule``
    replaces their tzinfo with the schedule's timezone.
    """
    dtstart, tzid, parts = _split_rrule(text)
    if not parts:
        return None, "no RRULE line"
    unknown = sorted(set(parts) - _RRULE_OK_KEYS)
    if unknown:
        return None, f"{', '.join(unknown)} has no cron equivalent"
    freq = parts.get("FREQ", "")
    if freq not in ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return None, f"FREQ={freq or '?'} has no cron equivalent"
    if parts.get("INTERVAL", "1") != "1":
        return None, "INTERVAL other than 1 has no cron equivalent"
    if parts.get("BYSECOND", "0") != "0":
        return None, "BYSECOND other than 0 has no cron equivalent"
    start: datetime.datetime | None = None
    if dtstart:
        try:
            start = datetime.datetime.strptime(dtstart.rstrip("Z"), "%Y%m%dT%H%M%S")
        except ValueError:
            return None, f"DTSTART {dtstart!r} is not a date-time"
    try:
        days = [_RRULE_DAYS[d] for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else None
    except KeyError:
        return None, "BYDAY with ordinals (e.g. 1MO) has no cron equivalent"

    def field_or_start(key: str, attr: str) -> str | None:
        if key in parts:
            return parts[key]
        return str(getattr(start, attr)) if start is not None else None

    minute = field_or_start("BYMINUTE", "minute")
    hour = "*" if freq == "HOURLY" and "BYHOUR" not in parts else field_or_start("BYHOUR", "hour")
    if minute is None or hour is None:
        return None, "hour/minute depend on when the schedule was created (no DTSTART)"
    dom, month, dow = parts.get("BYMONTHDAY", "*"), parts.get("BYMONTH", "*"), "*"
    if days is not None:
        if dom != "*":
            return None, "BYDAY together with BYMONTHDAY means AND; cron means OR"
        dow = ",".join(days)
    elif freq == "WEEKLY":
        if start is None:
            return None, "the weekday depends on when the schedule was created (no DTSTART)"
        dow = str((start.weekday() + 1) % 7)
    elif freq in ("MONTHLY", "YEARLY") and dom == "*":
        if start is None:
            return None, "the day depends on when the schedule was created (no DTSTART)"
        dom = str(start.day)
    if freq == "YEARLY" and month == "*" and days is None:
        if start is None:
            return None, "the month depends on when the schedule was created (no DTSTART)"
        month = str(start.month)
    if any(int(x) < 0 for x in dom.split(",") if x.lstrip("-").isdigit()):
        return None, "negative BYMONTHDAY has no cron equivalent"
    until = parts.get("UNTIL")
    if timezone is not None:
        tzid = timezone
        dtstart = dtstart.rstrip("Z") if dtstart else dtstart
        until = until.rstrip("Z") if until else until
    out = RRuleCron(f"{minute} {hour} {dom} {month} {dow}", timezone=tzid)
    try:
        if dtstart:
            out.start = _rrule_time(dtstart, tzid)
        if until:
            out.until = _rrule_time(until, tzid)
    except (ValueError, ZoneInfoNotFoundError, OSError):
        return None, "DTSTART/UNTIL could not be read"
    return out, ""


# ---------------------------------------------------------------------------
# prefect.yaml


def _yaml_line(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_schedule(item: Any, line: int | None) -> ScheduleSpec | None:
    if not isinstance(item, dict):
        return None
    tz = item.get("timezone")
    active = item.get("active", True) is not False
    if item.get("cron"):
        return ScheduleSpec("cron", str(item["cron"]), tz, None, item.get("day_or"), active, line)
    if item.get("interval") is not None:
        anchor = item.get("anchor_date")
        if isinstance(anchor, datetime.datetime):
            anchor = anchor.isoformat()
        return ScheduleSpec("interval", item["interval"], tz, anchor, None, active, line)
    if item.get("rrule"):
        return ScheduleSpec("rrule", str(item["rrule"]), tz, None, None, active, line)
    return None


def read_prefect_yaml(
    flow_file: Path, display_path: str
) -> tuple[list[Deployment], list[Diagnostic]]:
    """Deployments of ``prefect.yaml`` (beside ``flow_file``) whose entrypoint
    is a function of that file. The flow name is matched later."""
    yaml_path = flow_file.parent / "prefect.yaml"
    if not yaml_path.is_file():
        return [], []
    shown = str(Path(display_path).parent / "prefect.yaml")
    try:
        import yaml  # PyYAML comes with Prefect

        text = yaml_path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        nodes = yaml.compose(text)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [
            Diagnostic("warning", BAD_PREFECT_YAML, f"cannot read prefect.yaml: {exc}", shown)
        ]
    except Exception as exc:  # yaml.YAMLError and its subclasses
        msg = f"prefect.yaml is not valid YAML ({getattr(exc, 'problem', None) or exc}); its deployments are ignored"
        return [], [Diagnostic("warning", BAD_PREFECT_YAML, msg, shown, _yaml_line(exc))]
    if not isinstance(data, dict) or not isinstance(data.get("deployments") or [], list):
        return [], [
            Diagnostic(
                "warning", BAD_PREFECT_YAML, "prefect.yaml: 'deployments' is not a list", shown
            )
        ]
    lines = _deployment_lines(nodes)
    out: list[Deployment] = []
    here = flow_file.resolve()
    for i, dep in enumerate(data.get("deployments") or []):
        line = lines[i] if i < len(lines) else None
        if not isinstance(dep, dict) or not isinstance(dep.get("entrypoint"), str):
            continue
        file_part, _, func = dep["entrypoint"].rpartition(":")
        if not func or (yaml_path.parent / file_part).resolve() != here:
            continue
        raw = dep.get("schedules")
        if raw is None and dep.get("schedule") is not None:
            raw = [dep["schedule"]]  # Prefect 2 spelling
        specs = [s for s in (_yaml_schedule(x, line) for x in (raw or [])) if s is not None]
        settings: dict[str, Any] = {}
        pool = dep.get("work_pool")
        if isinstance(pool, dict) and pool.get("name"):
            settings["work_pool"] = pool["name"]
        for key in ("description", "version", "concurrency_limit"):
            if dep.get(key) is not None:
                settings[key] = dep[key]
        out.append(
            Deployment(
                flow=func,
                via="prefect.yaml",
                name=dep.get("name"),
                schedules=specs,
                paused=dep.get("paused"),
                parameters=dict(dep.get("parameters") or {}),
                tags=[str(t) for t in (dep.get("tags") or [])],
                settings=settings,
                path=shown,
                line=line,
            )
        )
    return out, []


def _deployment_lines(root: Any) -> list[int]:
    """1-based line of each item of the top-level ``deployments`` sequence."""
    try:
        for key, value in root.value:
            if key.value == "deployments":
                return [item.start_mark.line + 1 for item in value.value]
    except (AttributeError, TypeError):
        pass
    return []


# ---------------------------------------------------------------------------
# applying deployments to a workflow


def _to_schedule(
    spec: ScheduleSpec, w: Workflow, diags: list[Diagnostic], path: str | None
) -> Schedule | None:
    tz = spec.timezone or "UTC"
    if spec.kind == "cron":
        cron = normalize_cron(str(spec.value))
        if len(cron.split()) != 5:
            diags.append(
                Diagnostic(
                    "warning",
                    CRON_ODD,
                    f"cron {cron!r} does not have 5 fields; kept as written",
                    path,
                    spec.line,
                )
            )
        if spec.day_or is False:
            diags.append(
                Diagnostic(
                    "warning",
                    CRON_ODD,
                    "cron day_or=False (day-of-month AND day-of-week) has no standard cron spelling; kept in extra",
                    path,
                    spec.line,
                )
            )
        return Schedule(kind="cron", cron=cron, timezone=tz)
    if spec.kind == "interval":
        if spec.anchor_date and w.start_date is None:
            w.start_date = _with_offset(spec.anchor_date, tz)
        return Schedule(kind="interval", seconds=float(spec.value), timezone=tz)
    once = rrule_once(str(spec.value), spec.timezone)
    if once is not None:
        w.start_date = w.start_date or once
        return Schedule(kind="once", timezone=tz)
    translated, why = rrule_to_cron(str(spec.value), spec.timezone)
    interval = rrule_to_interval(str(spec.value), spec.timezone) if translated is None else None
    if interval is not None:
        w.start_date = w.start_date or interval.start
        w.end_date = w.end_date or interval.until
        return Schedule(kind="interval", seconds=float(interval.cron), timezone=tz)
    if translated is None:
        diags.append(
            Diagnostic(
                "warning",
                RRULE_NOT_CRON,
                f"rrule {spec.value!r}: {why}; schedule left manual, rule kept in extra",
                path,
                spec.line,
            )
        )
        return None
    if translated.start and w.start_date is None:
        w.start_date = translated.start
    if translated.until and w.end_date is None:
        w.end_date = translated.until
    return Schedule(kind="cron", cron=translated.cron, timezone=translated.timezone or tz)


def _time_model(sched: Schedule, w: Workflow, time: Any) -> None:
    """The model of a wfconv module's schedule (its ``WFCONV_TIME``): its
    ``wfconv_run_dates`` shows each run its data interval. Prefect starts a
    data-interval run when its interval ends, so the dates the deployment
    holds (the first and last run's start) move back one interval to the
    first and last interval start the IR keeps."""
    sched.model = TRIGGER
    if not isinstance(time, dict) or time.get("model") not in TIME_MODELS:
        return
    iv = time.get("interval_s")
    if isinstance(iv, (int, float)) and not isinstance(iv, bool) and iv > 0:
        sched.interval_s = float(iv)
    if time["model"] != DATA_INTERVAL:
        return
    sched.model, sched.interval_s = DATA_INTERVAL, None
    from wfconv.runtime.schedule import parse_datetime, ticks_for

    ticks = ticks_for(sched)
    try:
        for attr in ("start_date", "end_date"):
            text = getattr(w, attr)
            if ticks is not None and text:
                moment = ticks.prev(parse_datetime(text, sched.timezone or "UTC"))
                setattr(w, attr, moment.isoformat())
    except (InputError, ValueError, OverflowError):
        return


def _with_offset(iso: str, tz: str) -> str:
    """A naive anchor is read in the schedule's timezone (as Prefect does)."""
    try:
        dt = datetime.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if dt.tzinfo is None:
        try:
            dt = dt.replace(tzinfo=ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            dt = dt.replace(tzinfo=datetime.UTC)
    return dt.isoformat()


def apply_deployments(
    w: Workflow, deployments: list[Deployment], path: str | None, time: Any = None
) -> None:
    """Fill schedule, params, tags, start/end dates and extra from deployments.
    A Prefect flow run's scheduled start time is its tick: the trigger time
    model (docs/semantics.md R3), unless ``time`` (the ``WFCONV_TIME``
    constant of a module wfconv wrote) says its runs see data intervals."""
    w.catchup = False
    w.schedule.model = TRIGGER
    if not deployments:
        return
    diags: list[Diagnostic] = []
    specs = [(d, s) for d in deployments for s in d.schedules]
    chosen = next(((d, s) for d, s in specs if s.active), None)
    if chosen is not None:
        sched = _to_schedule(chosen[1], w, diags, chosen[0].path or path)
        if sched is not None:
            _time_model(sched, w, time)
            w.schedule = sched
        if chosen[0].paused:
            diags.append(
                Diagnostic(
                    "info",
                    PAUSED,
                    f"deployment {chosen[0].name!r} is created paused: its schedule only runs once resumed",
                    chosen[0].path or path,
                    chosen[0].line,
                )
            )
    elif specs:
        d, s = specs[0]
        diags.append(
            Diagnostic(
                "info",
                PAUSED,
                "every schedule is inactive (active: false): workflow left manual",
                d.path or path,
                s.line,
            )
        )
    if len(specs) > 1:
        d, s = chosen or specs[0]
        diags.append(
            Diagnostic(
                "info",
                SEVERAL_SCHEDULES,
                f"{len(specs)} schedules across {len(deployments)} deployment(s): the first active one is the workflow schedule, all are kept in extra.prefect.deployments",
                d.path or path,
                s.line,
            )
        )
    for d in deployments:
        # A deployment's concurrency limit caps its concurrent flow runs:
        # Airflow's max_active_runs (the first limit said wins).
        limit = d.settings.get("concurrency_limit", d.settings.get("global_limit"))
        if w.max_active_runs is None and isinstance(limit, int) and not isinstance(limit, bool):
            w.max_active_runs = limit
        w.params.update(d.parameters)
        for tag in d.tags:
            if tag not in w.tags:
                w.tags.append(tag)
    w.extra.setdefault("prefect", {})["deployments"] = [d.to_json() for d in deployments]
    w.diagnostics.extend(diags)
