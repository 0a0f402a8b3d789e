"""``wfconv run``: simulate or execute workflows with Airflow's semantics."""

from __future__ import annotations

import json
import sys

import click

from wfconv.cli.common import handle_errors, write_output
from wfconv.cli.core import load_sources, source_options
from wfconv.errors import UsageError

TIMETABLE_CHOICES = {"airflow2": "data_interval", "airflow3": "trigger"}


def _duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    secs = end - start
    if secs < 120:
        return f"{secs:g}s"
    if secs < 7200:
        return f"{secs / 60:.1f}m"
    return f"{secs / 3600:.1f}h"


def render_table(results, stream=None) -> str:
    """Each run: a heading line, then one row per task (for ``stream``: stdout)."""
    from wfconv.cli.term import styled, table_text

    stream = stream or sys.stdout
    parts: list[str] = []
    for res in results:
        head = f"{res.workflow}  {res.run_id}  {styled(res.state, res.state, stream)}"
        if res.engine_state is not None:
            head += f"  (source engine: {res.engine_state})"
        headers = ["TASK", "STATE", "TRIES", "DURATION"]
        rendered = any(tr.command is not None for tr in res.tasks.values())
        if rendered:
            headers.append("COMMAND")
        rows = []
        for tid, tr in res.tasks.items():
            row = [tid, tr.state, len(tr.attempts), _duration(tr.start, tr.end)]
            if rendered:
                row.append("-" if tr.command is None else f"$ {tr.command}")
            rows.append(row)
        parts.append(head + "\n" + table_text(headers, rows, stream=stream, indent=2, styled=(1,), right=(2,)))
    return "".join(parts)


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
    default="airflow2",
    show_default=True,
    help="airflow2: data intervals (run at interval end); airflow3: trigger at each tick.",
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
@click.option("--detail", is_flag=True, default=False, help="JSON: include every attempt.")
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
    detail,
    render,
    trace_path,
    output,
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
    from wfconv.runtime.store import DEFAULT_DB, RunStore
    from wfconv.runtime.trace import write_trace

    store = None
    if resume is not None:
        if no_db:
            raise UsageError("--resume needs the store (--db)")
        store = RunStore(db or DEFAULT_DB)
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
        require_valid(bundle)
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
        store = None if no_db else RunStore(db or DEFAULT_DB)
        bar = _progress(sum(len(p) for _, p in plans))
        on_run = (lambda _r: bar.update(1)) if bar is not None else None
        ex = _executor(executor, concurrency, dask_address)
        results = []
        try:
            for w, runs in plans:
                if ex is None:
                    results += api.run(
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
                    results += api.execute(
                        w,
                        scenario,
                        executor=ex,
                        runs=runs,
                        store=store,
                        concurrency=concurrency,
                        on_run=on_run,
                        strict_scenario=False,
                    )
        finally:
            if ex is not None:
                ex.shutdown()
            if bar is not None:
                bar.close()
    _print_notes(results)
    if trace_path:
        with open(trace_path, "w", encoding="utf-8") as fh:
            write_trace(results, fh)
    if fmt == "json":
        text = (
            json.dumps({"runs": [r.to_dict(detail) for r in results]}, indent=2, ensure_ascii=False)
            + "\n"
        )
    else:
        import io

        text = render_table(results, io.StringIO() if output and output != "-" else sys.stdout)
    write_output(text, output)
    if store is not None:
        store.close()
    sys.exit(0 if all(r.ok for r in results) else 1)
