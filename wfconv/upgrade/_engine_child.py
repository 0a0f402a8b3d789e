"""Run by the interpreter of an Airflow side virtualenv (2.x or 3.x), never
imported by wfconv: load one folder of DAG files with the engine's own DagBag
and print, as JSON, what ``wfconv.upgrade.engine`` compares.

Usage: python _engine_child.py FOLDER OUT.json RUNS

Per file: the import error, or per DAG its structure (tasks, edges, trigger
rules, retries, owners, catchup), the first RUNS runs its timetable creates
from ``start_date`` (as with catch-up on: run start, logical date, data
interval) and every templated field of every task rendered for each run by the
engine's own context and Jinja environment. A manual DAG gets one manual run
at its start date (or 2024-01-01). With ``WFCONV_CALL_PROBES=FOLDER`` the
Python callable of each task whose id starts with ``probe_``, in a file under
FOLDER, is also run with that context (for wfconv's own test DAGs, which only
format their context: nothing else is ever executed).
"""

import copy
import json
import logging
import os
import sys
import uuid
import warnings

import airflow
import pendulum

MAJOR = int(airflow.__version__.split(".")[0])
logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")

if MAJOR >= 3:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization
else:
    from airflow.models.dagbag import DagBag
from airflow.timetables.base import TimeRestriction  # noqa: E402 - after the version test

FALLBACK_DATE = pendulum.datetime(2024, 1, 1, tz="UTC")
# Files under this folder may have their probe_* callables run (see the docstring).
CALL_PROBES = os.environ.get("WFCONV_CALL_PROBES") or None


def _no_history():
    """Both engines render as if the DAG had never run and nothing else
    existed: no previous successful run (``prev_*_success`` are None), no XCom
    pushed, no asset alias resolved (Airflow 2 reads its empty database;
    Airflow 3 gets a stand-in for its API server), no pool table to check a
    SubDAG against."""
    if MAJOR >= 3:
        from airflow.sdk.execution_time import task_runner

        class _NoRun:
            data_interval_start = data_interval_end = start_date = end_date = None

        task_runner.get_previous_dagrun_success = lambda ti_id: _NoRun()
        # No task has pushed anything (Airflow 2 reads an empty xcom table).
        task_runner.XCom.get_all = classmethod(lambda cls, *a, **k: None)
        task_runner.XCom.get_one = classmethod(lambda cls, *a, **k: None)
        from airflow.sdk.execution_time import comms

        class _NoServer:
            """No API server: an asset alias has no assets yet (as in Airflow 2's
            empty database); anything else the task asks for is an error."""

            def send(self, msg):
                if isinstance(msg, comms.GetAssetsByAlias):
                    return comms.AssetsByAliasResult(assets=[])
                raise RuntimeError(f"no API server for {type(msg).__name__}")

        task_runner.SUPERVISOR_COMMS = _NoServer()
        # Airflow 2 is asked to render without validating required params
        # (ignore_param_exceptions): the same here.
        validate = task_runner.process_params
        task_runner.process_params = lambda dag, task, conf, suppress_exception=False: validate(
            dag, task, conf, suppress_exception=True
        )
    else:
        from airflow.models.taskinstance import TaskInstance

        TaskInstance.get_previous_dagrun = lambda self, state=None, session=None: None
        TaskInstance.get_previous_execution_date = lambda self, state=None, session=None: None
        TaskInstance.get_previous_start_date = lambda self, state=None, session=None: None
        from airflow.operators.subdag import SubDagOperator

        SubDagOperator._validate_pool = lambda self, session: None  # needs the pool table


def _iso(d):
    return None if d is None else pendulum.instance(d).in_timezone("UTC").isoformat()


def _runs(dag, n):
    """[(kind, run_after, logical_date, interval start, end)] from the scheduler's timetable."""
    # The scheduler's own view: the serialized DAG in 3.x (the SDK DAG has no
    # next_dagrun_info), and the start/end dates it derives from the tasks too.
    sched = (
        DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)) if MAJOR >= 3 else dag
    )
    timetable = sched.timetable
    name = type(timetable).__name__
    if "Continuous" in name:
        return name, []
    out = []
    if getattr(timetable, "can_be_scheduled", True):
        bounds = sched._time_restriction
        restriction = TimeRestriction(bounds.earliest, bounds.latest, True)
        last = None
        for _ in range(n):
            info = timetable.next_dagrun_info(
                last_automated_data_interval=last, restriction=restriction
            )
            if info is None:
                break
            out.append(
                (
                    "scheduled",
                    info.run_after,
                    info.logical_date,
                    info.data_interval.start,
                    info.data_interval.end,
                )
            )
            last = info.data_interval
    if not out and not getattr(timetable, "periodic", False):
        at = pendulum.instance(dag.start_date) if dag.start_date else FALLBACK_DATE
        interval = timetable.infer_manual_data_interval(run_after=at)
        out.append(("manual", at, interval.start, interval.start, interval.end))
    return name, out


def _render_2(dag, task, run):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.timetables.base import DataInterval

    kind, run_after, logical, start, end = run
    dr = DagRun(
        dag_id=dag.dag_id,
        run_id="wfconv_probe",
        execution_date=logical,
        data_interval=DataInterval(start, end),
        run_type=kind,
        state="running",
        external_trigger=kind == "manual",
    )
    dr.dag = dag
    ti = TaskInstance(task, run_id="wfconv_probe")
    ti.dag_run = dr
    context = ti.get_template_context(ignore_param_exceptions=True)
    task.render_template_fields(context)
    return context


def _render_3(dag, task, run):
    from airflow.sdk.api.datamodels._generated import DagRun, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    kind, run_after, logical, start, end = run
    dr = DagRun(
        dag_id=dag.dag_id,
        run_id="wfconv_probe",
        logical_date=logical,
        data_interval_start=start,
        data_interval_end=end,
        run_after=run_after,
        start_date=run_after,
        end_date=None,
        run_type=kind,
        state="running",
        consumed_asset_events=[],
        partition_key=None,
        conf={},  # as a run triggered without a conf has (Airflow 2's DagRun.conf)
    )
    ti = RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(),
        task_id=task.task_id,
        dag_id=dag.dag_id,
        run_id="wfconv_probe",
        try_number=1,
        map_index=-1,
        task=task,
        max_tries=task.retries or 0,
        start_date=run_after,
        _ti_context_from_server=TIRunContext(dag_run=dr, max_tries=task.retries or 0),
    )
    context = ti.get_template_context()
    task.render_template_fields(context)
    return context


# What each release prints for "not set" (a TriggerDagRunOperator without a
# logical date, a @task.bash command before it runs): one spelling for both.
_NOT_SET = ("NOTSET", "DYNAMIC (set during execution)", "<airflow.utils.types.ArgNotSet")


def _text(value):
    text = str(value)
    return "<not set>" if text.startswith(_NOT_SET) or text == "None" else text


def _holds_xcom(value):
    """A value that renders by pulling XCom (TaskFlow data passing, mapping):
    not a template of the DAG file, and it needs the run's results."""
    if type(value).__name__.endswith(("XComArg", "XComSequence")):
        return True
    if isinstance(value, dict):
        return any(_holds_xcom(v) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return any(_holds_xcom(v) for v in value)
    return False


def _rendered(dag, task, run):
    """{field: text} of the task's templated fields for one run (the task is
    copied first: rendering replaces the fields)."""
    fields = [f for f in task.template_fields]
    saved = {f: copy.copy(getattr(task, f, None)) for f in fields}
    xcom = {f for f in fields if _holds_xcom(saved[f])}
    for f in xcom:
        setattr(task, f, None)
    try:
        context = (_render_3 if MAJOR >= 3 else _render_2)(dag, task, run)
        out = {f: "<xcom>" if f in xcom else _text(getattr(task, f, None)) for f in fields}
        if (
            CALL_PROBES
            and task.task_id.startswith("probe_")
            and os.path.realpath(dag.fileloc).startswith(os.path.realpath(CALL_PROBES) + os.sep)
        ):
            # Only wfconv's own test DAGs: run the callable the way the
            # operator does and keep what it returns.
            out["<return>"] = _text(task.prepare_for_execution().execute(context))
        return out
    except Exception as exc:  # noqa: BLE001 - the engine's own error is the observation
        return {"<error>": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        for f, v in saved.items():
            try:
                setattr(task, f, v)
            except Exception:  # noqa: BLE001
                pass


def _rule(task):
    rule = task.trigger_rule
    return getattr(rule, "value", rule)


def _tasks(dag, runs, prefix=""):
    """{task id: facts}. A SubDagOperator's sub-DAG is inlined the way a
    TaskGroup shows it (``section.inner``; edges to the operator go to the
    sub-DAG's first tasks, edges from it leave from its last ones), and its
    tasks are rendered for the parent's runs, as Airflow 2 runs them."""
    subdags = {
        t.task_id: t.subdag for t in dag.tasks if type(t).__name__ == "SubDagOperator" and t.subdag
    }

    def ends(task_id, which):
        sub = subdags.get(task_id)
        if sub is None:
            return [prefix + task_id]
        return [
            x for t in getattr(sub, which) for x in _ends_of(sub, t, prefix + task_id + ".", which)
        ]

    out = {}
    for task in dag.tasks:
        downstream = sorted(x for d in task.downstream_task_ids for x in ends(d, "roots"))
        if task.task_id in subdags:
            inner = _tasks(subdags[task.task_id], runs, prefix + task.task_id + ".")
            for leaf in ends(task.task_id, "leaves"):
                inner[leaf]["downstream"] = sorted(set(inner[leaf]["downstream"]) | set(downstream))
            out.update(inner)
            continue
        mapped = type(task).__name__ == "MappedOperator"
        out[prefix + task.task_id] = {
            "downstream": downstream,
            "trigger_rule": str(_rule(task)),
            "retries": task.retries,
            "owner": task.owner,
            "rendered": None if mapped else [_rendered(dag, task, r) for r in runs],
        }
    return out


def _ends_of(dag, task, prefix, which):
    if type(task).__name__ == "SubDagOperator" and task.subdag:
        return [
            x
            for t in getattr(task.subdag, which)
            for x in _ends_of(task.subdag, t, prefix + task.task_id + ".", which)
        ]
    return [prefix + task.task_id]


def _dag(dag, n):
    timetable, runs = _runs(dag, n)
    if MAJOR < 3:
        from airflow.serialization.serialized_objects import SerializedDAG

        SerializedDAG.to_dict(
            dag
        )  # what the scheduler needs: fails as in 3.x for unknown timetables
    return {
        "catchup": dag.catchup,
        "timetable": timetable,
        "runs": [[r[0], *map(_iso, r[1:])] for r in runs],
        "tasks": _tasks(dag, runs),
    }


def main():
    folder, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    _no_history()
    kwargs = {"include_examples": False} if MAJOR < 3 else {}
    bag = DagBag(dag_folder=folder, **kwargs)
    result = {"version": airflow.__version__, "errors": {}, "dags": {}}
    for path, error in bag.import_errors.items():
        result["errors"][path] = str(error).strip().splitlines()[-1][:500]
    for dag_id, dag in sorted(bag.dags.items()):
        if getattr(dag, "parent_dag", None) is not None:
            continue  # a SubDAG: its tasks are the parent's SubDagOperator
        try:
            entry = _dag(dag, n)
        except Exception as exc:  # noqa: BLE001
            entry = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        entry["file"] = dag.fileloc
        result["dags"][dag_id] = entry
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
