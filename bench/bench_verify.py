"""How long `wfconv verify` takes on a 100-task workflow, per target.

The issue asks for "under a few seconds for 100-task workflows" with the basic
scenario set (O(N) runs). Prints seconds per target and the number of
scenarios. Not a CI assertion.

    python bench/bench_verify.py [--tasks 100] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from wfconv.ir import Action, Edge, Task, Workflow, finalize
from wfconv.ir.model import Schedule, SourceRef


def layered(n: int, width: int = 10) -> Workflow:
    """n shell tasks in layers of `width`; each task depends on two of the
    previous layer; every third task retries twice."""
    tasks, edges = [], []
    for i in range(n):
        tasks.append(
            Task(
                f"t{i}",
                Action("shell", {"command": f"echo {i}"}),
                retries=2 if i % 3 == 0 else 0,
                retry_delay_s=60,
                source=SourceRef("airflow", "bench.py", i + 1),
            )
        )
        layer = i // width
        if layer:
            base = (layer - 1) * width
            edges.append(Edge(f"t{base + i % width}", f"t{i}"))
            edges.append(Edge(f"t{base + (i + 1) % width}", f"t{i}"))
    return finalize(
        Workflow(
            id="bench",
            tasks=tasks,
            edges=edges,
            schedule=Schedule("cron", cron="0 6 * * *"),
            start_date="2024-01-01T00:00:00+00:00",
            catchup=False,
            source=SourceRef("airflow", "bench.py", 1),
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    from wfconv.verify import verify_workflow

    w = layered(args.tasks)
    print(
        f"verify on a layered workflow of {args.tasks} tasks ({len(w.edges)} edges), basic scenarios"
    )
    for target in ("airflow", "prefect", "luigi", "oozie"):
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            report = verify_workflow(w, target)
            times.append(time.perf_counter() - t0)
        print(
            f"  {target:8} median {statistics.median(times):6.2f} s  "
            f"({len(report.behaviour)} scenarios, verdict: "
            f"{'equivalent' if report.equivalent else 'differs'})"
        )


if __name__ == "__main__":
    main()
