"""Runs inside Apache Airflow's interpreter (2.x or 3.x side virtualenv), never
inside wfconv: ``python airflow_child.py JOB.json OUT.json``.

For each folder of the job: one ``DagBag`` (the scheduler's own loader), its
import errors, and for every DAG what Airflow itself holds:

- structure: task ids, upstream ids, operator class, trigger rule, retries,
  retry delay and backoff, execution timeout, owner, pool;
- time: the first N runs the DAG's real timetable creates from its start date
  (``run_after``, logical date, data interval, run id), asked as the scheduler
  asks: with a catch-up restriction, ``timetable.next_dagrun_info`` in 2.x and
  ``next_dagrun_info_v2`` on the serialized DAG in 3.x (the SDK's timetable
  cannot plan), the run id from the timetable's ``generate_run_id``;
- payloads: every templated field of every task rendered for each of those runs
  with the operator's own ``render_template`` and the template context the
  engine builds for a task instance of that run.

Only the DAG files' module level runs (as in the scheduler's DAG processor);
no task is executed. The output is JSON so that wfconv does not depend on
Airflow's objects. This file must stay importable by Python 3.9+ and by both
Airflow majors, and import nothing from wfconv.
"""

import datetime
import json
import os
import sys
import traceback

# This file's folder is wfconv's engines package: never let it shadow Airflow.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import airflow  # noqa: E402 - after the path guard

MAJOR = airflow.__version__.split(".")[0]  # "2" or "3"


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC).isoformat()
    return str(value)


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _plain(value, depth=0):
    """A JSON-able copy of a rendered value (strings stay strings); Airflow 3's
    "argument not set" sentinel is None, as Airflow 2 spells it."""
    if depth > 6:
        return repr(value)
    if type(value).__name__ in ("ArgNotSet", "NOTSET"):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return _iso(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if callable(value):
        return "<callable " + getattr(value, "__name__", type(value).__name__) + ">"
    return repr(value)


def _bag(folder):
    if MAJOR == "3":
        from airflow.dag_processing.dagbag import DagBag

        return DagBag(dag_folder=folder)
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=folder, include_examples=False, safe_mode=False)


def _sibling(name):
    """A module of this folder, loaded by its path (wfconv is not installed here)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location("wfconv_engines_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _task_facts(task):
    rule = getattr(task, "trigger_rule", None)
    return {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(getattr(rule, "value", rule)),
        "retries": task.retries,
        "retry_delay_s": _seconds(task.retry_delay),
        "exponential": bool(getattr(task, "retry_exponential_backoff", False)),
        "max_retry_delay_s": _seconds(getattr(task, "max_retry_delay", None)),
        "timeout_s": _seconds(task.execution_timeout),
        "owner": task.owner,
        "pool": task.pool,
        "template_fields": list(task.template_fields),
        "is_setup": bool(getattr(task, "is_setup", False)),
        "is_teardown": bool(getattr(task, "is_teardown", False)),
    }


def _planner(dag):
    """The object that plans runs as the scheduler does."""
    if MAJOR == "3":
        from airflow.serialization.serialized_objects import DagSerialization

        return DagSerialization.from_dict(DagSerialization.to_dict(dag))
    return dag


def plan_runs(dag, n):
    """(the first ``n`` runs of the DAG's timetable from its start date, as if
    catch-up were on: catchup itself is compared as structure; each with the
    run id the scheduler gives it, the name of the timetable). A continuous
    timetable's runs depend on the clock: none are planned."""
    planner = _planner(dag)
    timetable = planner.timetable
    if not getattr(timetable, "can_be_scheduled", True) or "Continuous" in type(timetable).__name__:
        return [], type(timetable).__name__
    from airflow.timetables.base import TimeRestriction

    # the scheduler's own bounds: the DAG's start date, else its tasks' earliest
    own = getattr(planner, "_time_restriction", None)
    start = own.earliest if own is not None else dag.start_date
    end = own.latest if own is not None else dag.end_date
    if start is None:
        return [], type(timetable).__name__
    restriction = TimeRestriction(earliest=start, latest=end, catchup=True)
    out, info = [], None
    while len(out) < n:
        last = info
        if hasattr(timetable, "next_dagrun_info_v2"):  # 3.x: what the scheduler calls
            info = timetable.next_dagrun_info_v2(last_dagrun_info=last, restriction=restriction)
        else:
            info = timetable.next_dagrun_info(
                last_automated_data_interval=last and last.data_interval, restriction=restriction
            )
        if info is None or (last is not None and info.run_after == last.run_after):
            break
        interval = info.data_interval
        logical = getattr(info, "logical_date", None) or (interval.start if interval else None)
        out.append(
            {
                "run_after": _iso(info.run_after),
                "logical_date": _iso(logical),
                "data_interval_start": _iso(interval.start) if interval else None,
                "data_interval_end": _iso(interval.end) if interval else None,
                "run_id": _run_id(timetable, info, logical),
            }
        )
    return out, type(timetable).__name__


def _run_id(timetable, info, logical):
    """The id the scheduler gives a scheduled run: built from its logical date
    in 2.x, from its start (``run_after``) in 3.x."""
    try:
        from airflow.utils.types import DagRunType
    except ImportError:  # pragma: no cover - moved between releases
        from airflow.sdk.api.datamodels._generated import DagRunType
    if MAJOR == "3":
        return timetable.generate_run_id(
            run_type=DagRunType.SCHEDULED,
            run_after=info.run_after,
            data_interval=info.data_interval,
            partition_key=getattr(info, "partition_key", None),
        )
    return timetable.generate_run_id(
        run_type=DagRunType.SCHEDULED, logical_date=logical, data_interval=info.data_interval
    )


# --------------------------------------------------------------------------
# template contexts, as each major builds them for a task instance of a run


def template_context(dag, task, run):
    """The template context the engine builds for ``task``'s instance in
    ``run`` ({run_after, logical_date, data_interval_start, data_interval_end:
    ISO strings, run_id, and kind: "scheduled" (default) or "manual"})."""
    return (_context3 if MAJOR == "3" else _context2)(dag, task, run)


def _context3(dag, task, run):
    import uuid

    from airflow.sdk.api.datamodels._generated import DagRun, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    dag_run = DagRun(
        dag_id=dag.dag_id,
        run_id=run["run_id"],
        logical_date=run["logical_date"],
        data_interval_start=run["data_interval_start"],
        data_interval_end=run["data_interval_end"],
        run_after=run["run_after"],
        start_date=run["run_after"],
        end_date=None,
        run_type=run.get("kind", "scheduled"),
        state="running",
        conf={},  # what the API server sends for a run without a conf
        consumed_asset_events=[],
        partition_key=None,
    )
    import pendulum

    tries = task.retries or 0
    return RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(),
        task_id=task.task_id,
        dag_id=dag.dag_id,
        run_id=run["run_id"],
        try_number=1,
        map_index=-1,
        task=task,
        max_tries=tries,
        start_date=pendulum.parse(run["run_after"]),
        _ti_context_from_server=TIRunContext(dag_run=dag_run, max_tries=tries),
    ).get_template_context()


def _context2(dag, task, run):
    import pendulum
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    kind = run.get("kind", "scheduled")
    dag_run = DagRun(
        dag_id=dag.dag_id,
        run_id=run["run_id"],
        execution_date=pendulum.parse(run["logical_date"]),
        data_interval=(
            pendulum.parse(run["data_interval_start"]),
            pendulum.parse(run["data_interval_end"]),
        ),
        run_type=kind,
        state="running",
        external_trigger=kind == "manual",
    )
    dag_run.dag = dag
    ti = TaskInstance(task=task, run_id=run["run_id"])
    ti.dag_run = dag_run
    return ti.get_template_context(ignore_param_exceptions=True)


def no_history():
    """Render as if the DAG had never run and nothing else existed: no
    previous successful run (``prev_*_success`` are None), no XCom pushed, no
    asset alias resolved (Airflow 2 reads its empty database; Airflow 3 gets a
    stand-in for its API server), no pool table to check a SubDAG against, and
    required params not validated (as Airflow 2's ``ignore_param_exceptions``)."""
    if MAJOR == "3":
        from airflow.sdk.execution_time import comms, task_runner

        class _NoRun:
            data_interval_start = data_interval_end = start_date = end_date = None

        task_runner.get_previous_dagrun_success = lambda ti_id: _NoRun()
        task_runner.XCom.get_all = classmethod(lambda cls, *a, **k: None)
        task_runner.XCom.get_one = classmethod(lambda cls, *a, **k: None)

        class _NoServer:
            def send(self, msg):
                if isinstance(msg, comms.GetAssetsByAlias):
                    return comms.AssetsByAliasResult(assets=[])
                raise RuntimeError(f"no API server for {type(msg).__name__}")

        task_runner.SUPERVISOR_COMMS = _NoServer()
        validate = task_runner.process_params
        task_runner.process_params = lambda dag, task, conf, suppress_exception=False: validate(
            dag, task, conf, suppress_exception=True
        )
    else:
        from airflow.models.taskinstance import TaskInstance
        from airflow.operators.subdag import SubDagOperator

        TaskInstance.get_previous_dagrun = lambda self, state=None, session=None: None
        TaskInstance.get_previous_execution_date = lambda self, state=None, session=None: None
        TaskInstance.get_previous_start_date = lambda self, state=None, session=None: None
        SubDagOperator._validate_pool = lambda self, session: None  # needs the pool table


def _render(dag, runs):
    """Per run: {task id: {field: rendered value or {"error": ...}}}."""
    env = dag.get_template_env()
    out = []
    for run in runs:
        per_task = {}
        for task in dag.tasks:
            fields = {}
            try:
                context = template_context(dag, task, run)
            except Exception as exc:
                per_task[task.task_id] = {"": {"error": _error(exc)}}
                continue
            for name in task.template_fields:
                value = getattr(task, name, None)
                if _from_xcom(value):
                    # the value exists only in a run: neither engine renders it here
                    fields[name] = {"xcom": True}
                    continue
                try:
                    fields[name] = _plain(task.render_template(value, context, jinja_env=env))
                except Exception as exc:
                    fields[name] = {"error": _error(exc)}
            per_task[task.task_id] = fields
        out.append(per_task)
    return out


def _from_xcom(value, depth=0):
    """Does a template field hold an upstream task's output (an XComArg)?"""
    if depth > 4:
        return False
    if "XCom" in type(value).__name__:
        return True
    if isinstance(value, (list, tuple, set)):
        return any(_from_xcom(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_from_xcom(v, depth + 1) for v in value.values())
    return False


def _error(exc):
    text = str(exc).strip().splitlines()
    return type(exc).__name__ + (": " + text[0][:300] if text else "")


def _dag_facts(dag, n_runs, render):
    facts = {
        "fileloc": dag.fileloc,
        "tasks": {t.task_id: _task_facts(t) for t in dag.tasks},
        "catchup": getattr(dag, "catchup", None),
        "start_date": _iso(dag.start_date),
        "end_date": _iso(dag.end_date),
        "timezone": str(getattr(dag, "timezone", "") or ""),
        "params": _plain(dict(getattr(dag, "params", {}) or {})),
        # an Airflow 2 SubDAG runs only when its parent's SubDagOperator runs it
        "subdag": getattr(dag, "parent_dag", None) is not None,
    }
    try:
        runs, timetable = plan_runs(dag, n_runs)
        facts["timetable"] = timetable
        facts["runs"] = runs
    except Exception as exc:
        facts["runs_error"] = _error(exc)
        runs = []
    if render:
        try:
            facts["rendered"] = _render(dag, runs)
        except Exception as exc:
            facts["render_error"] = _error(exc)
    return facts


def _folder_facts(folder, job):
    entry = {"import_errors": {}, "dags": {}}
    try:
        bag = _bag(folder)
    except Exception:
        entry["error"] = traceback.format_exc(limit=3)
        return entry
    entry["import_errors"] = {
        os.path.relpath(str(k), folder): str(v).strip()[-2000:]
        for k, v in bag.import_errors.items()
    }
    for dag_id, dag in sorted(bag.dags.items()):
        try:
            entry["dags"][dag_id] = _dag_facts(dag, job.get("runs", 3), job.get("render", True))
        except Exception as exc:
            entry["dags"][dag_id] = {"error": _error(exc)}
    return entry


def main():
    job = json.load(open(sys.argv[1], encoding="utf-8"))
    importable = _sibling("importpath").importable
    no_history()
    result = {"version": airflow.__version__, "folders": {}}
    for folder in job["folders"]:
        own = folder if os.path.isdir(folder) else os.path.dirname(folder)
        with importable([own, *job.get("paths", {}).get(folder, [])]):
            result["folders"][folder] = _folder_facts(folder, job)
        # progress for the parent: one line per folder
        print("WFCONV_FOLDER " + folder, flush=True)
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
