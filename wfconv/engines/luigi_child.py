"""Runs in a child of wfconv's interpreter: ``python -m wfconv.engines.luigi_child
JOB.json OUT.json``. For each emitted Luigi module of the job, what Luigi itself
makes of its schedule, without a scheduler and without running a task:

- time: the first runs Luigi's own range task (``wfconv_luigi.catch_up()``'s
  ``RangeDaily`` / ``RangeHourly`` of the module's root task, asked for the
  intervals missing when everything is still to do) schedules, each as the
  root task instance's logical date and data interval (its ``logical_date()``
  / ``interval_end()``);
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


def _root(module):
    """The root WrapperTask wfconv's backend writes (``wfconv_root``)."""
    return next(
        (
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and getattr(v, "wfconv_root", False) is True
            and v.__module__ == module.__name__
        ),
        None,
    )


def _first_runs(catch_up, root, n: int) -> list:
    """The first ``n`` root task instances the root's range task schedules
    (``catch_up``: the helper module's, building Luigi's RangeDaily/RangeHourly)."""
    start = root.start
    if not isinstance(start, datetime.datetime):
        start = datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=datetime.UTC)
    # catch-up on, as the source's runs are planned (catch-up is structure):
    # the range looks back to the interval of its start and no further (a
    # look-back past the year 1 overflows Luigi's date arithmetic)
    origin = int(start.timestamp())
    probe = catch_up(root, now=origin)
    # catch_up() moves "now" by the schedule's due time (and timezone)
    shift = origin - probe.now
    unit = 86400 if "days_back" in dict(type(probe).get_params()) else 3600
    name = "days_back" if unit == 86400 else "hours_back"
    # a period more (the range's own start bounds it), unless that is before
    # the year 1; a timezone's daylight saving time moves "now" by an hour
    spare = 1 if start.year > 1 or start.timetuple().tm_yday > 2 else 0
    found: list = []
    for days in _HORIZONS_DAYS:
        # "now" such that the range's now is the start plus a whole number of
        # periods, which it looks back exactly
        now = origin + days * 86400 + shift
        back = {name: days * 86400 // unit + spare}
        found = list(catch_up(root, now=now, task_limit=n, **back).requires())
        if len(found) >= n:
            break
    return found[:n]


def _iso(d: datetime.datetime) -> str:
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.UTC)
    return d.astimezone(datetime.UTC).isoformat()


def inspect_module(entry: dict, n: int) -> dict:
    module = load_module(entry["file"], f"wfconv_luigi_{n}")
    root = _root(module)
    helper = getattr(module, "wfconv_luigi", None)
    if root is None or helper is None or not hasattr(root, "logical_date"):
        return {"runs": None, "why": "the module has no root task of wfconv's Luigi backend"}
    if not issubclass(root, (helper.DailyTask, helper.HourlyTask)):
        # each call of the module is one run (a cron line)
        return {"runs": None}
    if getattr(root, "start", None) is None:
        return {
            "runs": None,
            "why": "the schedule has no start date: the range task starts from the day it runs",
        }
    roots = _first_runs(helper.catch_up, root, entry.get("runs", 3))
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
