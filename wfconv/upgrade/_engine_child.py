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

How runs are planned and how a task instance's template context is built in
each release come from the engine harness's child (``ENGINE`` below), so that
``wfconv upgrade`` and ``wfconv verify --engine`` read Airflow alike.
"""

import copy
import importlib.util
import json
import logging
import os
import sys
import warnings

import airflow
import pendulum

MAJOR = int(airflow.__version__.split(".")[0])
logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")

if MAJOR >= 3:
    from airflow.dag_processing.dagbag import DagBag
else:
    from airflow.models.dagbag import DagBag


def _engine_reader():
    """The engine harness's Airflow child (wfconv/engines/airflow_child.py):
    how the scheduler plans runs, how a task instance's template context is
    built in each release and how to render as if the DAG had never run are
    kept there only."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engines")
    spec = importlib.util.spec_from_file_location(
        "wfconv_airflow_child", os.path.join(folder, "airflow_child.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENGINE = _engine_reader()
FALLBACK_DATE = pendulum.datetime(2024, 1, 1, tz="UTC")
# Files under this folder may have their probe_* callables run (see the docstring).
CALL_PROBES = os.environ.get("WFCONV_CALL_PROBES") or None


def _iso(d):
    return None if d is None else pendulum.instance(d).in_timezone("UTC").isoformat()


def _runs(dag, n):
    """(timetable name, [run]) from the scheduler's timetable, each run as
    the engine reader's dict (ISO times, run id, kind). A manual DAG gets one
    manual run at its start date (or 2024-01-01)."""
    planned, name = ENGINE.plan_runs(dag, n)
    # one run id for both releases: it is built differently in each
    out = [{**r, "kind": "scheduled", "run_id": "wfconv_probe"} for r in planned]
    timetable = ENGINE._planner(dag).timetable
    if not out and not getattr(timetable, "periodic", False) and "Continuous" not in name:
        at = pendulum.instance(dag.start_date) if dag.start_date else FALLBACK_DATE
        interval = timetable.infer_manual_data_interval(run_after=at)
        out.append(
            {
                "kind": "manual",
                "run_id": "wfconv_probe",
                "run_after": _iso(at),
                "logical_date": _iso(interval.start),
                "data_interval_start": _iso(interval.start),
                "data_interval_end": _iso(interval.end),
            }
        )
    return name, out


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
        context = ENGINE.template_context(dag, task, run)
        task.render_template_fields(context)
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
        "runs": [
            [r["kind"], r["run_after"], r["logical_date"]]
            + [r["data_interval_start"], r["data_interval_end"]]
            for r in runs
        ],
        "tasks": _tasks(dag, runs),
    }


def main():
    folder, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ENGINE.no_history()
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
