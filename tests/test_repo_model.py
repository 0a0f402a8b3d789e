"""A DAG repository read the way Airflow's DAG processor imports it.

The repositories under ``corpus/repos/`` build their tasks with their own
helper functions, plugin operators and TaskGroup subclasses. Each DAG wfconv
reads statically must have the tasks and dependencies that Airflow's own
``DagBag`` builds when it runs the same tree with the DAG processor's
``sys.path`` (DAGs folder, plugins folder, the repository root).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wfconv import proc
from wfconv.frontends import load_path
from wfconv.frontends.repo import Repository

ROOT = Path(__file__).resolve().parent.parent
REPOS = ROOT / "corpus" / "repos"

_DAGBAG = """
import json, os, sys
if sys.argv[1] == "2":
    from airflow.models.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[2], include_examples=False, read_dags_from_db=False)
else:
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[2])
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "tasks": sorted(dag.task_ids),
        "edges": sorted([u, d] for u in dag.task_ids for d in dag.get_task(u).downstream_task_ids),
    }
errors = sorted(os.path.basename(f) for f in bag.import_errors)
print(json.dumps({"dags": dags, "errors": errors}))
"""


def dagbag(python: Path, repo: Path, home: Path, major: str, pythonpath: tuple = ()) -> dict:
    """Airflow's DagBag over ``repo/dags``, in a child of the Airflow
    virtualenv whose sys.path is the DAG processor's: the DAGs and plugins
    folders (Airflow adds them) and the repository root."""
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "PYTHONPATH": os.pathsep.join([str(repo), *map(str, pythonpath)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
    }
    if major == "2":
        # SubDagOperator checks the pools table when it is built.
        migrated = proc.run(
            [str(python.parent / "airflow"), "db", "migrate"], timeout=300, env=env, cwd=home
        )
        assert migrated.ok, migrated.stderr.decode(errors="replace")[-2000:]
    done = proc.run(
        [str(python), "-c", _DAGBAG, major, str(repo / "dags")], timeout=300, env=env, cwd=home
    )
    assert done.ok, done.stderr.decode(errors="replace")[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def ours(repo: Path) -> dict:
    bundle = load_path(repo / "dags", "airflow")
    out = {}
    for w in bundle.workflows:
        out[w.id] = {
            "tasks": sorted(w.task_ids()),
            "edges": sorted([e.src, e.dst] for e in w.edges),
        }
    return out


@pytest.fixture(scope="session")
def company_airflow2(airflow2_python, tmp_path_factory):
    return dagbag(airflow2_python, REPOS / "company", tmp_path_factory.mktemp("af2"), "2")


@pytest.fixture(scope="session")
def company_airflow3(airflow3_python, tmp_path_factory):
    return dagbag(airflow3_python, REPOS / "company", tmp_path_factory.mktemp("af3"), "3")


@pytest.mark.engine
@pytest.mark.slow
def test_company_repository_matches_airflow2_dagbag(company_airflow2):
    real = company_airflow2
    assert real["errors"] == []
    # Every DAG file of the repository, and both sub-DAGs of sections.py.
    assert sorted(real["dags"]) == [
        "env_vars",
        "grouped",
        "plugin_loads",
        "sections",
        "sections.first",
        "sections.second",
        "warehouse_daily",
    ]
    assert ours(REPOS / "company") == real["dags"]


@pytest.mark.engine
@pytest.mark.slow
def test_company_repository_matches_airflow3_dagbag(company_airflow3):
    real = company_airflow3
    # SubDagOperator is gone in Airflow 3: sections.py fails to import there.
    assert real["errors"] == ["sections.py"]
    mine = ours(REPOS / "company")
    assert {k: v for k, v in mine.items() if not k.startswith("sections")} == real["dags"]


# -- what the reader sees, without an engine ------------------------------------


def workflows(name: str) -> dict:
    return {w.id: w for w in load_path(REPOS / "company" / "dags" / name).workflows}


def test_the_repository_model_finds_airflows_sys_path():
    repo = Repository.of(REPOS / "company" / "dags" / "grouped.py")
    company = REPOS / "company"
    assert repo.dags_folder == company / "dags"
    assert repo.roots == [company / "dags", company, company / "plugins"]
    assert repo.locate("utils.groups") == (company / "utils" / "groups.py", False)
    assert repo.locate("utils") == (company / "utils" / "__init__.py", True)
    assert repo.locate("warehouse_ops") == (company / "plugins" / "warehouse_ops.py", False)
    # Installed packages come first on Airflow's sys.path: never the repository's.
    assert repo.locate("airflow.operators.bash") is None
    assert repo.locate("os") is None


def test_helper_functions_and_shared_default_args_build_the_tasks():
    w = workflows("warehouse_daily.py")["warehouse_daily"]
    load = w.task("load_orders")
    assert load.action.kind == "shell"
    assert load.action.get("command") == (
        "bq query --project_id=acme-data --dataset=analytics < sql/orders.sql"
    )
    # default_args from utils/config.py, an explicit argument through **kwargs.
    assert (load.retries, load.retry_delay_s) == (2, 300.0)
    assert w.task("daily_report").retries == 0
    assert w.task("export_report").action.get("env") == {
        "GCP_PROJECT": "acme-data",
        "LOG_LEVEL": "info",
    }
    # Tasks made by a helper point at the helper's line.
    assert load.source.path.endswith("utils/bq.py")
    codes = {d.code for d in w.diagnostics}
    assert "AF105" in codes  # the guarded raise is read past, and said
    assert w.complete


def test_plugin_operators_whatever_their_names():
    w = workflows("plugin_loads.py")["plugin_loads"]
    kinds = {t.id: (t.action.kind, t.extra["airflow"]["operator"]) for t in w.tasks}
    assert kinds == {
        "orders_ready": ("sensor", "PartitionReady"),
        "load_orders": ("opaque", "WarehouseLoad"),
        "load_customers": ("opaque", "FullRefresh"),
        "notify": ("shell", "QuietBash"),
        "done": ("empty", "EmptyOperator"),
    }
    # The call's own arguments are kept (a same-engine re-emit needs them).
    assert w.task("load_orders").action.get("args") == {"table": "orders"}
    assert w.task("notify").retries == 4
    assert w.task("load_orders").extra["airflow"]["module"] == "warehouse_ops"
    assert w.task("orders_ready").action.get("poke_interval_s") == 300.0


def test_a_group_edge_skips_the_teardown():
    w = workflows("grouped.py")["grouped"]
    assert w.upstream("done") == ["cluster.work"]
    assert w.task("cluster.delete").role == "teardown"
    assert [g.id for g in w.groups] == ["load_orders", "load_payments", "cluster"]
    assert {g.id: g.tooltip for g in w.groups}["load_orders"] == "Loads orders"


def test_env_given_as_a_variable_is_a_mapping_or_said_to_be_unknown():
    w = workflows("env_vars.py")["env_vars"]
    assert w.task("known").action.get("env") == {"GCP_PROJECT": "acme-data", "LOG_LEVEL": "info"}
    for tid in ("runtime", "inherited"):
        fields = w.task(tid).action.fields
        assert "env" not in fields and "env_replace" not in fields
        assert "env" in w.task(tid).extra["airflow"]["kwargs"]
    assert [d.line for d in w.diagnostics if d.code == "AF111"] == [15, 16]


@pytest.mark.parametrize("target", ["airflow", "prefect", "luigi", "oozie"])
def test_every_backend_takes_a_workflow_with_env_variables(target, tmp_path):
    from wfconv.backends import backend

    bundle = load_path(REPOS / "company" / "dags" / "env_vars.py")
    # And IR written elsewhere whose env is not a mapping: no environment, no crash.
    w = bundle.workflows[0]
    w.task("runtime").action.fields["env"] = "config.ENV"
    out = backend(target).emit(w, workflows={w.id: w})
    assert out.files


SPLIT = """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from company_lib import build_tasks, make_load

with DAG("split", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    start = BashOperator(task_id="start", bash_command="start")
    load = make_load("orders")
    start >> load
    build_tasks(dag)
    for table in dag.params["tables"]:
        BashOperator(task_id=f"t_{table}", bash_command="x")
"""


def test_what_cannot_be_seen_is_said_and_marks_the_workflow_incomplete(tmp_path):
    f = tmp_path / "dags" / "split.py"
    f.parent.mkdir()
    f.write_text(SPLIT, encoding="utf-8")
    w = load_path(f).workflows[0]
    assert w.task_ids() == ["start"]
    assert not w.complete
    lines = sorted(int(r.split(":")[1]) for r in w.incomplete_reasons)
    assert lines == [10, 11, 12]  # the dependency, the call given the DAG, the loop
    summary = [d for d in w.diagnostics if d.code == "AF112"]
    assert len(summary) == 1 and "3 part(s)" in summary[0].message
    from wfconv.ir.jsonio import dumps, loads

    back = loads(dumps(load_path(f))).workflows[0]
    assert (back.complete, back.incomplete_reasons) == (False, w.incomplete_reasons)


def test_convert_strict_and_verify_refuse_an_incomplete_workflow(tmp_path):
    from click.testing import CliRunner

    from wfconv.cli import main

    f = tmp_path / "dags" / "split.py"
    f.parent.mkdir()
    f.write_text(SPLIT, encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["convert", str(f), "--to", "prefect", "--strict", "-o", str(out)]
    )
    assert res.exit_code == 1
    assert "workflow 'split' is incomplete; not converted" in res.output
    assert not out.exists()
    res = CliRunner().invoke(main, ["verify", str(f), "--to", "prefect"])
    assert res.exit_code == 1
    assert "the source workflow is incomplete" in res.output


def test_path_option_adds_a_folder_of_modules(tmp_path):
    from click.testing import CliRunner

    from wfconv.cli import main

    (tmp_path / "dags").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "mylib.py").write_text(
        "from airflow.operators.bash import BashOperator\n"
        "def make(n):\n    return BashOperator(task_id=f't{n}', bash_command='x')\n",
        encoding="utf-8",
    )
    dag = tmp_path / "dags" / "d.py"
    dag.write_text(
        "from datetime import datetime\nfrom airflow import DAG\nfrom mylib import make\n"
        "with DAG('d', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    make(1) >> make(2)\n",
        encoding="utf-8",
    )
    alone = CliRunner().invoke(main, ["parse", str(dag)])
    doc = json.loads(alone.output)
    assert doc["workflows"][0]["tasks"] == [] and doc["workflows"][0]["incomplete"] is True
    found = CliRunner().invoke(main, ["parse", str(dag), "--path", str(tmp_path / "shared")])
    w = json.loads(found.output)["workflows"][0]
    assert [t["id"] for t in w["tasks"]] == ["t1", "t2"]
    assert w["edges"] == [{"from": "t1", "to": "t2", "kind": "control"}]
    assert "incomplete" not in w


def test_prefect_flows_call_tasks_of_other_modules(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "flows").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "etl.py").write_text(
        "from prefect import task\n@task(retries=2)\ndef extract(source):\n    return [source]\n"
        "@task\ndef load(rows):\n    return len(rows)\n",
        encoding="utf-8",
    )
    flow = tmp_path / "flows" / "pipeline.py"
    flow.write_text(
        "from prefect import flow\nfrom tasks.etl import extract, load\n"
        "@flow\ndef pipeline():\n    load(extract('a'))\n",
        encoding="utf-8",
    )
    w = load_path(flow).workflows[0]
    assert [(t.id, t.retries, t.action.get("module")) for t in w.tasks] == [
        ("extract", 2, "tasks.etl"),
        ("load", 0, "tasks.etl"),
    ]
    assert [(e.src, e.dst) for e in w.edges] == [("extract", "load")]


def test_a_cached_audit_result_follows_the_helper_modules(tmp_path):
    """The audit cache keys a file by its bytes; a DAG read through a helper
    module is audited again when the helper changes."""
    import shutil

    from wfconv.audit.report import TableReporter
    from wfconv.audit.run import Options, audit

    repo = tmp_path / "company"
    shutil.copytree(REPOS / "company", repo)
    dag = repo / "dags" / "warehouse_daily.py"

    def run():
        with open(os.devnull, "w") as sink:
            return audit(
                [str(dag)], Options(jobs=1, cache_dir=str(tmp_path / "cache")), TableReporter(sink)
            )

    first = run()
    assert (first.cached, first.tasks) == (0, 6)
    assert run().cached == 1
    config = repo / "utils" / "config.py"
    config.write_text(
        config.read_text().replace('"customers", "payments"', '"customers", "payments", "refunds"'),
        encoding="utf-8",
    )
    again = run()
    assert (again.cached, again.tasks) == (0, 7)


def test_subdag_children_are_workflows_that_run_only_in_their_parent():
    ws = workflows("sections.py")
    assert sorted(ws) == ["sections", "sections.first", "sections.second"]
    first = ws["sections.first"]
    assert first.task_ids() == ["first_step_0", "first_step_1", "first_step_2"]
    assert first.schedule.kind == "manual"
    assert first.extra["airflow"]["subdag_of"] == "sections"
    assert ws["sections"].task("first").action.fields == {
        "workflow": "sections.first",
        "wait_for_completion": True,
    }


UNREAD = """
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
import settings
from config import CMD

with DAG("unread", start_date=datetime(2024, 1, 1), schedule=None, tags=["etl", settings.TEAM]):
    a = BashOperator(task_id="a", bash_command=settings.CMD)
    b = BashOperator(
        task_id="b",
        bash_command=CMD,
        retries=settings.RETRIES,
        env={"PROJECT": settings.PROJECT},
    )
    a >> b
"""


def test_a_name_of_a_module_that_is_not_read_is_unknown_not_its_dotted_name(tmp_path):
    f = tmp_path / "dags" / "unread.py"
    f.parent.mkdir()
    f.write_text(UNREAD, encoding="utf-8")
    w = load_path(f).workflows[0]
    # The structure is all there: no loss, the workflow is complete.
    assert w.task_ids() == ["a", "b"] and [(e.src, e.dst) for e in w.edges] == [("a", "b")]
    assert w.complete
    # Fields hold what the file says (its source text), never `config.CMD`.
    assert w.task("a").action.get("command") == "settings.CMD"
    assert w.task("b").action.get("command") == "CMD"
    assert w.task("b").retries == 0  # unknown: the default, said below
    assert "env" not in w.task("b").action.fields
    assert w.tags == ["etl", "settings.TEAM"]
    found = {(d.line, d.message.split(":")[0]) for d in w.diagnostics if d.code == "AF113"}
    assert found == {
        (8, "tag"),
        (9, "BashOperator.bash_command"),
        (12, "BashOperator.bash_command"),
        (13, "b.retries"),
    }
    [cmd] = [d.message for d in w.diagnostics if d.code == "AF113" and d.line == 12]
    assert "`CMD` (config.CMD) is a name of a module that is not read" in cmd
    assert "module config is not in the repository" in cmd
    assert [d.line for d in w.diagnostics if d.code == "AF111"] == [10]
    # A task id from such a module is structure: the workflow is incomplete.
    f.write_text(UNREAD.replace('task_id="a"', "task_id=settings.FIRST"), encoding="utf-8")
    w = load_path(f).workflows[0]
    assert not w.complete
    assert w.incomplete_reasons == [
        f"{f}:9: task id `settings.FIRST` comes from a module that is not read"
    ]
    # Found in the repository (here: another one), the same names are their values.
    found = tmp_path / "found" / "dags"
    found.mkdir(parents=True)
    (found / "unread.py").write_text(f.read_text(), encoding="utf-8")
    (found / "settings.py").write_text(
        "CMD = 'run.sh'\nRETRIES = 3\nPROJECT = 'p'\nTEAM = 'data'\nFIRST = 'first'\n",
        encoding="utf-8",
    )
    (found / "config.py").write_text("CMD = 'load.sh'\n", encoding="utf-8")
    w = load_path(found / "unread.py").workflows[0]
    assert w.complete and w.tags == ["etl", "data"]
    assert [w.task(t).action.get("command") for t in ("first", "b")] == ["run.sh", "load.sh"]
    assert w.task("b").retries == 3
    assert not [d for d in w.diagnostics if d.code in ("AF111", "AF113")]
