"""How fast ``wfconv ui`` serves the pages of a large run store.

Writes a store of RUNS simulated runs of a corpus DAG (``wfconv run
--backfill``), serves it in-process on a loopback port and times each page
kind over HTTP, several times; prints the best and the median per page, and
the goal (a page of a 1,000-run store in under a second) with its ratio.

    python bench/bench_ui.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from wfconv.cli import main  # noqa: E402
from wfconv.ui.app import create_app  # noqa: E402
from wfconv.ui.server import Background  # noqa: E402

GOAL_S = 1.0
REPEAT = 7


def main_(runs: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.sqlite"
        first = date(2020, 1, 1)
        last = first + timedelta(days=runs)  # a daily DAG: one run a day
        t = time.perf_counter()
        res = CliRunner().invoke(
            main,
            [
                "run",
                str(ROOT / "corpus/airflow/etl_basic.py"),
                "--backfill",
                str(first),
                str(last),
                "--fail",
                "transform:1",
                "--db",
                str(db),
            ],
        )
        assert res.exit_code == 0, res.output
        print(
            f"store: {runs} runs written in {time.perf_counter() - t:.2f} s ({db.stat().st_size // 1024} KiB)"
        )
        import sqlite3

        con = sqlite3.connect(db)
        n = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        mid = con.execute("SELECT id FROM runs ORDER BY id LIMIT 1 OFFSET ?", (n // 2,)).fetchone()[
            0
        ]
        con.close()
        pages = {
            "workflows": "/runs",
            "grid (latest 25 runs)": "/runs/grid?workflow=sales_etl",
            "grid (100 runs, page 5)": "/runs/grid?workflow=sales_etl&limit=100&offset=400",
            "run (Gantt + graph)": f"/runs/{mid}",
            "task instance": f"/runs/{mid}/task?task=transform",
        }
        print(f"{n} runs in the store; each page fetched {REPEAT} times over HTTP")
        worst = 0.0
        with Background(create_app(db, None)) as url:
            for name, path in pages.items():
                times = []
                for _ in range(REPEAT):
                    t = time.perf_counter()
                    with urllib.request.urlopen(url + path) as r:
                        assert r.status == 200
                        size = len(r.read())
                    times.append(time.perf_counter() - t)
                med = statistics.median(times)
                worst = max(worst, med)
                print(
                    f"  {name:26} best {min(times) * 1000:7.1f} ms  median {med * 1000:7.1f} ms  {size // 1024:4d} KiB"
                )
        print(
            f"slowest page (median): {worst * 1000:.1f} ms; goal < {GOAL_S * 1000:.0f} ms: "
            f"{'met' if worst < GOAL_S else 'NOT met'} ({GOAL_S / worst:.1f}x under)"
        )


if __name__ == "__main__":
    main_(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
