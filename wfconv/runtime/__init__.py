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

# The names below are imported on first use (PEP 562): a command that needs
# one part of the runtime (the audit's schedule arithmetic) does not pay for
# importing the engine.
_LAZY = {
    "RunOptions": "api",
    "execute": "api",
    "plan_runs": "api",
    "resume": "api",
    "run": "api",
    "Attempt": "results",
    "RunResult": "results",
    "TaskResult": "results",
    "TraceEvent": "results",
    "ALL": "scenario",
    "NEVER": "scenario",
    "Scenario": "scenario",
    "RunInfo": "schedule",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
