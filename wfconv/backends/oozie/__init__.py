"""IR -> Oozie: ``workflow.xml`` (schema ``uri:oozie:workflow:1.0``),
``coordinator.xml`` when the workflow is scheduled, and ``job.properties``.

Why it looks the way it does
- Oozie only runs properly nested fork/join graphs, so the task DAG goes
  through ``seriesparallel.decompose``; every ordering it had to add is a
  ``BO101`` ledger entry naming the tasks.
- Oozie's control flow is transitions, not trigger rules: ``one_failed``
  handlers and ``error`` edges become ``<error to=...>`` transitions, ``fail``
  tasks become ``<kill>`` nodes, branch tasks become ``<decision>`` nodes
  whose paths converge on the next node (Oozie's own "join after a decision",
  which is what ``none_failed_min_one_success`` means in the IR).
- Coordinator EL functions are not available inside workflow.xml, so run-time
  dates are passed from the coordinator as workflow properties (``${ds}``),
  whose values are ``${coord:formatTime(coord:nominalTime(), ...)}``
  (docs/semantics.md R3: nominal time = Airflow 3 ``logical_date``).
- XML is built with lxml element trees (never by string concatenation);
  node names are mapped with ``identifier_map(style="oozie")`` and the
  mapping is kept in a comment at the top of workflow.xml.

Layout: ``context`` (namespaces, the emit context, templates -> EL, element
helpers), ``actions`` (one builder per action kind), ``workflow``
(workflow.xml), ``coordinator`` (coordinator.xml, job.properties),
``validate`` (the self-check); ``emit`` here puts them together.
"""

from __future__ import annotations

import json

from wfconv.backends.common import Emitted, identifier_map
from wfconv.backends.oozie.context import DATE_TEMPLATES, _Ctx, _node_names, _report_unwritable
from wfconv.backends.oozie.coordinator import (
    _carried_configuration,
    _clamped_start,
    _coordinator_xml,
    _frequency,
    _input_events,
    _job_properties,
    _without_sensors,
)
from wfconv.backends.oozie.validate import validate_workflow_xml
from wfconv.backends.oozie.workflow import _workflow_xml
from wfconv.backends.routing import control_names, dissolve_routing
from wfconv.ir.model import Workflow

__all__ = ["CODES", "TARGET", "emit", "validate_workflow_xml"]

TARGET = "oozie"

# Stable ledger codes (docs/codes/backends-luigi-oozie.md).
CODES: dict[str, str] = {
    "BO001": "task id is not an Oozie node name; mapped (mapping kept in a comment)",
    "BO101": "fork/join nesting added an ordering the DAG did not have (parallelism lost)",
    "BO102": "an edge implied by a longer path is not written (transitions keep only the path)",
    "BO210": "trigger rule expressed by transitions; read back as another rule of the same meaning",
    "BO201": "trigger rule has no Oozie transition form; approximated",
    "BO202": "node reached after a decision runs on every decision path (IR would skip it)",
    "BO203": "task has several error targets; Oozie keeps one error transition",
    "BO204": "error handler flows back into the main path; its exit goes to the end node",
    "BO207": "an error path leaves a fork; Oozie's fork/join validation is turned off for the job",
    "BO205": "branch without cases: decision reads the choice from a job property",
    "BO206": "branch case names no task reachable from the decision; goes to end/join",
    "BO301": "retries: Oozie retries only whitelisted error codes (not a shell exit code)",
    "BO302": "retry delay rounded up to whole minutes",
    "BO303": "retries above Oozie's system maximum (3) are capped by the server",
    "BO304": "per-attempt delay list / backoff cap not expressible; first delay used",
    "BO305": "task timeout has no Oozie action counterpart; dropped",
    "BO401": "action kind has no Oozie action; approximated by a shell action",
    "BO402": "python callable run through a shell action",
    "BO403": "sensor approximated by a polling shell action",
    "BO404": "action cannot run in Oozie; emitted as a shell action that fails",
    "BO405": "empty task emitted as a no-op fs action",
    "BO407": "a file sensor at the start waits as a coordinator input event (dataset instance)",
    "BO408": "env replaces the whole environment in the source; Oozie's env-var adds to it",
    "BO409": "sensor retries not written: a timed-out sensor is never retried",
    "BO501": "template expression has no Oozie EL counterpart; kept verbatim",
    "BO502": "run-time date passed from the coordinator as a workflow property",
    "BO503": "cron frequency: interval-start dates approximated by the nominal time",
    "BO505": "trigger data interval rounded up to whole minutes",
    "BO208": "default kill node added for unhandled errors (marked for wfconv's Oozie reader)",
    "BO209": "converging decision paths are read back as trigger rule one_success",
    "BO601": "schedule kind has no coordinator form; no coordinator emitted",
    "BO602": "coordinator requires an end; a far-future end was written",
    "BO603": "coordinator requires a start; job property 'start' must be set",
    "BO604": "catchup=False approximated by execution LAST_ONLY",
    "BO605": "interval rounded up to whole minutes",
    "BO606": "cron day-of-week translated to Oozie's 1-7 (Sunday=1)",
    "BO607": "no longer emitted: an unset catchup follows the source's time model (BO604)",
    "BO608": "typed parameter value becomes a string (Oozie properties are strings)",
    "BO609": "start/end dates of a workflow without a coordinator are dropped",
    "BO610": "start_date before 1970: the coordinator starts at 1970-01-01",
    "BO701": "construct dropped (no Oozie counterpart)",
    "BO702": "groups are flattened (Oozie has no task groups)",
    "BO703": "control characters XML 1.0 cannot hold replaced by U+FFFD",
}


def _task_level_losses(w: Workflow, ctx: _Ctx) -> None:
    for t in w.tasks:
        if t.timeout_s:
            ctx.warn(
                "BO305",
                f"timeout {t.timeout_s}s dropped (Oozie has no action timeout)",
                task=t,
                target="none",
            )
        if t.mapped:
            ctx.warn(
                "BO701",
                "dynamic task mapping dropped: one action runs once",
                task=t,
                target="single action",
            )
        if t.depends_on_past:
            ctx.warn("BO701", "depends_on_past dropped", task=t, target="none")
        if t.role is not None:
            ctx.warn(
                "BO701",
                f"{t.role} role dropped: a setup further upstream no longer stops the tasks "
                "after it; a teardown neither waits for its scope nor is left out of the run's state",
                task=t,
                target="none",
            )
        if t.pool:
            ctx.warn("BO701", f"pool {t.pool!r} dropped", task=t, severity="info", target="none")
        if t.owner:
            # Oozie runs a whole job as user.name; an action has no owner.
            ctx.warn("BO701", f"owner {t.owner!r} dropped", task=t, target="none")
    if w.groups:
        ctx.warn(
            "BO702",
            f"{len(w.groups)} task group(s) flattened",
            severity="info",
            target="flat node list",
        )
    if w.timeout_s:
        ctx.warn("BO701", "workflow timeout dropped", target="none")


def emit(workflow: Workflow, **options) -> Emitted:
    """workflow.xml (+ coordinator.xml when scheduled) + job.properties."""
    ctx = _Ctx(workflow, {})
    routed = dissolve_routing(workflow)
    ctx.controls = control_names(workflow)
    w = ctx.w = routed.workflow
    ctx.dissolved, ctx.error_to_end = routed.redirects, routed.error_to_end
    names = _node_names(w.task_ids())
    ctx.names = names
    ctx.param_names = identifier_map(
        list(w.params),
        reserved=tuple(DATE_TEMPLATES) + ("appRoot", "wfAppPath", "start"),
        style="python",
    )
    _report_unwritable(ctx, w)
    for raw, value in w.params.items():
        if value is not None and not isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
            ctx.warn(
                "BO608",
                f"parameter {raw!r} = {value!r} ({type(value).__name__}) becomes the string "
                f"{text!r}: Oozie properties are strings",
                target=f"${{{ctx.param_names[raw]}}}",
            )
    for tid, name in names.items():
        if tid != name:
            ctx.warn(
                "BO001",
                f"task id {tid!r} is node {name!r} in Oozie",
                severity="info",
                task=w.task(tid),
                target=name,
            )
    _task_level_losses(w, ctx)
    w = ctx.w = _clamped_start(w, ctx)
    freq = _frequency(w, ctx)
    events = _input_events(w, freq, ctx)
    if events:
        w = ctx.w = _without_sensors(w, events, ctx)
    wf_xml, params, no_forkjoin_check = _workflow_xml(w, ctx)
    files = {"workflow.xml": wf_xml.decode("utf-8")}
    if freq is None and (w.start_date or w.end_date):
        ctx.warn(
            "BO609",
            f"start_date {w.start_date} / end_date {w.end_date} dropped: without a "
            "coordinator the workflow.xml has no dates (it runs when submitted)",
            target="no coordinator",
        )
    if freq is not None:
        carried = _carried_configuration(w, files["workflow.xml"])
        files["coordinator.xml"] = _coordinator_xml(w, ctx, freq, events, carried).decode("utf-8")
    files["job.properties"] = _job_properties(w, params, freq is not None, no_forkjoin_check)
    return Emitted(files, ctx.diags)
