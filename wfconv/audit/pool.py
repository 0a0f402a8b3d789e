"""Worker processes that audit one file at a time, with a hard per-file timeout.

Why not ``concurrent.futures``: a worker stuck in C code (a pathological input
that makes a parser hang) cannot be interrupted from inside, and a process pool
cannot kill one of its workers. Here the parent knows which file each worker
holds and since when; past the deadline it kills that worker (by its pid, a
process this pool started), reports the file as timed out (AU903) and starts a
fresh worker. A worker that dies (segfault, OOM kill) is reported the same way
(AU904). Results come back in input order.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import wait

from wfconv.audit.analyze import audit_source
from wfconv.audit.codes import severity_of
from wfconv.audit.model import FAILED, FileResult, Finding


@dataclass
class Job:
    """One file to audit, or (``result`` set) a file already answered by the
    parent (cache hit, skipped)."""

    index: int
    path: str
    data: bytes | None = None
    engine: str | None = None
    key: str | None = None
    result: FileResult | None = None


def _worker_main(conn, now_iso: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # Everything inherited from the parent (imported modules, frontends) lives
    # as long as the worker: out of the collector's sight, a collection no
    # longer walks it (nor touches its pages, which stay shared after fork).
    gc.freeze()
    now = datetime.fromisoformat(now_iso)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        index, path, data, engine = msg
        res = audit_source(path, data, engine, now)
        conn.send((index, res.to_dict()))


class _Worker:
    def __init__(self, ctx, now_iso: str):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, now_iso), daemon=True)
        self.proc.start()
        child.close()
        self.job: Job | None = None
        self.deadline = 0.0

    def send(self, job: Job, timeout: float) -> None:
        self.job = job
        self.deadline = time.monotonic() + timeout
        self.conn.send((job.index, job.path, job.data, job.engine))

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _preimport_frontends() -> None:
    """Import the frontends once in the parent so that forked workers share them
    instead of each importing them on its first file."""
    from wfconv.audit.analyze import _load_frontend
    from wfconv.frontends import ENGINES

    for engine in ENGINES:
        try:
            _load_frontend(engine)
        except Exception:  # a broken frontend is reported per file by the worker
            pass


def _failure(job: Job, code: str, message: str) -> FileResult:
    return FileResult(job.path, FAILED, job.engine, findings=[Finding(code, severity_of(code), message, job.path)])


def run_jobs(
    jobs: Iterable[Job], workers: int, timeout: float, now: datetime, window: int = 0
) -> Iterator[tuple[Job, FileResult, dict | None]]:
    """Yield (job, result, payload) in job order. ``payload`` is the result as
    the worker serialised it (what the cache stores); None for results the
    parent supplied and for timeouts/crashes (never cached). With
    ``workers == 0`` files are audited in this process (no timeout)."""
    now_iso = now.isoformat()
    if workers <= 0:
        for job in jobs:
            if job.result is not None:
                yield job, job.result, None
            else:
                res = audit_source(job.path, job.data, job.engine or "", now)
                yield job, res, res.to_dict()
        return
    ctx = mp.get_context("fork")
    window = window or workers * 16
    # Workers start on the first file that needs one: a warm run answered by
    # the cache never pays for them.
    pool: list[_Worker] = []
    source = iter(jobs)
    exhausted = False
    todo: deque[Job] = deque()
    done: dict[int, tuple[Job, FileResult, dict | None]] = {}
    order: deque[int] = deque()  # indexes taken from the source, in order
    try:
        while True:
            while not exhausted and len(order) < window and len(todo) < workers * 2:
                try:
                    job = next(source)
                except StopIteration:
                    exhausted = True
                    break
                order.append(job.index)
                if job.result is not None:
                    done[job.index] = (job, job.result, None)
                else:
                    todo.append(job)
            if todo and not pool:
                _preimport_frontends()
                pool = [_Worker(ctx, now_iso) for _ in range(workers)]
            for i, w in enumerate(pool):
                if w.job is None and todo:
                    job = todo.popleft()
                    try:
                        w.send(job, timeout)
                    except OSError:  # died while idle (OOM killer...): replace it
                        w.kill()
                        pool[i] = _Worker(ctx, now_iso)
                        pool[i].send(job, timeout)
            while order and order[0] in done:
                yield done.pop(order.popleft())
            busy = [w for w in pool if w.job is not None]
            if not busy:
                if exhausted and not todo and not order:
                    break
                continue
            wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_s)
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                job = w.job
                if w.conn in ready:
                    try:
                        index, payload = w.conn.recv()
                        done[index] = (job, FileResult.from_dict(payload), payload)
                        w.job = None
                        continue
                    except (EOFError, OSError):
                        w.kill()
                        code = w.proc.exitcode
                        why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                        done[job.index] = (job, _failure(job, "AU904", f"the parser process died ({why})"), None)
                        pool[i] = _Worker(ctx, now_iso)
                        continue
                if time.monotonic() >= w.deadline:
                    w.kill()
                    done[job.index] = (job, _failure(job, "AU903", f"parsing took longer than {timeout:g} s and was stopped"), None)
                    pool[i] = _Worker(ctx, now_iso)
    finally:
        for w in pool:
            if w.job is None:
                w.stop()
        for w in pool:
            if w.job is None:
                w.proc.join(2)
            w.kill()
