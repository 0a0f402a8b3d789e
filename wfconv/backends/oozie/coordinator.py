"""``coordinator.xml`` (frequency, dates, input events from start sensors)
and ``job.properties``."""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from wfconv.backends.oozie.context import (
    _FAR_END,
    _STRFTIME,
    _TEMPLATE,
    COORD_NS,
    _configuration,
    _Ctx,
    _el_string,
    _from_oozie,
    _q,
    _sub,
    _xml_safe,
)
from wfconv.backends.oozie.workflow import _comment_json
from wfconv.ir.model import TRIGGER, Workflow
from wfconv.runtime.schedule import effective_catchup, run_after_bounds

# ---------------------------------------------------------------------------
# coordinator.xml


_PRESET_FREQ = {
    "0 * * * *": "${coord:hours(1)}",
    "0 0 * * *": "${coord:days(1)}",
    "0 0 1 * *": "${coord:months(1)}",
}


def _dow_to_oozie(field_: str) -> str:
    """Unix day-of-week (0/7 = Sunday) -> Oozie/Quartz (1 = Sunday)."""

    def one(tok: str) -> str:
        for mark in ("#", "L"):  # nL: last n-day of the month, n#k: its k-th
            head, sep, tail = tok.partition(mark)
            if sep and head.isdigit():
                return str(int(head) % 7 + 1) + sep + tail
        return str(int(tok) % 7 + 1) if tok.isdigit() else tok

    out = []
    for part in field_.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.append(f"{one(lo)}-{one(hi)}{step}")
        else:
            out.append(one(part) + step)
    return ",".join(out)


def _frequency(w: Workflow, ctx: _Ctx) -> str | None:
    s = w.schedule
    if s.kind in ("cron", "interval") and s.datasets:
        ctx.warn(
            "BO601",
            f"runs triggered by updates of {', '.join(s.datasets)} have no coordinator form; "
            "only the time schedule is kept",
            target="frequency",
        )
    if s.kind == "cron" and s.cron:
        if s.cron in _PRESET_FREQ:
            return _PRESET_FREQ[s.cron]
        fixed = _fixed_period(s.cron)
        if fixed is not None:
            return fixed
        fields = s.cron.split()
        if len(fields) == 5 and fields[4] != "*":
            new = _dow_to_oozie(fields[4])
            if new != fields[4]:
                ctx.warn(
                    "BO606",
                    f"cron day-of-week {fields[4]!r} written as {new!r} (Sunday=1)",
                    severity="info",
                    target="frequency",
                )
            fields[4] = new
        return " ".join(fields)
    if s.kind == "interval" and s.seconds:
        minutes = math.ceil(float(s.seconds) / 60)
        if minutes * 60 != float(s.seconds):
            ctx.warn("BO605", f"interval {s.seconds}s becomes {minutes} min", target="frequency")
        if minutes % 1440 == 0:
            return f"${{coord:days({minutes // 1440})}}"
        if minutes % 60 == 0:
            return f"${{coord:hours({minutes // 60})}}"
        return f"${{coord:minutes({minutes})}}"
    if s.kind not in ("manual",):
        ctx.warn(
            "BO601",
            f"schedule kind {s.kind!r} has no coordinator form; "
            "workflow.xml only (submit it yourself)",
            target="no coordinator",
        )
    return None


def _fixed_period(cron: str) -> str | None:
    """A cron that ticks once per fixed period at a fixed offset is an EL
    frequency (the coordinator's start is one of its ticks): readable, and
    its interval start is computable with coord:dateOffset."""
    f = cron.split()
    if len(f) != 5 or not f[0].isdigit():
        if len(f) == 5 and re.fullmatch(r"\*/\d+", f[0]) and f[1:] == ["*"] * 4:
            k = int(f[0][2:])
            return f"${{coord:minutes({k})}}" if k and 60 % k == 0 else None
        return None
    minute, hour, dom, month, dow = f
    if hour == "*" and dom == month == dow == "*":
        return "${coord:hours(1)}"
    if re.fullmatch(r"\*/\d+", hour) and dom == month == dow == "*":
        k = int(hour[2:])
        return f"${{coord:hours({k})}}" if k and 24 % k == 0 else None
    if not hour.isdigit():
        return None
    if dom == month == dow == "*":
        return "${coord:days(1)}"
    if dom == month == "*" and re.fullmatch(r"[0-7]", dow):
        return "${coord:days(7)}"
    if dom.isdigit() and month == dow == "*" and int(dom) <= 28:
        return "${coord:months(1)}"
    return None


def _zone(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _aware(iso: str) -> datetime:
    dt = datetime.fromisoformat(iso)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clamped_start(w: Workflow, ctx: _Ctx) -> Workflow:
    """A start_date before 1970 (Airflow examples use ``datetime.min``) has no
    sensible coordinator start: Oozie would materialize every nominal time
    since then. It is written as 1970-01-01 and said so."""
    if not w.start_date:
        return w
    try:
        start = _aware(w.start_date)
    except ValueError:
        return w
    if start >= _EPOCH:
        return w
    ctx.warn(
        "BO610",
        f"start_date {w.start_date} is before 1970: the coordinator starts at 1970-01-01",
        target="start",
    )
    clamped = copy.copy(w)
    clamped.start_date = _EPOCH.isoformat()
    return clamped


def _first_nominal(w: Workflow) -> datetime:
    """The first run's start, which is Oozie's first nominal time: the first
    tick in the trigger model, the end of the first interval [X0, X1) in the
    data-interval model (docs/semantics.md R3)."""
    bounds = run_after_bounds(w)
    assert bounds is not None  # a scheduled workflow with a start_date
    return bounds[0]


def _end_bound(w: Workflow) -> datetime:
    """Oozie materializes nominal times < end: one minute after the last
    run's start (the last tick at or before end_date, or the end of the last
    interval that starts at or before it)."""
    bounds = run_after_bounds(w)
    assert bounds is not None and bounds[1] is not None
    return bounds[1] + timedelta(minutes=1)


def _utc_minutes(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _anchor_start_el(freq: str, ctx: _Ctx) -> str:
    """EL of the logical date (= the data interval's start): the nominal time
    minus one period in the data-interval model, minus the trigger's
    ``interval_s`` in the trigger model (docs/semantics.md R3)."""
    s = ctx.w.schedule
    if s.time_model == TRIGGER:
        if not s.interval_s:
            return "coord:nominalTime()"
        minutes = math.ceil(float(s.interval_s) / 60)
        if minutes * 60 != float(s.interval_s):
            ctx.warn(
                "BO505",
                f"data interval of {s.interval_s}s is not whole minutes: {minutes} min used",
                target="coordinator configuration",
            )
        return f"coord:dateOffset(coord:nominalTime(), -{minutes}, 'MINUTE')"
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq)
    if m:
        unit = {"minutes": "MINUTE", "hours": "HOUR", "days": "DAY", "months": "MONTH"}[m.group(1)]
        return f"coord:dateOffset(coord:nominalTime(), -{m.group(2)}, '{unit}')"
    ctx.warn(
        "BO503",
        f"cron frequency {freq!r}: the interval start (ds, ts, ...) cannot be "
        "computed in EL; the nominal time (interval end) is used",
        target="coordinator configuration",
    )
    return "coord:nominalTime()"


# ---------------------------------------------------------------------------
# sensors -> coordinator input events


@dataclass
class _InputEvent:
    """A file sensor at the start of a scheduled workflow, as Oozie says it:
    a dataset instance the coordinator waits for before the run starts."""

    task_id: str
    name: str
    uri_template: str
    done_flag: str | None  # None: Oozie's default _SUCCESS
    instance: int  # coord:current(instance)
    timeout_min: int | None


_URI_VARS = {"Y": "${YEAR}", "m": "${MONTH}", "d": "${DAY}", "H": "${HOUR}", "M": "${MINUTE}"}
_PERIOD_MIN = {"minutes": 1, "hours": 60, "days": 1440}
_EVENT_NAME = re.compile(r"[A-Za-z_][-_A-Za-z0-9]{0,38}")


def _uri_part(fmt: str) -> str | None:
    """strftime text -> uri-template text (${YEAR}/${MONTH}/...), or None."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            var = _URI_VARS.get(fmt[i + 1 : i + 2])
            if var is None:
                return None
            out.append(var)
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _start_periods(w: Workflow, period: tuple[str, int]) -> int | None:
    """How many dataset periods the logical date lies before the nominal
    time: one in the data-interval model, ``interval_s`` worth in the trigger
    model (None when that is not a whole number of periods)."""
    if w.schedule.time_model != TRIGGER:
        return 1
    if not w.schedule.interval_s:
        return 0
    unit, count = period
    if unit == "months":
        return None
    step = _PERIOD_MIN[unit] * count * 60
    k, rest = divmod(float(w.schedule.interval_s), step)
    return int(k) if not rest else None


def _template_instance(
    expr: str, period: tuple[str, int], back: int | None
) -> tuple[str, int] | None:
    """A date template -> (uri text, instance offset in periods), or None.
    ``back``: the logical date's distance before the nominal time, in periods."""
    unit, count = period
    plain = {"ds": ("%Y-%m-%d", "start"), "ds_nodash": ("%Y%m%d", "start")}
    offset = 0
    if expr in plain:
        fmt, anchor = plain[expr]
    else:
        m = _STRFTIME.fullmatch(expr)
        if m is None:
            return None
        fmt = m.group("fmt")
        anchor = "end" if m.group("name") == "data_interval_end" else "start"
        if m.group("n"):
            if unit == "months":
                return None
            minutes = int(m.group("n")) * _PERIOD_MIN[m.group("unit")]
            step = _PERIOD_MIN[unit] * count
            if minutes % step:
                return None
            offset = minutes // step
    uri = _uri_part(fmt)
    if uri is None or (anchor == "start" and back is None):
        return None
    return uri, offset - (back if anchor == "start" else 0)


def _input_events(w: Workflow, freq: str | None, ctx: _Ctx) -> list[_InputEvent]:
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq or "")
    if m is None or not w.start_date:
        return []
    period = (m.group(1), int(m.group(2)))
    back = _start_periods(w, period)
    has_in = {e.dst for e in w.edges}
    out: list[_InputEvent] = []
    for t in w.tasks:
        f = t.action.fields
        target = f.get("target")
        if (
            t.action.kind != "sensor"
            or f.get("sensor") != "FileSensor"
            or t.id in has_in
            or not isinstance(target, str)
            or f.get("soft_fail")
        ):
            continue
        folder, _, flag = target.rpartition("/")
        name = t.id[len("wait_") :] if t.id.startswith("wait_") else t.id
        if not folder or "{{" in flag or "$" in flag or not _EVENT_NAME.fullmatch(name):
            continue
        parts, instances, pos = [], set(), 0
        for tm in _TEMPLATE.finditer(folder):
            parts.append(folder[pos : tm.start()])
            pos = tm.end()
            got = _template_instance(tm.group(1).strip(), period, back)
            if got is None:
                break
            parts.append(got[0])
            instances.add(got[1])
        else:
            parts.append(folder[pos:])
            literal = "".join(p for p in parts if "${YEAR}" not in p)
            if len(instances) == 1 and ("${" not in literal or _from_oozie(ctx, t)):
                timeout = f.get("timeout_s")
                out.append(
                    _InputEvent(
                        t.id,
                        name,
                        "".join(parts),
                        None if flag == "_SUCCESS" else flag,
                        instances.pop(),
                        None if timeout is None else math.ceil(float(timeout) / 60),
                    )
                )
    return out


def _without_sensors(w: Workflow, events: list[_InputEvent], ctx: _Ctx) -> Workflow:
    """The workflow without the sensors the coordinator now waits for."""
    gone = {ev.task_id for ev in events}
    for ev in events:
        ctx.warn(
            "BO407",
            f"waits as coordinator input event {ev.name!r} (dataset instance "
            f"coord:current({ev.instance})) before the workflow starts, so every first "
            "task waits for it",
            task=w.task(ev.task_id),
            severity="info",
            target=ev.task_id,
        )
    out = copy.copy(w)
    out.tasks = [t for t in w.tasks if t.id not in gone]
    out.edges = [e for e in w.edges if e.src not in gone and e.dst not in gone]
    return out


def _initial_instance(w: Workflow, freq: str, back: int) -> str:
    """The first dataset instance: ``back`` periods before the first nominal
    time (wall-clock arithmetic in the schedule's timezone, as Oozie's
    coord:days/months are), so that coord:current(-back) exists for the first run."""
    first = _first_nominal(w).astimezone(_zone(w.schedule.timezone))
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq)
    if m and back:
        n = int(m.group(2)) * back
        if m.group(1) == "months":
            months = first.year * 12 + first.month - 1 - n
            first = first.replace(year=months // 12, month=months % 12 + 1)
        else:
            first = first - timedelta(**{m.group(1): n})
    return _utc_minutes(first)


def _coordinator_events(root, w: Workflow, events: list[_InputEvent], freq: str) -> None:
    if not events:
        return
    tz = w.schedule.timezone or "UTC"
    start = _initial_instance(w, freq, max(0, -min(ev.instance for ev in events)))
    datasets = _sub(root, "datasets", ns=COORD_NS)
    for ev in events:
        ds = _sub(
            datasets,
            "dataset",
            ns=COORD_NS,
            name=ev.name,
            frequency=freq,
            initial_instance=start,
            timezone=tz,
        )
        _sub(ds, "uri-template", _xml_safe(ev.uri_template), ns=COORD_NS)
        if ev.done_flag is not None:
            _sub(ds, "done-flag", _xml_safe(ev.done_flag), ns=COORD_NS)
    inputs = _sub(root, "input-events", ns=COORD_NS)
    for ev in events:
        din = _sub(inputs, "data-in", ns=COORD_NS, name=ev.name, dataset=ev.name)
        _sub(din, "instance", f"${{coord:current({ev.instance})}}", ns=COORD_NS)


def _carried_configuration(w: Workflow, wf_xml: str) -> dict[str, str]:
    """Properties an Oozie source's coordinator computed at run time (e.g.
    ``actual = ${coord:actualTime()}``) that text kept verbatim still refers to
    as ``${name}``: passed on unchanged, else the workflow's EL could not
    resolve them."""
    conf = ((w.extra.get("oozie") or {}).get("coordinator") or {}).get("configuration") or {}
    out: dict[str, str] = {}
    for name, value in conf.items():
        if not (isinstance(name, str) and isinstance(value, str)) or name in w.params:
            continue
        if "${coord:" in value and "${" + name + "}" in wf_xml:
            out[name] = value
    return out


def _coordinator_xml(
    w: Workflow,
    ctx: _Ctx,
    freq: str,
    events: list[_InputEvent] | None = None,
    carried: dict[str, str] | None = None,
) -> bytes:
    events = events or []
    if w.start_date:
        start = _utc_minutes(_first_nominal(w))
    else:
        ctx.warn("BO603", "no start_date; set job property 'start'", target="${start}")
        start = "${start}"
    if w.end_date:
        end = _utc_minutes(_end_bound(w))
    else:
        ctx.warn(
            "BO602", f"no end_date; coordinator ends at {_FAR_END}", severity="info", target="end"
        )
        end = _FAR_END
    root = etree.Element(
        _q("coordinator-app", COORD_NS),
        nsmap={None: COORD_NS},
        name=_xml_safe(w.id),
        frequency=freq,
        start=start,
        end=end,
        timezone=w.schedule.timezone or "UTC",
    )
    # Oozie starts at the first nominal time and needs an end: the source's own
    # dates (same runs) for wfconv's Oozie reader, which checks them.
    dates: dict[str, object] = {"start_date": w.start_date, "end_date": w.end_date}
    dates["model"] = w.schedule.time_model
    if w.schedule.interval_s:
        dates["interval_s"] = w.schedule.interval_s
    root.append(etree.Comment(" wfconv coordinator dates: " + _comment_json(dates) + " "))
    controls = {}
    timeouts = [ev.timeout_min for ev in events if ev.timeout_min is not None]
    if timeouts:
        controls["timeout"] = str(max(timeouts))
    if w.max_active_runs:
        controls["concurrency"] = str(w.max_active_runs)
    if w.catchup is False:
        controls["execution"] = "LAST_ONLY"
        ctx.warn(
            "BO604",
            "catchup=False: execution LAST_ONLY runs only the latest due action",
            severity="info",
            target="controls/execution",
        )
    elif w.catchup is None and not effective_catchup(w):
        # The source engine's default (docs/semantics.md R3): off in Airflow 3.
        controls["execution"] = "LAST_ONLY"
        ctx.warn(
            "BO604",
            "catchup not set, off by default in the source engine: execution LAST_ONLY runs "
            "only the latest due action",
            severity="info",
            target="controls/execution",
        )
    if controls:
        c = _sub(root, "controls", ns=COORD_NS)
        for key in ("timeout", "concurrency", "execution"):
            if key in controls:
                _sub(c, key, controls[key], ns=COORD_NS)
    _coordinator_events(root, w, events, freq)
    action = _sub(root, "action", ns=COORD_NS)
    wf = _sub(action, "workflow", ns=COORD_NS)
    _sub(wf, "app-path", "${wfAppPath}", ns=COORD_NS)
    anchors = {"end": "coord:nominalTime()"}
    if any(a == "start" for _, a, _, _ in ctx.dates_used.values()):
        anchors["start"] = _anchor_start_el(freq, ctx)

    def moment(anchor: str, n: int, unit: str) -> str:
        base = anchors[anchor]
        return f"coord:dateOffset({base}, {n}, '{unit}')" if n else base

    props = {
        prop: f"${{coord:formatTime({moment(anchor, n, unit)}, {_el_string(fmt)})}}"
        for prop, (fmt, anchor, n, unit) in sorted(ctx.dates_used.items())
    }
    if props:
        ctx.warn(
            "BO502",
            f"run dates {sorted(props)} are passed from the coordinator "
            + (
                "(the nominal time is the run's tick)"
                if w.schedule.time_model == TRIGGER and not w.schedule.interval_s
                else "(interval end = nominal time, interval start = "
                + (
                    "one period earlier)"
                    if w.schedule.time_model != TRIGGER
                    else "earlier by the interval)"
                )
            ),
            severity="info",
            target="coordinator configuration",
        )
    for name, value in sorted((carried or {}).items()):
        props.setdefault(name, value)
    _configuration(wf, props, COORD_NS)
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------
# job.properties


def _prop_escape(text: str, key: bool = False) -> str:
    """java.util.Properties escaping (ISO-8859-1 file, \\uXXXX for the rest)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!" or (ch == " " and (key or i == 0)):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            for unit in ch.encode("utf-16-be").hex(" ", 2).split():
                out.append("\\u" + unit)
        else:
            out.append(ch)
    return "".join(out)


def _job_properties(
    w: Workflow, params: dict[str, str | None], scheduled: bool, no_forkjoin_check: bool = False
) -> str:
    # a parameter the workflow declares (even without a value: the submitter
    # must give it) gets no placeholder value here
    given = set(params)
    defaults = [
        ("nameNode", "hdfs://localhost:8020"),
        ("resourceManager", "localhost:8032"),
        ("jdbcUrl", "jdbc:hive2://localhost:10000/default"),
    ]
    lines = [
        "# Generated by wfconv: job properties for workflow " + _prop_escape(w.id),
        *(f"{k}={v}" for k, v in defaults if k not in given),
        "appRoot=${nameNode}/user/${user.name}/apps/" + _prop_escape(re.sub(r"[^\w.-]", "_", w.id)),
        "wfAppPath=${appRoot}",
    ]
    if scheduled:
        lines.append("oozie.coord.application.path=${appRoot}")
    else:
        lines.append("oozie.wf.application.path=${appRoot}")
    if no_forkjoin_check:
        lines.append("oozie.wf.validate.ForkJoin=false")
    for name, value in params.items():
        if value is not None:
            lines.append(f"{_prop_escape(name, key=True)}={_prop_escape(value)}")
    return "\n".join(lines) + "\n"
