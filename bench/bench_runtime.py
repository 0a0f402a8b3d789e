"""Benchmark of the reference runtime (issue 6), printed as a small report.

Measures, in one run:
1. inline simulation time per task on layered DAGs of 1k, 10k and 100k tasks
   (growth should be linear), end to end (validation + compile + run) and the
   scheduler loop alone;
2. 365 × 24 hourly runs of a 10-task DAG (a year of catchup);
3. per-task overhead of the same no-op layered DAG in Prefect and Luigi
   (bounded sizes, each in a child process) and a bare networkx topological
   loop, with ratios against the inline runtime.

Run: ``.venv/bin/python bench/bench_runtime.py [--quick | --growth]``

``--growth`` prints only the scaling figure (1k/10k/100k tasks, a 10-task
run as the small-run reference that ``wfconv verify`` repeats, and the bare
networkx loop at the same sizes as the machine's own memory-hierarchy
baseline) in well under a minute, without the Prefect/Luigi peers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfconv.ir.model import Action, Edge, Schedule, Task, Workflow  # noqa: E402
from wfconv.runtime import run  # noqa: E402
from wfconv.runtime.api import gc_paused  # noqa: E402
from wfconv.runtime.engine import RunEngine  # noqa: E402
from wfconv.runtime.graph import CompiledWorkflow  # noqa: E402
from wfconv.runtime.schedule import parse_datetime, run_for_date  # noqa: E402

WIDTH = 100  # tasks per layer; each task depends on 2 tasks of the layer above


def layered_edges(n: int, width: int = WIDTH) -> list[tuple[int, int]]:
    out = []
    for i in range(width, n):
        base = (i // width - 1) * width
        for k in (0, 37):
            out.append((base + (i + k) % width, i))
    return sorted(set(out))


def layered(n: int) -> Workflow:
    return Workflow(
        f"layered_{n}",
        tasks=[Task(f"t{i}", Action("empty")) for i in range(n)],
        edges=[Edge(f"t{a}", f"t{b}") for a, b in layered_edges(n)],
    )


MINIMA: dict[str, float] = {}  # label -> best time, printed beside the medians


def median_time(fn, reps: int, label: str | None = None) -> float:
    """Median wall time of ``reps`` calls (the machine is shared: the minimum
    is kept too, as the least disturbed figure)."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    if label:
        MINIMA[label] = min(times)
    return statistics.median(times)


def bench_inline(sizes, reps) -> dict[int, tuple[float, float]]:
    out = {}
    for n in sizes:
        w = layered(n)
        r = reps if n <= 10_000 else max(1, reps // 2)
        e2e = median_time(lambda w=w: run(w, date="2024-01-01"), r, f"e2e{n}")
        cw = CompiledWorkflow(w)
        info = run_for_date(w, parse_datetime("2024-01-01"))

        def loop_only(cw=cw, info=info):
            with gc_paused():
                RunEngine(cw, info).run()

        loop = median_time(loop_only, r, f"loop{n}")
        out[n] = (e2e / n * 1e6, loop / n * 1e6)
    return out


def bench_year(reps: int) -> tuple[float, int]:
    w = layered(10)
    w.edges = [Edge(f"t{i}", f"t{i + 1}") for i in range(9)]
    w.schedule = Schedule("cron", cron="@hourly")
    w.start_date = "2023-01-01T00:00:00+00:00"
    w.catchup = True
    n_runs = 0

    def go():
        nonlocal n_runs
        n_runs = len(run(w, now="2024-01-01T00:00:00+00:00"))

    return median_time(go, reps), n_runs


def bench_small(reps: int) -> float:
    """µs per task of one run of a 10-task layered DAG (median of ``reps``
    batches of 200 runs): verify runs thousands of such small workflows."""
    w = layered(10)

    def batch():
        for _ in range(200):
            run(w, date="2024-01-01")

    return median_time(batch, reps) / (200 * 10) * 1e6


def growth(reps: int) -> None:
    """The scaling figure alone (``--growth``)."""
    sizes = (1_000, 10_000, 100_000)
    print("inline simulation, layered DAG (100 tasks per layer, 2 upstreams each), medians")
    print(f"  {10:>7} tasks: {bench_small(reps):6.1f} us/task end to end (one run, repeated)")
    inline = bench_inline(sizes, reps)
    bare = {n: bench_networkx(n, max(1, reps // 2) if n > 10_000 else reps) for n in sizes}
    for n, (e2e, loop) in inline.items():
        print(
            f"  {n:>7} tasks: {e2e:6.1f} us/task end to end (min {MINIMA[f'e2e{n}'] / n * 1e6:5.1f}),"
            f" {loop:6.1f} scheduler loop, {bare[n]:5.2f} bare networkx loop"
        )
    first, last = sizes[0], sizes[-1]
    print(
        f"  growth per task {first}->{last}: x{inline[last][0] / inline[first][0]:.2f} end to end,"
        f" x{inline[last][1] / inline[first][1]:.2f} loop,"
        f" x{bare[last] / bare[first]:.2f} bare networkx (1.00 = linear total cost;"
        " the bare loop shows what cache misses alone add on this machine)"
    )


def bench_networkx(n: int, reps: int) -> float:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(layered_edges(n))

    def go():
        state = {}
        for node in nx.topological_sort(g):
            if all(state[p] == "success" for p in g.predecessors(node)):
                state[node] = "success"

    return median_time(go, reps) / n * 1e6


PREFECT_CHILD = textwrap.dedent(
    """
    import json, statistics, sys, time
    from prefect import flow, task
    sys.path.insert(0, %(root)r)
    from bench.bench_runtime import layered_edges

    @task
    def noop(i):
        return i

    def make(n):
        ups = {}
        for a, b in layered_edges(n, min(100, max(1, n // 5))):
            ups.setdefault(b, []).append(a)

        @flow(name=f"noop_{n}", log_prints=False, persist_result=False)
        def dag():
            futs = {}
            for i in range(n):
                futs[i] = noop.submit(i, wait_for=[futs[u] for u in ups.get(i, [])])
            for f in futs.values():
                f.wait()
        return dag

    t = time.perf_counter(); make(1)(); startup = time.perf_counter() - t
    out = {"startup": startup, "per_task": {}}
    for n in %(sizes)r:
        dag = make(n)
        times = []
        for _ in range(%(reps)d):
            t = time.perf_counter(); dag(); times.append(time.perf_counter() - t)
        out["per_task"][n] = statistics.median(times) / n
    print(json.dumps(out))
    """
)

LUIGI_CHILD = textwrap.dedent(
    """
    import json, logging, statistics, sys, time
    import luigi
    sys.path.insert(0, %(root)r)
    from bench.bench_runtime import layered_edges
    logging.getLogger("luigi-interface").setLevel(logging.ERROR)
    logging.getLogger("luigi").setLevel(logging.ERROR)

    DONE = set()
    UPS = {}

    class Noop(luigi.Task):
        idx = luigi.IntParameter()
        def requires(self):
            return [Noop(idx=u) for u in UPS.get(self.idx, [])]
        def complete(self):
            return self.idx in DONE
        def run(self):
            DONE.add(self.idx)

    out = {}
    for n in %(sizes)r:
        UPS.clear()
        for a, b in layered_edges(n, min(100, max(1, n // 5))):
            UPS.setdefault(b, []).append(a)
        leaves = set(range(n)) - {a for ups in UPS.values() for a in ups}
        times = []
        for _ in range(%(reps)d):
            DONE.clear()
            t = time.perf_counter()
            ok = luigi.build([Noop(idx=i) for i in sorted(leaves)], local_scheduler=True,
                             workers=1, log_level="ERROR")
            times.append(time.perf_counter() - t)
            assert ok and len(DONE) == n
        out[n] = statistics.median(times) / n
    print(json.dumps(out))
    """
)


def child(code: str, timeout: float) -> dict | None:
    try:
        p = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={
                "PREFECT_LOGGING_LEVEL": "ERROR",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "PATH": "/usr/bin:/bin",
                "HOME": str(Path.home()),
            },
        )
    except subprocess.TimeoutExpired:
        print(f"  (peer timed out after {timeout:.0f} s)")
        return None
    if p.returncode != 0:
        print("  (peer failed: " + (p.stderr.strip().splitlines() or ["?"])[-1] + ")")
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, no peers")
    ap.add_argument(
        "--growth",
        action="store_true",
        help="only the 1k/10k/100k scaling figure (and a 10-task run), no peers",
    )
    ap.add_argument("--reps", type=int, default=None, help="repetitions per size (median)")
    ap.add_argument("--peer-tasks", type=int, default=300)
    args = ap.parse_args()
    if args.growth:
        growth(args.reps or 7)
        return
    reps = args.reps or (3 if args.quick else 5)
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)

    print("wfconv runtime benchmark (medians)")
    print("\n1. inline simulation, layered DAG (100 tasks per layer, 2 upstreams each)")
    inline = bench_inline(sizes, reps)
    for n, (e2e, loop) in inline.items():
        best_e2e = MINIMA[f"e2e{n}"] / n * 1e6
        best_loop = MINIMA[f"loop{n}"] / n * 1e6
        print(
            f"  {n:>7} tasks: {e2e:6.1f} us/task end to end (min {best_e2e:5.1f}),"
            f" {loop:6.1f} us/task scheduler loop (min {best_loop:5.1f})"
        )
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        print(
            f"  growth {first}->{last}: x{inline[last][0] / inline[first][0]:.2f} per task "
            "(1.00 = perfectly linear total cost)"
        )

    print("\n2. a year of hourly runs of a 10-task chain (365 x 24 runs)")
    secs, n_runs = bench_year(1 if args.quick else 3)
    print(f"  {n_runs} runs in {secs:.2f} s = {secs / (n_runs * 10) * 1e6:.1f} us/task")

    ref = inline[10_000][0]
    nx_us = bench_networkx(10_000, reps)
    print("\n3. per-task overhead, same no-op layered DAG")
    print(f"  wfconv inline      : {ref:10.1f} us/task (10k tasks)")
    print(f"  bare networkx loop : {nx_us:10.1f} us/task (10k tasks)")
    if args.quick:
        return
    n = args.peer_tasks
    lg = child(LUIGI_CHILD % {"root": str(ROOT), "sizes": (100, n), "reps": 3}, 600)
    if lg:
        for size, per in lg.items():
            us = per * 1e6
            print(f"  luigi {int(size):>4} tasks   : {us:10.1f} us/task  (x{us / ref:,.0f} wfconv)")
    pf = child(PREFECT_CHILD % {"root": str(ROOT), "sizes": (100, n), "reps": 3}, 900)
    if pf:
        for size, per in pf["per_task"].items():
            us = per * 1e6
            print(
                f"  prefect {int(size):>4} tasks : {us:10.1f} us/task  (x{us / ref:,.0f} wfconv)"
                " (flow time / tasks, after start-up)"
            )
        print(f"  prefect start-up   : {pf['startup']:.1f} s (ephemeral API server, first flow)")


if __name__ == "__main__":
    main()
