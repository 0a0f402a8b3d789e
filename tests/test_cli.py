"""CLI conventions (docs/architecture.md §8): data on stdout, path:line: message on stderr, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wfconv.cli import main

GOOD = """\
from airflow import DAG
from airflow.operators.bash import BashOperator
from datetime import datetime

with DAG("good", start_date=datetime(2024, 1, 1), schedule="@daily"):
    BashOperator(task_id="a", bash_command="echo a")
"""


def test_folder_walk_reports_broken_file_and_keeps_the_rest(tmp_path):
    (tmp_path / "a_good.py").write_text(GOOD)
    (tmp_path / "b_broken.py").write_text("from airflow import DAG\nwith DAG('x'\n")
    (tmp_path / "notes.txt").write_text("not a workflow")
    (tmp_path / "helper.py").write_text("x = 1\n")
    res = CliRunner().invoke(main, ["parse", str(tmp_path)])
    assert res.exit_code == 2
    assert [w["id"] for w in json.loads(res.stdout)["workflows"]] == ["good"]
    (err,) = res.stderr.strip().splitlines()
    assert err.startswith(f"{tmp_path / 'b_broken.py'}:2: syntax error:")
    assert "Traceback" not in res.output


def test_version_and_help():
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and res.stdout.startswith("wfconv, version ")
    res = CliRunner().invoke(main, ["--help"])
    for cmd in ("parse", "convert", "run", "audit", "verify", "compare", "airflow-to-prefect"):
        assert cmd in res.stdout


def test_unknown_engine_file_needs_from(tmp_path):
    p = tmp_path / "x.py"
    p.write_text("print('hello')\n")
    res = CliRunner().invoke(main, ["parse", str(p)])
    assert res.exit_code == 2
    assert (
        res.stderr.strip()
        == f"{p}: cannot tell which engine wrote this file; say it with --from ENGINE"
    )


@pytest.mark.parametrize("command", ["run", "audit"])
def test_a_reader_that_stops_early_gets_no_internal_error(tmp_path, command):
    """`wfconv run ... | head`: the closed pipe ends the command quietly
    (exit 141, as a shell reports a writer stopped by SIGPIPE), never with
    "internal error" on stderr."""
    import subprocess
    import sys

    from wfconv.ir.jsonio import dumps
    from wfconv.ir.model import Action, Bundle, Edge, Task, Workflow

    tasks = [Task(f"t{i}", Action("shell", {"command": "true"})) for i in range(3000)]
    edges = [Edge(f"t{i}", f"t{i + 1}") for i in range(2999)]
    ir = tmp_path / "wide.json"
    ir.write_text(dumps(Bundle([Workflow("wide", tasks=tasks, edges=edges)])), encoding="utf-8")
    if command == "run":
        args = ["run", str(ir), "--date", "2024-01-01", "--no-db", "--format", "json"]
    else:
        for i in range(300):  # ~100 KB of findings: more than a pipe holds
            (tmp_path / f"dag_{i}.py").write_text(
                "from airflow.operators.bash_operator import BashOperator\n"
                "from airflow.operators.dummy_operator import DummyOperator\n",
                encoding="utf-8",
            )
        args = ["audit", str(tmp_path), "--no-cache", "-j", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "wfconv", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "internal error" not in err and "Traceback" not in err
