"""dag-factory YAML configs read without dag-factory, checked against
dag-factory's own loader running in Airflow 2.10.5 (corpus/repos/dagfactory)."""

from __future__ import annotations

import os

import pytest
from test_repo_model import REPOS, dagbag, ours

from wfconv.errors import InputError
from wfconv.frontends import detect_engine, load_path

REPO = REPOS / "dagfactory"


@pytest.mark.engine
@pytest.mark.slow
def test_configs_match_dagfactorys_own_loader_in_airflow(
    airflow2_python, dagfactory_path, tmp_path
):
    real = dagbag(airflow2_python, REPO, tmp_path, "2", pythonpath=(dagfactory_path,))
    assert real["errors"] == ["relative_loader.py"]  # dag-factory refuses a relative path
    bundle = load_path(REPO / "dags")
    [refused] = [d for d in bundle.diagnostics if d.code == "DF305"]
    assert refused.path.endswith("relative_loader.py")
    # Scheduled without a start date: Airflow 2 refuses the DAG (AF115) and
    # dag-factory's folder loader leaves it out; wfconv keeps it, said.
    unstarted = {w.id for w in bundle.workflows if any(d.code == "AF115" for d in w.diagnostics)}
    assert unstarted == {"unstarted"}
    assert sorted(real["dags"]) == [
        "audience_sync",
        "campaign_report",
        "ingest_billing",
        "ingest_crm",
        "newsletter",
        "ops_cleanup",
        "sales_weekly",
    ]
    assert {k: v for k, v in ours(REPO).items() if k not in unstarted} == real["dags"]


def test_a_config_and_a_loader_are_detected():
    config = REPO / "dags" / "configs" / "marketing.yml"
    loader = REPO / "dags" / "load_configs.py"
    assert detect_engine(str(config), config.read_text()) == "dagfactory"
    assert detect_engine(str(loader), loader.read_text()) == "dagfactory"
    defaults = REPO / "dags" / "defaults.yml"
    assert detect_engine(str(defaults), defaults.read_text()) is None
    assert detect_engine("ci.yml", "jobs:\n  test:\n    steps: []\n") is None


def test_a_config_read_on_its_own_is_what_the_loader_builds():
    alone = {w.id: w for w in load_path(REPO / "dags" / "configs" / "marketing.yml").workflows}
    w = alone["campaign_report"]
    assert w.source.engine == "airflow"
    assert w.extra["dagfactory"]["config"].endswith("marketing.yml")
    assert (w.schedule.cron, w.catchup, w.start_date) == (
        "0 5 * * *",
        False,
        "2024-01-01T00:00:00+00:00",
    )
    assert w.tags == ["marketing", "dagfactory"]
    # defaults.yml of the DAGs folder, then the file's `default`, then the DAG's own.
    assert (w.task("start").retries, w.task("start").retry_delay_s) == (1, 600.0)
    assert alone["newsletter"].task("render").retries == 3
    assert alone["newsletter"].task("send").retries == 0
    assert w.upstream("transform.join") == ["extract.ads", "extract.crm"]
    publish = w.task("publish")
    assert publish.action.kind == "opaque"
    assert publish.action.get("args") == {"channel": "#marketing"}
    assert publish.source.line == 39 and publish.source.path.endswith("marketing.yml")
    # Read through the loader, the same DAGs (each once in a folder walk).
    walked = {x.id: x for x in load_path(REPO / "dags").workflows}
    assert {"audience_sync", "campaign_report", "newsletter"} <= set(walked)
    assert walked["campaign_report"].edges == w.edges


def test_what_dagfactory_cannot_know_statically_is_said(tmp_path):
    f = tmp_path / "dags" / "x.yml"
    f.parent.mkdir()
    f.write_text(
        "etl:\n"
        "  schedule_interval: '@daily'\n"
        "  default_args:\n    start_date: 2024-01-01\n    owner: $TEAM\n"
        "  tasks:\n"
        "    a:\n      operator: airflow.operators.bash.BashOperator\n      bash_command: x\n"
        "    b:\n      operator: airflow.operators.bash.BashOperator\n      bash_command: y\n"
        "      dependencies: [missing]\n",
        encoding="utf-8",
    )
    w = load_path(f).workflows[0]
    codes = sorted({d.code for d in w.diagnostics})
    assert codes == ["AF214", "DF101", "DF201", "DF302"]
    assert w.schedule.cron == "0 0 * * *"
    # The config's own keys say which Airflow it was written for (line 2).
    (version,) = [d.message for d in w.diagnostics if d.code == "AF214"]
    assert (
        version.startswith("read as Airflow 2: `schedule_interval:` key") and "(line 2)" in version
    )
    assert w.schedule.model == "data_interval"
    bad = tmp_path / "dags" / "bad.yml"
    bad.write_text("etl: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_path(bad, "dagfactory")


def test_loaders_with_paths_of_the_machine_they_run_on(tmp_path):
    dags = tmp_path / "dags"
    shutil_copy = (REPO / "dags" / "configs" / "audiences.yaml").read_text()
    (dags / "configs").mkdir(parents=True)
    (dags / "configs" / "audiences.yaml").write_text(shutil_copy, encoding="utf-8")
    (dags / "old_style.py").write_text(
        "from airflow import DAG\nimport dagfactory\n"
        'f = dagfactory.DagFactory("/usr/local/airflow/dags/configs/audiences.yaml")\n'
        "f.clean_dags(globals())\nf.generate_dags(globals())\n",
        encoding="utf-8",
    )
    ws = load_path(dags / "old_style.py").workflows
    assert [w.id for w in ws] == ["audience_sync"]
    assert ws[0].complete


def test_a_loader_reads_only_configs_of_the_repository_and_only_as_data(tmp_path):
    audiences = (REPO / "dags" / "configs" / "audiences.yaml").read_text()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "stolen.yml").write_text(audiences.replace("audience_sync", "stolen"))
    dags = tmp_path / "repo" / "dags"
    (dags / "configs").mkdir(parents=True)
    (dags / "configs" / "audiences.yaml").write_text(audiences, encoding="utf-8")
    (dags / "configs" / "linked.yml").symlink_to(outside / "stolen.yml")
    (dags / "configs" / "out").symlink_to(outside, target_is_directory=True)
    (dags / "configs" / "big.yml").write_text("x: [" + "1, " * 400_000 + "2]\n")
    (dags / "loaders.py").write_text(
        "from dagfactory import load_yaml_dags\n"
        "load_yaml_dags(globals_dict=globals(), dags_folder='/')\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath='/dev/zero')\n"
        "load_yaml_dags(globals_dict=globals(), dags_folder=__file__.rsplit('/', 1)[0])\n",
        encoding="utf-8",
    )
    # Only the config inside the repository is read; nothing waits on
    # /dev/zero, no folder outside is walked, and each refusal is said.
    [w] = load_path(dags / "loaders.py").workflows
    assert w.id == "audience_sync" and not w.complete
    lines = [r.split(": ", 1)[0].rsplit(":", 1)[1] for r in w.incomplete_reasons]
    said = " | ".join(w.incomplete_reasons)
    assert lines == ["2", "3", "4"], said
    assert "loader: / is outside the repository: not read" in said
    assert "loader: /dev/zero is outside the repository: not read" in said
    assert "linked.yml is outside the repository: not read" in said
    assert "big.yml is too large to read statically" in said
    assert w.extra["airflow"]["sources"] == [str(dags / "configs" / "audiences.yaml")]


def test_loaders_given_a_dict_and_defaults_of_their_own():
    ws = {w.id: w for w in load_path(REPO / "dags").workflows}
    # config_dict= built in Python, defaults_config_dict= in place of defaults.yml
    # (values as dag-factory 1.1.0 gives them in Airflow 2.10.5).
    crm = ws["ingest_crm"]
    assert crm.complete and crm.tags == ["ingestion", "dagfactory"]
    assert crm.task("extract").action.get("command") == "extract.sh crm"
    assert {(t.owner, t.retries) for t in crm.tasks} == {("ingestion", 2)}
    assert crm.upstream("publish") == ["checks.row_count"]
    assert crm.task("load").source.line == 33  # the loader's line: a dict has no YAML lines
    # defaults_config_path=: the defaults of dags/shared, not of the DAGs folder.
    ops = ws["ops_cleanup"]
    assert {(t.owner, t.retries) for t in ops.tasks} == {("ops", 4)}
    assert any(s.endswith("shared/defaults.yml") for s in ops.extra["airflow"]["sources"])


def test_a_config_dict_known_only_at_run_time_is_a_loss(tmp_path):
    f = tmp_path / "dags" / "d.py"
    f.parent.mkdir()
    f.write_text(
        "import json, os\nfrom dagfactory import load_yaml_dags\n"
        "ok = {'a': {'tasks': {'t': {'operator': 'airflow.operators.empty.EmptyOperator'}}}}\n"
        "load_yaml_dags(globals_dict=globals(), config_dict=ok)\n"
        "load_yaml_dags(globals_dict=globals(), config_dict=json.loads(os.environ['CFG']))\n",
        encoding="utf-8",
    )
    [w] = load_path(f).workflows
    assert w.task_ids() == ["t"] and not w.complete
    [why] = w.incomplete_reasons
    assert why.startswith(f"{f}:5: the dag-factory config `load_yaml_dags(")
    assert why.endswith("is only known at run time: its DAGs are not read")


def test_a_relative_config_path_fails_in_airflow_and_gives_no_dag(tmp_path):
    dags = tmp_path / "dags"
    (dags / "configs").mkdir(parents=True)
    audiences = (REPO / "dags" / "configs" / "audiences.yaml").read_text()
    (dags / "configs" / "audiences.yaml").write_text(audiences, encoding="utf-8")
    f = dags / "rel.py"
    f.write_text(
        "from dagfactory import load_yaml_dags\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath='configs/audiences.yaml')\n",
        encoding="utf-8",
    )
    bundle = load_path(f)
    assert bundle.workflows == []
    [refused] = [d for d in bundle.diagnostics if d.code == "DF305"]
    assert (refused.severity, refused.line) == ("error", 2)
    assert "relative config path 'configs/audiences.yaml'" in refused.message
    # Read by a relative path, the same; a path built from __file__ is absolute in Airflow.
    rel = os.path.relpath(f)
    assert [d.code for d in load_path(rel).diagnostics if d.code == "DF305"] == ["DF305"]
    f.write_text(
        "import os\nfrom dagfactory import load_yaml_dags\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath=os.path.join(\n"
        "    os.path.dirname(__file__), 'configs', 'audiences.yaml'))\n",
        encoding="utf-8",
    )
    assert [w.id for w in load_path(rel).workflows] == ["audience_sync"]


def test_airflows_dags_folder_setting_is_the_repositorys_dags_folder(tmp_path):
    dags = tmp_path / "dags"
    (dags / "specs").mkdir(parents=True)
    (dags / "specs" / "a.json").write_text('{"steps": ["x", "y"]}', encoding="utf-8")
    f = dags / "factory.py"
    f.write_text(
        "import json, os\nfrom airflow import DAG, settings\n"
        "from airflow.operators.empty import EmptyOperator\n"
        "SPECS = os.path.join(settings.DAGS_FOLDER, 'specs')\n"
        "for name in os.listdir(SPECS):\n"
        "    spec = json.load(open(os.path.join(SPECS, name)))\n"
        "    with DAG(name[:-5], schedule=None):\n"
        "        for step in spec['steps']:\n"
        "            EmptyOperator(task_id=step)\n",
        encoding="utf-8",
    )
    [w] = load_path(f).workflows
    assert (w.id, w.task_ids(), w.complete) == ("a", ["x", "y"], True)
