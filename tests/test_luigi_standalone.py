"""A Luigi task's run() as a standalone function (frontends/luigi/standalone.py):
the IR the reader gives, the Airflow and Prefect code that calls it, and what
that code does in the real engines next to what Luigi itself does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_backend_common import RUFF, ruff_clean

from wfconv.backends import airflow
from wfconv.frontends.luigi import parse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "luigi"

SALES_REPORT = """\
def run_sales_report(inputs, output):
    import os

    if os.path.exists(output):
        return  # complete: every output exists, as Luigi checks

    total = 0
    for target in inputs.values():
        with open(target) as fh:
            total += sum(1 for _ in fh) - 1
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    with open(output + "-tmp", "w") as out:
        out.write(f"{total}\\n")
    os.replace(output + "-tmp", output)
"""


def _tasks(path, **options):
    return {t.id: t for w in parse(str(path), **options).workflows for t in w.tasks}


def test_run_becomes_a_function_of_its_paths():
    """self.input() (a dict of requirements) and self.output() become the
    paths the reader evaluated, in the shapes requires() and output() return;
    target.open() is open(path), and a written target is replaced at the end
    of its with block, as LocalTarget does."""
    tasks = _tasks(CORPUS / "daily_sales.py")
    report = tasks["SalesReport"]
    assert report.action.fields["source_code"] == SALES_REPORT
    assert report.action.fields["callable"] == "SalesReport.run"  # Luigi's own form stays
    assert report.extra["luigi"]["run_kwargs"] == {
        "inputs": {
            "crm": "data/clean/crm/2024-03-01.csv",
            "shop": "data/clean/shop/2024-03-01.csv",
            "pos": "data/clean/pos/2024-03-01.csv",
        },
        "output": "reports/sales_20240301.txt",
    }
    normalize = tasks["Normalize(source=shop)"]  # requires() returns one task: one path
    assert normalize.extra["luigi"]["run_kwargs"] == {
        "inputs": "data/raw/shop/2024-03-01.csv",
        "output": "data/clean/shop/2024-03-01.csv",
    }
    assert (
        'with open(inputs) as src, open(output + "-tmp", "w") as out:'
        in (normalize.action.fields["source_code"])
    )


@pytest.mark.parametrize(
    "name", sorted(p.name for p in CORPUS.glob("*.py") if p.name != "broken_syntax.py")
)
def test_import_and_static_readings_give_the_same_functions(name):
    def standalone(tasks):
        return {
            tid: (
                t.action.fields.get("source_code"),
                t.extra.get("luigi", {}).get("run_kwargs"),
                t.extra.get("luigi", {}).get("not_standalone"),
            )
            for tid, t in tasks.items()
        }

    assert standalone(_tasks(CORPUS / name)) == standalone(_tasks(CORPUS / name, static=True))


PIPELINE = '''\
"""A pipeline whose run() bodies use parameters, constants, imports,
list outputs and dict inputs."""

import json
import os.path

import luigi

HEADER = "region,count"


class Split(luigi.Task):
    region = luigi.Parameter()
    parts = luigi.IntParameter(default=2)

    def output(self):
        return [luigi.LocalTarget(f"split/{self.region}/{i}.csv") for i in range(self.parts)]

    def run(self):
        # one file per part, each with the header
        for i, target in enumerate(self.output()):
            with target.open("w") as out:
                out.write(f"{HEADER}\\n{self.region},{i}\\n")


class Summary(luigi.Task):
    verbose = luigi.BoolParameter(default=True)

    def requires(self):
        return {"north": Split(region="north"), "south": Split(region="south", parts=3)}

    def output(self):
        return {"json": luigi.LocalTarget("out/summary.json"), "flag": luigi.LocalTarget("out/_OK")}

    def run(self):
        counts = {}
        for region, targets in self.input().items():
            counts[region] = sum(1 for t in targets if t.exists())
        if self.verbose:
            counts["paths"] = [t.path for t in self.input()["north"]]
        with self.output()["json"].open("w") as out:
            json.dump(counts, out, sort_keys=True)  # what the dashboard reads
        self.output()["flag"].open("w").close()
        assert os.path.exists(self.output()["json"].path)
'''

SUMMARY = """\
def run_summary(inputs, output, verbose):
    import json
    import os

    if all(os.path.exists(path) for path in output.values()):
        return  # complete: every output exists, as Luigi checks

    counts = {}
    for region, targets in inputs.items():
        counts[region] = sum(1 for t in targets if os.path.exists(t))
    if verbose:
        counts["paths"] = [t for t in inputs["north"]]
    os.makedirs(os.path.dirname(output["json"]) or ".", exist_ok=True)
    with open(output["json"] + "-tmp", "w") as out:
        json.dump(counts, out, sort_keys=True)  # what the dashboard reads
    os.replace(output["json"] + "-tmp", output["json"])
    os.makedirs(os.path.dirname(output["flag"]) or ".", exist_ok=True)
    open(output["flag"], "w").close()
    assert os.path.exists(output["json"])
"""


def _luigi_build(module: Path, root: str, work: Path) -> dict[str, str]:
    """Run the module's ``root`` task with Luigi itself in ``work``: the files it wrote."""
    code = (
        "import sys, luigi; sys.path.insert(0, sys.argv[1]); m = __import__(sys.argv[2]); "
        "assert luigi.build([getattr(m, sys.argv[3])()], local_scheduler=True, log_level='ERROR')"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(module.parent), module.stem, root],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return _files(work)


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_parameters_constants_imports_and_comments_are_carried(tmp_path):
    module = tmp_path / "src" / "regions.py"
    module.parent.mkdir()
    module.write_text(PIPELINE)
    tasks = _tasks(module)
    summary = tasks["Summary"]
    assert summary.action.fields["source_code"] == SUMMARY
    assert summary.extra["luigi"]["run_kwargs"] == {
        "inputs": {
            "north": ["split/north/0.csv", "split/north/1.csv"],
            "south": ["split/south/0.csv", "split/south/1.csv", "split/south/2.csv"],
        },
        "output": {"json": "out/summary.json", "flag": "out/_OK"},
        "verbose": True,
    }
    split = tasks["Split(region=north, parts=2)"].action.fields["source_code"]
    assert '    HEADER = "region,count"\n' in split  # a module constant, carried
    assert "    # one file per part, each with the header\n" in split
    assert tasks["Split(region=north, parts=2)"].extra["luigi"]["run_kwargs"]["region"] == "north"

    # the functions, called in dependency order, write what Luigi writes
    ours = tmp_path / "ours"
    ours.mkdir()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    order = ["Split(region=north, parts=2)", "Split(region=south, parts=3)", "Summary"]
    assert set(order) == set(tasks)
    _call_in(ours, [tasks[t] for t in order])
    assert _files(ours) == _luigi_build(module, "Summary", theirs)
    # complete tasks do not run again
    (ours / "out" / "summary.json").write_text("kept")
    _call_in(ours, [tasks["Summary"]])
    assert (ours / "out" / "summary.json").read_text() == "kept"


def _imported(code: str) -> set[str]:
    """The top-level packages a module imports (anywhere in it)."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            out.add((node.module or "").split(".")[0])
    return out


def _call_in(folder: Path, tasks) -> None:
    here = Path.cwd()
    os.chdir(folder)
    try:
        for t in tasks:
            space: dict = {}
            exec(t.action.fields["source_code"], space)  # noqa: S102 - our own test input
            (fn,) = [v for k, v in space.items() if k != "__builtins__"]
            fn(**t.extra["luigi"]["run_kwargs"])
    finally:
        os.chdir(here)


FALLBACKS = [
    ("self.helper()", "        self.helper()\n", "run() uses self.helper()"),
    ("luigi call", "        luigi.configuration.get_config()\n", "run() uses luigi (Luigi)"),
    (
        "target passed",
        "        import shutil\n        shutil.copy(self.input().path, 'x')\n"
        "        print(self.output())\n",
        "run() passes self.output() (a Luigi target) on line",
    ),
    (
        "open without with",
        "        f = self.output().open('w')\n        f.close()\n",
        "run() writes self.output() (a Luigi target) on line 21 outside a with statement",
    ),
    ("dynamic", "        yield Up()\n", "run() yields tasks (dynamic dependencies)"),
    (
        "return in a write",
        "        with self.output().open('w') as f:\n            return f.write('x')\n",
        "run() leaves the with block writing self.output() (a Luigi target) on line 21 early",
    ),
    ("self passed", "        print(self)\n", "run() passes self on line 21"),
    ("module function", "        helper()\n", "run() uses helper of the module"),
]


@pytest.mark.parametrize("case", FALLBACKS, ids=[c[0] for c in FALLBACKS])
def test_what_cannot_be_rewritten_keeps_luigi_and_says_why(tmp_path, case):
    _, body, why = case
    module = tmp_path / "fallback.py"
    module.write_text(
        "import luigi\n\n\ndef helper():\n    pass\n\n\n"
        "class Up(luigi.Task):\n    def output(self):\n        return luigi.LocalTarget('up')\n\n"
        "    def run(self):\n        self.output().open('w').close()\n\n\n"
        "class Down(luigi.Task):\n    def requires(self):\n        return Up()\n\n"
        "    def run(self):\n" + body + "\n    def output(self):\n"
        "        return luigi.LocalTarget('down')\n\n    def helper(self):\n        pass\n"
    )
    tasks = _tasks(module, static=True)
    down = tasks["Down"]
    assert "source_code" not in down.action.fields
    assert down.extra["luigi"]["not_standalone"].startswith(why)
    assert "source_code" in tasks["Up"].action.fields
    out = airflow.emit(parse(str(module), static=True).workflows[0])
    (code,) = [c for n, c in out.files.items() if n.endswith(".py")]
    assert "def run_up(output):" in code and "wfconv_luigi_run" in code
    (warning,) = [d for d in out.diagnostics if d.code == "BA121"]
    assert warning.severity == "warning" and warning.task == "Down"
    assert warning.message.endswith(
        f"its run() is not converted: {down.extra['luigi']['not_standalone']}"
    )


def test_overridden_complete_and_other_targets_keep_luigi():
    assert _tasks(CORPUS / "legacy_hadoop.py")["CountPlays"].extra["luigi"]["not_standalone"] == (
        "output() gives a HdfsTarget (only LocalTarget is a plain file)"
    )
    assert _tasks(CORPUS / "dynamic_deps.py")["ConvertAll"].extra["luigi"]["not_standalone"] == (
        "run() yields tasks (dynamic dependencies)"
    )


def test_overridden_complete_keeps_luigi(tmp_path):
    module = tmp_path / "done.py"
    module.write_text(
        "import luigi\n\n\nclass Once(luigi.Task):\n    def complete(self):\n        return False\n\n"
        "    def output(self):\n        return luigi.LocalTarget('once')\n\n"
        "    def run(self):\n        self.output().open('w').close()\n"
    )
    (once,) = _tasks(module).values()
    assert once.extra["luigi"]["not_standalone"] == "Once overrides complete()"


# ---------------------------------------------------------------------------
# the real engines

AIRFLOW_PROBE = """
import importlib.util, json, os, shutil, sys
from pathlib import Path
import airflow.settings
import pendulum
assert importlib.util.find_spec("luigi") is None and importlib.util.find_spec("prefect") is None
airflow.settings.DAGS_FOLDER = sys.argv[1]  # dag.test() syncs this folder's bundle
dags = {}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags[path.stem] = module.dag
out = {}
for name, dag in dags.items():
    for run in ("first", "again"):
        work = Path(sys.argv[2]) / name / run
        if run == "again":  # every output there already: nothing runs, nothing changes
            shutil.copytree(Path(sys.argv[2]) / name / "first", work)
            for p in work.rglob("*"):
                if p.is_file():
                    p.write_text("kept")
        work.mkdir(parents=True, exist_ok=True)
        os.chdir(work)
        state = dag.test(logical_date=pendulum.datetime(2024, 3, 5, tz="UTC")).state
        out[f"{name}/{run}"] = str(state)
print("WFCONV " + json.dumps(out), flush=True)
"""


@pytest.mark.engine
@pytest.mark.slow
def test_airflow_output_runs_without_luigi_and_writes_what_luigi_writes(tmp_path, airflow3_python):
    """Luigi -> Airflow for the diamond and the daily sales report (which
    reads its inputs): the DAGs load and run with dag.test() in Airflow 3.3.2,
    where neither Luigi nor Prefect is installed, write the files Luigi writes,
    and a second run over complete outputs runs nothing."""
    from wfconv.engines.dagbag import _env, migrated_home

    dags = tmp_path / "dags"
    dags.mkdir()
    for name in ("diamond", "daily_sales"):
        (w,) = parse(str(CORPUS / f"{name}.py")).workflows
        out = airflow.emit(w)
        assert "BA121" not in {d.code for d in out.diagnostics}
        ((_, code),) = [(n, c) for n, c in out.files.items() if n.endswith(".py")]
        assert _imported(code) == {"__future__", "airflow", "os"}
        (dags / f"{name}.py").write_text(code)
        ruff_clean(dags / f"{name}.py")
    home = migrated_home("3", str(airflow3_python))
    try:
        proc = subprocess.run(
            ["timeout", "-k", "10", "240", str(airflow3_python), "-c", AIRFLOW_PROBE]
            + [str(dags), str(tmp_path / "runs")],
            env=_env(home, str(dags)),
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV ")), None)
    assert line, proc.stderr[-3000:]
    assert set(json.loads(line[len("WFCONV ") :]).values()) == {"success"}
    for name, root in (("diamond", "Train"), ("daily_sales", "SalesReport")):
        luigi_work = tmp_path / "luigi" / name
        luigi_work.mkdir(parents=True)
        expected = _luigi_build(CORPUS / f"{name}.py", root, luigi_work)
        assert _files(tmp_path / "runs" / name / "first") == expected
        again = _files(tmp_path / "runs" / name / "again")
        assert again == dict.fromkeys(expected, "kept")
    assert (
        _files(tmp_path / "runs" / "daily_sales" / "first")["reports/sales_20240301.txt"] == "0\n"
    )


@pytest.mark.engine
def test_prefect_output_runs_without_luigi_and_skips_complete_tasks(
    prefect_harness, tmp_path, monkeypatch
):
    """Luigi -> Prefect: the flow calls the functions (no Luigi, no source
    module on sys.path) and writes what Luigi writes; a Fetch whose output
    exists does not run."""
    from test_backend_prefect import emit_one, run_flow

    (w,) = parse(str(CORPUS / "diamond.py")).workflows
    _, code, out = emit_one(w)
    assert _imported(code) == {"prefect", "os"}
    assert "BP123" not in {d.code for d in out.diagnostics}
    (tmp_path / "flow.py").write_text(code)
    ruff_clean(tmp_path / "flow.py")
    work = tmp_path / "work"
    monkeypatch.chdir(tmp_path)  # run_flow writes the module here
    work.mkdir()
    monkeypatch.chdir(work)
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed(), statuses
    luigi_work = tmp_path / "luigi"
    luigi_work.mkdir()
    assert _files(work) == _luigi_build(CORPUS / "diamond.py", "Train", luigi_work)
    (work / "work" / "fetch.json").write_text("existing")
    (work / "models" / "model.pkl").unlink()
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed(), statuses
    assert (work / "work" / "fetch.json").read_text() == "existing"  # complete: not run
    assert (work / "models" / "model.pkl").exists()  # not complete: run again


def test_prefect_keeps_luigi_where_a_flow_parameter_moves_the_paths():
    """daily_sales: every path holds the date, a flow parameter a Prefect run
    may change; the paths the reader evaluated would be stale, so those tasks
    keep Luigi's own run() (BP123 says why). In Airflow the DAG's params never
    reached the Luigi tasks: the standalone form stays."""
    from test_backend_prefect import emit_one

    (w,) = parse(str(CORPUS / "daily_sales.py")).workflows
    assert w.task("Extract(source=crm)").extra["luigi"]["path_params"] == ["date", "source"]
    _, code, out = emit_one(w)
    warnings = [d for d in out.diagnostics if d.code == "BP123"]
    assert len(warnings) == 7 and all(d.severity == "warning" for d in warnings)
    assert warnings[0].message.endswith(
        "its run() is not converted: its paths depend on the flow parameter(s) date"
    )
    assert "def run_extract" not in code


def test_emitted_functions_are_ruff_clean(tmp_path):
    assert RUFF
    module = tmp_path / "regions.py"
    module.write_text(PIPELINE)
    (w,) = parse(str(module)).workflows
    for name, code in airflow.emit(w).files.items():
        if name.endswith(".py"):
            (tmp_path / name).write_text(code)
            ruff_clean(tmp_path / name)
    assert textwrap.dedent(SUMMARY) in code


def test_a_path_airflow_would_render_keeps_luigi_in_airflow(tmp_path):
    """op_kwargs is a templated field: a path holding {{ }} is not passed
    through it (Airflow would render it), the task is run through Luigi."""
    module = tmp_path / "odd.py"
    module.write_text(
        "import luigi\n\n\nclass Odd(luigi.Task):\n    def output(self):\n"
        "        return luigi.LocalTarget('out/{{ ds }}.txt')\n\n"
        "    def run(self):\n        self.output().open('w').close()\n"
    )
    (w,) = parse(str(module)).workflows
    assert w.task("Odd").action.fields["source_code"].startswith("def run_odd(output):")
    out = airflow.emit(w)
    (warning,) = [d for d in out.diagnostics if d.code == "BA121"]
    assert "which Airflow would render as a template" in warning.message
    assert "def run_odd" not in "".join(out.files.values())


DATED = """\
import datetime

import luigi


class Daily(luigi.Task):
    day = luigi.DateParameter(default=datetime.date(2024, 3, 1))

    def output(self):
        return luigi.LocalTarget(f"daily/{self.day:%Y%m%d}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(f"{self.day:%A} {self.day + datetime.timedelta(days=1)}\\n")
"""


def test_a_date_parameter_is_a_date_again_in_the_function(tmp_path):
    """The IR keeps Luigi's text of a DateParameter; the function parses it
    back to the date run() sees in Luigi, and writes what Luigi writes."""
    module = tmp_path / "src" / "dated.py"
    module.parent.mkdir()
    module.write_text(DATED)
    (daily,) = _tasks(module).values()
    assert daily.extra["luigi"]["run_kwargs"] == {
        "output": "daily/20240301.txt",
        "day": "2024-03-01",
    }
    assert "    day = datetime.date.fromisoformat(day)\n" in daily.action.fields["source_code"]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    _call_in(ours, [daily])
    assert (
        _files(ours)
        == _luigi_build(module, "Daily", theirs)
        == {"daily/20240301.txt": "Friday 2024-03-02\n"}
    )
