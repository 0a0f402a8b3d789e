"""Scale: wfconv accepts what it writes, and corpus output keeps its data."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from wfconv.ir import Action, Bundle, Task, Workflow, dumps

ROOT = Path(__file__).resolve().parent.parent


def _wfconv(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "wfconv", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _chain(n: int) -> Bundle:
    w = Workflow("big", tasks=[Task(f"t{i}", Action("empty")) for i in range(n)])
    for i in range(1, n):
        w.add_edge(f"t{i - 1}", f"t{i}")
    return Bundle([w])


@pytest.mark.slow
def test_a_100k_task_ir_written_by_parse_runs(tmp_path):
    src = tmp_path / "chain.json"
    src.write_text(dumps(_chain(100_000)), encoding="utf-8")
    assert src.stat().st_size > 32 * 2**20  # above the old limit: indented, it is large
    out = tmp_path / "parsed.json"
    r = _wfconv("parse", str(src), "--indent", "-o", str(out))
    assert r.returncode == 0, r.stderr
    r = _wfconv("run", str(out), "--no-db", "--format", "json")
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(r.stdout)
    (run,) = doc["runs"]
    assert run["state"] == "success"
    assert len(run["tasks"]) == 100_000


def test_size_limit_names_the_setting_that_raises_it(tmp_path, monkeypatch):
    src = tmp_path / "chain.json"
    src.write_text(dumps(_chain(3)), encoding="utf-8")
    monkeypatch.setenv("WFCONV_MAX_FILE_MB", "0.0001")
    r = subprocess.run(
        [sys.executable, "-m", "wfconv", "parse", str(src)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "WFCONV_MAX_FILE_MB" in r.stderr and "Traceback" not in r.stderr
    monkeypatch.setenv("WFCONV_MAX_FILE_MB", "1")
    r = subprocess.run(
        [sys.executable, "-m", "wfconv", "parse", str(src)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


def test_parse_output_is_compact_for_programs_and_the_same_data(tmp_path):
    src = ROOT / "corpus" / "airflow" / "etl_basic.py"
    compact = _wfconv("parse", str(src))
    indented = _wfconv("parse", "--indent", str(src))
    assert compact.returncode == indented.returncode == 0
    assert compact.stdout.count("\n") == 1
    assert indented.stdout.count("\n") > 10
    assert json.loads(compact.stdout) == json.loads(indented.stdout)


class _FreshTicks:
    """Reference: the tick arithmetic with a new CronSim per question (what
    run generation did before it reused one iterator per schedule)."""

    def __init__(self, expr: str, tz: str):
        from wfconv.runtime.schedule import CronTicks

        self.t = CronTicks(expr, tz)

    def step(self, t, reverse: bool):
        from cronsim import CronSim

        naive = self.t._naive(t)
        scheduled = next(CronSim(self.t.expr, naive, reverse=reverse))
        if not self.t.every_hour:
            return self.t._aware(scheduled)
        return t.astimezone(UTC) + (scheduled - naive)


@pytest.mark.parametrize(
    ("cron", "tz"),
    [
        ("@hourly", "America/New_York"),
        ("30 2 * * *", "America/New_York"),
        ("0 1 * * *", "Europe/Berlin"),
        ("*/20 * * * 1-5", "Europe/Berlin"),
        ("0 0 1 * *", "UTC"),
    ],
)
def test_planning_with_one_iterator_plans_the_same_runs_across_dst(cron, tz, monkeypatch):
    from wfconv.ir import Schedule
    from wfconv.runtime.api import RunOptions, plan_runs
    from wfconv.runtime.schedule import CronTicks

    w = Workflow("w", tasks=[Task("a", Action("empty"))])
    w.schedule = Schedule("cron", cron=cron, timezone=tz)
    w.start_date = "2023-02-27T01:07:00"
    w.catchup = True
    for timetable in ("data_interval", "trigger"):
        opts = RunOptions(now="2023-11-10T00:00:00+00:00", timetable=timetable)
        fast = plan_runs(w, opts)
        with monkeypatch.context() as m:
            m.setattr(
                CronTicks,
                "_step",
                lambda self, t, reverse: _FreshTicks(self.expr, str(self.tz)).step(t, reverse),
            )
            fresh = plan_runs(w, opts)
        assert len(fast) > 5
        assert fast == fresh


def test_streamed_parse_of_a_folder_is_the_same_document(tmp_path, monkeypatch):
    from wfconv.frontends import iter_load, load
    from wfconv.ir.jsonio import bundle_to_dict, dump_stream

    whole = load([ROOT / "corpus"])
    assert len(whole.workflows) > 100 and whole.diagnostics
    for indent in (True, False):
        parts: list[str] = []
        dump_stream(iter_load([ROOT / "corpus"]), parts.append, indent=indent)
        assert "".join(parts) == dumps(whole, indent=indent)
    out = tmp_path / "ir.json"
    r = _wfconv("parse", "corpus/airflow", "corpus/oozie", "-o", str(out))
    assert r.returncode == 2  # the corpus holds unreadable files on purpose
    assert "broken_syntax.py:7: syntax error" in r.stderr
    monkeypatch.chdir(ROOT)  # the same (relative) paths in the document
    expected = bundle_to_dict(load(["corpus/airflow", "corpus/oozie"]))
    assert json.loads(out.read_text(encoding="utf-8")) == expected


def _small_dag(i: int) -> str:
    body = "\n".join(
        f'    t{k} = BashOperator(task_id="t{k}", bash_command="run {k} {{{{ ds }}}}")'
        for k in range(12)
    )
    chain = " >> ".join(f"t{k}" for k in range(12))
    return (
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.operators.bash import BashOperator\n\n"
        f'with DAG("d{i}", schedule="@daily", start_date=datetime(2024, 1, 1)):\n'
        f"{body}\n    {chain}\n"
    )


def _peak_rss_mb(*args: str) -> float:
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "wfconv", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss / 1024


@pytest.mark.slow
def test_parse_memory_does_not_grow_with_the_number_of_files(tmp_path):
    peaks = {}
    for n in (100, 1000):
        folder = tmp_path / f"dags{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"d{i:04d}.py").write_text(_small_dag(i), encoding="utf-8")
        peaks[n] = _peak_rss_mb("parse", str(folder), "-o", str(tmp_path / f"ir{n}.json"))
        doc = json.loads((tmp_path / f"ir{n}.json").read_text(encoding="utf-8"))
        assert len(doc["workflows"]) == n
    # Holding every file's IR costs ~40 KB per file here: 900 more files
    # would be ~35 MB. Streamed, the peak is the same within noise.
    assert peaks[1000] < peaks[100] + 10, peaks


def test_version_evidence_skips_expressions_only_when_no_keyword_can_be_there():
    import ast

    from wfconv.frontends.airflow.version import gather

    files = sorted((ROOT / "corpus").rglob("*.py"))
    seen_keyword = False
    for p in files:
        try:
            text = p.read_text(encoding="utf-8-sig")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # the corpus holds unreadable files on purpose
        full, fast = gather(tree), gather(tree, text)
        assert (fast.hard2, fast.hard3, fast.soft2, fast.soft3) == (
            full.hard2,
            full.hard3,
            full.soft2,
            full.soft3,
        ), p
        seen_keyword |= any("schedule_interval" in why for _, why in fast.hard2)
    assert seen_keyword  # the corpus has files whose keyword is the evidence
    text = "from airflow import DAG\ntry:\n    import airflow.utils.dates\nexcept ImportError:\n    pass\nDAG('d', schedule_interval='@daily')\n"
    ev = gather(ast.parse(text), text)
    assert ev.hard2 == [(6, "`schedule_interval=` (removed in Airflow 3)")]


def test_plain_tables_are_laid_out_as_rich_lays_them_out(monkeypatch):
    # wfconv run prints a row per task: a table where nothing wraps is laid
    # out without rich, in colour or not, and must read exactly as rich's.
    import io
    import random

    from wfconv.cli import term

    class Pipe(io.StringIO):
        def isatty(self):
            return False

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    rng = random.Random(7)
    cells = [None, "", "a", "success", "upstream_failed", 3, 12345, "a  b", " lead", "trail "]
    cells += ["failed", "skipped", "warning"]
    cells += ["caf\u00e9", "tab\there", "bell\x07"]  # rich's: not ASCII, not printable
    fast_path = {Pipe: 0, Terminal: 0}
    real_plain = term._plain_table
    for _ in range(300):
        ncol = rng.randint(1, 5)
        headers = [rng.choice(["TASK", "STATE", "X", "", "A LONG HEADER"]) for _ in range(ncol)]
        rows = [
            [rng.choice([*cells, "x" * rng.randint(0, 40)]) for _ in range(ncol)]
            for _ in range(rng.randint(0, 6))
        ]
        kw = {
            "stream": rng.choice([Pipe(), Terminal()]),  # in colour, or not
            "indent": rng.choice([0, 2]),
            "styled": tuple(i for i in range(ncol) if rng.random() < 0.5),
            "right": tuple(i for i in range(ncol) if rng.random() < 0.3),
            "width": rng.choice([40, 120]),
        }
        fast_path[type(kw["stream"])] += (
            real_plain(
                headers,
                [["-" if c is None else str(c) for c in r] for r in rows],
                kw["stream"],
                kw["indent"],
                kw["right"],
                kw["width"],
                kw["styled"],
            )
            is not None
        )
        fast = term.table_text(headers, rows, **kw)
        monkeypatch.setattr(term, "_plain_table", lambda *a: None)
        assert fast == term.table_text(headers, rows, **kw), (headers, rows, kw)
        monkeypatch.setattr(term, "_plain_table", real_plain)
    assert min(fast_path.values()) > 20, fast_path
