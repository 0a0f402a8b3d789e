"""Hand-written factories that read data files of their repository
(corpus/repos/factory): reading a YAML or JSON file is not running code, so
the static reader reads it and must build exactly the DAGs Airflow's own
DagBag builds in that tree; what lies outside the repository stays unknown,
said, and the DAG is incomplete."""

from __future__ import annotations

import os

import pytest
from test_repo_model import REPOS, dagbag, ours

from wfconv.frontends import detect_engine, load_path
from wfconv.frontends.pyeval import FileRefused

REPO = REPOS / "factory"
DAGS = [
    "export_ads",
    "export_crm",
    "globbed_reports",
    "listed_finance",
    "listed_growth",
    "orders_daily",
    "outside",
    "payments_hourly",
    "reports",
    "team_finance",
    "team_growth",
    "walked_finance",
    "walked_growth",
]


@pytest.mark.engine
@pytest.mark.slow
def test_factories_over_data_files_match_airflows_dagbag(airflow3_python, tmp_path):
    real = dagbag(airflow3_python, REPO, tmp_path, "3")
    assert real["errors"] == []
    assert sorted(real["dags"]) == DAGS
    assert ours(REPO) == real["dags"]


def test_a_factory_reads_its_configs_and_says_what_it_read():
    ws = {w.id: w for w in load_path(REPO / "dags").workflows}
    # Found by a folder walk: the files import Airflow only through factory_lib/.
    assert sorted(ws) == DAGS
    orders = ws["orders_daily"]
    assert (orders.schedule.cron, orders.tags) == ("0 4 * * *", ["orders"])
    assert orders.task("load").action.get("command") == "scripts/load.sh orders"
    assert orders.task("load").retries == 2
    assert sorted(ws["payments_hourly"].upstream("load")) == ["dedupe", "extract"]
    assert ws["team_finance"].schedule.cron == "0 2 1 * *"
    for w in ws.values():
        assert w.complete == (w.id != "outside")
    # The data files are sources of the DAGs they built (the audit cache
    # audits the DAG file again when one changes), spelled as the input is.
    assert f"{REPO}/dags/configs/pipelines.yml" in orders.extra["airflow"]["sources"]
    assert f"{REPO}/dags/configs/exports.json" in ws["export_crm"].extra["airflow"]["sources"]


def test_a_file_outside_the_repository_is_not_read():
    [w] = load_path(REPO / "dags" / "outside.py").workflows
    assert w.task_ids() == ["start"]
    assert not w.complete
    [read] = [d for d in w.diagnostics if d.code == "AF101"]
    assert read.line == 13
    assert (
        "reads a file: /etc/wfconv-example/steps.json is outside the repository: not read"
        in read.message
    )
    assert [r.split(": ", 1)[0] for r in w.incomplete_reasons] == [f"{REPO}/dags/outside.py:17"]


def test_detection_follows_the_repository_only_for_airflows_own_discovery_test(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "lib.py").write_text("from airflow import DAG\n", encoding="utf-8")
    text = "from lib import DAG\n"
    f = tmp_path / "dags" / "d.py"
    # The DAG processor skips a file without the words "airflow" and "dag".
    assert detect_engine(str(f), text) is None
    assert detect_engine(str(f), '"""Airflow DAG."""\n' + text) == "airflow"
    (tmp_path / "other.py").write_text("import json\n", encoding="utf-8")
    assert detect_engine(str(f), '"""Airflow DAG."""\nfrom other import x\n') is None


GUARDED = """
import json
import os

import yaml
from airflow import DAG
from airflow.operators.bash import BashOperator

HERE = os.path.dirname(__file__)


def steps(name, **kw):
    with open(os.path.join(HERE, name), **kw) as f:
        return yaml.load(f, Loader=yaml.Loader)


with DAG("guarded", schedule=None) as dag:
    for group in ("ok.yml", "link.yml", "big.yml", "bomb.yml", "python.yml", "fifo.yml", ".hidden.yml"):
        for step in steps(group):
            BashOperator(task_id=step, bash_command="x")
    for step in steps("ok.yml", mode="w"):
        BashOperator(task_id="w_" + step, bash_command="x")
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs symbolic links and FIFOs")
def test_only_regular_files_of_the_repository_are_read_and_only_as_data(tmp_path):
    outside = tmp_path / "secret.yml"
    outside.write_text("[stolen]\n", encoding="utf-8")
    repo = tmp_path / "repo"
    dags = repo / "dags"
    dags.mkdir(parents=True)
    (repo / ".git").mkdir()
    (dags / "ok.yml").write_text("[a, b]\n", encoding="utf-8")
    (dags / "link.yml").symlink_to(outside)
    (dags / "big.yml").write_text("[" + "x, " * 400_000 + "y]\n", encoding="utf-8")
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdef", "bcdefg", strict=True)
    ]
    (dags / "bomb.yml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    (dags / "python.yml").write_text("!!python/object/apply:os.system [id]\n", encoding="utf-8")
    os.mkfifo(dags / "fifo.yml")
    (dags / ".hidden.yml").write_text("[token]\n", encoding="utf-8")
    f = dags / "guarded.py"
    f.write_text(GUARDED, encoding="utf-8")
    [w] = load_path(f).workflows
    assert w.task_ids() == ["a", "b"]
    why = {d.message for d in w.diagnostics if d.code in ("AF101", "AF108")}
    assert any("link.yml is outside the repository: not read" in m for m in why), why
    assert any("big.yml is too large to read statically" in m for m in why), why
    assert any("the data expands to more than 200000 values" in m for m in why), why
    assert any("the document is not YAML that safe_load reads" in m for m in why), why
    assert any("fifo.yml is not a regular file" in m for m in why), why
    assert any(".hidden.yml is a hidden file or folder: not read" in m for m in why), why
    assert any("a file opened with mode 'w' does more than read" in m for m in why), why
    assert not w.complete and len(w.incomplete_reasons) == 2  # the two loops
    # Read, even when refused as YAML: the DAG depends on what they hold.
    assert w.extra["airflow"]["sources"] == [
        str(dags / n) for n in ("bomb.yml", "ok.yml", "python.yml")
    ]


def test_pathlib_globs_match_as_pathlib_does(tmp_path):
    from wfconv.frontends.repo import DataFiles, Repository

    (tmp_path / ".git").mkdir()
    for rel in ("a.yml", "b.yaml", "sub/c.yml", "sub/deep/d.yml", "sub/deep/e.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n", encoding="utf-8")
    files = DataFiles(Repository.of(tmp_path / "a.yml"))
    real = {
        pattern: sorted(str(p) for p in tmp_path.glob(pattern))
        for pattern in ("*.yml", "**/*.yml", "sub/*", "sub/**/*.yml", "*/deep/?.*", "./*/*")
    }
    assert {p: files.match(str(tmp_path), p) for p in real} == real
    for pattern in ("**", "../*.yml"):
        with pytest.raises(FileRefused, match="not read statically"):
            files.match(str(tmp_path), pattern)
