"""Scale goals of issue 19, measured side by side in one run.

Prints, with the ratio to its goal's reference measured in the same run:

1. peak memory (max RSS of the child process) of ``wfconv parse DIR`` and
   ``wfconv convert DIR --to prefect`` over 1,000 and 10,000 generated DAG
   files (``bench_parse.dag_file``: ~7 KB, 50 tasks each) — goal: flat in the
   number of files, under 300 MB;
2. ``wfconv run IR --date D`` (a child, wall time, the IR that ``wfconv parse``
   writes) against ``wfconv.runtime.run`` in-process on the same layered
   workflow of 10k and 100k tasks (``bench_runtime.layered``) — goal: ≤ 3x;
   beside it the start-up alone (the interpreter, ``--version``, a 1-task
   run), the command's own phases in-process (reading and checking the IR,
   writing the table, the JSON) and the ``--db`` path (a fresh store);
3. a decade of hourly runs of a 10-task chain (catch-up, in-process) against
   bare ``cronsim`` enumerating the same ticks — goal: ≤ 10x;
4. a cold ``wfconv audit`` (no cache) against ``ruff check --select AIR
   --preview --no-cache`` on the same files — goal: ≤ 3x.

The CLI children of 2 and 4 run with their bytecode cached (in the work
folder), as an installed wfconv has it (pip compiles it at install time);
where ``PYTHONDONTWRITEBYTECODE`` is set, every start would otherwise compile
all of wfconv again. ``--no-bytecode-cache`` measures that case. Ratios are of
medians of ``--reps`` runs taken in turn (the machine is shared).

    python bench/bench_scale.py                        # the sizes above
    python bench/bench_scale.py --files 200 2000 --tasks 10000 --years 2   # a quick look
    python bench/bench_scale.py --only convert --files 1000 3000   # convert alone
    python bench/bench_scale.py --only run --tasks 10000 100000 --reps 5   # run alone
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_parse import generate  # noqa: E402
from bench_runtime import layered  # noqa: E402

BIN = Path(sys.executable).parent
WFCONV = [sys.executable, "-m", "wfconv"]
ENV = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


class Child(NamedTuple):
    wall: float  # seconds
    rss: float  # its own max RSS, MB
    code: int
    cpu: float  # user + system seconds, its reaped children (audit workers) included


def child(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> Child:
    """Run ``cmd`` and measure it (wall time counts the machine's other work
    too: on a shared machine CPU seconds are the steadier figure)."""
    with tempfile.TemporaryFile() as err_file:
        t0 = time.perf_counter()
        # stderr to a file, not a pipe: convert's ledger would fill a pipe and block.
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err_file, cwd=cwd, env=env or ENV
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        err = err_file.read().decode(errors="replace")
    if code not in (0, 1):
        tail = "\n".join(err.strip().splitlines()[-3:])
        print(f"  ! {' '.join(cmd[:4])} ... exited {code}: {tail}", file=sys.stderr)
    return Child(wall, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime)


def cached_env(work: Path, on: bool) -> dict:
    """The children's environment: bytecode cached in ``work`` (``on``), or
    this process's own (which may forbid writing bytecode)."""
    if not on:
        return ENV
    env = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def median_child(cmd: list[str], reps: int, env: dict) -> tuple[Child, Child]:
    """(median, best) of ``reps`` runs of ``cmd`` (by wall time)."""
    runs = sorted((child(cmd, env=env) for _ in range(reps)), key=lambda c: c.wall)
    mid = runs[len(runs) // 2]
    return mid, runs[0]


def best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def best_cpu(fn, reps: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``fn`` in this process."""
    runs = []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - t, time.process_time() - c))
    return min(runs)


# -- 1. memory of parse / convert over folders --------------------------------


def bench_memory(work: Path, sizes: list[int], commands=("parse", "convert")) -> None:
    print("1. peak memory (child max RSS) over generated folders (goal: flat, < 300 MB)")
    rows: dict[str, dict[int, float]] = {c: {} for c in commands}
    for n in sizes:
        folder = work / f"dags_{n}"
        folder.mkdir()
        generate(folder, n)
        out = work / f"out_{n}"
        out.mkdir()
        figures = []
        if "parse" in commands:
            wall_p, rss_p, *_ = child([*WFCONV, "parse", str(folder), "-o", str(out / "ir.json")])
            rows["parse"][n] = rss_p
            figures.append(f"parse {rss_p:7.1f} MB ({wall_p:6.1f} s)")
        if "convert" in commands:
            conv = child(
                [*WFCONV, "convert", str(folder), "--to", "prefect", "-o", str(out / "conv")]
            )
            written = sum(1 for _ in (out / "conv").iterdir()) if (out / "conv").is_dir() else 0
            rows["convert"][n] = conv.rss
            figures.append(
                f"convert {conv.rss:7.1f} MB ({conv.wall:6.1f} s, "
                f"{conv.cpu / n * 1000:5.1f} ms CPU/file, {written} files in -o)"
            )
        print(f"   {n:>6} files: " + ", ".join(figures))
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    lo, hi = min(sizes), max(sizes)
    if lo != hi:
        growth = ", ".join(f"{c} x{rows[c][hi] / rows[c][lo]:.2f}" for c in commands)
        print(f"   growth {lo}->{hi} files: {growth} (1.00 = flat)")


# -- 2. CLI run vs API run ----------------------------------------------------


def _cpu(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of one call of ``fn`` in this process."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def _median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _phases(ir: Path) -> tuple[tuple[float, float], ...]:
    """(wall, CPU) of what `wfconv run IR` does in-process, phase by phase
    (with the collector paused, as there): reading and checking the IR,
    then writing the run's table and its JSON."""
    import io

    from wfconv.cli.run import render_table
    from wfconv.frontends import load_path
    from wfconv.ir.validate import require_valid
    from wfconv.jsonstream import ArrayWriter
    from wfconv.runtime import run
    from wfconv.runtime.api import gc_paused

    loaded = []
    with gc_paused():
        load = _cpu(lambda: loaded.append(load_path(ir)))
        require_valid(loaded[0], read=True)
        results = run(loaded[0].workflows[0], date="2024-01-01")

        def as_json():
            out = ArrayWriter(io.StringIO().write, False, head='{"runs":')
            for r in results:
                out.add(r.to_dict())
            out.close()

        table = _cpu(lambda: render_table(results, io.StringIO()))
        return load, table, _cpu(as_json)


def bench_run(work: Path, sizes: list[int], reps: int, env: dict) -> None:
    from wfconv.ir.jsonio import dumps
    from wfconv.ir.model import Bundle
    from wfconv.runtime import run

    print("2. `wfconv run IR --date D` (a child) vs wfconv.runtime.run in-process (goal <= 3x)")
    tiny = work / "layered_1.json"
    tiny.write_text(dumps(Bundle([layered(1)]), indent=False), encoding="utf-8")
    run_tiny = [*WFCONV, "run", str(tiny), "--date", "2024-01-01", "--no-db", "--format", "json"]
    child(run_tiny, env=env)  # fills the bytecode cache
    python, _ = median_child([sys.executable, "-c", "pass"], reps, env)
    startup, _ = median_child([*WFCONV, "--version"], reps, env)
    run_startup, _ = median_child(run_tiny, reps, env)
    print(
        "   start-up (CPU, median): "
        f"interpreter alone {python.cpu * 1000:.0f} ms, `wfconv --version` "
        f"{startup.cpu * 1000:.0f} ms, `wfconv run` of a 1-task IR {run_startup.cpu * 1000:.0f} ms "
        f"(wall {python.wall * 1000:.0f} / {startup.wall * 1000:.0f} / "
        f"{run_startup.wall * 1000:.0f} ms): inside every CLI figure below; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for n in sizes:
        w = layered(n)
        ir = work / f"layered_{n}.json"
        ir.write_text(dumps(Bundle([w]), indent=False), encoding="utf-8")
        api_runs, load_runs, table_runs, json_runs = [], [], [], []
        for _ in range(reps):
            api_runs.append(_cpu(functools.partial(run, w, date="2024-01-01")))
            load, table, as_json = _phases(ir)
            load_runs.append(load)
            table_runs.append(table)
            json_runs.append(as_json)
        api, api_cpu = _median_pair(api_runs)
        load, load_cpu = _median_pair(load_runs)
        print(
            f"   {n:>7} tasks: API {api:6.2f} s wall ({api / n * 1e6:5.1f} us/task), "
            f"{api_cpu:6.2f} s CPU (median of {reps})"
        )
        print(
            f"            in-process phases of the command (CPU): IR load + checks "
            f"{load_cpu * 1000:6.0f} ms ({load_cpu / api_cpu:.1f}x the API run), "
            f"table {_median_pair(table_runs)[1] * 1000:5.0f} ms, "
            f"json {_median_pair(json_runs)[1] * 1000:5.0f} ms"
        )
        db = work / "runs.sqlite"
        for f, extra in (
            ("table", ["--no-db"]),
            ("json", ["--no-db"]),
            ("table", ["--db", str(db)]),
        ):
            cmd = [*WFCONV, "run", str(ir), "--date", "2024-01-01", *extra, "--format", f]
            runs = []
            for _ in range(reps):
                db.unlink(missing_ok=True)  # each run records into a fresh store
                runs.append(child(cmd, env=env))
            runs.sort(key=lambda c: c.wall)
            cli, fast = runs[len(runs) // 2], runs[0]
            cpu = statistics.median(c.cpu for c in runs)
            label = f"{f} {extra[0]}"
            print(
                f"            CLI {label:<14} {cli.wall:6.2f} s wall, {cpu:6.2f} s CPU: "
                f"CLI = {cli.wall / api:.1f}x API wall, {cpu / api_cpu:.1f}x API CPU "
                f"(best run {fast.wall / api:.1f}x)"
            )


# -- 3. a decade of hourly runs vs cronsim ------------------------------------


def bench_decade(years: int) -> None:
    from datetime import UTC, datetime

    from cronsim import CronSim

    from wfconv.ir.model import Edge, Schedule
    from wfconv.runtime import run
    from wfconv.runtime.api import gc_paused, iter_run

    w = layered(10)
    w.edges = [Edge(f"t{i}", f"t{i + 1}") for i in range(9)]
    w.schedule = Schedule("cron", cron="@hourly")
    w.start_date = f"{2024 - years}-01-01T00:00:00+00:00"
    w.catchup = True
    now = datetime(2024, 1, 1, tzinfo=UTC)
    start = datetime(2024 - years, 1, 1, tzinfo=UTC)

    def ticks() -> int:
        n = 0
        for t in CronSim("0 * * * *", start):
            if t > now:
                break
            n += 1
        return n

    n_ticks = ticks()
    bare, bare_cpu = best_cpu(ticks, 3)
    n_runs = 0

    def sim():
        nonlocal n_runs
        with gc_paused():
            n_runs = len(run(w, now=now))

    def streamed():
        nonlocal n_runs
        n_runs = sum(1 for _ in iter_run(w, now=now))

    print(f"3. {years} years of hourly runs of a 10-task chain (goal <= 10x cronsim)")
    print(f"   cronsim {bare:6.3f} s wall, {bare_cpu:6.3f} s CPU for {n_ticks} ticks")
    for name, fn in (("run() (every result kept)", sim), ("iter_run() (streamed)", streamed)):
        t, cpu = best_cpu(fn, 1)
        print(
            f"   {name:<26} {t:6.2f} s wall, {cpu:6.2f} s CPU for {n_runs} runs "
            f"({cpu / n_runs * 1e6:5.1f} us CPU/run): {t / bare:.1f}x cronsim wall, "
            f"{cpu / bare_cpu:.1f}x CPU"
        )


# -- 4. cold audit vs ruff ----------------------------------------------------


def bench_audit(work: Path, n: int, reps: int, env: dict) -> None:
    folder = work / "audit"
    folder.mkdir()
    generate(folder, n)
    warm = work / "audit_warm"
    warm.mkdir()
    generate(warm, 2)
    ruff = shutil.which("ruff", path=str(BIN)) or shutil.which("ruff")
    audit_cmd = [*WFCONV, "audit", "--no-cache", "--fail-on", "never"]
    child([*audit_cmd, str(warm)], env=env)  # fills the bytecode cache
    print(f"4. cold audit vs ruff's Airflow rules on {n} files (goal <= 3x)")
    if ruff is None:
        audit, _ = median_child([*audit_cmd, str(folder)], reps, env)
        print(f"   audit {audit.wall:6.2f} s; ruff not found (it is in the test extra)")
        return
    ruff_cmd = [ruff, "check", "--select", "AIR", "--preview", "--no-cache", "--quiet"]
    audits, ruffs = [], []
    for _ in range(reps):  # in turn, so that both see the same machine load
        audits.append(child([*audit_cmd, str(folder)], env=env))
        ruffs.append(child([*ruff_cmd, str(folder)], env=env))
    wall_a = statistics.median(c.wall for c in audits)
    wall_r = statistics.median(c.wall for c in ruffs)
    cpu_a = statistics.median(c.cpu for c in audits)
    cpu_r = statistics.median(c.cpu for c in ruffs)
    ratios = sorted(a.wall / r.wall for a, r in zip(audits, ruffs, strict=True))
    print(
        f"   wall (cold, all cores): wfconv audit {wall_a:6.2f} s, ruff {wall_r:6.2f} s: "
        f"audit = {wall_a / wall_r:.1f}x ruff (medians of {reps}; "
        f"per pair {ratios[0]:.1f}x .. {ratios[-1]:.1f}x)"
    )
    print(
        f"   CPU (user + system):    wfconv audit {cpu_a:6.2f} s, ruff {cpu_r:6.2f} s: "
        f"audit = {cpu_a / cpu_r:.1f}x ruff"
    )
    one, _ = median_child([*audit_cmd, str(warm)], reps, env)
    print(
        f"   fixed cost (audit of 2 files): {one.wall:5.2f} s wall, {one.cpu:5.2f} s CPU; "
        f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--tasks", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--audit-files", type=int, default=1000)
    ap.add_argument(
        "--reps", type=int, default=3, help="median of N (2. and 4.: the machine is shared)"
    )
    ap.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="2. and 4.: children compile wfconv at every start (PYTHONDONTWRITEBYTECODE as set)",
    )
    ap.add_argument(
        "--only",
        choices=["memory", "convert", "run", "decade", "audit"],
        action="append",
        default=None,
        help="memory: parse and convert; convert: convert alone",
    )
    args = ap.parse_args(argv)
    only = set(args.only or ["memory", "run", "decade", "audit"])
    work = Path(tempfile.mkdtemp(prefix="wfconv-bench-scale-"))
    try:
        if "memory" in only:
            bench_memory(work, args.files)
        elif "convert" in only:
            bench_memory(work, args.files, ("convert",))
        env = cached_env(work, not args.no_bytecode_cache)
        if "run" in only:
            bench_run(work, args.tasks, args.reps, env)
        if "decade" in only:
            bench_decade(args.years)
        if "audit" in only:
            bench_audit(work, args.audit_files, args.reps, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
