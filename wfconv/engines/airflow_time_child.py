"""Runs inside an Airflow side virtualenv (2.x or 3.x), never inside wfconv.

``python airflow_time_child.py REQUEST.json ANSWER.json``: loads the DAG
files of ``request["path"]`` with Airflow's own ``DagBag`` and writes, per
DAG, the first ``request["runs"]`` runs the scheduler's timetable creates
from the DAG's start date (catch-up on) and, with ``request["render"]``,
every templated field of every task rendered by Airflow's own templating for
each of those runs. Standalone on purpose: wfconv is not installed in the
Airflow virtualenvs. ``wfconv.engines.airflow_time`` is the side that calls it.

Where each version keeps the scheduler's view:

- 2.x: the DAG from the DagBag has ``timetable.next_dagrun_info``; a task's
  template context comes from a ``TaskInstance`` whose ``dag_run`` is an
  unsaved ``DagRun`` for the run (the context queries the metadata database
  for previous runs, so a throw-away SQLite database is initialised).
- 3.x: the DagBag holds SDK DAGs, whose timetables cannot plan runs; the
  scheduler plans them on the serialized DAG (``DagSerialization``), whose
  timetable has ``next_dagrun_info_v2``. Templates are rendered the way a
  worker does: a ``RuntimeTaskInstance`` given the run as the API server
  would (``TIRunContext``), then ``render_templates``.
"""

from __future__ import annotations

import datetime
import json
import sys
import traceback
import uuid


def _iso(value):
    return value.isoformat() if value is not None else None


def _plain(value, depth=0):
    """A rendered value as JSON: strings, numbers, lists and dicts as they are;
    anything else as its ``str``."""
    if depth > 20:
        return str(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _rendered(task, render):
    """{field: rendered value} for one task, its fields restored afterwards."""
    fields = list(getattr(task, "template_fields", ()) or ())
    saved = {f: getattr(task, f, None) for f in fields}
    try:
        render()
        return {f: _plain(getattr(task, f, None)) for f in fields}
    except Exception as exc:  # a template Airflow cannot render is an answer too
        return {"__error__": f"{type(exc).__name__}: {exc}"}
    finally:
        for f, v in saved.items():
            try:
                setattr(task, f, v)
            except Exception:
                pass


def _runs_v2(dag, count):
    from airflow.timetables.base import TimeRestriction

    r = dag._time_restriction
    restriction = TimeRestriction(r.earliest, r.latest, True)
    out, last = [], None
    for _ in range(count):
        info = dag.timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=restriction
        )
        if info is None:
            break
        out.append(info)
        last = info.data_interval
    return out


def _render_v2(dag, info):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.types import DagRunType

    run_id = DagRun.generate_run_id(DagRunType.SCHEDULED, info.logical_date)
    dr = DagRun(
        dag_id=dag.dag_id,
        run_id=run_id,
        execution_date=info.logical_date,
        data_interval=info.data_interval,
        run_type=DagRunType.SCHEDULED,
    )
    dr.dag = dag
    out = {}
    for task in dag.tasks:
        ti = TaskInstance(task, run_id=run_id)
        ti.dag_run = dr

        def render(ti=ti):
            ti.render_templates(context=ti.get_template_context(ignore_param_exceptions=True))

        out[task.task_id] = _rendered(task, render)
    return run_id, out


def _runs_v3(dag, count):
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    sdag = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    r = sdag._time_restriction
    restriction = TimeRestriction(r.earliest, r.latest, True)
    out, info = [], None
    for _ in range(count):
        info = sdag.timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None:
            break
        out.append(info)
    return out


def _render_v3(dag, info):
    import pendulum
    from airflow.models.dagrun import DagRun as DagRunModel
    from airflow.sdk.api.datamodels._generated import DagRun, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.utils.types import DagRunType

    run_id = DagRunModel.generate_run_id(
        run_type=DagRunType.SCHEDULED, logical_date=info.logical_date, run_after=info.run_after
    )
    interval = info.data_interval
    context = TIRunContext(
        dag_run=DagRun(
            dag_id=dag.dag_id,
            run_id=run_id,
            logical_date=info.logical_date,
            data_interval_start=interval.start if interval else None,
            data_interval_end=interval.end if interval else None,
            run_after=info.run_after,
            start_date=info.run_after,
            end_date=None,
            run_type="scheduled",
            state="running",
            consumed_asset_events=[],
            partition_key=None,
        ),
        max_tries=0,
    )
    out = {}
    for task in dag.tasks:
        ti = RuntimeTaskInstance.model_construct(
            id=uuid.uuid4(),
            task_id=task.task_id,
            dag_id=dag.dag_id,
            run_id=run_id,
            try_number=1,
            map_index=-1,
            task=task,
            start_date=pendulum.now("UTC"),
            max_tries=0,
            dag_version_id=uuid.uuid4(),
        )
        ti._ti_context_from_server = context

        def render(ti=ti):
            ti.render_templates(context=ti.get_template_context())

        out[task.task_id] = _rendered(task, render)
    return run_id, out


def main(request_path, answer_path):
    with open(request_path, encoding="utf-8") as fh:
        request = json.load(fh)
    import airflow

    major = int(airflow.__version__.split(".")[0])
    if major >= 3:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=request["path"])
        plan, render = _runs_v3, _render_v3
    else:
        from airflow.models.dagbag import DagBag

        if request.get("render"):
            from airflow.utils.db import initdb

            initdb(load_connections=False)
        bag = DagBag(dag_folder=request["path"], include_examples=False)
        plan, render = _runs_v2, _render_v2
    answer = {
        "airflow": airflow.__version__,
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {},
    }
    for dag_id, dag in sorted(bag.dags.items()):
        entry = {"timetable": type(dag.timetable).__name__, "runs": []}
        try:
            for info in plan(dag, int(request.get("runs", 3))):
                interval = info.data_interval
                run = {
                    "run_after": _iso(info.run_after),
                    "logical_date": _iso(info.logical_date),
                    "data_interval_start": _iso(interval.start) if interval else None,
                    "data_interval_end": _iso(interval.end) if interval else None,
                }
                if request.get("render"):
                    run["run_id"], run["rendered"] = render(dag, info)
                entry["runs"].append(run)
        except Exception:
            entry["error"] = traceback.format_exc(limit=3)
        answer["dags"][dag_id] = entry
    with open(answer_path, "w", encoding="utf-8") as fh:
        json.dump(answer, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
