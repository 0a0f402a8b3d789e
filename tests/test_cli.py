"""CLI conventions (docs/architecture.md §8): data on stdout, path:line: message on stderr, exit codes."""

from __future__ import annotations

import json

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
    assert res.stderr.strip() == f"{p}: cannot tell which engine wrote this file; say it with --from ENGINE"
