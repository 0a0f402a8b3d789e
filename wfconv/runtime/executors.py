"""Real executors: run shell commands and python callables in subprocesses,
and poke file sensors (``FileSensor`` with a literal ``target``) for real.

- ``LocalExecutor``: a thread pool of ``concurrency`` workers, each running one
  subprocess owned by ``wfconv.proc`` (its own process group; a timeout, the
  end of the attempt or the end of wfconv kills the whole tree).
- ``DaskExecutor``: the same ``execute_work`` function submitted to a
  dask.distributed cluster (an address in production, a LocalCluster in tests),
  for work that outgrows one machine.

``execute_work`` is a plain picklable function of a ``Work`` value, so both
executors share it. Exit code 0 is success, 99 is a skip (Airflow's
BashOperator), anything else a (retryable) failure. Python callables run only
when the IR names an importable ``module`` and ``callable``; the child process
imports the module and calls the function with ``op_args``/``op_kwargs``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wfconv import proc
from wfconv.runtime.engine import FAILED, FAILED_FINAL, SKIPPED, SUCCESS, Outcome

LOG_LIMIT = 1_000_000  # characters of captured output kept per attempt
SKIP_EXIT_CODE = 99

# The child that runs a python callable (JSON spec on argv[1]).
_PY_RUNNER = r"""
import importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["cwd"] or ".")
try:
    mod = importlib.import_module(spec["module"])
except Exception as exc:
    print(f"wfconv: cannot import module {spec['module']!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(3)
fn = getattr(mod, spec["callable"], None)
if not callable(fn):
    print(f"wfconv: module {spec['module']!r} has no callable {spec['callable']!r}", file=sys.stderr)
    sys.exit(3)
result = fn(*spec["args"], **spec["kwargs"])
if result is not None:
    print(result)
"""


@dataclass
class Work:
    """One attempt to execute (picklable: it may travel to a dask worker)."""

    task_id: str
    attempt: int
    kind: str  # shell | python
    command: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    env_replace: bool = False  # env is the whole environment (Airflow's env without append_env)
    cwd: str | None = None
    module: str | None = None
    callable: str | None = None
    op_args: list[Any] = field(default_factory=list)
    op_kwargs: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    error: str | None = None  # a problem found before starting (bad template...)
    python: str = sys.executable
    # kind "sensor" (a file sensor poked for real)
    sensor_path: str | None = None
    poke_interval: float = 60.0
    sensor_timeout: float = 7 * 86400.0
    soft_fail: bool = False


def poke_file(work: Work) -> Outcome:
    """Airflow's FileSensor in poke mode: poke, and after a false poke give up
    once more than ``timeout`` has elapsed, else sleep ``poke_interval``."""
    start = time.time()
    path = work.sensor_path or ""
    if work.cwd and not os.path.isabs(path):
        path = os.path.join(work.cwd, path)
    pokes = 0
    while True:
        pokes += 1
        if os.path.exists(path):
            return Outcome(
                SUCCESS, time.time(), None, start=start, log=f"{path} found on poke {pokes}\n"
            )
        if time.time() - start > work.sensor_timeout:
            log = f"{path} not found after {pokes} pokes\n"
            if work.soft_fail:
                return Outcome(
                    SKIPPED, time.time(), "sensor timed out (soft_fail)", start=start, log=log
                )
            return Outcome(FAILED_FINAL, time.time(), "sensor timed out", start=start, log=log)
        time.sleep(work.poke_interval)


def _argv(work: Work) -> list[str] | str:
    """The child's argv, or an error message."""
    if work.kind == "shell":
        if not work.command:
            return "shell task without a command"
        return ["/bin/sh", "-c", work.command]
    if not work.module or not work.callable:
        return (
            f"python callable {work.callable!r} cannot run: the IR names no importable module"
            " (only module + callable can be executed)"
        )
    try:
        spec = json.dumps(
            {
                "module": work.module,
                "callable": work.callable,
                "args": work.op_args,
                "kwargs": work.op_kwargs,
                "cwd": work.cwd,
            }
        )
    except (TypeError, ValueError) as exc:
        return f"python callable {work.callable!r}: arguments are not JSON values ({exc})"
    return [work.python, "-c", _PY_RUNNER, spec]


def execute_work(work: Work, on_start: Callable[[int], None] | None = None) -> Outcome:
    start = time.time()
    if work.error:
        return Outcome(FAILED, time.time(), work.error, start=start)
    if work.kind == "sensor":
        return poke_file(work)
    argv = _argv(work)
    if isinstance(argv, str):
        return Outcome(FAILED, time.time(), argv, start=start)
    env = {} if work.env_replace and work.env else dict(os.environ)
    env.update({str(k): str(v) for k, v in (work.env or {}).items()})
    # wfconv.proc owns the child: its own process group, killed with every
    # descendant (even one that escaped into a session of its own) when it
    # ends, times out, or when wfconv is stopped.
    try:
        done = proc.run(
            argv,
            timeout=work.timeout_s,
            cwd=work.cwd or None,
            env=env,
            merge_stderr=True,
            max_bytes=2 * LOG_LIMIT,
            on_start=(lambda child: on_start(child.pid)) if on_start is not None else None,
        )
    except OSError as exc:
        return Outcome(FAILED, time.time(), f"cannot start: {exc}", start=start)
    text = done.stdout.decode("utf-8", "replace")[-LOG_LIMIT:]
    pid = done.pid
    if done.timed_out:
        return Outcome(
            FAILED,
            time.time(),
            f"timed out after {work.timeout_s:g} s (process tree killed)",
            start=start,
            pid=pid,
            log=text,
        )
    rc = done.returncode
    if rc == 0:
        return Outcome(SUCCESS, time.time(), None, start=start, pid=pid, log=text, exit_code=0)
    if rc == SKIP_EXIT_CODE and work.kind == "shell":
        return Outcome(
            SKIPPED, time.time(), "exit code 99 (skip)", start, pid, text, SKIP_EXIT_CODE
        )
    reason = f"exit code {rc}"
    last = text.strip().splitlines()[-1:] if text.strip() else []
    if last:
        reason += f": {last[0][:200]}"
    return Outcome(FAILED, time.time(), reason, start=start, pid=pid, log=text, exit_code=rc)


class LocalExecutor:
    name = "local"

    def __init__(self, concurrency: int = 4):
        self.concurrency = concurrency
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wfconv-task")
        self.live: set[int] = set()
        self.lock = threading.Lock()

    def submit(
        self,
        work: Work,
        done: Callable[[Outcome], None],
        started: Callable[[int], None] | None = None,
    ) -> None:
        def on_start(pid: int) -> None:
            with self.lock:
                self.live.add(pid)
            if started is not None:
                started(pid)

        def job() -> Outcome:
            try:
                return execute_work(work, on_start)
            except Exception as exc:  # never lose a completion
                return Outcome(FAILED, time.time(), f"executor error: {exc}")

        fut = self.pool.submit(job)

        def finished(f) -> None:
            res = f.result()
            with self.lock:
                if res.pid is not None:
                    self.live.discard(res.pid)
            done(res)

        fut.add_done_callback(finished)

    def cancel_all(self) -> None:
        with self.lock:
            pids = list(self.live)
        for pid in pids:
            proc.stop_pid(pid)

    def shutdown(self) -> None:
        self.cancel_all()
        self.pool.shutdown(wait=True)


class DaskExecutor:
    """Submit attempts to a dask.distributed cluster (``address`` or a LocalCluster)."""

    name = "dask"

    def __init__(self, address: str | None = None, concurrency: int = 4):
        from distributed import Client, LocalCluster

        self.cluster = None
        if address:
            self.client = Client(address)
        else:
            self.cluster = LocalCluster(
                n_workers=1, threads_per_worker=concurrency, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
        self.futures: list[Any] = []

    def submit(self, work: Work, done: Callable[[Outcome], None], started=None) -> None:
        fut = self.client.submit(
            execute_work, work, pure=False, key=f"{work.task_id}-{work.attempt}-{time.time_ns()}"
        )
        self.futures.append(fut)

        def finished(f) -> None:
            try:
                res = f.result()
            except Exception as exc:
                res = Outcome(FAILED, time.time(), f"dask worker error: {exc}")
            done(res)

        fut.add_done_callback(finished)

    def cancel_all(self) -> None:
        self.client.cancel(self.futures)

    def shutdown(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
