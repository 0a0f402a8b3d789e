"""Benchmark `wfconv audit` against the bare `ast.parse` floor and Airflow's DagBag.

    python bench/bench_audit.py                 # 10,000 generated DAG files (7 KB, 50 tasks)
    python bench/bench_audit.py --files 2000    # fewer
    python bench/bench_audit.py --no-airflow    # without the DagBag reference

Prints files/s for: the `ast.parse` floor (read + parse, same process pool size),
a cold audit (empty cache), a warm audit (same files, cache filled), the peak
memory of the audit's parent process for 1/10 of the files and for all of them
(flat means streaming works), and Airflow's DagBag on a sample when an Airflow
virtualenv can be had (bench_parse.ensure_airflow: a separate virtualenv per
release, Airflow 2.10.5 and 3.3.2, installed once; Airflow is not a dependency of wfconv).
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

# One corpus definition and one Airflow harness for every benchmark: the parse
# benchmark's ~7 KB / 50-task DAG generator, its virtualenv installer and its
# DagBag worker (DagBag.process_file per file in the Airflow virtualenv, pinned
# to one core).
import bench_parse  # noqa: E402
from bench_parse import ensure_airflow, generate  # noqa: E402

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


def measure_audit(folder: str, jobs: int, cache: str, src: str) -> dict:
    sys.path.insert(0, src)
    from wfconv.audit.report import TableReporter
    from wfconv.audit.run import Options, audit

    with open(os.devnull, "w") as sink:
        t0 = time.perf_counter()
        s = audit([folder], Options(jobs=jobs, cache_dir=cache or None), TableReporter(sink))
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


def measure_dagbag(
    venv: Path, folder: Path, sample: int, skip: bool, version: str | None = None
) -> dict | str:
    if skip:
        return "skipped (--no-airflow)"
    worker_cls = getattr(bench_parse, "AirflowWorker", None)
    if worker_cls is None:
        return "skipped: bench/bench_parse.py has no AirflowWorker harness"
    py = ensure_airflow(venv, version) if version else ensure_airflow(venv)
    if py is None:
        return "skipped: Airflow could not be installed in a separate virtualenv (see stderr)"
    paths = sorted(folder.glob("*.py"))[:sample]
    # Pin the Airflow child to one core, as the parse benchmark does.
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    try:
        worker = worker_cls(py, cpu)
        worker.run(paths[:5])  # warm-up, not counted
        out = worker.run(paths)
        worker.close()
    except (OSError, RuntimeError, ValueError) as exc:
        return f"failed: {exc}"
    secs = sum(out["times"])
    return {
        "files": len(out["times"]),
        "ms_per_file_1core": secs / len(out["times"]) * 1000,
        "startup_s": worker.info["import_s"],
        "version": worker.info["version"],
        "errors": out["errors"],
        "tasks": out["tasks"],
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
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument(
        "--airflow-venv",
        type=Path,
        default=None,
        help="one virtualenv with apache-airflow (default: Airflow "
        f"{' and '.join(bench_parse.AIRFLOW_VERSIONS)}, each installed once in its own)",
    )
    ap.add_argument("--no-airflow", action="store_true", help="skip the DagBag reference")
    ap.add_argument("--dagbag-sample", type=int, default=200)
    ap.add_argument("--keep", help="generate into this folder and keep it")
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        what, *rest = args.measure
        if what == "floor":
            print(json.dumps(measure_floor(rest[0], int(rest[1]))))
        else:
            print(json.dumps(measure_audit(rest[0], int(rest[1]), rest[2], rest[3])))
        return 0

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wfconv-bench-"))
    try:
        dags = work / "dags"
        tenth = work / "dags_tenth"
        t0 = time.perf_counter()
        dags.mkdir(parents=True)
        tenth.mkdir(parents=True)
        generate(dags, args.files)
        generate(tenth, max(1, args.files // 10))
        size = sum(p.stat().st_size for p in dags.glob("*.py")) / args.files
        print(
            f"generated {args.files} DAG files (bench_parse.dag_file), {size / 1024:.1f} KB, 50 tasks each, "
            f"in {time.perf_counter() - t0:.1f} s; {args.jobs} jobs"
        )
        # Audit a snapshot of the package: the cache key includes a fingerprint of
        # wfconv's code, and a checkout being edited would change it between runs.
        src = work / "src"
        shutil.copytree(
            ROOT / "wfconv", src / "wfconv", ignore=shutil.ignore_patterns("__pycache__")
        )
        floor = _sub("floor", str(dags), str(args.jobs))
        cache = work / "cache"
        cold = _sub("audit", str(dags), str(args.jobs), str(cache), str(src))
        warm = _sub("audit", str(dags), str(args.jobs), str(cache), str(src))
        small = _sub("audit", str(tenth), str(args.jobs), str(work / "cache_tenth"), str(src))
        rows = [
            (
                "ast.parse floor",
                floor["files_per_s"],
                f"{floor['ms_per_file_1core']:.2f} ms/file on 1 core",
            ),
            (
                "audit cold",
                cold["files_per_s"],
                f"{floor['files_per_s'] / cold['files_per_s']:.1f} x the floor's time per file; {cold['workflows']} workflows, "
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
        venvs = (
            [(None, args.airflow_venv)]
            if args.airflow_venv is not None
            else [(v, bench_parse.venv_for(v)) for v in bench_parse.AIRFLOW_VERSIONS]
        )
        sample = work / "sample"
        sample.mkdir()
        for p in sorted(dags.glob("*.py"))[: args.dagbag_sample]:
            shutil.copy(p, sample / p.name)
        for version, venv in venvs:
            bag = measure_dagbag(venv, dags, args.dagbag_sample, args.no_airflow, version)
            if isinstance(bag, str):
                print(f"Airflow DagBag     {bag}")
                continue
            # The same sample audited on one core right after DagBag, without cache:
            # a like-for-like figure on a machine whose load changes during the run.
            one = _sub("audit", str(sample), "0", "", str(src))
            per_core = 1000 / bag["ms_per_file_1core"]
            print(
                f"Airflow DagBag     {per_core * args.jobs:9.0f} files/s   ({args.jobs} cores x {per_core:.0f}); "
                f"{bag['ms_per_file_1core']:.1f} ms/file on 1 core over a sample of {bag['files']} files, "
                f"plus {bag['startup_s']:.1f} s start-up (import airflow); Airflow {bag['version']}, "
                f"{bag['errors']} files without a DAG"
            )
            ms = one["seconds"] / one["files"] * 1000
            print(
                f"audit, 1 core      {1000 / ms:9.0f} files/s   {ms:.1f} ms/file on the same sample right after "
                f"DagBag (in-process, no cache): {bag['ms_per_file_1core'] / ms:.1f} x faster than DagBag"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
