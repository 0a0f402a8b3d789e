"""Coordinators and bundles -> scheduled IR workflows.

Why separate from the workflow reader: a coordinator is a schedule plus
run-level waiting (datasets, input events) around one workflow app, and a
bundle is a list of coordinators; both only decorate workflows.

- schedule, start/end: ``oozie.sched.plan`` (the trigger time model: each run
  starts at its nominal time, ``start_date`` is the first one, see there);
- ``catchup=True``: Oozie materializes every past nominal time (FIFO);
  ``LAST_ONLY``/``NONE`` execution means only the latest/current ones run
  (catchup False, diagnostic); LIFO order is lost (diagnostic);
- ``concurrency`` (default 1) -> ``max_active_runs``; ``timeout`` and
  ``throttle`` are kept in ``extra`` (timeout also bounds the input sensors);
- each ``data-in`` -> a ``sensor`` task ``wait_<name>`` upstream of the
  workflow's first tasks, waiting for the dataset instance's done-flag
  (Oozie waits before the workflow starts; the run-level wait becomes a task);
  ``coord:dataIn('name')`` in the action configuration becomes the same URI.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from wfconv.errors import InputError
from wfconv.frontends.oozie import sched as S
from wfconv.frontends.oozie.apps import locate
from wfconv.frontends.oozie.el import ElContext, IrText, J, as_template, shifted
from wfconv.frontends.oozie.hints import read_dates_hint
from wfconv.frontends.oozie.props import Prop, configuration_props
from wfconv.frontends.oozie.workflow import (
    Sources,
    app_properties,
    parse_workflow,
    reporter,
)
from wfconv.frontends.oozie.xml import XmlDoc, child, child_text, children, load_file, text_of
from wfconv.ir import expr as E
from wfconv.ir.model import (
    LEGACY_TIME_MODEL,
    TRIGGER,
    Action,
    Bundle,
    Diagnostic,
    Edge,
    SourceRef,
    Task,
)
from wfconv.ir.validate import finalize

CATCHUP = "OZ502"
EXECUTION_ORDER = "OZ503"
SENSORS = "OZ504"
CONTROLS = "OZ505"
APP_NOT_FOUND = "OZ507"
BUNDLE_FACTS = "OZ508"
BAD_COORDINATOR = "OZ509"
DISABLED_COORDINATOR = "OZ510"
DATASETS_NOT_READ = "OZ511"

DEFAULT_TIMEOUT_MIN = 120
DEFAULT_CONCURRENCY = 1
DEFAULT_THROTTLE = 12

_FREQ_FUNCTIONS = {
    "coord:minutes": "minutes",
    "coord:hours": "hours",
    "coord:days": "days",
    "coord:months": "months",
    "coord:endOfDays": "endOfDays",
    "coord:endOfMonths": "endOfMonths",
}

# Dataset URI-template variables -> strftime of the instance time.
_URI_VARS = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M"}


def _frequency(raw: str, ctx: ElContext, line: int | None = None) -> S.Frequency | None:
    text = raw.strip()
    for _ in range(10):
        if "${" not in text:
            if len(text.split()) >= 5:
                return S.Frequency("cron", cron=text)
            try:
                return S.Frequency("minutes", int(text))
            except ValueError:
                return None
        try:
            node = E.parse(text)
        except E.ExprError:
            return None
        if node["type"] == "name" and node["name"] in ctx.props:
            text = ctx.props[node["name"]].strip()
            continue
        if node["type"] == "call" and node["fn"] in _FREQ_FUNCTIONS and len(node["args"]) == 1:
            j = ctx.translate_expr(node["args"][0], line)
            if j is not None and j.kind == "lit":
                try:
                    return S.Frequency(_FREQ_FUNCTIONS[node["fn"]], int(E.to_num(j.value)))
                except (E.ExprError, ValueError, OverflowError):  # coord:days(1e999)
                    return None
            return None
        value = ctx.constant(text, line)
        if value is None:
            return None
        text = value
    return None


def _calls_coord(text: str | None) -> bool:
    """Does the EL in ``text`` call a ``coord:`` function (a run-time value)?"""
    try:
        parts = E.split_template(text or "")
    except E.ExprError:
        return False
    todo: list[Any] = [node for _src, node in parts]
    while todo:
        cur = todo.pop()
        if isinstance(cur, dict):
            if cur.get("type") == "call" and str(cur.get("fn", "")).startswith("coord:"):
                return True
            todo.extend(cur.values())
        elif isinstance(cur, list):
            todo.extend(cur)
    return False


def _dataset_minutes(freq: S.Frequency | None) -> int | None:
    if freq is None or freq.unit not in ("minutes", "hours", "days"):
        return None
    return freq.n * {"minutes": 1, "hours": 60, "days": 1440}[freq.unit]


def _instance_time(raw: str, ds_minutes: int | None) -> J | None:
    """``${coord:current(n)}`` -> the nominal time shifted by n dataset periods."""
    try:
        node = E.parse(raw)
    except E.ExprError:
        return None
    if node["type"] != "call" or node["fn"] != "coord:current" or len(node["args"]) != 1:
        return None
    arg = node["args"][0]
    if arg["type"] != "literal" or ds_minutes is None:
        return None
    num = E.to_num(arg["value"])
    if not (-1_000_000 <= num <= 1_000_000):  # also inf and NaN, and ints past float's range
        return None  # no instance a million periods away is meant
    return J("time", shifted("data_interval_end", int(num) * ds_minutes, "MINUTE"))


def _uri_for(ds: dict[str, Any], instance: J, ctx: ElContext) -> J | None:
    names = {k: J("fmt", (instance.value, fmt)) for k, fmt in _URI_VARS.items()}
    sub = ElContext(ctx.props, ctx.workflow_name, ctx.report, names=names)
    sub._reported = ctx._reported  # one report per problem per file
    sub.params = ctx.params
    return sub.template_value(ds["uri_template"], (), ds.get("line"))


def _datasets(root, ctx: ElContext, report) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    block = child(root, "datasets")
    if block is None:
        return out
    for inc in children(block, "include"):
        report(
            "warning",
            DATASETS_NOT_READ,
            f"<include>{text_of(inc)}</include> of shared datasets is not read",
            inc.sourceline,
        )
    for ds in children(block, "dataset"):
        flag_el = child(ds, "done-flag")
        out[ds.get("name") or ""] = {
            "frequency": ds.get("frequency"),
            "initial_instance": ds.get("initial-instance"),
            "timezone": ds.get("timezone"),
            "uri_template": child_text(ds, "uri-template") or "",
            # An empty <done-flag/> means the directory itself; absent means _SUCCESS.
            "done_flag": (text_of(flag_el) if flag_el is not None else "_SUCCESS"),
            "line": ds.sourceline,
        }
    return out


def _events(root, tag: str, item: str) -> list[dict[str, Any]]:
    block = child(root, tag)
    if block is None:
        return []
    out = []
    for ev in children(block, item):
        out.append(
            {
                "name": ev.get("name"),
                "dataset": ev.get("dataset"),
                "instances": [text_of(i) for i in children(ev, "instance")],
                "start_instance": child_text(ev, "start-instance"),
                "end_instance": child_text(ev, "end-instance"),
                "line": ev.sourceline,
            }
        )
    return out


def _controls(root, ctx: ElContext) -> dict[str, Any]:
    block = child(root, "controls")
    out: dict[str, Any] = {}
    if block is None:
        return out
    for tag in ("timeout", "concurrency", "execution", "throttle"):
        v = child_text(block, tag)
        if v is not None:
            v = ctx.constant(v, block.sourceline) or v
            out[tag] = int(v) if v.lstrip("-").isdigit() else v
    return out


def _resolve_event(ev, datasets, ctx, report, path) -> tuple[J | None, dict[str, Any]]:
    ds = datasets.get(ev["dataset"] or "")
    if ds is None:
        report(
            "warning",
            SENSORS,
            f"event {ev['name']!r} names unknown dataset {ev['dataset']!r}",
            ev["line"],
        )
        return None, {}
    freq = _frequency(ds["frequency"] or "", ctx, ds.get("line"))
    minutes = _dataset_minutes(freq)
    raw = ev["instances"][0] if len(ev["instances"]) == 1 else None
    if raw is None:
        raw = ev["end_instance"]
        report(
            "warning",
            SENSORS,
            f"event {ev['name']!r} waits for a range or list of instances; the IR waits for the last one only",
            ev["line"],
        )
    inst = _instance_time(raw or "", minutes)
    if inst is None:
        report(
            "warning",
            SENSORS,
            f"event {ev['name']!r}: instance {raw!r} of dataset {ev['dataset']!r} cannot be turned into a "
            "time (only coord:current(n) over a fixed-frequency dataset is); the URI template is kept",
            ev["line"],
        )
        return None, ds
    return _uri_for(ds, inst, ctx), ds


def parse_coordinator(
    doc: XmlDoc, job: list[Prop], wid: str | None = None, extra_props: list[Prop] = ()
) -> Bundle:
    root, path = doc.root, doc.path
    folder = os.path.dirname(path)
    diags: list[Diagnostic] = []
    report = reporter(diags, path)
    params_decl = configuration_props(child(root, "parameters"), path)
    props: dict[str, str] = {}
    for p in [*params_decl, *job, *extra_props]:
        if p.value is not None:
            props[p.name] = p.value
    raw_name = root.get("name") or "coordinator"
    ctx = ElContext(props, raw_name, report)
    name = ctx.constant(raw_name, root.sourceline) or raw_name
    datasets = _datasets(root, ctx, report)
    inputs = _events(root, "input-events", "data-in")
    outputs = _events(root, "output-events", "data-out")
    data_events: dict[str, J] = {}
    sensors: list[Task] = []
    controls = _controls(root, ctx)
    timeout_min = controls.get("timeout", DEFAULT_TIMEOUT_MIN)
    for ev in inputs:
        uri, ds = _resolve_event(ev, datasets, ctx, report, path)
        if uri is not None:
            data_events[ev["name"]] = uri
        target = as_template(uri) if uri is not None else (ds.get("uri_template") if ds else None)
        flag = ds.get("done_flag", "_SUCCESS") if ds else "_SUCCESS"
        if target is not None and flag:
            target = target.rstrip("/") + "/" + flag
        sensors.append(
            Task(
                id=f"wait_{ev['name']}",
                action=Action(
                    "sensor",
                    {
                        "sensor": "FileSensor",
                        "target": target,
                        "poke_interval_s": 60,
                        "timeout_s": None
                        if not isinstance(timeout_min, int) or timeout_min < 0
                        else timeout_min * 60,
                        "mode": "reschedule",
                        "soft_fail": False,
                    },
                ),
                source=SourceRef("oozie", path, ev["line"]),
                extra={"oozie": {"node": "data-in", "dataset": ev["dataset"]}},
            )
        )
    for ev in outputs:
        uri, _ds = _resolve_event(ev, datasets, ctx, report, path)
        if uri is not None:
            data_events[ev["name"]] = uri
    logic = child(root, "input-logic")
    if logic is not None:
        report(
            "warning",
            SENSORS,
            "<input-logic> (and/or/combine of inputs) is not read: every data-in is waited for",
            logic.sourceline,
        )
    if sensors:
        report(
            "warning",
            SENSORS,
            "Oozie waits for input events before starting the workflow; the IR waits with sensor tasks "
            f"({', '.join(t.id for t in sensors)}) upstream of the first tasks",
            sensors[0].source.line if sensors[0].source else None,
        )
    # the workflow app
    action = child(root, "action")
    wf_el = child(action, "workflow") if action is not None else None
    app_path = child_text(wf_el, "app-path") if wf_el is not None else None
    raw_conf = configuration_props(child(wf_el, "configuration"), path) if wf_el is not None else []
    # Values are evaluated where they are written, in the coordinator's context:
    # `nameNode=${nameNode}` passes the job's value on, coord:* become templates.
    ctx.data_events = data_events
    conf = [Prop(p.name, IrText(ctx.text(p.value, p.line)), p.path, p.line) for p in raw_conf]
    found = locate(folder, app_path or "", "workflow.xml")
    if found is None:
        raise_msg = f"workflow app {app_path!r} of coordinator {name!r} is not found on disk near {folder or '.'}"
        raise InputError(
            path, wf_el.sourceline if wf_el is not None else root.sourceline, raise_msg
        )
    wf_props = [
        *app_properties(os.path.dirname(found), include_job=False),
        *job,
        *extra_props,
        *conf,
    ]
    bundle = parse_workflow(load_file(found), Sources(wf_props, data_events), wid or name)
    w = bundle.workflows[0]
    for p in raw_conf:
        # a run date the coordinator computes (coord:nominalTime() ...) is already
        # substituted into the tasks; a parameter the workflow declares for it is
        # no user parameter of the scheduled workflow
        if p.name in w.params and _calls_coord(p.value):
            del w.params[p.name]
    _schedule(w, root, ctx, controls, report)
    for k, v in ctx.params.items():  # names the coordinator's own templates refer to
        w.params.setdefault(k, v)
    if sensors:
        roots = [t.id for t in w.tasks if not any(e.dst == t.id for e in w.edges)]
        w.tasks = sensors + w.tasks
        w.edges = [Edge(s.id, r, "control") for s in sensors for r in roots] + w.edges
    w.source = SourceRef("oozie", path, root.sourceline)
    w.extra["oozie"]["kind"] = "coordinator"
    w.extra["oozie"]["coordinator"] = {
        k: v
        for k, v in {
            "name": name,
            "schema": doc.version,
            "frequency": root.get("frequency"),
            "start": root.get("start"),
            "end": root.get("end"),
            "timezone": root.get("timezone"),
            "controls": controls,
            "datasets": {
                k: {x: y for x, y in v.items() if x != "line" and y is not None}
                for k, v in datasets.items()
            },
            "input_events": [{x: y for x, y in e.items() if x != "line" and y} for e in inputs],
            "output_events": [{x: y for x, y in e.items() if x != "line" and y} for e in outputs],
            "app_path": app_path,
            "configuration": {p.name: p.value for p in raw_conf},
            "parameters": [p.name for p in params_decl],
        }.items()
        if v not in (None, [], {})
    }
    w.diagnostics = diags + w.diagnostics
    for t in bundle.workflows:
        finalize(t)
    return bundle


def _schedule(w, root, ctx: ElContext, controls: dict[str, Any], report) -> None:
    raw_freq = root.get("frequency") or ""
    freq = _frequency(raw_freq, ctx, root.sourceline)
    tzname = ctx.constant(root.get("timezone") or "UTC", root.sourceline) or "UTC"
    start_raw = ctx.constant(root.get("start") or "", root.sourceline)
    end_raw = ctx.constant(root.get("end") or "", root.sourceline)
    try:
        start = E.parse_oozie_time(start_raw) if start_raw else None
        end = E.parse_oozie_time(end_raw) if end_raw else None
    except E.ExprError as exc:
        report("error", BAD_COORDINATOR, f"coordinator start/end: {exc.message}", root.sourceline)
        start = end = None
    if freq is None or start is None:
        report(
            "error",
            BAD_COORDINATOR,
            f"coordinator frequency {raw_freq!r} or start {root.get('start')!r} is not known before run time; "
            "the workflow is left unscheduled",
            root.sourceline,
        )
        return
    plan = S.plan(freq, tzname, start, end)
    w.schedule = plan.schedule
    w.schedule.model = TRIGGER
    w.start_date = plan.start_date
    w.end_date = plan.end_date
    hint = read_dates_hint(root)
    if hint is not None:
        _source_dates(w, hint, end)
    for sev, msg in plan.notes:
        report(sev, S.SCHEDULE_APPROX, msg, root.sourceline)
    execution = str(controls.get("execution", "FIFO")).upper()
    if execution in ("LAST_ONLY", "NONE"):
        w.catchup = False
        report(
            "warning",
            EXECUTION_ORDER,
            f"execution {execution}: Oozie skips stale actions"
            + (
                " (all but the latest)"
                if execution == "LAST_ONLY"
                else " (those past their nominal time)"
            )
            + "; the IR uses catchup=False, which runs only the latest interval",
            root.sourceline,
        )
    else:
        w.catchup = True
        report(
            "info",
            CATCHUP,
            "Oozie materializes every nominal time from start, including past ones: catchup=True",
            root.sourceline,
        )
        if execution == "LIFO":
            report(
                "warning",
                EXECUTION_ORDER,
                "execution LIFO (newest first) is lost: runs go oldest first",
                root.sourceline,
            )
    conc = controls.get("concurrency", DEFAULT_CONCURRENCY)
    w.max_active_runs = conc if isinstance(conc, int) and conc > 0 else None
    for tag in ("timeout", "throttle"):
        if tag in controls:
            report(
                "info",
                CONTROLS,
                f"controls/{tag}={controls[tag]} has no IR field; kept in extra.oozie.coordinator.controls"
                + (" and used as the input sensors' timeout" if tag == "timeout" else ""),
                root.sourceline,
            )


# An end at or beyond this is wfconv's stand-in for "no end" (a coordinator needs one).
_NO_END_FROM = "2099-01-01T00:00:00+00:00"


def _source_dates(w, hint: dict[str, Any], end) -> None:
    """Take the time model and dates wfconv's backend recorded (see
    oozie_hints) when they start exactly the runs the coordinator starts: the
    same first and last run start (``run_after``) as the nominal times read,
    no end only when the coordinator's end is the far-future stand-in. So an
    Airflow 2 schedule written as a coordinator reads back as data intervals."""
    from wfconv.runtime.schedule import parse_datetime, run_after_bounds

    candidate = copy.deepcopy(w)
    candidate.schedule.model = hint.get("model") or LEGACY_TIME_MODEL
    candidate.schedule.interval_s = hint.get("interval_s")
    candidate.start_date = hint["start_date"]
    candidate.end_date = hint["end_date"]
    try:
        want = run_after_bounds(w)
        got = run_after_bounds(candidate)
        if want is None or got is None or got[0] != want[0]:
            return
        if hint["end_date"] is None:
            if end is None or end < parse_datetime(_NO_END_FROM):
                return
        elif got[1] != want[1]:
            return
    except (InputError, ValueError, OverflowError):
        return
    w.schedule = candidate.schedule
    w.start_date, w.end_date = candidate.start_date, candidate.end_date


def parse_bundle(doc: XmlDoc, job: list[Prop]) -> Bundle:
    root, path = doc.root, doc.path
    folder = os.path.dirname(path)
    diags: list[Diagnostic] = []
    report = reporter(diags, path)
    params_decl = configuration_props(child(root, "parameters"), path)
    props = {p.name: p.value for p in [*params_decl, *job] if p.value is not None}
    ctx = ElContext(props, root.get("name") or "bundle", report)
    bundle_name = ctx.constant(root.get("name") or "bundle", root.sourceline) or "bundle"
    controls = child(root, "controls")
    kick_off = child_text(controls, "kick-off-time") if controls is not None else None
    out = Bundle()
    for coord in children(root, "coordinator"):
        cname = (
            ctx.constant(coord.get("name") or "", coord.sourceline)
            or coord.get("name")
            or "coordinator"
        )
        app_path = child_text(coord, "app-path") or ""
        conf = []
        for p in configuration_props(child(coord, "configuration"), path):
            conf.append(Prop(p.name, IrText(ctx.text(p.value, p.line)), p.path, p.line))
        found = locate(folder, app_path, "coordinator.xml")
        if found is None:
            report(
                "error",
                APP_NOT_FOUND,
                f"coordinator {cname!r}: app {app_path!r} is not found on disk",
                coord.sourceline,
            )
            continue
        sub = parse_coordinator(load_file(found), [*params_decl, *job], cname, conf)
        w = sub.workflows[0]
        enabled = (coord.get("enabled") or "true").strip().lower() != "false"
        w.extra["oozie"]["bundle"] = {
            k: v
            for k, v in {
                "name": bundle_name,
                "kick_off_time": kick_off,
                "enabled": enabled,
                "coordinator": cname,
            }.items()
            if v is not None
        }
        if not enabled:
            w.diagnostics.append(
                Diagnostic(
                    "warning",
                    DISABLED_COORDINATOR,
                    f"coordinator {cname!r} is disabled in bundle {bundle_name!r} (kept; start it paused)",
                    path,
                    coord.sourceline,
                )
            )
        out.workflows.extend(sub.workflows)
    if kick_off:
        report(
            "info",
            BUNDLE_FACTS,
            f"bundle kick-off-time {kick_off} has no IR field; kept in extra.oozie.bundle",
            root.sourceline,
        )
    out.diagnostics.extend(diags)
    return out
