"""Python API: ``run(workflow, scenario=..., ...)`` → list of RunResult.

This is what ``wfconv run`` and ``wfconv verify`` call. A workflow's runs are
simulated (or executed) in ascending logical-date order; with a virtual clock
run k starts at its trigger time or, when ``max_active_runs`` runs are still
busy, when the earliest of them ends (runs of one workflow do not interact
otherwise, so this is exact).
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from wfconv.errors import InputError, UsageError
from wfconv.ir.model import Workflow
from wfconv.runtime.engine import RunEngine
from wfconv.runtime.graph import CompiledWorkflow
from wfconv.runtime.results import RunResult
from wfconv.runtime.scenario import Scenario
from wfconv.runtime.schedule import (
    TIMETABLES,
    RunInfo,
    RunPlan,
    backfill_runs,
    parse_datetime,
    run_for_date,
    scheduled_runs,
)

DEFAULT_MAX_ACTIVE_RUNS = 16  # Airflow's [core] max_active_runs_per_dag


@dataclass
class RunOptions:
    """How to pick runs (one of date / backfill / the schedule up to ``now``)."""

    date: datetime | str | None = None
    backfill: tuple[datetime | str, datetime | str] | None = None
    now: datetime | str | None = None
    # None: the workflow's own time model (schedule.model, docs/semantics.md R3),
    # so a run predicts what the engine the workflow came from does.
    timetable: str | None = None
    catchup: bool | None = None


def _dt(value: datetime | str, tz: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_datetime(value, tz)


def plan_runs(w: Workflow, opts: RunOptions) -> list[RunInfo]:
    """The runs to execute, ascending."""
    if opts.timetable is not None and opts.timetable not in TIMETABLES:
        raise UsageError(f"unknown timetable {opts.timetable!r}; known: {', '.join(TIMETABLES)}")
    tz = w.schedule.timezone or "UTC"
    if opts.date is not None and opts.backfill is not None:
        raise UsageError("give --date or --backfill, not both")
    if opts.date is not None:
        return [run_for_date(w, _dt(opts.date, tz), opts.timetable)]
    if opts.backfill is not None:
        first, last = (_dt(x, tz) for x in opts.backfill)
        if last < first:
            raise UsageError("--backfill END is before START")
        return list(backfill_runs(w, first, last, opts.timetable))
    now = _dt(opts.now, tz) if opts.now is not None else datetime.now(UTC)
    return list(scheduled_runs(w, RunPlan(now=now, timetable=opts.timetable, catchup=opts.catchup)))


@contextmanager
def gc_paused(keep: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector during a simulation: the loop
    allocates many small objects and no cycles of its own, and generation-2
    collections over a growing heap made the cost per task grow with the DAG
    size (measured: 20 → 37 µs/task from 1k to 100k tasks; ~15 → 19 paused).
    What remains is one young-generation collection when it is resumed,
    linear in the result's size (0.3 → 0.7 µs/task from 1k to 100k tasks,
    the rise being cache misses; see docs/codes/runtime.md).

    ``keep=True`` spares that collection too, for a command about to exit:
    the objects alive at the end are moved out of the collector's sight
    (``gc.freeze``) before it resumes, instead of being walked once more
    (0.2 s after a 100k-task run) only to be freed at exit anyway."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if keep:
                gc.freeze()
            gc.enable()


def check_scenario(w: Workflow, scenario: Scenario) -> None:
    """A scenario naming a task the workflow does not have is a usage error
    (a typo would otherwise silently test nothing)."""
    named = scenario.task_ids()
    if not named:
        return  # nothing to check: no set of the workflow's ids to build
    unknown = sorted(named - set(w.task_ids()))
    if unknown:
        raise UsageError(
            f"workflow {w.id!r} has no task {', '.join(map(repr, unknown))} (named in the scenario)"
        )


def run(
    workflow: Workflow,
    scenario: Scenario | None = None,
    *,
    date: datetime | str | None = None,
    backfill: tuple[datetime | str, datetime | str] | None = None,
    now: datetime | str | None = None,
    timetable: str | None = None,
    catchup: bool | None = None,
    runs: list[RunInfo] | None = None,
    max_active_runs: int | None = None,
    store=None,
    on_run=None,
    strict_scenario: bool = True,
    render: bool = False,
    workflows: dict[str, Workflow] | None = None,
) -> list[RunResult]:
    """Simulate ``workflow`` on a virtual clock under ``scenario``.

    Runs come from ``runs`` if given, else from ``date`` (one run),
    ``backfill=(START, END)`` (inclusive), or the schedule up to ``now``
    (default: the current time). ``store`` (a ``RunStore``) records each run;
    ``on_run(result)`` is called after each run (progress bars).
    ``strict_scenario=False`` ignores scenario entries for tasks the workflow
    does not have (verify runs one scenario on a source and a target IR).
    ``render=True`` renders each shell task's command for each run (a dry
    run: nothing is executed) into ``TaskResult.command``.
    ``workflows`` (id → Workflow, e.g. the rest of the bundle) lets a
    ``subworkflow`` task run its child on the same virtual clock: the task
    succeeds iff the child run succeeds (Oozie: iff it SUCCEEDED).
    ``iter_run`` takes the same arguments and yields each result as its run
    ends, holding none of them (a decade of hourly runs).
    """
    return list(
        iter_run(
            workflow,
            scenario,
            date=date,
            backfill=backfill,
            now=now,
            timetable=timetable,
            catchup=catchup,
            runs=runs,
            max_active_runs=max_active_runs,
            store=store,
            on_run=on_run,
            strict_scenario=strict_scenario,
            render=render,
            workflows=workflows,
        )
    )


def iter_run(
    workflow: Workflow,
    scenario: Scenario | None = None,
    *,
    date: datetime | str | None = None,
    backfill: tuple[datetime | str, datetime | str] | None = None,
    now: datetime | str | None = None,
    timetable: str | None = None,
    catchup: bool | None = None,
    runs: list[RunInfo] | None = None,
    max_active_runs: int | None = None,
    store=None,
    on_run=None,
    strict_scenario: bool = True,
    render: bool = False,
    workflows: dict[str, Workflow] | None = None,
) -> Iterator[RunResult]:
    """``run``, one result at a time (see ``run`` for the arguments)."""
    cw = CompiledWorkflow(workflow)
    if not cw.is_sound():
        _require_valid(workflow)  # explains the problem
        raise InputError(None, None, f"workflow {workflow.id!r} is not a schedulable graph")
    scenario = scenario or Scenario()
    if strict_scenario:
        check_scenario(workflow, scenario)
    if runs is None:
        runs = plan_runs(workflow, RunOptions(date, backfill, now, timetable, catchup))
    with gc_paused(), store.batch() if store is not None else nullcontext():
        yield from _run_virtual(
            cw, scenario, runs, max_active_runs, store, on_run, render, workflows
        )


def _run_virtual(
    cw: CompiledWorkflow, scenario, runs, max_active_runs, store, on_run, render, workflows
) -> Iterator[RunResult]:
    workflow = cw.workflow
    limit = max_active_runs or workflow.max_active_runs or DEFAULT_MAX_ACTIVE_RUNS
    busy: list[float] = []  # end times of the runs holding a slot
    prev: RunResult | None = None
    env = decision_env(workflow)
    for info in runs:
        start = info.run_after.timestamp()
        if len(busy) >= limit:
            start = max(start, heapq.heappop(busy))
        res = RunEngine(
            cw,
            info,
            scenario,
            start=start,
            decision_env=env,
            past=_past(cw, prev),
            child_runner=_child_runner(workflows, scenario, info.run_id, (workflow.id,)),
        ).run()
        heapq.heappush(busy, res.end_ts if res.end_ts is not None else start)
        if render:
            _render_commands(cw, info, res)
        if store is not None:
            store.record_run(workflow, res, scenario, executor="inline")
        if on_run is not None:
            on_run(res)
        prev = res
        yield res


NOTE_TEMPLATE_ERROR = "RT140"
MAX_SUBWORKFLOW_DEPTH = 16


def _child_runner(workflows, scenario, parent_run_id: str, stack: tuple[str, ...]):
    """A function running a sub-workflow of the bundle on the virtual clock
    (None when the bundle is unknown). A child already on the call stack
    (recursion) or past MAX_SUBWORKFLOW_DEPTH is not run."""
    if not workflows:
        return None

    def child(wid: str, info: RunInfo, t: float) -> RunResult | None:
        w = workflows.get(wid)
        if w is None or wid in stack or len(stack) >= MAX_SUBWORKFLOW_DEPTH:
            return None
        cw = CompiledWorkflow(w)
        if not cw.is_sound():
            return None
        run_id = f"{parent_run_id}/{wid}"
        return RunEngine(
            cw,
            info,
            scenario,
            start=t,
            run_id=run_id,
            decision_env=decision_env(w),
            child_runner=_child_runner(workflows, scenario, run_id, (*stack, wid)),
        ).run()

    return child


def _render_commands(cw: CompiledWorkflow, info: RunInfo, res: RunResult) -> None:
    """Dry run: the command each shell task would run in this run."""
    from wfconv.runtime.templates import RenderError, context, render

    for task in cw.tasks:
        if task.action.kind != "shell":
            continue
        f = task.action.fields
        command = (
            f.get("command") or ""
        )  # the whole command line (args are kept apart for reference)
        tr = res.tasks[task.id]
        ctx = context(info, cw.workflow, res.run_id, task.id, max(1, len(tr.attempts)))
        try:
            tr.command = render(command, ctx)
        except RenderError as exc:
            res.notes.append({"code": NOTE_TEMPLATE_ERROR, "message": f"task {task.id!r}: {exc}"})


def _past(cw: CompiledWorkflow, prev: RunResult | None) -> dict[str, tuple[str, float | None]]:
    """For depends_on_past tasks: their state and end in the previous run
    (the tasks are listed once at compilation, not searched for per run)."""
    if prev is None or not cw.depends_on_past:
        return {}
    tasks = prev.tasks
    return {
        tid: (tasks[tid].state, tasks[tid].end_ts) for tid in cw.depends_on_past if tid in tasks
    }


def _require_valid(w: Workflow) -> None:
    """Refuse a graph the scheduler cannot run (cycle, unknown task...)."""
    from wfconv.ir.validate import graph_errors

    errs = graph_errors(w)
    if errs:
        d = errs[0]
        raise InputError(d.path, d.line, f"workflow {w.id!r}: {d.message}")


def decision_env(w: Workflow) -> dict:
    """Values an Oozie decision may read: the workflow's parameters."""
    return dict(w.params)


def _work_builder(cw: CompiledWorkflow, info: RunInfo, run_id: str, cwd: str | None):
    """Build the ``Work`` of attempt ``att`` of task ``i`` (templates rendered per run)."""
    from wfconv.runtime.executors import Work
    from wfconv.runtime.templates import RenderError, context, render, render_value

    def build(i: int, att: int) -> Work:
        task = cw.tasks[i]
        f = task.action.fields
        ctx = context(info, cw.workflow, run_id, task.id, att)
        work = Work(
            task.id, att, task.action.kind, timeout_s=task.timeout_s, cwd=f.get("cwd") or cwd
        )
        try:
            if task.action.kind == "shell":
                command = f.get("command") or ""
                work.command = render(command, ctx)
                work.env = {k: render(str(v), ctx) for k, v in (f.get("env") or {}).items()}
                work.env_replace = bool(f.get("env_replace"))
            elif task.action.kind == "sensor":
                from wfconv.runtime.policy import sensor_settings

                work.sensor_path = render(str(f.get("target")), ctx)
                work.poke_interval, work.sensor_timeout, work.soft_fail = sensor_settings(task)
            else:
                work.module = f.get("module")
                work.callable = f.get("callable")
                work.op_args = render_value(list(f.get("op_args") or []), ctx)
                work.op_kwargs = render_value(dict(f.get("op_kwargs") or {}), ctx)
        except RenderError as exc:
            work.error = str(exc)
        return work

    return build


def execute(
    workflow: Workflow,
    scenario: Scenario | None = None,
    *,
    executor,
    runs: list[RunInfo] | None = None,
    date: datetime | str | None = None,
    backfill: tuple[datetime | str, datetime | str] | None = None,
    now: datetime | str | None = None,
    timetable: str | None = None,
    catchup: bool | None = None,
    store=None,
    concurrency: int = 4,
    cwd: str | None = None,
    on_run=None,
    strict_scenario: bool = True,
    watch=None,
) -> list[RunResult]:
    """Execute ``workflow`` for real with ``executor`` (LocalExecutor or
    DaskExecutor), one run after another in ascending order, on the real
    clock. Every change is committed to ``store`` as it happens.
    ``watch(info)``, called as each run starts, may return a ``Recorder``
    that sees every change of that run too (a progress display)."""
    import time as _time

    from wfconv.runtime.engine import Recorders
    from wfconv.runtime.store import LiveRecorder

    _require_valid(workflow)
    scenario = scenario or Scenario()
    if strict_scenario:
        check_scenario(workflow, scenario)
    if runs is None:
        runs = plan_runs(workflow, RunOptions(date, backfill, now, timetable, catchup))
    cw = CompiledWorkflow(workflow)
    env = decision_env(workflow)
    out: list[RunResult] = []
    for info in runs:
        start = _time.time()
        rec = None
        sid = None
        lock = None
        if store is not None:
            sid = store.begin_run(
                workflow,
                info,
                scenario,
                executor.name,
                {"concurrency": concurrency, "cwd": cwd},
                start=start,
            )
            lock = store.claim(sid)  # this process executes the run (store.py)
            rec = LiveRecorder(store, sid)
        seen = watch(info) if watch is not None else None
        if seen is not None:
            rec = seen if rec is None else Recorders(rec, seen)
        eng = RunEngine(
            cw,
            info,
            scenario,
            executor=executor,
            start=start,
            recorder=rec,
            work_builder=_work_builder(cw, info, info.run_id, cwd),
            concurrency=concurrency,
            decision_env=env,
            past=_past(cw, out[-1] if out else None),
        )
        try:
            res = eng.run()
            if store is not None:
                store.finish_run(sid, res)
        finally:
            if lock is not None:
                lock.release()
        if on_run is not None:
            on_run(res)
        out.append(res)
    return out


def resume(store, key: str, executor, concurrency: int | None = None) -> RunResult:
    """Finish an interrupted run of ``store``: finished tasks keep their state
    and attempts; interrupted attempts are marked and their tasks run again.
    A run another live process is executing is refused (``RunBusy``)."""
    run = store.find_run(key)
    with store.claim(run):  # refused while the run's own process still executes it
        return _resume(store, run, executor, concurrency)


def _resume(store, run: int, executor, concurrency: int | None) -> RunResult:
    import time as _time

    from wfconv.runtime.store import LiveRecorder

    sr = store.load_run(run)
    before = store.events(sr.store_id)
    cw = CompiledWorkflow(sr.workflow)
    conc = concurrency or int(sr.options.get("concurrency", 4))
    eng = RunEngine(
        cw,
        sr.info,
        sr.scenario,
        executor=executor,
        start=_time.time(),
        recorder=LiveRecorder(store, sr.store_id),
        initial=sr.initial,
        work_builder=_work_builder(cw, sr.info, sr.run_id, sr.options.get("cwd")),
        concurrency=conc,
        run_id=sr.run_id,
        decision_env=decision_env(sr.workflow),
    )
    res = eng.run()
    res.trace = before + res.trace  # the whole run's trace, across the interruption
    if sr.start is not None:
        res.start_ts = sr.start
    store.finish_run(sr.store_id, res)
    return res
