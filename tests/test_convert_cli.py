"""``wfconv convert`` and the pair aliases, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


def test_single_file_goes_to_stdout_and_ledger_to_stderr(runner):
    r = runner.invoke(main, ["convert", "corpus/airflow/etl_basic.py", "--to", "prefect"])
    assert r.exit_code == 0, r.stderr
    compile(r.stdout, "out.py", "exec")
    assert '@flow(name="sales_etl"' in r.stdout
    assert "SEVERITY" in r.stderr and "BP112" in r.stderr
    # the flow's helper module is not printed: -o writes it beside
    assert "imports wfconv_prefect.py" in r.stderr
    assert "corpus/airflow/etl_basic.py:74" in r.stderr  # source location of the entry
    assert "ledger:" in r.stderr


def test_output_folder_gets_files_and_ledger_json(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(
        main,
        [
            "convert",
            "corpus/airflow/etl_basic.py",
            "--to",
            "airflow",
            "-o",
            str(out),
            "--ledger",
            "json",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert (out / "sales_etl.py").is_file()
    ledger = json.loads((out / "wfconv-ledger.json").read_text())
    assert ledger["wfconv_ledger"] == 1 and ledger["target"] == "airflow"
    assert ledger["files"] == {"sales_etl.py": None} or ledger["files"] == {
        "sales_etl": ["sales_etl.py"]
    }
    assert json.loads(r.stderr) == ledger  # --ledger json prints the same document
    for entry in ledger["entries"]:
        assert set(entry) >= {
            "code",
            "severity",
            "message",
            "path",
            "line",
            "target",
            "stage",
            "workflow",
        }
    assert {e["stage"] for e in ledger["entries"]} <= {"parse", "emit"}
    assert ledger["summary"]["warning"] == sum(
        e["severity"] == "warning" for e in ledger["entries"]
    )


def test_strict_exits_1_on_any_loss(runner):
    r = runner.invoke(
        main, ["convert", "corpus/airflow/etl_basic.py", "--to", "prefect", "--strict"]
    )
    assert r.exit_code == 1
    assert "--strict" in r.stderr
    compile(r.stdout, "out.py", "exec")  # the output is still produced


def test_strict_passes_when_nothing_is_lost(runner, tmp_path):
    src = tmp_path / "ir.json"
    src.write_text(
        json.dumps(
            {
                "wfconv_ir": 1,
                "workflows": [
                    {
                        "id": "clean",
                        "tasks": [
                            {"id": "a", "action": {"kind": "shell", "command": "echo a"}},
                            {"id": "b", "action": {"kind": "empty"}},
                        ],
                        "edges": [{"from": "a", "to": "b"}],
                    }
                ],
            }
        )
    )
    for target in ("airflow", "prefect"):
        r = runner.invoke(main, ["convert", str(src), "--to", target, "--strict"])
        assert r.exit_code == 0, (target, r.stderr)
        assert "nothing approximated or dropped" in r.stderr or "0 warning(s)" in r.stderr


def test_invalid_graph_is_refused_with_exit_2(runner):
    r = runner.invoke(main, ["convert", "corpus/airflow/cycle.py", "--to", "prefect"])
    assert r.exit_code == 2
    assert "cycle" in r.stderr.lower()
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_unreadable_input_is_exit_2(runner):
    r = runner.invoke(main, ["convert", "corpus/airflow/broken_syntax.py", "--to", "airflow"])
    assert r.exit_code == 2
    assert r.stderr.startswith("corpus/airflow/broken_syntax.py:7:")


def test_several_files_need_an_output_folder(runner, tmp_path):
    r = runner.invoke(main, ["convert", "corpus/airflow/multi_dag.py", "--to", "prefect"])
    assert r.exit_code == 2
    assert "-o" in r.stderr
    r = runner.invoke(
        main, ["convert", "corpus/airflow/multi_dag.py", "--to", "prefect", "-o", str(tmp_path)]
    )
    assert r.exit_code == 0, r.stderr
    ledger = json.loads((tmp_path / "wfconv-ledger.json").read_text())
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != ".wfconv-manifest.json")
    assert len(written) == len(ledger["files"]) + len(ledger["shared_files"]) + 1


def test_pair_alias_fixes_source_and_target(runner):
    r = runner.invoke(main, ["airflow-to-prefect", "corpus/airflow/etl_basic.py"])
    assert r.exit_code == 0, r.stderr
    assert "from prefect import" in r.stdout
    r = runner.invoke(main, ["airflow-to-prefect", "--help"])
    options = r.stdout.split("Options:")[1]
    assert "--from" not in options and "--to " not in options and "--strict" in options
    # only the pair's own options: no Luigi source options, no Airflow target options
    assert "--root" not in options and "--static" not in options
    assert "--airflow-version" not in options and "--subworkflow" not in options
    options = runner.invoke(main, ["luigi-to-airflow", "--help"]).stdout.split("Options:")[1]
    assert "--root" in options and "--static" in options and "--airflow-version" in options
    r = runner.invoke(
        main, ["oozie-to-airflow", "corpus/oozie/retries.xml", "--airflow-version", "2"]
    )
    assert r.exit_code == 0, r.stderr
    assert "from airflow import DAG" in r.stdout


def test_airflow_version_option(runner):
    r3 = runner.invoke(main, ["convert", "corpus/prefect/etl_basic.py", "--to", "airflow"])
    r2 = runner.invoke(
        main,
        ["convert", "corpus/prefect/etl_basic.py", "--to", "airflow", "--airflow-version", "2"],
    )
    assert r3.exit_code == 0 and r2.exit_code == 0, (r3.stderr, r2.stderr)
    assert "from airflow.sdk import DAG" in r3.stdout
    assert "from airflow import DAG" in r2.stdout


def test_same_input_gives_byte_identical_output(runner, tmp_path):
    a = runner.invoke(
        main,
        ["convert", "corpus/airflow/taskgroups.py", "--to", "prefect", "-o", str(tmp_path / "a")],
    )
    b = runner.invoke(
        main,
        ["convert", "corpus/airflow/taskgroups.py", "--to", "prefect", "-o", str(tmp_path / "b")],
    )
    assert a.exit_code == b.exit_code == 0
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_unique_paths_when_workflows_collide():
    from wfconv.cli.convert import _unique_path

    assert _unique_path("a.py", {"a.py"}) == "a_2.py"
    assert _unique_path("wf/workflow.xml", {"wf/workflow.xml"}) == "wf_2/workflow.xml"
    assert _unique_path("b.py", {"a.py"}) == "b.py"


def test_subworkflow_option_and_bundle_aware_calls(runner, tmp_path):
    r = runner.invoke(
        main,
        [
            "convert",
            "corpus/oozie/subworkflow_app",
            "--to",
            "airflow",
            "--subworkflow",
            "taskgroup",
            "-o",
            str(tmp_path / "af"),
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert "BA120" in r.stderr
    assert 'TaskGroup(group_id="run-child")' in (tmp_path / "af" / "parent.py").read_text()
    r = runner.invoke(
        main, ["oozie-to-prefect", "corpus/oozie/subworkflow_app", "-o", str(tmp_path / "pf")]
    )
    assert r.exit_code == 0, r.stderr
    assert "from child import child" in (tmp_path / "pf" / "parent.py").read_text()
    ledger = json.loads((tmp_path / "pf" / "wfconv-ledger.json").read_text())
    assert "workflows" not in ledger["options"]


def test_graph_markdown_is_a_fenced_mermaid_block(runner):
    r = runner.invoke(main, ["graph", "corpus/airflow/etl_basic.py", "--markdown"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    plain = runner.invoke(main, ["graph", "corpus/airflow/etl_basic.py"]).stdout
    assert "\n".join(lines[1:-1]) == plain.rstrip("\n")
    r = runner.invoke(
        main, ["graph", "corpus/airflow/etl_basic.py", "--markdown", "--format", "dot"]
    )
    assert r.exit_code == 2


def test_a_long_ledger_is_one_row_per_code_in_the_terminal(runner, tmp_path):
    """400 tasks with a pool Oozie cannot hold: 400 entries in the JSON ledger,
    one row with their count in the terminal (a 150,000-row table took minutes)."""
    lines = [
        "from datetime import datetime",
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        'with DAG("wide", start_date=datetime(2024, 1, 1), schedule=None):',
        *(f'    BashOperator(task_id="t{i}", bash_command="true", pool="etl")' for i in range(400)),
    ]
    src = tmp_path / "wide.py"
    src.write_text("\n".join(lines) + "\n")
    r = runner.invoke(main, ["convert", str(src), "--to", "oozie", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.stderr
    ledger = json.loads((tmp_path / "out" / "wfconv-ledger.json").read_text())
    pools = [e for e in ledger["entries"] if e["code"] == "BO701"]
    assert len(pools) == 400
    (row,) = [line for line in r.stderr.splitlines() if "BO701" in line]
    assert row.split()[:3] == ["info", "BO701", "400"]
    assert "one row per code here" in r.stderr and "t399" not in r.stderr
