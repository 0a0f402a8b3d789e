"""Runs in a child of wfconv's interpreter: ``python -m wfconv.engines.luigi_child
JOB.json OUT.json``. For each emitted Luigi module of the job, what Luigi itself
makes of its schedule, without a scheduler and without running a task:

- time: the first runs Luigi's own range task (``catch_up()``'s ``RangeDaily``
  / ``RangeHourly``, asked for the intervals missing when everything is still
  to do) schedules, each as the root task instance's logical date and data
  interval (the module's ``logical_date()`` / ``interval_end()``);
- payloads: for the tasks the job names (shell tasks, by source id), the
  task instance of each of those runs has its ``run()`` called with every
  ``subprocess``/``os.system`` entry point replaced by a recorder that stops
  the task before anything runs: the command line Luigi's worker would run.

The child runs in an empty working folder, so no task of the module is
complete (their marker files are relative to it).
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile

from wfconv.engines.modchild import command_of, each_module
from wfconv.engines.prefect_child import load_module

# How far after the range's start "now" is put to find the first runs: first a
# month (hourly ranges enumerate every hour up to now), then ten years.
_HORIZONS_DAYS = (31, 3660)


def _tasks(module) -> dict:
    import luigi

    return {
        v.task_id_original: v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, luigi.Task)
        and getattr(v, "task_id_original", None)
    }


def _first_runs(module, n: int) -> list:
    """The first ``n`` root task instances the module's range task schedules."""
    probe = module.catch_up(now=0)
    start = probe.start
    if not isinstance(start, datetime.datetime):
        start = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=datetime.UTC)
    # catch-up on, as the source's runs are planned (catch-up is structure):
    # the range looks back to its start
    back = {name: 10**5 for name, _ in type(probe).get_params() if name.endswith("_back")}
    found: list = []
    for days in _HORIZONS_DAYS:
        now = int((start + datetime.timedelta(days=days)).timestamp())
        found = list(module.catch_up(now=now, task_limit=n, **back).requires())
        if len(found) >= n:
            break
    return found[:n]


def _iso(d: datetime.datetime) -> str:
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.UTC)
    return d.astimezone(datetime.UTC).isoformat()


def inspect_module(entry: dict, n: int) -> dict:
    module = load_module(entry["file"], f"wfconv_luigi_{n}")
    if not callable(getattr(module, "catch_up", None)):
        return {"runs": None}  # each call of the module is one run (a cron line)
    roots = _first_runs(module, entry.get("runs", 3))
    runs = [
        {
            "logical_date": _iso(r.logical_date()),
            "data_interval_start": _iso(r.logical_date()),
            "data_interval_end": _iso(r.interval_end()),
        }
        for r in roots
    ]
    tasks = _tasks(module)
    rendered = []
    for root in roots:
        per_task = {}
        for sid in entry.get("shell_tasks", []):
            cls = tasks.get(sid)
            if cls is not None:
                per_task[sid] = {"command": command_of(cls(**root.shared()).run)}
        rendered.append(per_task)
    return {"runs": runs, "rendered": rendered}


def main() -> None:
    os.environ.pop("WFCONV_STATE_DIR", None)  # the emitted modules' state folder
    with tempfile.TemporaryDirectory(prefix="wfconv-luigi-") as empty:
        os.chdir(empty)  # no marker file exists here: no task is complete
        try:
            each_module(inspect_module, "error")
        finally:
            os.chdir(os.path.dirname(os.path.abspath(sys.argv[2])))


if __name__ == "__main__":
    main()
