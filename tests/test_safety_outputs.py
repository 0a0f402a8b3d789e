"""Never lose a user's file: every file wfconv writes goes through
``wfconv.outputs`` (docs/outputs.md), as a user running the commands sees it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.outputs import MANIFEST, OutputRefused, write_file, write_folder

ROOT = Path(__file__).resolve().parent.parent
ETL = ROOT / "corpus" / "airflow" / "etl_basic.py"  # dag_id "sales_etl"

DAG = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None) as dag:
    BashOperator(task_id="hello", bash_command="echo hello")
"""


@pytest.fixture
def runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_output_folder_equal_to_the_input_folder_never_overwrites_a_source(runner, tmp_path):
    # The source file has the very name the conversion would get (sales_etl.py).
    shutil.copy(ETL, tmp_path / "sales_etl.py")
    before = _files(tmp_path)
    r = runner.invoke(main, ["convert", str(tmp_path), "--to", "airflow", "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert f"{tmp_path / 'sales_etl.py'}: not overwritten: it is an input" in r.stderr
    assert "nothing was written" in r.stderr
    assert "internal error" not in r.stderr
    assert _files(tmp_path) == before  # not even the ledger


def test_a_file_wfconv_did_not_write_is_refused_and_force_overwrites_it(runner, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sales_etl.py").write_text("# my own notes\n")
    args = ["convert", str(ETL), "--to", "prefect", "-o", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2
    assert "not overwritten: wfconv did not write this file (--force overwrites it)" in r.stderr
    assert (out / "sales_etl.py").read_text() == "# my own notes\n"
    assert not (out / "wfconv-ledger.json").exists()
    r = runner.invoke(main, [*args, "--force"])
    assert r.exit_code == 0, r.stderr
    assert "@flow" in (out / "sales_etl.py").read_text()


def test_rerun_overwrites_its_own_files_but_not_ones_the_user_changed(runner, tmp_path):
    out = tmp_path / "out"
    args = ["convert", str(ETL), "--to", "prefect", "-o", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    first = _files(out)
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.stderr
    assert _files(out) == first  # deterministic, and its own files may be rewritten
    with open(out / "sales_etl.py", "a") as fh:
        fh.write("# tuned by hand\n")
    r = runner.invoke(main, args)
    assert r.exit_code == 2
    assert "not overwritten: it changed since wfconv wrote it" in r.stderr
    assert (out / "sales_etl.py").read_text().endswith("# tuned by hand\n")


def test_links_in_the_output_folder_are_never_written_through(runner, tmp_path):
    victim = tmp_path / "victim.py"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sales_etl.py").symlink_to(victim)
    args = ["convert", str(ETL), "--to", "prefect", "-o", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 2
    assert "it is a symbolic link" in r.stderr
    # --force replaces the link itself, never the file it points to.
    r = runner.invoke(main, [*args, "--force"])
    assert r.exit_code == 0, r.stderr
    assert victim.read_text() == "precious\n"
    assert not (out / "sales_etl.py").is_symlink()
    assert "@flow" in (out / "sales_etl.py").read_text()


def test_a_linked_folder_on_the_way_is_refused_even_with_force(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "app").symlink_to(outside, target_is_directory=True)
    for force in (False, True):
        with pytest.raises(OutputRefused) as err:
            write_folder(out, {"app/workflow.xml": "<x/>"}, force=force)
        assert "never writes through links" in str(err.value)
    assert list(outside.iterdir()) == []


def test_paths_that_climb_out_of_the_folder_are_refused(tmp_path):
    from wfconv.errors import UsageError

    for rel in ("../x.py", "/etc/x.py", "a/../../x.py", "x" * 300 + ".py"):
        with pytest.raises(UsageError):
            write_folder(tmp_path / "out", {rel: "x"})
    assert not (tmp_path / "x.py").exists()


def test_two_sources_with_one_dag_id_give_one_file_and_a_ledger_error(runner, tmp_path):
    src = tmp_path / "dags"
    src.mkdir()
    (src / "a.py").write_text(DAG.format(dag_id="sales_etl"))
    (src / "b.py").write_text(DAG.format(dag_id="sales_etl"))
    out = tmp_path / "out"
    r = runner.invoke(main, ["convert", str(src), "--to", "airflow", "-o", str(out)])
    assert r.exit_code == 2  # an input the engine would reject: reported, the rest converted
    assert f"{src / 'b.py'}:5: workflow id 'sales_etl' is already defined at {src / 'a.py'}:5" in (
        r.stderr
    )
    written = sorted(p.name for p in out.iterdir())
    assert written == [MANIFEST, "sales_etl.py", "wfconv-ledger.json"]
    ledger = json.loads((out / "wfconv-ledger.json").read_text())
    assert ledger["files"] == {"sales_etl": ["sales_etl.py"]}
    dup = [e for e in ledger["entries"] if e["code"] == "IR006"]
    assert len(dup) == 1 and dup[0]["severity"] == "error" and dup[0]["path"] == str(src / "b.py")
    assert dup[0]["output"] is None
    assert (out / "sales_etl.py").read_text().count('dag_id="sales_etl"') == 1


def test_fewer_inputs_remove_the_stale_files_of_the_earlier_run(runner, tmp_path):
    src = tmp_path / "dags"
    src.mkdir()
    for name in ("one", "two", "three"):
        (src / f"{name}.py").write_text(DAG.format(dag_id=name))
    out = tmp_path / "out"
    assert (
        runner.invoke(main, ["convert", str(src), "--to", "luigi", "-o", str(out)]).exit_code == 0
    )
    assert {"one.py", "two.py", "three.py"} <= set(os.listdir(out))
    (out / "two.py").write_text((out / "two.py").read_text() + "# kept: changed by hand\n")
    (src / "two.py").unlink()
    (src / "three.py").unlink()
    r = runner.invoke(main, ["convert", str(src), "--to", "luigi", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert f"removed {out / 'three.py'}" in r.stderr
    assert f"kept {out / 'two.py'}: written by an earlier run but changed since" in r.stderr
    ledger = json.loads((out / "wfconv-ledger.json").read_text())
    assert ledger["files"] == {"one": ["one.py"]}
    # (wfconv_luigi.py: the helper module Luigi pipelines share)
    listed = [MANIFEST, "one.py", "two.py", "wfconv-ledger.json", "wfconv_luigi.py"]
    assert sorted(os.listdir(out)) == listed
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    # two.py is the user's now
    assert sorted(manifest) == ["one.py", "wfconv-ledger.json", "wfconv_luigi.py"]


def test_stale_sub_folders_of_an_oozie_set_go_with_their_files(tmp_path):
    out = tmp_path / "out"
    write_folder(out, {"a/workflow.xml": "<a/>", "b/workflow.xml": "<b/>"})
    done = write_folder(out, {"a/workflow.xml": "<a/>"})
    assert done.removed == [str(out / "b" / "workflow.xml")]
    assert not (out / "b").exists() and (out / "a" / "workflow.xml").is_file()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_folder(out, {"x.py": "old\n"})

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_folder(out, {"x.py": "new\n"})
    monkeypatch.undo()
    assert (out / "x.py").read_text() == "old\n"
    assert sorted(os.listdir(out)) == [MANIFEST, "x.py"]


@pytest.mark.parametrize(
    "command",
    [
        ["parse", str(ETL)],
        ["graph", str(ETL)],
        ["audit", str(ETL), "--no-cache", "--fail-on", "never", "-j", "0"],
        ["compare", str(ETL), "--targets", "luigi"],
        ["run", str(ETL), "--no-db", "--date", "2024-03-01"],
    ],
    ids=lambda c: c[0],
)
def test_dash_o_file_of_every_command_keeps_a_users_file(runner, tmp_path, command):
    report = tmp_path / "report.txt"
    report.write_text("the user's notes\n")
    r = runner.invoke(main, [*command, "-o", str(report)])
    assert r.exit_code == 2, r.stderr
    assert f"{report}: not overwritten: wfconv did not write this file" in r.stderr
    assert report.read_text() == "the user's notes\n"
    report.unlink()
    r = runner.invoke(main, [*command, "-o", str(report)])
    assert r.exit_code in (0, 1), r.stderr
    first = report.read_bytes()
    assert first
    r = runner.invoke(main, [*command, "-o", str(report)])  # its own file: rewritten
    assert r.exit_code in (0, 1), r.stderr
    assert report.read_bytes()


def test_dash_o_never_overwrites_the_input_it_reads(runner, tmp_path):
    src = tmp_path / "etl.py"
    shutil.copy(ETL, src)
    r = runner.invoke(main, ["parse", str(src), "-o", str(src)])
    assert r.exit_code == 2
    assert "it is an input of this command" in r.stderr
    assert src.read_bytes() == ETL.read_bytes()


def test_audit_to_a_file_prints_a_summary(runner, tmp_path):
    report = tmp_path / "audit.json"
    r = runner.invoke(
        main,
        ["audit", str(ETL), "--no-cache", "-j", "0", "--format", "json", "-o", str(report)],
    )
    assert r.exit_code in (0, 1), r.stderr
    assert json.loads(report.read_text())["summary"]["files"] == 1
    assert "1 file(s), 1 workflow(s), 0 unreadable: findings" in r.stderr
    assert f"report written to {report}" in r.stderr


def test_write_file_creates_the_folder_and_records_itself(tmp_path):
    target = tmp_path / "reports" / "r.json"
    write_file(target, "{}\n")
    manifest = json.loads((tmp_path / "reports" / MANIFEST).read_text())
    assert list(manifest["files"]) == ["r.json"]
    write_file(target, "{ }\n")  # its own, unchanged: rewritten
    assert target.read_text() == "{ }\n"
