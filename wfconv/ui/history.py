"""Read-only queries on the run store (``wfconv/runtime/store.py``).

``wfconv runs`` and the web pages read the same rows through this module.
The store is opened read-only (``mode=ro``): looking never creates a store,
never takes the write lock a running ``wfconv run`` needs, and sees every
change that run commits (WAL). A store written by an older wfconv lacks some
columns (``store.ADDED_COLUMNS``); they read as NULL.

Every query is bounded: a page shows at most ``MAX_PAGE`` runs, and the
indexes of the store (runs by workflow and logical date, task instances and
attempts by run) answer each one without a scan of the whole store.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.runtime.store import ADDED_COLUMNS

MAX_PAGE = 500


@dataclass
class WorkflowRow:
    workflow: str
    runs: int
    states: dict[str, int]
    first: float | None  # logical dates
    last: float | None
    recent: list[RunRow] = field(default_factory=list)  # newest first


@dataclass
class RunRow:
    id: int
    workflow: str
    run_id: str
    run_type: str | None
    logical_date: float | None
    data_interval_start: float | None
    data_interval_end: float | None
    run_after: float | None
    state: str
    engine_state: str | None
    start: float | None
    end: float | None
    executor: str | None
    ir: str | None
    scenario: dict[str, Any]
    options: dict[str, Any]
    notes: list[dict[str, str]]
    tasks: dict[str, int] = field(default_factory=dict)  # task states -> count

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@dataclass
class TaskInstance:
    run: int
    task: str
    state: str
    attempts: int
    decided: float | None
    next_try: float | None


@dataclass
class AttemptRow:
    task: str
    number: int
    state: str
    start: float | None
    end: float | None
    reason: str | None
    pid: int | None
    exit_code: int | None
    log: str | None


_RUN_COLUMNS = (
    "id, workflow, run_id, run_type, logical_date, data_interval_start, data_interval_end,"
    " run_after, state, engine_state, start, end, executor, ir, scenario, options, notes"
)


def _run(row) -> RunRow:
    *head, scenario, options, notes = row
    return RunRow(
        *head,
        scenario=json.loads(scenario or "{}"),
        options=json.loads(options or "{}"),
        notes=json.loads(notes or "[]"),
    )


class History:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(str(path), None, "no run store here (wfconv run writes one)")
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            have = {
                (table, row[1])
                for table in ("runs", "task_instances", "attempts")
                for row in self.db.execute(f"PRAGMA table_info({table})")
            }
        except sqlite3.Error as exc:
            raise InputError(str(path), None, f"cannot read the run store: {exc}") from None
        if ("runs", "run_id") not in have:
            raise InputError(str(path), None, "not a wfconv run store")
        # Columns an older store lacks read as NULL (attempts are read as "a").
        alias = {"attempts": "a."}
        self.col = {
            c: (alias.get(t, "") + c if (t, c) in have else "NULL") for t, c, _ in ADDED_COLUMNS
        }

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- workflows and runs ----------------------------------------------
    def workflows(self, recent: int = 0) -> list[WorkflowRow]:
        out = []
        rows = self.db.execute(
            "SELECT workflow, state, COUNT(*), MIN(logical_date), MAX(logical_date)"
            " FROM runs GROUP BY workflow, state ORDER BY workflow"
        ).fetchall()
        by: dict[str, WorkflowRow] = {}
        for wf, state, n, first, last in rows:
            w = by.get(wf)
            if w is None:
                w = by[wf] = WorkflowRow(wf, 0, {}, first, last)
                out.append(w)
            w.runs += n
            w.states[state] = n
            w.first = min(x for x in (w.first, first) if x is not None) if first else w.first
            w.last = max(x for x in (w.last, last) if x is not None) if last else w.last
        if recent:
            for w in out:
                w.recent = self.runs(w.workflow, limit=recent)
        return out

    def count(self, workflow: str | None = None, state: str | None = None) -> int:
        where, args = self._where(workflow, state)
        return self.db.execute(f"SELECT COUNT(*) FROM runs{where}", args).fetchone()[0]

    @staticmethod
    def _where(workflow: str | None, state: str | None) -> tuple[str, list]:
        conds, args = [], []
        if workflow is not None:
            conds.append("workflow=?")
            args.append(workflow)
        if state is not None:
            conds.append("state=?")
            args.append(state)
        return (" WHERE " + " AND ".join(conds) if conds else ""), args

    def runs(
        self,
        workflow: str | None = None,
        state: str | None = None,
        limit: int = 25,
        offset: int = 0,
        task_counts: bool = False,
    ) -> list[RunRow]:
        """Runs newest first (by logical date, then store id)."""
        where, args = self._where(workflow, state)
        limit = max(1, min(limit, MAX_PAGE))
        order = "logical_date DESC, id DESC" if workflow is not None else "id DESC"
        rows = [
            _run(r)
            for r in self.db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, max(0, offset)],
            )
        ]
        if task_counts and rows:
            by = {r.id: r for r in rows}
            marks = ",".join("?" * len(by))
            for run, state_, n in self.db.execute(
                f"SELECT run, state, COUNT(*) FROM task_instances WHERE run IN ({marks})"
                " GROUP BY run, state",
                list(by),
            ):
                by[run].tasks[state_] = n
        return rows

    def run(self, run: int) -> RunRow:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id=?", (run,)).fetchone()
        if row is None:
            raise InputError(str(self.path), None, f"no run {run} in this store")
        out = _run(row)
        out.tasks = dict(
            Counter(
                s
                for (s,) in self.db.execute("SELECT state FROM task_instances WHERE run=?", (run,))
            )
        )
        return out

    def find(self, key: str) -> int:
        """A store id, or a run_id (its latest run)."""
        if key.isdigit():
            found = self.db.execute("SELECT id FROM runs WHERE id=?", (int(key),)).fetchone()
        else:
            found = self.db.execute(
                "SELECT id FROM runs WHERE run_id=? ORDER BY id DESC LIMIT 1", (key,)
            ).fetchone()
        if found is None:
            raise InputError(str(self.path), None, f"no run {key!r} in this store")
        return int(found[0])

    # -- tasks -----------------------------------------------------------
    def task_instances(self, runs: list[int]) -> dict[tuple[int, str], TaskInstance]:
        if not runs:
            return {}
        marks = ",".join("?" * len(runs))
        return {
            (r[0], r[1]): TaskInstance(*r)
            for r in self.db.execute(
                f"SELECT run, task, state, attempts, decided, {self.col['next_try']}"
                f" FROM task_instances WHERE run IN ({marks})",
                runs,
            )
        }

    def attempts(self, run: int, task: str | None = None) -> list[AttemptRow]:
        cond, args = ("AND a.task=?", [run, task]) if task is not None else ("", [run])
        return [
            AttemptRow(*r)
            for r in self.db.execute(
                "SELECT a.task, a.attempt, a.state, a.start, a.end, a.reason, a.pid,"
                f" {self.col['exit_code']}, l.text"
                " FROM attempts a LEFT JOIN logs l"
                " ON l.run=a.run AND l.task=a.task AND l.attempt=a.attempt"
                f" WHERE a.run=? {cond} ORDER BY a.task, a.attempt",
                args,
            )
        ]

    # -- the workflow a run ran ------------------------------------------
    def workflow_of(self, run: RunRow):
        """The workflow IR this run ran (parsed once per distinct IR)."""
        if run.ir is None:
            return None
        row = self.db.execute("SELECT ir FROM workflows WHERE hash=?", (run.ir,)).fetchone()
        return None if row is None else _parse_ir(row[0])

    def info(self, run: RunRow):
        from wfconv.runtime.schedule import RunInfo

        def dt(t: float | None) -> datetime:
            return datetime.fromtimestamp(t if t is not None else 0.0, UTC)

        return RunInfo(
            dt(run.logical_date),
            dt(run.data_interval_start),
            dt(run.data_interval_end),
            dt(run.run_after),
            run.run_type or "manual",
        )

    def command(self, run: RunRow, task: str, attempt: int) -> tuple[str | None, str | None]:
        """(the shell command of ``task`` rendered for this run and attempt,
        an error message): the same rendering the runtime gives the executor."""
        from wfconv.runtime.templates import RenderError, context, render

        w = self.workflow_of(run)
        t = w.task(task) if w is not None and task in w.task_ids() else None
        if t is None or t.action.kind != "shell":
            return None, None
        text = t.action.fields.get("command") or ""
        try:
            return render(text, context(self.info(run), w, run.run_id, task, max(1, attempt))), None
        except RenderError as exc:
            return text, str(exc)


@lru_cache(maxsize=64)
def _parse_ir(text: str):
    from wfconv.ir.jsonio import loads

    doc = json.dumps({"wfconv_ir": 1, "workflows": [json.loads(text)]})
    return loads(doc, "<run store>").workflows[0]
