"""What a source without an engine here would do, from the reference runtime:
the first runs of its schedule in the time model the source means (the IR's
``schedule.model``, decided by the reader from the engine and its version:
docs/semantics.md R3). Used by the harness only where no real source engine
can be asked (Oozie, Prefect and Luigi sources; an Airflow source whose
release is not installed).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from wfconv.errors import InputError
from wfconv.ir.model import Workflow


def _run_infos(w: Workflow, n: int):
    from wfconv.runtime.schedule import RunPlan, parse_datetime, scheduled_runs

    if w.schedule.kind not in ("cron", "interval") or not w.start_date:
        return None
    try:
        start = parse_datetime(w.start_date, w.schedule.timezone or "UTC")
        plan = RunPlan(now=start + timedelta(days=3660), catchup=True)
        return list(islice(scheduled_runs(w, plan), n))
    except (InputError, OverflowError, ValueError):
        return None


def expected_payloads(w: Workflow, n: int) -> list[dict] | None:
    """Per run of ``expected_runs``: {shell task id: {"command": the command
    line the reference runtime renders for that run}} (an unrenderable
    template as {"error": kind})."""
    from wfconv.runtime.templates import RenderError, context, render

    runs = _run_infos(w, n)
    if runs is None:
        return None
    out = []
    for info in runs:
        per_task = {}
        for t in w.tasks:
            if t.action.kind != "shell":
                continue
            ctx = context(info, w, info.run_id, t.id)
            try:
                per_task[t.id] = {"command": render(t.action.fields.get("command") or "", ctx)}
            except RenderError:
                per_task[t.id] = {"command": {"error": "TemplateError"}}
        out.append(per_task)
    return out


def expected_runs(w: Workflow, n: int) -> list[dict] | None:
    """The first ``n`` runs (ISO strings in UTC) from the start date, catch-up
    on; None when the workflow is not scheduled or has no start date."""
    runs = _run_infos(w, n)
    if runs is None:
        return None
    return [
        {
            "run_after": _utc(r.run_after),
            "logical_date": _utc(r.logical_date),
            "data_interval_start": _utc(r.data_interval_start),
            "data_interval_end": _utc(r.data_interval_end),
        }
        for r in runs
    ]


def _utc(d) -> str:
    from datetime import UTC

    return d.astimezone(UTC).isoformat()
