"""Share a list of independent jobs between worker processes (one per core).

verify's work per workflow (emit, read back, run the scenarios in the
reference runtime; run the probes in Prefect or Luigi) is CPU-bound Python, so
threads do not help. Workers are forked: they inherit the loaded modules and
the workflows, and send back only their results (pickled). A worker sees the
same environment, so a Prefect API URL set before the fork is shared: one
server serves every worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

MIN_PER_WORKER = 4  # below this, starting a worker costs more than it saves


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _chunks(items: Sequence[T], n: int) -> list[list[T]]:
    size = max(1, -(-len(items) // (n * 4)))  # ~4 chunks per worker: they finish together
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


_job: Callable[[list], list] | None = None


def _run(chunk: list) -> list:
    return _job(chunk)


def in_workers(
    fn: Callable[[list[T]], list[Any]],
    items: Sequence[T],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """``fn`` over ``items`` in chunks, results in the items' order.
    ``fn(chunk)`` returns one result per item of the chunk."""
    global _job
    n = workers or default_workers()
    if (
        n <= 1
        or len(items) < 2 * MIN_PER_WORKER
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        out = []
        for chunk in _chunks(items, 1):
            out.extend(fn(chunk))
            if progress:
                progress(len(chunk))
        return out
    chunks = _chunks(items, n)
    _job = fn
    try:
        # concurrent.futures' workers are not daemons: a Luigi task with a
        # worker_timeout runs in a process of its own, which a daemon may not start
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            results = []
            for chunk, res in zip(chunks, pool.map(_run, chunks), strict=True):
                results.extend(res)
                if progress:
                    progress(len(chunk))
    finally:
        _job = None
    return results
