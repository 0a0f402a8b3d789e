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


# A worker is sent its next files before it has answered the last one, so it
# never waits for the parent between files (on a busy machine each round trip
# waits for both processes to be scheduled). Queued files must fit in the
# pipe's buffer, so that the parent never blocks in a send while the worker
# blocks sending a result.
QUEUED_FILES = 4
QUEUED_BYTES = 32 * 1024


class _Worker:
    def __init__(self, ctx, now_iso: str):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, now_iso), daemon=True)
        self.proc.start()
        child.close()
        # Files sent, in order; the first is the one being audited, since
        # ``deadline`` (set when it became the first).
        self.jobs: deque[Job] = deque()
        self.deadline = 0.0

    def takes(self, job: Job) -> bool:
        """Can ``job`` be sent now (idle, or a short queue of small files)?"""
        if not self.jobs:
            return True
        if len(self.jobs) >= QUEUED_FILES:
            return False
        queued = sum(len(j.data or b"") for j in self.jobs)
        return queued + len(job.data or b"") <= QUEUED_BYTES

    def send(self, job: Job, timeout: float) -> None:
        if not self.jobs:
            self.deadline = time.monotonic() + timeout
        self.jobs.append(job)
        self.conn.send((job.index, job.path, job.data, job.engine))

    def collect(self, done: dict, timeout: float) -> bool:
        """Move the results waiting in the pipe to ``done`` (each answered file
        starts the clock of the next); False when the worker is gone."""
        try:
            while self.jobs and self.conn.poll():
                index, payload = self.conn.recv()
                job = self.jobs.popleft()
                self.deadline = time.monotonic() + timeout
                done[index] = (job, FileResult.from_dict(payload), payload)
        except (EOFError, OSError):
            return False
        return True

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


def _preimport_frontends(engines: Iterable[str | None]) -> None:
    """Import the frontends of the first files once in the parent so that
    forked workers share them instead of each importing them on its first file.
    (Only those: a folder of Airflow files does not pay for importing lxml and
    the Prefect reader. A frontend first needed later is imported by each
    worker that needs it.)"""
    from wfconv.audit.analyze import _load_frontend

    for engine in sorted({e for e in engines if e}):
        try:
            _load_frontend(engine)
        except Exception:  # a broken frontend is reported per file by the worker
            pass


def _failure(job: Job, code: str, message: str) -> FileResult:
    return FileResult(
        job.path, FAILED, job.engine, findings=[Finding(code, severity_of(code), message, job.path)]
    )


def _replace_lost(pool, i, ctx, now_iso, todo, done, failure: FileResult) -> None:
    """Worker ``i`` was killed or died on its first file: that file gets
    ``failure``, the files queued behind it go back to the front of ``todo``
    (they were not audited), and a fresh worker takes its place."""
    w = pool[i]
    job = w.jobs.popleft()
    done[job.index] = (job, failure, None)
    todo.extendleft(reversed(w.jobs))
    pool[i] = _Worker(ctx, now_iso)


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
                _preimport_frontends(j.engine for j in todo)
                pool = [_Worker(ctx, now_iso) for _ in range(workers)]
            sent = True
            while todo and sent:  # one file per worker per round: even queues
                sent = False
                for i, w in enumerate(pool):
                    if not (todo and w.takes(todo[0])):
                        continue
                    sent = True
                    try:
                        w.send(todo.popleft(), timeout)
                    except OSError:  # it died (OOM killer...): replace it
                        todo.appendleft(w.jobs.pop())
                        w.collect(done, timeout)  # what it answered before
                        w.kill()
                        if w.jobs:  # on a file it held: that file is reported
                            failure = _failure(w.jobs[0], "AU904", "the parser process died")
                            _replace_lost(pool, i, ctx, now_iso, todo, done, failure)
                        else:
                            pool[i] = _Worker(ctx, now_iso)
            while order and order[0] in done:
                yield done.pop(order.popleft())
            busy = [w for w in pool if w.jobs]
            if not busy:
                if exhausted and not todo and not order:
                    break
                continue
            wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_s)
            for i, w in enumerate(pool):
                if not w.jobs:
                    continue
                if w.conn in ready:
                    if w.collect(done, timeout):
                        continue
                    w.kill()
                    code = w.proc.exitcode
                    why = (
                        f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    )
                    failure = _failure(w.jobs[0], "AU904", f"the parser process died ({why})")
                    _replace_lost(pool, i, ctx, now_iso, todo, done, failure)
                    continue
                if time.monotonic() >= w.deadline:
                    w.kill()
                    failure = _failure(
                        w.jobs[0],
                        "AU903",
                        f"parsing took longer than {timeout:g} s and was stopped",
                    )
                    _replace_lost(pool, i, ctx, now_iso, todo, done, failure)
    finally:
        for w in pool:
            if not w.jobs:
                w.stop()
        for w in pool:
            if not w.jobs:
                w.proc.join(2)
            w.kill()
