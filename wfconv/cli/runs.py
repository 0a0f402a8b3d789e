"""``wfconv runs list | show RUN | logs RUN TASK``: the run store in the terminal."""

from __future__ import annotations

import json
import sys

import click

from wfconv.cli.common import handle_errors, write_output
from wfconv.cli.term import table_text

DB_OPTION = click.option(
    "--db",
    default=None,
    type=click.Path(),
    help="SQLite state store of `wfconv run` (default ./.wfconv/runs.sqlite).",
)


def _history(db):
    from wfconv.runtime.store import DEFAULT_DB
    from wfconv.ui.history import History

    return History(db or DEFAULT_DB)


@click.group("runs")
def runs_cmd():
    """The runs `wfconv run` recorded: list them, show one, print a task's log.

    \b
      wfconv runs list --workflow etl_basic --state failed
      wfconv runs show 12
      wfconv runs logs 12 load
    """


@runs_cmd.command("list")
@DB_OPTION
@click.option("--workflow", default=None, help="Only this workflow's runs.")
@click.option(
    "--state",
    type=click.Choice(["success", "failed", "running"]),
    default=None,
    help="Only runs in this state.",
)
@click.option("--limit", type=click.IntRange(1, 500), default=25, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@handle_errors
def list_cmd(db, workflow, state, limit, fmt):
    """The latest runs, newest first, with their tasks' states."""
    from wfconv.ui import text

    with _history(db) as h:
        total = h.count(workflow, state)
        runs = h.runs(workflow, state, limit=limit, task_counts=True)
    if fmt == "json":
        doc = {
            "total": total,
            "runs": [
                {
                    "id": r.id,
                    "workflow": r.workflow,
                    "run_id": r.run_id,
                    "state": r.state,
                    "logical_date": text.when(r.logical_date),
                    "duration_s": r.duration,
                    "executor": r.executor,
                    "tasks": r.tasks,
                }
                for r in runs
            ],
        }
        write_output(json.dumps(doc, indent=2) + "\n", None)
        return
    if not runs:
        click.echo("no runs" + (" matching" if workflow or state else " in this store"), err=True)
        return
    headers = ["ID", "WORKFLOW", "RUN ID", "STATE", "DURATION", "EXECUTOR", "TASKS"]
    rows = [
        [
            str(r.id),
            r.workflow,
            r.run_id,
            r.state,
            text.duration(r.duration),
            r.executor or "-",
            text.counts(r.tasks),
        ]
        for r in runs
    ]
    out = table_text(headers, rows, stream=sys.stdout, styled=(3,), right=(0,))
    if total > len(runs):
        out += f"({len(runs)} of {total} runs; --limit shows more)\n"
    write_output(out, None)


@runs_cmd.command("show")
@click.argument("run")
@DB_OPTION
@handle_errors
def show_cmd(run, db):
    """One run (a store id or a run_id): its tasks, attempts and notes."""
    from wfconv.ui import text

    with _history(db) as h:
        r = h.run(h.find(run))
        w = h.workflow_of(r)
        tis = h.task_instances([r.id])
        tries: dict[str, list] = {}
        for a in h.attempts(r.id):
            tries.setdefault(a.task, []).append(a)
    order = w.task_ids() if w is not None else sorted(t for _, t in tis)
    lines = [
        f"run {r.id}: {r.workflow} {r.run_id}  {r.state}"
        + (f" (source engine: {r.engine_state})" if r.engine_state else ""),
        f"  logical date {text.when(r.logical_date)}, data interval "
        f"{text.when(r.data_interval_start)} .. {text.when(r.data_interval_end)}",
        f"  started {text.when(r.start)}, took {text.span(r.start, r.end)}, "
        f"executor {r.executor or '-'}",
    ]
    scenario = {k: v for k, v in r.scenario.items() if v and k != "default_duration"}
    if scenario:
        lines.append(f"  scenario {json.dumps(scenario, sort_keys=True)}")
    rows = []
    for tid in order:
        ti = tis.get((r.id, tid))
        if ti is None:
            continue
        attempts = tries.get(tid, [])
        last = attempts[-1] if attempts else None
        why = (last.reason or "") if last is not None and last.state != "success" else ""
        if ti.next_try is not None and ti.state == "up_for_retry":
            why = f"next try at {text.when(ti.next_try)}"
        rows.append(
            [
                tid,
                ti.state,
                ti.attempts,
                text.span(last.start, last.end) if last else "-",
                why,
            ]
        )
    headers = ["TASK", "STATE", "TRIES", "DURATION", "WHY"]
    table = table_text(headers, rows, stream=sys.stdout, indent=2, styled=(1,), right=(2,))
    notes = [f"  note {n.get('code')}: {n.get('message')}\n" for n in r.notes]
    write_output("\n".join(lines) + "\n" + table + "".join(notes), None)


@runs_cmd.command("logs")
@click.argument("run")
@click.argument("task")
@click.option("--attempt", type=click.IntRange(1), default=None, help="Only this attempt.")
@DB_OPTION
@handle_errors
def logs_cmd(run, task, attempt, db):
    """The output of TASK in RUN, attempt by attempt."""
    from wfconv.errors import UsageError
    from wfconv.ui import text

    with _history(db) as h:
        r = h.run(h.find(run))
        attempts = h.attempts(r.id, task)
        if not attempts and (r.id, task) not in h.task_instances([r.id]):
            raise UsageError(f"run {r.id} ({r.workflow}) has no task {task!r}")
    if attempt is not None:
        attempts = [a for a in attempts if a.number == attempt]
    if not attempts:
        click.echo(f"{task} never ran in run {r.id}", err=True)
        return
    out = []
    for a in attempts:
        head = f"--- {task} attempt {a.number}: {a.state}, {text.span(a.start, a.end)}"
        if a.exit_code is not None:
            head += f", exit code {a.exit_code}"
        if a.reason:
            head += f" ({a.reason})"
        out.append(head)
        if a.log:
            out.append(a.log.rstrip("\n"))
        elif r.executor == "inline":
            out.append("(no log: a simulated run executes nothing)")
        else:
            out.append("(no output)")
    write_output("\n".join(out) + "\n", None)
