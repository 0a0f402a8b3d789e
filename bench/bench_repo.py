"""Benchmark a whole-repository audit against today's per-file speed.

    python bench/bench_repo.py                 # 1,000 DAG files
    python bench/bench_repo.py --files 200 --jobs 1

Generates the same 1,000 DAGs twice (18 tasks each, 7 dependencies):

- **repository**: DAG files in ``dags/`` that build their tasks with the
  repository's helpers (``utils/`` functions, a TaskGroup subclass, a
  ``plugins/`` operator, shared ``default_args``), as real projects do;
- **per-file**: the same DAGs with the helpers they call written into every
  file (what a file read on its own needs to give the same IR; the 60 other
  functions of ``utils/bq.py``, which a repository's helper module carries,
  are left out).

and prints files/s of ``wfconv audit`` (cold, no cache) for both, the ratio
(the goal: the repository within 2x of the per-file time), the task counts
(both must read every task), and the repository read with imports turned
off (today's reader on the same tree: fast, and blind to most tasks). Each
measurement runs in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFIG = '''"""Settings every DAG shares."""
from datetime import timedelta

PROJECT = "acme-data"
TABLES = [f"table_{i}" for i in range(10)]
DEFAULT_ARGS = {"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=5)}
'''

BQ = '''"""Operators built by functions."""
from airflow.operators.bash import BashOperator

from utils.config import PROJECT


def load_table(table, n, dataset="analytics", **kwargs):
    return BashOperator(
        task_id=f"load_{table}",
        bash_command=f"bq load --project_id={PROJECT} {dataset}.{table}_{n}",
        **kwargs,
    )


def export(name):
    return BashOperator(task_id=f"export_{name}", bash_command=f"export.sh {name}")
'''

# Weight that real utils modules carry: many helpers a DAG never calls.
PADDING = "".join(
    f'''

def helper_{i}(value, factor={i}, label="h{i}"):
    """Helper {i}."""
    result = [value * factor for _ in range(3)]
    return {{"label": label, "result": result}}
'''
    for i in range(60)
)

GROUPS = '''"""Task groups the DAGs reuse."""
from airflow.operators.bash import BashOperator
from airflow.utils.task_group import TaskGroup


class Checks(TaskGroup):
    def __init__(self, group_id, tables, **kwargs):
        super().__init__(group_id=group_id, **kwargs)
        with self:
            for t in tables:
                BashOperator(task_id=f"check_{t}", bash_command=f"check.sh {t}")
'''

OPS = '''"""Operators of the repository."""
from airflow.models.baseoperator import BaseOperator


class Publish(BaseOperator):
    def __init__(self, target, **kwargs):
        super().__init__(task_id=f"publish_{target}", **kwargs)
        self.target = target

    def execute(self, context):
        return self.target
'''

DAG_BODY = """
with DAG(
    "dag_{i}", default_args=DEFAULT_ARGS, start_date=datetime(2024, 1, 1), schedule="@daily",
    catchup=False,
) as dag:
    start = EmptyOperator(task_id="start")
    loads = [load_table(t, {i}) for t in TABLES]
    checks = Checks("checks", tables=TABLES[:5])
    out = export("report_{i}")
    pub = Publish(target="t{i}")
    start >> loads >> checks >> out >> pub
"""

HEAD = '''"""Generated DAG {i}."""
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
'''


def _strip_imports(module: str) -> str:
    return "\n".join(
        line for line in module.splitlines() if not line.startswith(("from utils", '"""'))
    )


def generate(work: Path, files: int) -> tuple[Path, Path]:
    repo = work / "repo"
    (repo / "dags").mkdir(parents=True)
    (repo / "utils").mkdir()
    (repo / "plugins").mkdir()
    (repo / "utils" / "__init__.py").write_text("")
    (repo / "utils" / "config.py").write_text(CONFIG)
    (repo / "utils" / "bq.py").write_text(BQ + PADDING)
    (repo / "utils" / "groups.py").write_text(GROUPS)
    (repo / "plugins" / "ops.py").write_text(OPS)
    imports = (
        "\nfrom ops import Publish\nfrom utils.bq import export, load_table\n"
        "from utils.config import DEFAULT_ARGS, TABLES\nfrom utils.groups import Checks\n"
    )
    flat = work / "flat" / "dags"
    flat.mkdir(parents=True)
    inline = "\n".join(
        [
            "from datetime import timedelta",
            "from airflow.operators.bash import BashOperator",
            "from airflow.models.baseoperator import BaseOperator",
            "from airflow.utils.task_group import TaskGroup",
            _strip_imports(CONFIG),
            _strip_imports(BQ),
            _strip_imports(GROUPS),
            _strip_imports(OPS),
        ]
    )
    for i in range(files):
        (repo / "dags" / f"dag_{i:05d}.py").write_text(
            HEAD.format(i=i) + imports + DAG_BODY.format(i=i)
        )
        (flat / f"dag_{i:05d}.py").write_text(HEAD.format(i=i) + inline + DAG_BODY.format(i=i))
    return repo / "dags", flat


def measure_audit(folder: str, jobs: int, src: str) -> dict:
    sys.path.insert(0, src)
    from wfconv.audit.report import TableReporter
    from wfconv.audit.run import Options, audit

    with open(os.devnull, "w") as sink:
        t0 = time.perf_counter()
        s = audit([folder], Options(jobs=jobs, cache_dir=None), TableReporter(sink))
        secs = time.perf_counter() - t0
    return {"files": s.files, "seconds": secs, "files_per_s": s.files / secs, "tasks": s.tasks}


def measure_blind(folder: str, src: str) -> dict:
    """Today's reader on the repository: every file alone (imports not followed)."""
    sys.path.insert(0, src)
    from wfconv.frontends import load_path

    t0 = time.perf_counter()
    b = load_path(folder, "airflow", repository=False)
    secs = time.perf_counter() - t0
    files = len(list(Path(folder).glob("*.py")))
    return {
        "files": files,
        "seconds": secs,
        "files_per_s": files / secs,
        "tasks": sum(len(w.tasks) for w in b.workflows),
    }


def _sub(*args: str) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, "--measure", *args], capture_output=True, text=True, check=True
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--keep", help="generate into this folder and keep it")
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        what, *rest = args.measure
        if what == "audit":
            print(json.dumps(measure_audit(rest[0], int(rest[1]), rest[2])))
        else:
            print(json.dumps(measure_blind(rest[0], rest[1])))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wfconv-bench-repo-"))
    try:
        repo, flat = generate(work, args.files)
        src = work / "src"
        shutil.copytree(
            ROOT / "wfconv", src / "wfconv", ignore=shutil.ignore_patterns("__pycache__")
        )
        print(f"generated {args.files} DAG files twice (18 tasks each); {args.jobs} jobs")
        per_file = _sub("audit", str(flat), str(args.jobs), str(src))
        whole = _sub("audit", str(repo), str(args.jobs), str(src))
        blind = _sub("blind", str(repo), str(src))
        for name, m in (
            ("per-file audit", per_file),
            ("repository audit", whole),
            ("repository, imports off", blind),
        ):
            print(
                f"{name:24s} {m['files_per_s']:8.0f} files/s  {m['seconds']:7.2f} s  "
                f"{m['tasks']} tasks"
            )
        ratio = whole["seconds"] / per_file["seconds"]
        print(
            f"repository / per-file time: {ratio:.2f} (goal <= 2.0); tasks read: "
            f"{whole['tasks']} of {per_file['tasks']} (imports off: {blind['tasks']})"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
