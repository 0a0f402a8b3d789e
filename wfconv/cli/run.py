"""``wfconv run``: simulate or execute workflows with Airflow's semantics."""

from __future__ import annotations

import contextlib
import sys

import click

from wfconv.cli.common import force_option, handle_errors, output_stream, write_output
from wfconv.cli.core import load_sources, source_options
from wfconv.errors import UsageError

# "source": each workflow's own time model (schedule.model, docs/semantics.md R3).
TIMETABLE_CHOICES = {"source": None, "airflow2": "data_interval", "airflow3": "trigger"}


# A workflow with more runs than this gets a summary line, not a table per
# run (a 5-year daily backfill is 1,826 runs): only the runs that did not
# succeed are shown as tables, at most this many.
TABLE_RUNS = 5


def _run_table(res, stream) -> str:
    """A run: a heading line, then one row per task."""
    from wfconv.cli.term import styled, table_text
    from wfconv.ui.text import duration

    head = f"{res.workflow}  {res.run_id}  {styled(res.state, res.state, stream)}"
    if res.engine_state is not None:
        head += f"  (source engine: {res.engine_state})"
    headers = ["TASK", "STATE", "TRIES", "DURATION"]
    rendered = any(tr.command is not None for tr in res.tasks.values())
    if rendered:
        headers.append("COMMAND")
    rows = []
    spans: dict[float | None, str] = {}  # a simulation's tasks mostly take the same time
    for tid, tr in res.tasks.items():
        start, end = tr.start_ts, tr.end_ts
        seconds = None if start is None or end is None else end - start
        took = spans.get(seconds)
        if took is None:
            took = spans[seconds] = duration(seconds)
        row = [tid, tr.state, len(tr.attempts), took]
        if rendered:
            row.append("-" if tr.command is None else f"$ {tr.command}")
        rows.append(row)
    return head + "\n" + table_text(headers, rows, stream=stream, indent=2, styled=(1,), right=(2,))


def summary_line(runs) -> str:
    """One line for the runs of one workflow: how many, which dates, how they ended."""
    from wfconv.ui.text import counts, date, duration

    first, last = runs[0], runs[-1]
    states = counts(
        {s: sum(r.state == s for r in runs) for s in dict.fromkeys(r.state for r in runs)}
    )
    dates = date(first.logical_date_ts)
    if len(runs) > 1:
        dates = f"from {dates} to {date(last.logical_date_ts)}"
    line = f"{first.workflow}: {len(runs)} run{'s' if len(runs) != 1 else ''} {dates}: {states}"
    bad = [r.run_id for r in runs if not r.ok]
    if bad:
        line += f"; not successful: {', '.join(bad[:3])}"
        if len(bad) > 3:
            line += f" and {len(bad) - 3} more"
    took = [r.end_ts - r.start_ts for r in runs if r.end_ts is not None]
    if took:
        line += f"; a run took {duration(sum(took) / len(took))}" + (
            " on average" if len(took) > 1 else ""
        )
    return line


def render_table(results, stream=None, detail: bool = False) -> str:
    """A table per run when a workflow has few runs (or with ``detail``);
    otherwise tables of the runs that did not succeed, at most TABLE_RUNS;
    then a summary line per workflow that had more than one run (for
    ``stream``: stdout)."""
    stream = stream or sys.stdout
    tables: list[str] = []
    by_workflow: dict[str, list] = {}
    for res in results:
        by_workflow.setdefault(res.workflow, []).append(res)
    summaries = []
    for runs in by_workflow.values():
        shown = runs
        if not detail and len(runs) > TABLE_RUNS:
            shown = [r for r in runs if not r.ok][:TABLE_RUNS]
        tables += [_run_table(res, stream) for res in shown]
        if len(runs) > 1:
            summaries.append(summary_line(runs))
            if len(shown) < len(runs):
                which = (
                    f"tables for {len(shown)} of the runs that did not succeed"
                    if shown
                    else "every run succeeded"
                )
                summaries.append(
                    f"  ({which}; --detail prints a table per run, "
                    "`wfconv runs list` and `wfconv ui` browse them)"
                )
    return "".join(tables) + "".join(line + "\n" for line in summaries)


class LiveProgress:
    """What a real run (local/dask executor) is doing, on stderr.

    A line for each failure and each retry it waits for, saying when the next
    attempt starts ("retry 2 at 12:05:03 UTC, in 5m 00s"); on a terminal also
    a status line, redrawn every second, with the run, the tasks done, what is
    running and the next retry."""

    def __init__(self, total_runs: int, stream=None):
        import threading

        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.total = total_runs
        self.index = 0
        self.run_id = ""
        self.states: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.reasons: dict[str, str] = {}
        self.retries: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ticker = None
        if self.tty:
            self.ticker = threading.Thread(target=self._tick, name="wfconv-progress", daemon=True)
            self.ticker.start()

    # -- runtime.engine.Recorder -------------------------------------------
    def watch(self, info, tasks: list[str] | None = None):
        with self.lock:
            self.index += 1
            self.run_id = info.run_id
            self.states = dict.fromkeys(tasks or (), "none")
            self.started.clear()
            self.retries.clear()
        return self

    def event(self, task: str, attempt: int, state: str, t: float) -> None:
        with self.lock:
            self.states[task] = state
            if state == "running":
                self.started[task] = t
                self.retries.pop(task, None)
            if state == "failed":
                why = self.reasons.get(task)
                self._say(
                    f"{task}: failed after {attempt} attempt(s)" + (f" ({why})" if why else "")
                )
        self._draw()

    def attempt(self, task, a, pid=None, log=None, exit_code=None) -> None:
        if a.reason:
            with self.lock:
                self.reasons[task] = a.reason

    def pid(self, task: str, attempt: int, pid: int) -> None:
        pass

    def retry(self, task: str, attempt: int, at: float) -> None:
        import time

        from wfconv.ui.text import duration, when

        with self.lock:
            self.retries[task] = (attempt, at)
            why = self.reasons.get(task)
            self._say(
                f"{task}: attempt {attempt - 1} failed"
                + (f" ({why})" if why else "")
                + f"; retry {attempt} at {when(at)} UTC (in {duration(max(0.0, at - time.time()))})"
            )
        self._draw()

    # -- display -----------------------------------------------------------
    def _say(self, message: str) -> None:
        prefix = f"{self.run_id}: " if self.total > 1 or not self.tty else ""
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(prefix + message + "\n")
        self.stream.flush()

    def status(self, now: float) -> str:
        from wfconv.runtime.results import TERMINAL
        from wfconv.ui.text import duration

        done = sum(s in TERMINAL for s in self.states.values())
        parts = [
            f"run {self.index}/{self.total} {self.run_id}",
            f"{done}/{len(self.states)} tasks done",
        ]
        running = [t for t, s in self.states.items() if s == "running"]
        if running:
            shown = ", ".join(
                f"{t} ({duration(now - self.started.get(t, now))})" for t in running[:3]
            )
            parts.append("running " + shown + (f" +{len(running) - 3}" if len(running) > 3 else ""))
        if self.retries:
            task, (attempt, at) = min(self.retries.items(), key=lambda kv: kv[1][1])
            parts.append(f"next: {task} try {attempt} in {duration(max(0.0, at - now))}")
        return " | ".join(parts)

    def _draw(self) -> None:
        if not self.tty:
            return
        import time

        with self.lock:
            line = self.status(time.time())
        self.stream.write("\r\033[K" + line[:200])
        self.stream.flush()

    def _tick(self) -> None:
        while not self.stop.wait(1.0):
            self._draw()

    def close(self) -> None:
        self.stop.set()
        if self.ticker is not None:
            self.ticker.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


def _print_notes(results) -> None:
    """Notes on stderr, each distinct one once (a backfill repeats them per run)."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for res in results:
        for note in res.notes:
            seen.setdefault((res.workflow, note["code"], note["message"]), []).append(res.run_id)
    for (wf, code, message), run_ids in seen.items():
        where = (
            run_ids[0] if len(run_ids) == 1 else f"{run_ids[0]} and {len(run_ids) - 1} more run(s)"
        )
        click.echo(f"{wf} {where}: {code}: {message}", err=True)


def _progress(total: int):
    """A tqdm bar on stderr, only when stderr is a terminal."""
    if total < 2 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", file=sys.stderr, leave=False)


def _executor(name: str, concurrency: int, dask_address: str | None):
    if name == "inline":
        return None  # a simulation: nothing to import or start
    from wfconv.runtime.executors import DaskExecutor, LocalExecutor

    if name == "local":
        return LocalExecutor(concurrency)
    if name == "dask":
        from wfconv import extras

        extras.require("dask", "--executor dask")
        try:
            return DaskExecutor(dask_address, concurrency)
        except (OSError, TimeoutError, ValueError) as exc:
            where = dask_address or "a local cluster"
            raise UsageError(f"cannot start the dask executor on {where}: {exc}") from None
    return None


@click.command("run")
@click.argument("path", required=False, type=click.Path())
@source_options
@click.option(
    "--workflow", "workflow_ids", multiple=True, help="Run only this workflow id (repeatable)."
)
@click.option("--date", default=None, help="One run with this logical date (ISO date/time).")
@click.option(
    "--backfill",
    nargs=2,
    default=None,
    metavar="START END",
    help="Runs whose logical date is in [START, END].",
)
@click.option(
    "--now", default=None, help="Virtual 'now' for schedule-driven runs (default: current time)."
)
@click.option(
    "--timetable",
    type=click.Choice(sorted(TIMETABLE_CHOICES)),
    default="source",
    show_default=True,
    help="source: the time model the workflow's source engine means (an Airflow 2 cron: "
    "data intervals; Airflow 3, Prefect, Oozie: the tick); airflow2: data intervals (run at "
    "interval end) for every workflow; airflow3: trigger at each tick.",
)
@click.option("--catchup/--no-catchup", default=None, help="Override the workflow's catchup.")
@click.option(
    "--fail",
    "fail",
    multiple=True,
    metavar="TASK[:N]",
    help="TASK fails on every attempt, or on its first N.",
)
@click.option(
    "--branch",
    "branch",
    multiple=True,
    metavar="TASK=ID[,ID]",
    help="Branch choice (empty = ShortCircuit false).",
)
@click.option(
    "--sensor",
    "sensor",
    multiple=True,
    metavar="TASK=N|never",
    help="Sensor succeeds on poke N, or never.",
)
@click.option("--skip", "skip", multiple=True, metavar="TASK", help="TASK skips itself.")
@click.option(
    "--duration",
    "duration",
    multiple=True,
    metavar="TASK=SECONDS",
    help="Virtual duration of TASK's attempts.",
)
@click.option(
    "--default-duration",
    type=float,
    default=1.0,
    show_default=True,
    help="Virtual seconds per attempt.",
)
@click.option(
    "--executor",
    type=click.Choice(["inline", "local", "dask"]),
    default="inline",
    show_default=True,
    help="inline: simulate on a virtual clock (nothing is executed); local/dask: run commands for real.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=4,
    show_default=True,
    help="Parallel tasks (local/dask).",
)
@click.option(
    "--dask-address",
    default=None,
    help="Scheduler address for --executor dask (default: a local cluster).",
)
@click.option(
    "--db",
    default=None,
    type=click.Path(),
    help="SQLite state store (default ./.wfconv/runs.sqlite).",
)
@click.option("--no-db", is_flag=True, default=False, help="Do not record runs.")
@click.option(
    "--resume",
    default=None,
    metavar="RUN_ID",
    help="Finish an interrupted run of the store (store id or run_id).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--indent/--compact",
    default=None,
    help="JSON: indented for reading, or one compact line for programs "
    "(default: indented on a terminal, compact otherwise).",
)
@click.option(
    "--detail",
    is_flag=True,
    default=False,
    help=f"JSON: include every attempt; table: a table for every run (not only a summary "
    f"past {TABLE_RUNS} runs).",
)
@click.option(
    "--render",
    is_flag=True,
    default=False,
    help="Simulation: show each shell command rendered for the run (nothing is executed).",
)
@click.option(
    "--trace",
    "trace_path",
    default=None,
    type=click.Path(),
    help="Write every state change as JSON lines.",
)
@click.option("-o", "--output", type=click.Path(), default=None)
@force_option
@handle_errors
def run_cmd(
    path,
    engine,
    roots,
    params,
    static,
    workflow_ids,
    date,
    backfill,
    now,
    timetable,
    catchup,
    fail,
    branch,
    sensor,
    skip,
    duration,
    default_duration,
    executor,
    concurrency,
    dask_address,
    db,
    no_db,
    resume,
    fmt,
    indent,
    detail,
    render,
    trace_path,
    output,
    force,
):
    """Run workflows with Airflow's semantics (trigger rules, retries, sensors, schedules).

    By default nothing is executed: runs are simulated on a virtual clock
    and every task succeeds in 1 s unless a scenario flag says otherwise.
    With --executor local (or dask) shell commands and importable python
    callables run for real. Exit 0 if every run succeeded, 1 otherwise.

    \b
      wfconv run dags/etl.py --date 2024-01-01 --fail load:2
      wfconv run dags/etl.py --backfill 2024-01-01 2024-01-31 --format json
      wfconv run ir.json --executor local --db runs.sqlite
      wfconv run --resume 7 --executor local --db runs.sqlite
    """
    from wfconv.ir.validate import require_valid
    from wfconv.runtime import api
    from wfconv.runtime.scenario import Scenario

    if executor == "inline" and resume is None:
        # A simulation's objects (the workflow read, results, JSON) form no
        # cycles: the collector would only walk them again and again (a third
        # of the command's time on 10k tasks). Restored when the command ends.
        click.get_current_context().with_resource(api.gc_paused(keep=True))
    store = None
    if resume is not None:
        if no_db:
            raise UsageError("--resume needs the store (--db)")
        store = _store(db)
        if executor == "inline":
            executor = "local"
        ex = _executor(executor, concurrency, dask_address)
        try:
            results = [api.resume(store, resume, ex, concurrency)]
        finally:
            ex.shutdown()
    else:
        if path is None:
            raise UsageError("give a PATH (or --resume RUN_ID)")
        bundle = load_sources([path], engine, roots, params, static)
        require_valid(bundle, read=True)
        workflows = bundle.workflows
        if workflow_ids:
            known = {w.id for w in workflows}
            missing = [w for w in workflow_ids if w not in known]
            if missing:
                raise UsageError(
                    f"no workflow {', '.join(map(repr, missing))} in {path} (found: {', '.join(sorted(known))})"
                )
            workflows = [w for w in workflows if w.id in workflow_ids]
        if not workflows:
            raise UsageError(f"{path}: no workflow to run")
        scenario = Scenario.from_cli(fail, branch, sensor, skip, duration, default_duration)
        known = {t.id for w in bundle.workflows for t in w.tasks}
        unknown = sorted(scenario.task_ids() - known)
        if unknown:
            raise UsageError(
                f"no task {', '.join(map(repr, unknown))} in {path} (named in the scenario)"
            )
        opts = api.RunOptions(
            date, tuple(backfill) if backfill else None, now, TIMETABLE_CHOICES[timetable], catchup
        )
        plans = [(w, api.plan_runs(w, opts)) for w in workflows]
        store = None if no_db else _store(db)
        results = _runs(
            plans, bundle, scenario, store, (executor, concurrency, dask_address), render
        )
    from wfconv.runtime.trace import write_trace

    # -o and --trace go through wfconv.outputs: never over the input itself,
    # nor over a file wfconv did not write unless --force.
    files = {"force": force, "inputs": [path] if path else []}
    if fmt == "json":
        if indent is None:
            indent = not output and click.get_text_stream("stdout").isatty()
        ok = _write_json(results, output, trace_path, detail, indent, files)
    else:
        results = list(results)
        _print_notes(results)
        if trace_path:
            with output_stream(trace_path, **files) as write:
                write_trace(results, write)
        import io

        text = render_table(
            results, io.StringIO() if output and output != "-" else sys.stdout, detail
        )
        write_output(text, output, **files)
        ok = all(r.ok for r in results)
    if store is not None:
        store.close()
    sys.exit(0 if ok else 1)


def _store(db: str | None):
    from wfconv.runtime.store import DEFAULT_DB, RunStore

    return RunStore(db or DEFAULT_DB)


def _runs(plans, bundle, scenario, store, executor: tuple, render: bool):
    """The results of the planned runs, each as its run ends (simulated, or
    executed by ``executor``: (name, concurrency, dask address)), with
    progress on stderr."""
    from wfconv.runtime import api

    ex = _executor(*executor)
    concurrency = executor[1]
    total = sum(len(p) for _, p in plans)
    live = LiveProgress(total) if ex is not None else None
    bar = _progress(total) if ex is None else None
    on_run = (lambda _r: bar.update(1)) if bar is not None else None
    try:
        for w, runs in plans:
            if ex is None:
                yield from api.iter_run(
                    w,
                    scenario,
                    runs=runs,
                    store=store,
                    on_run=on_run,
                    render=render,
                    workflows={x.id: x for x in bundle.workflows},
                    strict_scenario=False,
                )
            else:
                yield from api.execute(
                    w,
                    scenario,
                    executor=ex,
                    runs=runs,
                    store=store,
                    concurrency=concurrency,
                    on_run=on_run,
                    strict_scenario=False,
                    watch=lambda info, w=w: live.watch(info, w.task_ids()),
                )
    finally:
        if live is not None:
            live.close()
        if ex is not None:
            ex.shutdown()
        if bar is not None:
            bar.close()


def _write_json(results, output, trace_path, detail: bool, indent: bool, files: dict) -> bool:
    """``{"runs": [...]}`` with each run written as it ends (a decade of
    hourly runs is never held whole); the trace likewise (``files``: the
    output_stream options). True if every run succeeded."""
    from wfconv.jsonstream import ArrayWriter
    from wfconv.runtime.trace import write_trace

    ok = True
    notes = []
    with (
        output_stream(output, **files) as write,
        output_stream(trace_path, **files) if trace_path else contextlib.nullcontext() as trace,
    ):
        runs = ArrayWriter(write, indent, head='{\n  "runs": ' if indent else '{"runs":')
        for res in results:
            runs.add(res.to_dict(detail))
            if trace is not None:
                write_trace([res], trace)
            if res.notes:
                notes.append(res)
            ok = ok and res.ok
        runs.close()
        write("\n}\n" if indent else "}\n")
    _print_notes(notes)
    return ok
