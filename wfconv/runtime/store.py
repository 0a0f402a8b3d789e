"""State store: SQLite in WAL mode (runs, task instances, attempts, logs, events).

Simulated runs are written in one transaction per run (fast); live runs
(local/dask executors) commit every state change as it happens, so a runner
killed with ``kill -9`` loses nothing it recorded, and ``--resume`` can finish
the run without re-running the tasks that already succeeded.

Times are stored as POSIX seconds (REAL) so virtual timestamps stay exact.

A live run has one owner: the process executing it holds an exclusive
``flock`` on ``<store>.locks/<run id>`` (``RunStore.claim``) from its first
attempt to its end. The kernel drops the lock when that process ends, however
it ends (``kill -9`` included), so ``--resume`` can tell a run whose runner
died (lock free: its running attempts were interrupted) from a run still being
executed (lock held: ``--resume`` refuses with exit 2 and names the owner's
pid). Two ``--resume`` of one run therefore never both execute it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.runtime.engine import InitialTask
from wfconv.runtime.results import Attempt, RunResult, TraceEvent
from wfconv.runtime.scenario import Scenario
from wfconv.runtime.schedule import RunInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
  hash TEXT PRIMARY KEY,
  ir TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workflow TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_type TEXT,
  logical_date REAL,
  data_interval_start REAL,
  data_interval_end REAL,
  run_after REAL,
  state TEXT NOT NULL,
  engine_state TEXT,
  start REAL,
  end REAL,
  executor TEXT,
  ir TEXT REFERENCES workflows(hash),
  scenario TEXT,
  options TEXT,
  notes TEXT,
  created REAL
);
CREATE INDEX IF NOT EXISTS runs_by_run_id ON runs(run_id);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs(workflow, logical_date);
CREATE TABLE IF NOT EXISTS task_instances (
  run INTEGER NOT NULL REFERENCES runs(id),
  task TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  decided REAL,
  next_try REAL,
  PRIMARY KEY (run, task)
);
CREATE TABLE IF NOT EXISTS attempts (
  run INTEGER NOT NULL REFERENCES runs(id),
  task TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  start REAL,
  end REAL,
  reason TEXT,
  pid INTEGER,
  exit_code INTEGER,
  PRIMARY KEY (run, task, attempt)
);
CREATE TABLE IF NOT EXISTS logs (
  run INTEGER NOT NULL REFERENCES runs(id),
  task TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  text TEXT,
  PRIMARY KEY (run, task, attempt)
);
CREATE TABLE IF NOT EXISTS events (
  run INTEGER NOT NULL REFERENCES runs(id),
  time REAL,
  task TEXT,
  attempt INTEGER,
  state TEXT
);
"""

# Columns added since the first stores were written: (table, column, type).
ADDED_COLUMNS = (
    ("task_instances", "next_try", "REAL"),  # when an up_for_retry task runs again
    ("attempts", "exit_code", "INTEGER"),
)

DEFAULT_DB = Path(".wfconv") / "runs.sqlite"


def upgrade_schema(db: sqlite3.Connection) -> None:
    """Add the columns a store written by an older wfconv lacks."""
    for table, column, kind in ADDED_COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _ts(dt: datetime) -> float:
    return dt.timestamp()


class RunBusy(InputError):
    """The run is being executed by another live process."""


class RunLock:
    """The ownership of one live run (see the module doc); ``release`` ends it."""

    def __init__(self, fd: int):
        self.fd: int | None = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RunStore:
    def __init__(self, path: str | Path = DEFAULT_DB):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            upgrade_schema(self.db)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(str(path), None, f"cannot open the run store: {exc}") from None

        self._ir_of: tuple[object, str] | None = None

    def close(self) -> None:
        self.db.close()

    def claim(self, run: int) -> RunLock:
        """Become the one process executing ``run``, or raise RunBusy (naming
        the pid of the process that is) when another live process already is."""
        folder = Path(str(self.path) + ".locks")
        try:
            folder.mkdir(exist_ok=True)
            fd = os.open(folder / str(run), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise InputError(str(folder), None, f"cannot lock run {run}: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise RunBusy(
                str(self.path),
                None,
                f"run {run} is being executed right now by process {owner}: it is not "
                "resumed (wait for that process to end, or stop it, then resume)",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return RunLock(fd)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around many simulated runs (a year of hourly runs
        is written in one commit instead of 8760)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _ir_hash(self, workflow) -> str:
        """Store each distinct workflow IR once; runs point at its hash."""
        from wfconv.ir.jsonio import workflow_to_dict

        if self._ir_of is not None and self._ir_of[0] is workflow:
            return self._ir_of[1]
        text = json.dumps(workflow_to_dict(workflow), ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        self.db.execute("INSERT OR IGNORE INTO workflows (hash, ir) VALUES (?, ?)", (digest, text))
        self._ir_of = (workflow, digest)
        return digest

    # -- writing ---------------------------------------------------------
    def begin_run(
        self,
        workflow,
        info: RunInfo,
        scenario: Scenario,
        executor: str,
        options: dict[str, Any] | None = None,
        start: float | None = None,
        res: RunResult | None = None,
    ) -> int:
        """A run's row, and a row per task: not yet run ("none"), or as the
        finished run ``res`` left it (one insert each: no update after)."""
        cur = self.db.execute(
            "INSERT INTO runs (workflow, run_id, run_type, logical_date, data_interval_start,"
            " data_interval_end, run_after, state, start, executor, ir, scenario, options, created)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                workflow.id,
                info.run_id,
                info.run_type,
                _ts(info.logical_date),
                _ts(info.data_interval_start),
                _ts(info.data_interval_end),
                _ts(info.run_after),
                "running",
                start,
                executor,
                self._ir_hash(workflow),
                json.dumps(scenario.to_dict()),
                json.dumps(options or {}),
                time.time(),
            ),
        )
        run = int(cur.lastrowid)
        ended = res.tasks if res is not None else {}
        self.db.executemany(
            "INSERT INTO task_instances (run, task, state, attempts, decided) VALUES (?,?,?,?,?)",
            [
                (run, t.id, "none", 0, None)
                if (tr := ended.get(t.id)) is None
                else (run, t.id, tr.state, len(tr.attempts), tr.decided_ts)
                for t in workflow.tasks
            ],
        )
        return run

    def finish_run(self, run: int, res: RunResult) -> None:
        self.db.execute(
            "UPDATE runs SET state=?, engine_state=?, start=?, end=?, notes=? WHERE id=?",
            (res.state, res.engine_state, res.start_ts, res.end_ts, json.dumps(res.notes), run),
        )
        res.store_id = run

    def record_run(
        self, workflow, res: RunResult, scenario: Scenario, executor: str = "inline"
    ) -> int:
        """Write a finished (simulated) run in one transaction."""
        info = RunInfo(
            res.logical_date,
            res.data_interval_start,
            res.data_interval_end,
            res.start,
            res.run_id.split("__", 1)[0],
        )
        with self.batch():
            run = self.begin_run(workflow, info, scenario, executor, start=res.start_ts, res=res)
            self.db.executemany(
                "INSERT INTO attempts (run, task, attempt, state, start, end, reason) VALUES (?,?,?,?,?,?,?)",
                [
                    (run, tid, a.number, a.state, a.start_ts, a.end_ts, a.reason)
                    for tid, tr in res.tasks.items()
                    for a in tr.attempts
                ],
            )
            self.db.executemany(
                "INSERT INTO events (run, time, task, attempt, state) VALUES (?,?,?,?,?)",
                [(run, e.time_ts, e.task, e.attempt, e.state) for e in res.trace],
            )
            self.finish_run(run, res)
        return run

    # -- reading ---------------------------------------------------------
    def find_run(self, key: str) -> int:
        """A store id (integer) or an Airflow-style run_id (latest match)."""
        if key.isdigit():
            row = self.db.execute("SELECT id FROM runs WHERE id=?", (int(key),)).fetchone()
        else:
            row = self.db.execute(
                "SELECT id FROM runs WHERE run_id=? ORDER BY id DESC LIMIT 1", (key,)
            ).fetchone()
        if row is None:
            raise InputError(str(self.path), None, f"no run {key!r} in this store")
        return int(row[0])

    def load_run(self, run: int) -> StoredRun:
        from wfconv.ir.jsonio import loads

        row = self.db.execute(
            "SELECT r.workflow, r.run_id, r.run_type, r.logical_date, r.data_interval_start,"
            " r.data_interval_end, r.run_after, r.state, r.executor, w.ir, r.scenario, r.options, r.start"
            " FROM runs r JOIN workflows w ON w.hash = r.ir WHERE r.id=?",
            (run,),
        ).fetchone()
        if row is None:
            raise InputError(str(self.path), None, f"no run {run} in this store")
        (wf_id, run_id, run_type, ld, dis, die, ra, state, executor, ir, scen, opts, start) = row
        doc = json.dumps({"wfconv_ir": 1, "workflows": [json.loads(ir)]})
        workflow = loads(doc, str(self.path)).workflows[0]
        utc = UTC
        info = RunInfo(
            datetime.fromtimestamp(ld, utc),
            datetime.fromtimestamp(dis, utc),
            datetime.fromtimestamp(die, utc),
            datetime.fromtimestamp(ra, utc),
            run_type or "manual",
        )
        initial: dict[str, InitialTask] = {}
        for task, st, decided in self.db.execute(
            "SELECT task, state, decided FROM task_instances WHERE run=?", (run,)
        ):
            initial[task] = InitialTask(st, [], decided)
        for task, n, st, a_start, a_end, reason in self.db.execute(
            "SELECT task, attempt, state, start, end, reason FROM attempts WHERE run=? ORDER BY task, attempt",
            (run,),
        ):
            initial.setdefault(task, InitialTask("none")).attempts.append(
                Attempt(n, st, a_start, a_end, reason)
            )
        return StoredRun(
            run,
            workflow,
            info,
            run_id,
            state,
            executor,
            Scenario.from_dict(json.loads(scen)),
            json.loads(opts or "{}"),
            initial,
            start,
        )

    def events(self, run: int) -> list[TraceEvent]:
        """The recorded trace of a run, in order."""
        return [
            TraceEvent(t, task, attempt, state)
            for t, task, attempt, state in self.db.execute(
                "SELECT time, task, attempt, state FROM events WHERE run=? ORDER BY rowid", (run,)
            )
        ]

    def logs(self, run: int, task: str) -> list[str]:
        return [
            r[0] or ""
            for r in self.db.execute(
                "SELECT text FROM logs WHERE run=? AND task=? ORDER BY attempt", (run, task)
            )
        ]

    def attempt_rows(self, run: int) -> list[tuple]:
        return list(
            self.db.execute(
                "SELECT task, attempt, state, start, end, reason, pid FROM attempts WHERE run=? ORDER BY task, attempt",
                (run,),
            )
        )


@dataclass
class StoredRun:
    store_id: int
    workflow: Any
    info: RunInfo
    run_id: str
    state: str
    executor: str
    scenario: Scenario
    options: dict[str, Any]
    initial: dict[str, InitialTask]
    start: float | None


class LiveRecorder:
    """Commits every change of a live run at once (autocommit + WAL)."""

    def __init__(self, store: RunStore, run: int):
        self.store = store
        self.run = run
        self.db = store.db

    def event(self, task: str, attempt: int, state: str, t: float) -> None:
        self.db.execute(
            "INSERT INTO events (run, time, task, attempt, state) VALUES (?,?,?,?,?)",
            (self.run, t, task, attempt, state),
        )
        decided = t if state in ("skipped", "upstream_failed") else None
        self.db.execute(
            "UPDATE task_instances SET state=?, attempts=MAX(attempts, ?), decided=COALESCE(?, decided),"
            " next_try=NULL WHERE run=? AND task=?",
            (state, attempt, decided, self.run, task),
        )

    def attempt(
        self,
        task: str,
        a: Attempt,
        pid: int | None = None,
        log: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO attempts (run, task, attempt, state, start, end, reason, pid, exit_code)"
            " VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(run, task, attempt) DO UPDATE SET state=excluded.state, start=excluded.start,"
            " end=excluded.end, reason=excluded.reason, pid=COALESCE(excluded.pid, attempts.pid),"
            " exit_code=COALESCE(excluded.exit_code, attempts.exit_code)",
            (self.run, task, a.number, a.state, a.start_ts, a.end_ts, a.reason, pid, exit_code),
        )
        if log is not None:
            self.db.execute(
                "INSERT OR REPLACE INTO logs (run, task, attempt, text) VALUES (?,?,?,?)",
                (self.run, task, a.number, log),
            )

    def pid(self, task: str, attempt: int, pid: int) -> None:
        self.db.execute(
            "UPDATE attempts SET pid=? WHERE run=? AND task=? AND attempt=?",
            (pid, self.run, task, attempt),
        )

    def retry(self, task: str, attempt: int, at: float) -> None:
        self.db.execute(
            "UPDATE task_instances SET next_try=? WHERE run=? AND task=?", (at, self.run, task)
        )
