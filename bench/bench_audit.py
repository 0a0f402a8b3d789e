"""Benchmark `wfconv audit` against the bare `ast.parse` floor and Airflow's DagBag.

    python bench/bench_audit.py                 # 10,000 generated DAG files (7 KB, 50 tasks)
    python bench/bench_audit.py --files 2000    # fewer
    python bench/bench_audit.py --airflow-python /path/to/venv/bin/python   # DagBag reference

Prints files/s for: the `ast.parse` floor (read + parse, same process pool size),
a cold audit (empty cache), a warm audit (same files, cache filled), the peak
memory of the audit's parent process for 1/10 of the files and for all of them
(flat means streaming works), and Airflow's DagBag on a sample when an Airflow
interpreter is available (a separate virtualenv: Airflow is not a dependency).
Each measurement runs in a fresh subprocess so that memory figures are its own.
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
DEFAULT_AIRFLOW_PYTHON = "/tmp/wfconv-airflow-venv/bin/python"

HEADER = '''"""Generated DAG {i}: nightly load of {n} tables for the audit benchmark.

Each table is extracted with a script, transformed in Python and loaded;
a final report runs when every load is done.
"""
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator


def transform(table, **context):
    """Clean one table (placeholder body)."""
    rows = context["ti"].xcom_pull(task_ids=f"extract_{{table}}")
    return rows


default_args = {{
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "email_on_failure": False,
}}

with DAG(
    dag_id="bench_dag_{i:05d}",
    description="Nightly table loads, batch {i}",
    schedule="{minute} {hour} * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args,
    tags=["bench", "team-{team}"],
    max_active_runs=1,
) as dag:
    start = EmptyOperator(task_id="start")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
'''

TABLE = """    extract_{k} = BashOperator(
        task_id="extract_{k}",
        bash_command="python /opt/etl/extract.py --table tbl_{k} --day {{{{ ds }}}}",
    )
    transform_{k} = PythonOperator(task_id="transform_{k}", python_callable=transform)
    load_{k} = BashOperator(task_id="load_{k}", bash_command="load.py tbl_{k} {{{{ ds }}}} ")
    start >> extract_{k} >> transform_{k} >> load_{k} >> done
"""


def dag_source(i: int, tables: int = 16) -> str:
    """About 7 KB and 50 tasks (start, done and 16 x 3)."""
    parts = [HEADER.format(i=i, n=tables, minute=i % 60, hour=i % 24, team=i % 7)]
    parts += [TABLE.format(k=f"t{k:02d}") for k in range(tables)]
    return "".join(parts)


def generate(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"dag_{i:05d}.py").write_text(dag_source(i), encoding="utf-8")


# -- measurements (each one runs in its own subprocess: `--measure WHAT ...`) -----------------


def _rss_mb() -> tuple[float, float]:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(kids, 1)


def _parse_one(path: str) -> int:
    import ast

    with open(path, "rb") as fh:
        return len(ast.parse(fh.read()).body)


def measure_floor(folder: str, jobs: int) -> dict:
    import multiprocessing as mp

    files = sorted(str(p) for p in Path(folder).glob("*.py"))
    t0 = time.perf_counter()
    for p in files[:300]:
        _parse_one(p)
    single_ms = (time.perf_counter() - t0) / min(300, len(files)) * 1000
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(jobs) as pool:
        for _ in pool.imap(_parse_one, files, chunksize=64):
            pass
    secs = time.perf_counter() - t0
    return {
        "files": len(files),
        "seconds": secs,
        "files_per_s": len(files) / secs,
        "ms_per_file_1core": single_ms,
    }


def measure_audit(folder: str, jobs: int, cache: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from wfconv.audit.report import TableReporter
    from wfconv.audit.run import Options, audit

    with open(os.devnull, "w") as sink:
        t0 = time.perf_counter()
        s = audit([folder], Options(jobs=jobs, cache_dir=cache), TableReporter(sink))
        secs = time.perf_counter() - t0
    own, kids = _rss_mb()
    return {
        "files": s.files,
        "audited": s.audited,
        "cached": s.cached,
        "seconds": secs,
        "files_per_s": s.files / secs,
        "findings": dict(s.findings),
        "workflows": s.workflows,
        "tasks": s.tasks,
        "parent_max_rss_mb": own,
        "worker_max_rss_mb": kids,
    }


DAGBAG_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
from airflow.models.dagbag import DagBag
DagBag(dag_folder=sys.argv[2], include_examples=False)
startup = time.perf_counter() - t0
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
secs = time.perf_counter() - t1
print(json.dumps({"files": len(os.listdir(sys.argv[1])), "dags": len(bag.dags),
                  "errors": len(bag.import_errors), "seconds": secs, "startup_s": startup}))
"""


def measure_dagbag(python: str, folder: Path, sample: int, work: Path) -> dict | str:
    if not Path(python).exists():
        return f"skipped: no Airflow interpreter at {python} (create a venv with apache-airflow and pass --airflow-python)"
    sample_dir = work / "dagbag_sample"
    empty = work / "dagbag_empty"
    sample_dir.mkdir(exist_ok=True)
    empty.mkdir(exist_ok=True)
    for p in sorted(folder.glob("*.py"))[:sample]:
        shutil.copy(p, sample_dir / p.name)
    home = work / "airflow_home"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    subprocess.run(
        [python, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, timeout=600
    )
    r = subprocess.run(
        [python, "-c", DAGBAG_SCRIPT, str(sample_dir), str(empty)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if r.returncode != 0:
        return "failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["ms_per_file_1core"] = out["seconds"] / out["files"] * 1000
    out["files_per_s"] = out["files"] / out["seconds"]
    return out


def _sub(*args: str) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, "--measure", *args], capture_output=True, text=True, check=True
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--airflow-python", default=DEFAULT_AIRFLOW_PYTHON)
    ap.add_argument("--dagbag-sample", type=int, default=200)
    ap.add_argument("--keep", help="generate into this folder and keep it")
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        what, *rest = args.measure
        if what == "floor":
            print(json.dumps(measure_floor(rest[0], int(rest[1]))))
        else:
            print(json.dumps(measure_audit(rest[0], int(rest[1]), rest[2])))
        return 0

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wfconv-bench-"))
    try:
        dags = work / "dags"
        tenth = work / "dags_tenth"
        t0 = time.perf_counter()
        generate(dags, args.files)
        generate(tenth, max(1, args.files // 10))
        size = sum(p.stat().st_size for p in dags.glob("*.py")) / args.files
        print(
            f"generated {args.files} DAG files, {size / 1024:.1f} KB and 50 tasks each, "
            f"in {time.perf_counter() - t0:.1f} s; {args.jobs} jobs"
        )
        floor = _sub("floor", str(dags), str(args.jobs))
        cache = work / "cache"
        cold = _sub("audit", str(dags), str(args.jobs), str(cache))
        warm = _sub("audit", str(dags), str(args.jobs), str(cache))
        small = _sub("audit", str(tenth), str(args.jobs), str(work / "cache_tenth"))
        rows = [
            (
                "ast.parse floor",
                floor["files_per_s"],
                f"{floor['ms_per_file_1core']:.2f} ms/file on 1 core",
            ),
            (
                "audit cold",
                cold["files_per_s"],
                f"{cold['files_per_s'] / floor['files_per_s']:.2f} x floor; {cold['workflows']} workflows, "
                f"{cold['tasks']} tasks, findings {cold['findings']}",
            ),
            (
                "audit warm",
                warm["files_per_s"],
                f"{warm['files_per_s'] / cold['files_per_s']:.1f} x cold; {warm['cached']} from cache",
            ),
        ]
        for name, fps, note in rows:
            print(f"{name:18s} {fps:9.0f} files/s   {note}")
        print(
            f"memory (parent max RSS): {small['files']} files {small['parent_max_rss_mb']} MB, "
            f"{cold['files']} files {cold['parent_max_rss_mb']} MB; workers {cold['worker_max_rss_mb']} MB"
        )
        bag = measure_dagbag(args.airflow_python, dags, args.dagbag_sample, work)
        if isinstance(bag, str):
            print(f"Airflow DagBag     {bag}")
        else:
            print(
                f"Airflow DagBag     {bag['files_per_s']:9.0f} files/s   {bag['ms_per_file_1core']:.1f} ms/file on "
                f"1 core over {bag['files']} files ({bag['dags']} DAGs, {bag['errors']} import errors), "
                f"start-up {bag['startup_s']:.1f} s"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
