"""Parse speed: wfconv's static Airflow reader against Airflow's own DagBag.

Generates N DAG files (~7 KB, 50 tasks each: Bash/Python/Empty operators,
default_args, a loop-built fan-out, templated commands) in a temporary folder,
then on one CPU core, alternating batches of files between the two readers
so that both see the same machine load:

- times ``wfconv.frontends.load_path`` per file (read + detect + parse +
  validate: everything ``wfconv parse`` does except printing);
- when possible, installs ``apache-airflow==2.10.5`` into a separate virtualenv
  (the side virtualenvs of ``wfconv engines install``, or ``--airflow-venv``) and times
  ``DagBag.process_file`` on the same files in the same run, in a worker
  process (``import airflow`` is timed apart: it is paid once per process).

Prints median ms/file and files/s for both and the ratio. Not a CI assertion.

    python bench/bench_parse.py                 # 1,000 files, with Airflow
    python bench/bench_parse.py --files 200 --no-airflow
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from wfconv.engines.provision import AIRFLOW_RELEASES, engines_dir, install_airflow

# Airflow 2's last line and Airflow 3 (its DagBag builds task-SDK operators and
# is slower per file): both are measured by default, in the same run.
AIRFLOW_VERSIONS = ("2.10.5", "3.3.2")
AIRFLOW_VERSION = AIRFLOW_VERSIONS[0]
VENV_ROOT = engines_dir()  # shared with `wfconv engines install`
DEFAULT_VENV = VENV_ROOT / f"airflow-{AIRFLOW_VERSION}"


def venv_for(version: str) -> Path:
    return VENV_ROOT / f"airflow-{version}"


def one_core() -> int | None:
    """Pin this process to one core (and return it) so both readers compare fairly."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def dag_file(i: int) -> str:
    """One realistic ~7 KB DAG file with 50 tasks."""
    regions = ["eu", "us", "apac", "latam"]
    lines = [
        f'"""Generated benchmark DAG {i}: daily ingestion and reporting."""',
        "from datetime import datetime, timedelta",
        "",
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        "from airflow.operators.empty import EmptyOperator",
        "from airflow.operators.python import PythonOperator",
        "",
        f"REGIONS = {regions!r}",
        "",
        "default_args = {",
        '    "owner": "bench",',
        f'    "retries": {i % 4},',
        '    "retry_delay": timedelta(minutes=5),',
        "}",
        "",
        "",
        "def summarize(region, **context):",
        '    """Summarize one region."""',
        '    print("summary", region, context["ds"])',
        "",
        "",
        "with DAG(",
        f'    dag_id="bench_dag_{i:04d}",',
        f'    schedule="{i % 60} {i % 24} * * *",',
        "    start_date=datetime(2024, 1, 1),",
        "    catchup=False,",
        "    default_args=default_args,",
        '    tags=["bench"],',
        ") as dag:",
        '    start = EmptyOperator(task_id="start")',
        '    end = EmptyOperator(task_id="end", trigger_rule="all_done")',
        "    prev = start",
    ]
    n = 0
    for k in range(20):
        lines.append(
            f"    step_{k:02d} = BashOperator(\n"
            f'        task_id="step_{k:02d}",\n'
            f'        bash_command="run step_{k:02d}.py {{{{ ds }}}}",\n'
            f"        execution_timeout=timedelta(minutes={10 + k}),\n"
            f"    )"
        )
        lines.append(f"    prev >> step_{k:02d}")
        lines.append(f"    prev = step_{k:02d}")
        n += 1
    for k in range(12):
        lines.append(
            f"    load_{k:02d} = BashOperator(\n"
            f'        task_id="load_{k:02d}",\n'
            f"        bash_command=\"load t{k:02d} '{{{{ ds }}}}'\",\n"
            f"    )"
        )
        lines.append(f"    prev >> load_{k:02d} >> end")
        n += 1
    lines.append("    for region in REGIONS:")
    lines.append(
        "        report = PythonOperator(\n"
        '            task_id=f"report_{region}",\n'
        "            python_callable=summarize,\n"
        '            op_kwargs={"region": region},\n'
        "        )"
    )
    lines.append("        prev >> report >> end")
    n += len(regions)
    remaining = 50 - n - 2
    for k in range(remaining):
        lines.append(f'    check_{k:02d} = EmptyOperator(task_id="check_{k:02d}")')
        lines.append(f"    start >> check_{k:02d} >> end")
    return "\n".join(lines) + "\n"


def generate(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        p = folder / f"bench_dag_{i:04d}.py"
        p.write_text(dag_file(i), encoding="utf-8")
        paths.append(p)
    return paths


def time_wfconv(paths: list[Path]) -> dict:
    from wfconv.frontends import load_path

    times = []
    tasks = 0
    for p in paths:
        t0 = time.perf_counter()
        b = load_path(str(p))
        times.append(time.perf_counter() - t0)
        tasks += sum(len(w.tasks) for w in b.workflows)
    return {"times": times, "tasks": tasks}


def time_ast_parse(paths: list[Path]) -> list[float]:
    """``ast.parse`` alone per file: the floor under any reader built on Python's ast."""
    import ast

    times = []
    for p in paths:
        text = p.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        ast.parse(text, filename=str(p))
        times.append(time.perf_counter() - t0)
    return times


AIRFLOW_WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    t0 = time.perf_counter()
    import airflow
    try:  # Airflow >= 3.1
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    import inspect
    import_s = time.perf_counter() - t0
    accepted = inspect.signature(DagBag.__init__).parameters
    opts = {k: v for k, v in (("include_examples", False), ("read_dags_from_db", False))
            if k in accepted}
    bag = DagBag(dag_folder=os.devnull, **opts)
    print("@@" + json.dumps({"import_s": import_s, "version": airflow.__version__}), flush=True)
    for line in sys.stdin:
        times, whole, tasks, errors = [], [], 0, 0
        for p in json.loads(line):
            # (1) the marginal cost: one more file through a long-lived DagBag
            t = time.perf_counter()
            dags = bag.process_file(p, only_if_updated=False, safe_mode=False)
            times.append(time.perf_counter() - t)
            tasks += sum(len(d.tasks) for d in dags)
            errors += 0 if dags else 1
            # (2) what `DagBag(dag_folder=file)` costs (a CLI-style one-file load)
            t = time.perf_counter()
            DagBag(dag_folder=p, **opts)
            whole.append(time.perf_counter() - t)
        print("@@" + json.dumps({"times": times, "whole": whole, "tasks": tasks, "errors": errors}), flush=True)
    """
)


def ensure_airflow(venv: Path, version: str = AIRFLOW_VERSION) -> Path | None:
    """The python of a virtualenv with apache-airflow==version installed, or None."""
    for major, release in AIRFLOW_RELEASES.items():
        if release == version and venv == venv_for(version):
            try:
                return install_airflow(major, log=lambda m: print(m, file=sys.stderr))
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                print(f"skipping Airflow {version}: {exc}", file=sys.stderr)
                return None
    py = venv / "bin" / "python"
    if py.exists():
        ok = subprocess.run([str(py), "-c", "import airflow"], capture_output=True, timeout=300)
        if ok.returncode == 0:
            return py
    print(f"installing apache-airflow=={version} into {venv} (one time) ...", file=sys.stderr)
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
        )
        r = subprocess.run(
            [str(py), "-m", "pip", "install", "-q", f"apache-airflow=={version}"],
            capture_output=True,
            text=True,
            timeout=1200,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"skipping Airflow: cannot create the virtualenv ({exc})", file=sys.stderr)
        return None
    if r.returncode != 0:
        tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        print(f"skipping Airflow: pip install failed:\n{tail}", file=sys.stderr)
        return None
    return py


class AirflowWorker:
    """DagBag in a child process of the Airflow virtualenv, fed batch by batch."""

    def __init__(self, py: Path, cpu: int | None):
        home = tempfile.mkdtemp(prefix="wfconv-bench-airflow-home-")
        env = dict(os.environ)
        env.update(
            {
                "AIRFLOW_HOME": home,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                # Compile from source every time, as wfconv does (no .pyc reuse).
                "PYTHONDONTWRITEBYTECODE": "1",
                "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "0",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            }
        )
        script = Path(home) / "dagbag_worker.py"
        script.write_text(AIRFLOW_WORKER, encoding="utf-8")
        preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        self.proc = subprocess.Popen(
            [str(py), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=preexec,
        )
        self.info = self._read()

    def _read(self) -> dict:
        # Airflow may log on stdout; the worker's answers start with "@@".
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError("Airflow worker stopped:\n" + "\n".join(err.splitlines()[-5:]))
            if line.startswith("@@"):
                return json.loads(line[2:])

    def run(self, paths: list[Path]) -> dict:
        self.proc.stdin.write(json.dumps([str(p) for p in paths]) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times) * 1000, len(times) / sum(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--no-airflow", action="store_true", help="time wfconv only")
    ap.add_argument(
        "--airflow-version",
        action="append",
        help=f"Airflow release(s) to measure DagBag of (default: {', '.join(AIRFLOW_VERSIONS)})",
    )
    ap.add_argument(
        "--airflow-venv", type=Path, help="an existing virtualenv with Airflow (one version)"
    )
    ap.add_argument("--batch", type=int, default=25, help="files per alternating batch")
    args = ap.parse_args(argv)

    cpu = one_core()
    with tempfile.TemporaryDirectory(prefix="wfconv-bench-") as tmp:
        paths = generate(Path(tmp), args.files)
        sizes = [p.stat().st_size for p in paths]
        print(
            f"corpus: {len(paths)} files, mean {statistics.mean(sizes) / 1024:.1f} KB, "
            f"50 tasks each; pinned to cpu {cpu}"
        )
        time_wfconv(paths[:5])  # warm-up: imports and caches (not counted)
        workers = [] if args.no_airflow else start_workers(args, paths[:5], cpu)
        w_times: list[float] = []
        p_times: list[float] = []
        a_res = [{"times": [], "whole": [], "tasks": 0, "errors": 0} for _ in workers]
        w_tasks = 0
        for k in range(0, len(paths), args.batch):
            batch = paths[k : k + args.batch]
            w = time_wfconv(batch)
            w_times += w["times"]
            w_tasks += w["tasks"]
            p_times += time_ast_parse(batch)
            for worker, acc in zip(workers, a_res, strict=True):
                a = worker.run(batch)
                for key in ("times", "whole", "tasks", "errors"):
                    acc[key] += a[key]
        w_med, w_fps = summary(w_times)
        p_med = statistics.median(p_times) * 1000
        print(f"wfconv  : median {w_med:6.2f} ms/file, {w_fps:7.1f} files/s ({w_tasks} tasks)")
        print(
            f"ast     : median {p_med:6.2f} ms/file (`ast.parse` alone, inside wfconv's time; "
            f"wfconv = {w_med / p_med:.2f}x ast.parse)"
        )
        for worker, acc in zip(workers, a_res, strict=True):
            worker.close()
            report(worker.info, acc, w_med, w_fps, p_med)
    return 0


def start_workers(args, warmup: list[Path], cpu: int | None) -> list[AirflowWorker]:
    if args.airflow_venv is not None:
        venvs = [(None, args.airflow_venv)]
    else:
        venvs = [(v, venv_for(v)) for v in (args.airflow_version or AIRFLOW_VERSIONS)]
    workers = []
    for version, venv in venvs:
        py = ensure_airflow(venv, version) if version else ensure_airflow(venv)
        if py is None:
            continue
        try:
            worker = AirflowWorker(py, cpu)
            worker.run(warmup)
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"skipping Airflow {version or venv}: {exc}", file=sys.stderr)
            continue
        workers.append(worker)
    return workers


def report(info: dict, acc: dict, w_med: float, w_fps: float, p_med: float) -> None:
    v = info["version"]
    a_med, a_fps = summary(acc["times"])
    b_med, _ = summary(acc["whole"])
    print(
        f"airflow {v}: median {a_med:6.2f} ms/file, {a_fps:7.1f} files/s ({acc['tasks']} tasks, "
        f"DagBag.process_file; `import airflow` took {info['import_s']:.2f} s once, "
        f"{acc['errors']} files without a DAG); a new DagBag(dag_folder=file) per file: "
        f"{b_med:6.2f} ms"
    )
    print(
        f"ratio {v}: wfconv is {a_med / w_med:.1f}x faster per file than DagBag.process_file "
        f"(median; {w_fps / a_fps:.1f}x in files/s), {b_med / w_med:.1f}x than a new DagBag; "
        f"`ast.parse` alone is {a_med / p_med:.1f}x (the ceiling for any ast-based reader)"
    )


if __name__ == "__main__":
    sys.exit(main())
