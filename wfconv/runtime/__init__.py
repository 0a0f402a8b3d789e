"""The reference runtime (docs/architecture.md §7): schedules, trigger rules, retries,
sensors, a virtual or real clock, executors, a SQLite state store.

Stable Python API (used by ``wfconv verify``)::

    from wfconv.runtime import run, Scenario, ALL, NEVER
    results = run(workflow, Scenario(fail={"load": ALL}), date="2024-01-01")
    r = results[0]
    r.state                      # "success" | "failed" (Airflow leaf rule)
    r.engine_state               # source engine's outcome where it differs (Oozie: "killed"...)
    r.tasks["load"].state        # final state
    r.tasks["load"].attempts     # [Attempt(number, state, start, end, reason)]
    r.tasks["load"].start/.end   # of the last attempt (aware UTC datetimes)
    r.trace                      # [TraceEvent(time, task, attempt, state)]
    r.logical_date, r.start      # aware UTC datetimes; ``*_ts``: the POSIX seconds
    r.summary()                  # {task: (state, attempts)}: what verify compares exactly
    r.notes                      # [{"code": "RT101", "message": ...}] (docs/codes/runtime.md)
    r.to_dict()                  # the JSON of ``wfconv run --format json``

``run`` keywords: ``date=`` | ``backfill=(START, END)`` | ``now=`` (schedule
up to then), ``timetable="data_interval"|"trigger"`` (default: the
workflow's own ``schedule.model``), ``catchup=``,
``max_active_runs=``, ``workflows={id: wf}`` (sub-workflows of the bundle),
``strict_scenario=False`` (ignore scenario entries for absent tasks),
``render=True`` (rendered shell commands), ``store=RunStore(path)``.

``execute(...)`` runs for real with a ``LocalExecutor``/``DaskExecutor``;
``resume(store, run_key, executor)`` finishes an interrupted live run.
"""

from wfconv.runtime.api import RunOptions, execute, plan_runs, resume, run
from wfconv.runtime.results import Attempt, RunResult, TaskResult, TraceEvent
from wfconv.runtime.scenario import ALL, NEVER, Scenario
from wfconv.runtime.schedule import RunInfo

__all__ = [
    "ALL",
    "NEVER",
    "Attempt",
    "RunInfo",
    "RunOptions",
    "RunResult",
    "Scenario",
    "TaskResult",
    "TraceEvent",
    "execute",
    "plan_runs",
    "resume",
    "run",
]
