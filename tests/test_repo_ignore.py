""".airflowignore: the files of a DAGs folder Airflow never loads are not
read either. Airflow 2 reads the patterns as regexps, Airflow 3 as globs
(the default of [core] dag_ignore_file_syntax); corpus/repos/ignored holds
patterns that mean the same in both and patterns that do not, and the walk
must find exactly the DAGs each version's DagBag loads in that tree."""

from __future__ import annotations

import pytest
from test_repo_model import REPOS, dagbag

from wfconv.frontends import load_path

REPO = REPOS / "ignored"


def ours(version: str | None) -> dict:
    options = {"airflow_source_version": version} if version else {}
    return {
        w.id: {
            "tasks": sorted(w.task_ids()),
            "edges": sorted([e.src, e.dst] for e in w.edges),
        }
        for w in load_path(REPO / "dags", **options).workflows
    }


@pytest.mark.engine
@pytest.mark.slow
@pytest.mark.parametrize("major", ["2", "3"])
def test_the_walk_skips_what_each_airflows_dagbag_skips(major, request, tmp_path):
    python = request.getfixturevalue(f"airflow{major}_python")
    real = dagbag(python, REPO, tmp_path, major)
    assert real["errors"] == []
    loaded = {"daily", "team_daily"}
    loaded |= {"legacy_reports", "report_helpers", "sdk_helpers"} if major == "3" else set()
    assert set(real["dags"]) == loaded
    assert ours(major) == real["dags"]


def test_without_a_version_each_file_is_judged_by_the_airflow_it_is_written_for():
    # report_helpers.py and legacy_reports.py read as Airflow 2 (regexps:
    # ignored); sdk_helpers.py imports airflow.sdk (Airflow 3, globs: loaded).
    assert sorted(ours(None)) == ["daily", "sdk_helpers", "team_daily"]


def test_the_repositorys_airflow_cfg_chooses_the_syntax(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (tmp_path / "airflow.cfg").write_text("[core]\ndag_ignore_file_syntax = glob\n")
    (dags / ".airflowignore").write_text("helpers\n!keep_helpers.py\n*_test.py\n")
    dag = "from airflow import DAG\nDAG({!r}, schedule=None)\n"
    for name in ("my_helpers", "keep_helpers", "etl_test", "etl"):
        (dags / f"{name}.py").write_text(dag.format(name))
    # Globs: `helpers` matches no file name here, `*_test.py` does.
    ids = sorted(w.id for w in load_path(dags, airflow_source_version="2").workflows)
    assert ids == ["etl", "keep_helpers", "my_helpers"]
    (tmp_path / "airflow.cfg").write_text("[core]\ndag_ignore_file_syntax = regexp\n")
    ids = sorted(w.id for w in load_path(dags, airflow_source_version="3").workflows)
    assert ids == ["etl", "etl_test"]
