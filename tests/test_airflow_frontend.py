"""The static Airflow frontend: the IR a DAG file yields, read as an Airflow user reads it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wfconv.errors import InputError
from wfconv.frontends import airflow, load_path

ROOT = Path(__file__).resolve().parent.parent
# Infos every Airflow 2 file of these tests gets: a moved import (AF203), the
# version read and the time model it gives (AF214), Airflow 2's daily default (AF217).
VERSION_NOTES = ("AF203", "AF214", "AF217")

HEAD = """\
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
"""


def parse(src: str, path: str = "dags/x.py"):
    return airflow.parse(path, textwrap.dedent(src))


def one(src: str):
    b = parse(src)
    assert len(b.workflows) == 1, [w.id for w in b.workflows]
    return b.workflows[0]


def edges(w) -> set[tuple[str, str]]:
    return {(e.src, e.dst) for e in w.edges}


def codes(w) -> list[tuple[str, int | None]]:
    return [(d.code, d.line) for d in w.diagnostics]


# -- DAG declaration styles -------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'with DAG("d", start_date=datetime(2024, 1, 1)) as dag:\n    a = EmptyOperator(task_id="a")\n    b = EmptyOperator(task_id="b")\n    a >> b\n',
        'with DAG(dag_id="d", start_date=datetime(2024, 1, 1)):\n    a = EmptyOperator(task_id="a")\n    b = EmptyOperator(task_id="b")\n    b << a\n',
        'dag = DAG("d", start_date=datetime(2024, 1, 1))\na = EmptyOperator(task_id="a", dag=dag)\nb = EmptyOperator(task_id="b", dag=dag)\nb.set_upstream(a)\n',
        'dag = DAG("d", start_date=datetime(2024, 1, 1))\nwith dag:\n    a = EmptyOperator(task_id="a")\n    b = EmptyOperator(task_id="b")\n    a.set_downstream(b)\n',
        'from airflow.decorators import dag\n@dag(dag_id="d", start_date=datetime(2024, 1, 1))\ndef f():\n    a = EmptyOperator(task_id="a")\n    b = EmptyOperator(task_id="b")\n    a >> b\nf()\n',
    ],
    ids=["with-as", "with-no-as", "dag-kwarg", "with-existing", "decorator"],
)
def test_every_declaration_style_gives_the_same_workflow(body):
    w = one(HEAD + body)
    assert w.id == "d"
    assert w.task_ids() == ["a", "b"]
    assert edges(w) == {("a", "b")}
    assert w.start_date == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "imports",
    [
        "from airflow import DAG\nfrom airflow.operators.bash_operator import BashOperator\n",
        "from airflow.models import DAG\nfrom airflow.operators.bash import BashOperator\n",
        "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n",
        "import airflow\nfrom airflow.operators import bash\nDAG = airflow.DAG\nBashOperator = bash.BashOperator\n",
    ],
    ids=["airflow1", "airflow2", "airflow3", "module-attrs"],
)
def test_airflow_1_2_3_imports_read_alike(imports):
    w = one(
        imports
        + 'with DAG("v", schedule="@hourly"):\n    BashOperator(task_id="t", bash_command="echo {{ ds }}")\n'
    )
    t = w.task("t")
    assert t.action.kind == "shell" and t.action.get("command") == "echo {{ ds }}"
    assert w.schedule.kind == "cron" and w.schedule.cron == "0 * * * *"


def test_several_dags_in_one_file_and_a_dag_without_context():
    b = parse(
        HEAD
        + """
        with DAG("first"):
            EmptyOperator(task_id="a")
        second = DAG("second")
        EmptyOperator(task_id="b", dag=second)
        """.replace("\n        ", "\n")
    )
    assert [w.id for w in b.workflows] == ["first", "second"]
    assert b.workflow("second").task_ids() == ["b"]


def test_file_without_a_dag_gives_af302_and_no_workflow():
    b = parse("from airflow.models import Variable\nX = 1\n")
    assert b.workflows == []
    assert [d.code for d in b.diagnostics] == ["AF302"]


def test_syntax_error_is_an_input_error_with_the_line():
    with pytest.raises(InputError) as exc:
        parse(HEAD + 'with DAG("x"):\n    t = BashOperator(task_id="t"\n')
    assert exc.value.line == 6
    assert str(exc.value).startswith("dags/x.py:6: syntax error:")


# -- DAG arguments ------------------------------------------------------------


@pytest.mark.parametrize(
    "arg, kind, detail, schedule_arg",
    [
        ('schedule="15 3 * * 1-5"', "cron", "15 3 * * 1-5", "schedule"),
        ('schedule="@daily"', "cron", "0 0 * * *", "schedule"),
        ('schedule="@weekly"', "cron", "0 0 * * 0", "schedule"),
        ('schedule="@monthly"', "cron", "0 0 1 * *", "schedule"),
        ('schedule="@yearly"', "cron", "0 0 1 1 *", "schedule"),
        ('schedule_interval="@once"', "once", None, "schedule_interval"),
        ("schedule=timedelta(minutes=90)", "interval", 5400.0, "schedule"),
        ("schedule=None", "manual", None, "schedule"),
        # HEAD is an Airflow 2 file: no schedule means daily data intervals (AF217).
        ("start_date=datetime(2024, 1, 1)", "interval", 86400.0, None),
    ],
)
def test_schedule_forms(arg, kind, detail, schedule_arg):
    w = one(HEAD + f'with DAG("s", {arg}):\n    EmptyOperator(task_id="t")\n')
    assert w.schedule.kind == kind
    assert w.schedule.model == "data_interval"
    if kind == "cron":
        assert w.schedule.cron == detail
    if kind == "interval":
        assert w.schedule.seconds == detail
    assert w.extra["airflow"]["schedule_arg"] == schedule_arg
    assert ("AF201" in [c for c, _ in codes(w)]) == (schedule_arg == "schedule_interval")


def test_dataset_and_continuous_schedules():
    b = parse(
        HEAD
        + "from airflow.sdk import Asset\n"
        + 'with DAG("a", schedule=[Asset("s3://x"), Asset("y", uri="s3://y")]):\n    EmptyOperator(task_id="t")\n'
        + 'with DAG("c", schedule="@continuous"):\n    EmptyOperator(task_id="t")\n'
    )
    a, c = b.workflows
    assert a.schedule.kind == "assets" and a.schedule.datasets == ["s3://x", "y"]
    assert c.schedule.kind == "manual" and c.extra["airflow"]["schedule"] == "@continuous"
    assert "AF207" in [x for x, _ in codes(c)]


def test_dag_arguments_positional_id_and_default_args_dates():
    w = one(
        HEAD
        + """
import pendulum
ARGS = {"start_date": pendulum.datetime(2023, 5, 2, 6, tz="America/New_York"),
        "end_date": datetime(2024, 1, 1), "retries": 2, "owner": "me"}
with DAG("pos_id", "what it does", default_args=ARGS, catchup=True, params={"n": 1},
         tags=["t1"], max_active_runs=3, dagrun_timeout=timedelta(hours=1), doc_md="# hi") as d:
    EmptyOperator(task_id="t", retries=5)
    EmptyOperator(task_id="u")
"""
    )
    assert w.id == "pos_id" and w.description == "what it does"
    assert w.start_date == "2023-05-02T06:00:00-04:00"
    assert w.schedule.timezone == "America/New_York"
    assert w.end_date == "2024-01-01T00:00:00+00:00"
    assert (w.catchup, w.params, w.tags, w.max_active_runs, w.timeout_s) == (
        True,
        {"n": 1},
        ["t1"],
        3,
        3600.0,
    )
    assert w.task("t").retries == 5 and w.task("u").retries == 2
    assert w.extra["airflow"]["dag_kwargs"]["doc_md"] == "# hi"
    assert w.extra["airflow"]["dag_kwargs"]["default_args"]["owner"] == "me"


def test_catchup_unsaid_stays_null():
    w = one(HEAD + 'with DAG("x"):\n    EmptyOperator(task_id="t")\n')
    assert w.catchup is None


def test_days_ago_is_af103_and_left_null():
    w = one(
        HEAD
        + 'from airflow.utils.dates import days_ago\nwith DAG("x", start_date=days_ago(1)):\n    EmptyOperator(task_id="t")\n'
    )
    assert w.start_date is None
    assert ("AF103", 6) in codes(w)
    assert "AF101" not in [c for c, _ in codes(w)]


# -- tasks --------------------------------------------------------------------


def test_task_fields_and_airflow_defaults():
    w = one(
        HEAD
        + """
from airflow.utils.trigger_rule import TriggerRule
with DAG("x"):
    BashOperator(task_id="plain", bash_command="true")
    BashOperator(task_id="tuned", bash_command="true", retries=4, retry_delay=timedelta(seconds=45),
                 retry_exponential_backoff=True, max_retry_delay=timedelta(minutes=10),
                 execution_timeout=timedelta(minutes=2), trigger_rule=TriggerRule.ONE_FAILED,
                 pool="p", queue="q", depends_on_past=True, doc_md="docs", email_on_retry=False)
"""
    )
    plain, tuned = w.tasks
    assert (plain.retries, plain.retry_delay_s, plain.trigger_rule, plain.retry_backoff) == (
        0,
        300.0,
        "all_success",
        "fixed",
    )
    assert (tuned.retries, tuned.retry_delay_s, tuned.retry_backoff, tuned.max_retry_delay_s) == (
        4,
        45.0,
        "exponential",
        600.0,
    )
    assert (tuned.timeout_s, tuned.trigger_rule, tuned.pool, tuned.queue) == (
        120.0,
        "one_failed",
        "p",
        "q",
    )
    assert tuned.depends_on_past and tuned.doc == "docs"
    assert tuned.extra["airflow"] == {
        "operator": "BashOperator",
        "module": "airflow.operators.bash",
        "kwargs": {"email_on_retry": False},
    }


def test_operator_table_actions():
    w = one(
        HEAD
        + """
from airflow.operators.python import PythonOperator, ShortCircuitOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sensors.filesystem import FileSensor
from vendor.ops import MagicOperator

def work(x):
    return x

with DAG("x"):
    PythonOperator(task_id="py", python_callable=work, op_kwargs={"x": 1})
    ShortCircuitOperator(task_id="sc", python_callable=work)
    KubernetesPodOperator(task_id="k8s", image="img:1", cmds=["run"])
    FileSensor(task_id="fs", filepath="/in/_SUCCESS")
    MagicOperator(task_id="magic", power=9000, words=["a"])
"""
    )
    py = w.task("py").action
    assert py.kind == "python" and py.get("callable") == "work" and py.get("op_kwargs") == {"x": 1}
    assert py.get("source_code") == "def work(x):\n    return x"
    assert w.task("sc").action.fields["short_circuit"] is True
    assert w.task("k8s").action.fields == {"image": "img:1", "cmds": ["run"]}
    fs = w.task("fs").action.fields
    assert fs == {
        "sensor": "FileSensor",
        "poke_interval_s": 60.0,
        "timeout_s": 604800.0,
        "mode": "poke",
        "soft_fail": False,
        "target": "/in/_SUCCESS",
    }
    magic = w.task("magic").action
    assert magic.kind == "opaque" and magic.fields == {
        "type": "MagicOperator",
        "args": {"power": 9000, "words": ["a"]},
    }
    assert ("AF301", 19) in codes(w)


def test_legacy_operators_are_flagged():
    w = one(
        HEAD
        + """
from airflow.operators.dummy_operator import DummyOperator
with DAG("x"):
    DummyOperator(task_id="d")
    BashOperator(task_id="b", bash_command="echo {{ execution_date }} {{ dag_run.conf }}")
"""
    )
    got = codes(w)
    assert ("AF202", 8) in got and ("AF205", 9) in got and ("AF203", 6) in got
    msg = next(d.message for d in w.diagnostics if d.code == "AF205")
    # dag_run.conf stays valid in Airflow 3; only the bare `conf` variable was removed.
    assert msg == "task 'b': template variable(s) execution_date removed in Airflow 3"


def test_taskflow_ids_data_edges_and_bash():
    w = one(
        """
from airflow.sdk import dag, task

@dag
def flow():
    @task
    def get():
        return 1

    @task(retries=3)
    def use(x, y=0):
        return x

    @task.bash
    def sh(name):
        return f"echo {name}"

    v = get()
    use(v)
    use(v, y=2)
    use.override(task_id="custom")(v)
    v >> sh("bob")

flow()
"""
    )
    assert w.id == "flow"
    assert w.task_ids() == ["get", "use", "use__1", "custom", "sh"]
    assert w.task("use__1").retries == 3
    assert w.task("use__1").action.get("op_kwargs") == {"y": 2}
    assert w.task("use").action.get("op_args") == ["{{ ti.xcom_pull(task_ids='get') }}"]
    assert {(e.src, e.dst, e.kind) for e in w.edges} == {
        ("get", "use", "data"),
        ("get", "use__1", "data"),
        ("get", "custom", "data"),
        ("get", "sh", "control"),
    }
    assert w.task("sh").action.get("command") == "echo bob"


def test_task_groups_ids_nesting_and_group_edges():
    w = one(
        HEAD
        + """
from airflow.utils.task_group import TaskGroup
with DAG("g"):
    s = EmptyOperator(task_id="s")
    with TaskGroup("outer") as outer:
        with TaskGroup(group_id="inner") as inner:
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b
        with TaskGroup("bare", prefix_group_id=False):
            c = EmptyOperator(task_id="c")
        inner >> c
    e = EmptyOperator(task_id="e")
    s >> outer >> e
"""
    )
    assert w.task_ids() == ["s", "outer.inner.a", "outer.inner.b", "c", "e"]
    assert [(g.id, g.parent) for g in w.groups] == [
        ("outer", None),
        ("outer.inner", "outer"),
        ("outer.bare", "outer"),
    ]
    assert w.task("c").group == "outer.bare"
    assert edges(w) == {
        ("outer.inner.a", "outer.inner.b"),
        ("outer.inner.b", "c"),
        ("s", "outer.inner.a"),
        ("c", "e"),
    }


def test_airflow3_asset_decorator_defines_a_dag_per_asset():
    b = parse(
        """
from airflow.sdk import asset, dag, task

@asset(schedule="@daily", uri="s3://lake/raw.csv")
def raw_data():
    return 1

@asset(schedule=raw_data)
def cleaned():
    pass
"""
    )
    raw, cleaned = b.workflows
    assert (raw.id, raw.schedule.cron, raw.task_ids()) == ("raw_data", "0 0 * * *", ["raw_data"])
    assert raw.tasks[0].outputs == ["s3://lake/raw.csv"]
    assert (cleaned.schedule.kind, cleaned.schedule.datasets) == ("assets", ["raw_data"])


def test_setup_and_teardown():
    w = one(
        HEAD
        + """
with DAG("st"):
    create = BashOperator(task_id="create", bash_command="mk").as_setup()
    work = EmptyOperator(task_id="work")
    drop = BashOperator(task_id="drop", bash_command="rm").as_teardown(setups=create)
    create >> work >> drop
    keep = EmptyOperator(task_id="keep", trigger_rule="all_done")
    keep.as_teardown(on_failure_fail_dagrun=True)
"""
    )
    assert edges(w) == {("create", "drop"), ("create", "work"), ("work", "drop")}
    roles = {t.id: (t.role, t.trigger_rule, t.teardown_fails_run) for t in w.tasks}
    assert roles == {
        "create": ("setup", "all_success", False),
        "work": (None, "all_success", False),
        # as_teardown() sets Airflow's teardown rule, whatever the task had.
        "drop": ("teardown", "all_done_setup_success", False),
        "keep": ("teardown", "all_done_setup_success", True),
    }
    assert [c for c, _ in codes(w) if c not in VERSION_NOTES] == []


def test_mapping_product_and_zip():
    w = one(
        HEAD
        + """
from airflow.decorators import task
with DAG("m"):
    @task
    def files():
        return ["a"]

    @task
    def proc(path, mode):
        return path

    @task
    def pair(a, b):
        return a

    out = files()
    proc.partial(mode="x").expand(path=out)
    BashOperator.partial(task_id="b").expand(bash_command=["echo 1", "echo 2"])
    pair.expand_kwargs([{"a": 1, "b": 2}])
"""
    )
    proc = w.task("proc")
    assert proc.mapped == {
        "kind": "product",
        "over": {"path": "{{ ti.xcom_pull(task_ids='files') }}"},
    }
    assert proc.action.get("op_kwargs") == {"mode": "x"}
    assert ("files", "proc") in edges(w)
    assert w.task("b").mapped == {"kind": "product", "over": {"command": ["echo 1", "echo 2"]}}
    assert w.task("pair").mapped == {"kind": "zip", "over": {"kwargs": [{"a": 1, "b": 2}]}}


def test_chain_cross_downstream_and_lists():
    w = one(
        HEAD
        + """
from airflow.models.baseoperator import chain, cross_downstream
with DAG("c"):
    t = {n: EmptyOperator(task_id=n) for n in ["a", "b", "c", "d", "e", "f", "g"]}
    chain(t["a"], [t["b"], t["c"]], [t["d"], t["e"]], t["f"])
    cross_downstream([t["a"], t["b"]], [t["g"]])
    [t["f"], t["g"]] >> t["a"]
"""
    )
    assert edges(w) == {
        ("a", "b"),
        ("a", "c"),
        ("b", "d"),
        ("c", "e"),
        ("d", "f"),
        ("e", "f"),
        ("a", "g"),
        ("b", "g"),
        ("f", "a"),
        ("g", "a"),
    }
    # That last line closes cycles: reported with their path, IR still printed.
    cyc = [d.message for d in w.diagnostics if d.code == "IR004"]
    assert cyc and cyc[0].startswith("cycle: a -> ")


# -- the abstract interpreter at work -------------------------------------------


def test_loops_chaining_and_factories():
    b = parse(
        HEAD
        + """
CONF = {"x": ["extract", "load"], "y": ["extract"]}

def build(name, steps):
    with DAG(f"etl_{name}", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
        prev = None
        for i, step in enumerate(steps):
            cur = BashOperator(task_id=step, bash_command="run %s %d" % (step, i))
            if prev is not None:
                prev >> cur
            prev = cur
    return dag

for name, steps in CONF.items():
    globals()[name] = build(name, steps)
"""
    )
    assert [w.id for w in b.workflows] == ["etl_x", "etl_y"]
    x = b.workflow("etl_x")
    assert x.task("load").action.get("command") == "run load 1"
    assert edges(x) == {("extract", "load")}
    assert b.workflow("etl_y").task_ids() == ["extract"]
    assert not [d for w in b.workflows for d in w.diagnostics if d.code not in VERSION_NOTES]


def test_class_based_dag_factory():
    b = parse(
        HEAD
        + """
class Builder:
    def __init__(self, name, steps):
        self.name, self.steps = name, steps

    def build(self):
        with DAG(f"cls_{self.name}") as dag:
            prev = None
            for s in self.steps:
                t = BashOperator(task_id=s, bash_command="run " + s)
                if prev:
                    prev >> t
                prev = t
        return dag

for name, steps in {"a": ["x", "y"], "b": ["z"]}.items():
    globals()[name] = Builder(name, steps).build()
"""
    )
    assert [(w.id, w.task_ids()) for w in b.workflows] == [("cls_a", ["x", "y"]), ("cls_b", ["z"])]
    assert edges(b.workflows[0]) == {("x", "y")}
    assert [c for w in b.workflows for c, _ in codes(w) if c not in VERSION_NOTES] == []


def test_runtime_values_give_warnings_at_their_lines_and_the_rest_survives():
    w = one(
        HEAD
        + """
import os, json
from airflow.models import Variable
TABLES = json.load(open("/etc/tables.json"))
CMD = Variable.get("cmd")
with DAG("rt"):
    first = EmptyOperator(task_id="first")
    for t in TABLES:
        EmptyOperator(task_id=t)
    if os.environ.get("PROD"):
        prod = EmptyOperator(task_id="prod_only")
    run = BashOperator(task_id="run", bash_command=CMD)
    first >> run
"""
    )
    got = codes(w)
    assert ("AF101", 8) in got and ("AF101", 9) in got
    assert ("AF102", 12) in got and ("AF105", 14) in got
    assert ("AF104", 9) in got
    assert w.task_ids() == ["first", "prod_only", "run"]
    # The run-time expression itself is kept, so a reader sees what it depends on.
    assert w.task("run").action.get("command") == 'Variable.get("cmd")'
    assert edges(w) == {("first", "run")}


def test_hostile_files_stay_fast_and_never_crash():
    deep = "from airflow import DAG\nx = " + "+".join(["1"] * 50000) + "\n"
    with pytest.raises(InputError, match="nested too deeply"):
        airflow.parse("deep.py", deep)
    looping = (
        HEAD
        + 'with DAG("d"):\n    for i in range(10**6):\n        EmptyOperator(task_id=f"t{i}")\n'
    )
    w = one(looping)
    assert len(w.tasks) == 20000 and ("AF108", 6) in codes(w)
    spin = HEAD + 'while True:\n    pass\nwith DAG("after"):\n    EmptyOperator(task_id="t")\n'
    assert one(spin).task_ids() == ["t"]


def test_diagnostics_belong_to_the_dag_being_built():
    b = parse(
        HEAD
        + """
import os
TOP = os.environ["TOP"]

def build(name):
    with DAG(name) as dag:
        BashOperator(task_id="t", bash_command=os.environ["CMD_" + name])
    return dag

first = build("one")
second = build("two")
"""
    )
    for w in b.workflows:
        got = codes(w)
        # The factory's run-time read is reported in each DAG it built, and the
        # module-level one in every DAG of the file.
        assert ("AF101", 11) in got and ("AF104", 11) in got and ("AF101", 7) in got
    assert b.diagnostics == []


def test_the_file_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    src = (
        HEAD
        + f'open({str(marker)!r}, "w").write("x")\nraise SystemExit(3)\nwith DAG("x"):\n    EmptyOperator(task_id="t")\n'
    )
    b = airflow.parse("dags/y.py", src)
    assert not marker.exists()
    assert b.workflows == [] or b.workflows[0].id == "x"


def test_hostile_strings_survive_verbatim():
    w = one(
        HEAD
        + 'with DAG("d\\u00e9j\\u00e0", description="a \\"q\\" \\\\ \\"\\"\\" \\u2713"):\n'
        + '    BashOperator(task_id="it\'s_\\u65e5", bash_command="echo \'x\' \\"y\\" \\\\n")\n'
    )
    assert w.id == "déjà"
    assert w.description == 'a "q" \\ """ ✓'
    t = w.tasks[0]
    assert t.id == "it's_日" and t.action.get("command") == "echo 'x' \"y\" \\n"
    # Airflow would refuse the quote in the task id (unicode letters are fine).
    assert [c for c, _ in codes(w) if c == "AF213"] == ["AF213"]


# -- through the CLI -------------------------------------------------------------


def _wfconv(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-c", "from wfconv.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_cli_refuses_a_broken_file_with_path_and_line():
    r = _wfconv("parse", "corpus/airflow/broken_syntax.py")
    assert r.returncode == 2
    assert (
        r.stderr.strip() == "corpus/airflow/broken_syntax.py:7: syntax error: '(' was never closed"
    )
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_cli_parses_a_directory(tmp_path):
    for name in ("etl_basic.py", "taskgroups.py", "no_dag.py"):
        (tmp_path / name).write_text(
            (ROOT / "corpus" / "airflow" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    (tmp_path / "notes.py").write_text("print('not a workflow')\n", encoding="utf-8")
    r = _wfconv("parse", str(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [w["id"] for w in doc["workflows"]] == ["sales_etl", "warehouse_refresh"]
    assert [d["code"] for d in doc["diagnostics"]] == ["AF302"]


def test_readme_demo_dag_reads_as_documented():
    w = load_path(ROOT / "corpus" / "airflow" / "etl_basic.py").workflows[0]
    assert (w.id, w.schedule.cron, w.catchup) == ("sales_etl", "0 6 * * *", False)
    assert w.task("transform").retries == 5 and w.task("extract").retries == 3
    assert w.task("choose_load_mode").action.kind == "branch"
    assert w.task("wait_for_export").action.get("mode") == "reschedule"
    assert not any(d.severity == "error" for d in w.diagnostics)


# -- against Airflow itself --------------------------------------------------------

_DUMP = """
import glob, json, os, sys
from airflow.models.dagbag import DagBag
out = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.py"))):
    for dag_id, dag in DagBag(dag_folder=f, include_examples=False, read_dags_from_db=False).dags.items():
        out[dag_id] = {"tasks": sorted(dag.task_ids), "edges": sorted(
            [u, d] for u in dag.task_ids for d in dag.get_task(u).downstream_task_ids)}
open(sys.argv[2], "w").write(json.dumps(out))
"""


@pytest.mark.engine
def test_airflow_example_dags_give_the_same_tasks_and_edges_as_dagbag(tmp_path, airflow2_python):
    """Differential test: Airflow's own example DAGs read statically must give
    the task ids and dependencies that Airflow 2.10.5's DagBag builds by running them."""
    py = airflow2_python
    found = subprocess.run(
        [str(py), "-c", "import airflow, os; print(os.path.dirname(airflow.__file__))"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    examples = Path(found.stdout.strip()) / "example_dags"
    script = tmp_path / "dump.py"
    script.write_text(_DUMP, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    # With a database the examples that need one load too (SubDagOperator
    # checks the pools, dataset aliases are looked up).
    subprocess.run(
        [str(py.parent / "airflow"), "db", "migrate"],
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    subprocess.run(
        [str(py), str(script), str(examples), str(tmp_path / "real.json")],
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    real = json.loads((tmp_path / "real.json").read_text())
    assert len(real) > 60
    # SubDagOperator children are DAGs of their own (their helper is a module
    # of the examples folder, read through its dotted name).
    assert {"example_subdag_operator.section-1", "example_subdag_operator.section-2"} <= set(real)
    # Both read only when a run-time `if not is_venv_installed()` is true; wfconv
    # reads both branches of such an `if` on purpose (AF105).
    runtime_if = {"example_python_decorator", "example_python_operator"}
    ours = {}
    for f in sorted(examples.glob("*.py")):
        for w in airflow.parse(str(f), f.read_text(encoding="utf-8")).workflows:
            ours[w.id] = {
                "tasks": sorted(w.task_ids()),
                "edges": sorted([e.src, e.dst] for e in w.edges),
            }
    differ = [d for d in real if d not in runtime_if and ours.get(d) != real[d]]
    assert differ == []

    # Our own corpus, where Airflow 2.10 can load the file (no airflow.sdk, no
    # providers, no file to read, no cycle, valid keys): the same comparison.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in (ROOT / "corpus" / "airflow").glob("*.py"):
        if f.name != "broken_syntax.py":
            (corpus / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(
        [str(py), str(script), str(corpus), str(tmp_path / "mine.json")],
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    mine = json.loads((tmp_path / "mine.json").read_text())
    assert len(mine) >= 14
    ours = {}
    for f in sorted(corpus.glob("*.py")):
        for w in airflow.parse(str(f), f.read_text(encoding="utf-8")).workflows:
            ours[w.id] = {
                "tasks": sorted(w.task_ids()),
                "edges": sorted([e.src, e.dst] for e in w.edges),
            }
    assert [d for d in mine if ours.get(d) != mine[d]] == []


_DUMP3 = """
import glob, json, os, sys
from airflow.dag_processing.dagbag import DagBag
out = {}
for folder in sys.argv[1:-1]:
    for f in sorted(glob.glob(os.path.join(folder, "*.py"))):
        for dag_id, dag in DagBag(dag_folder=f).dags.items():
            out[dag_id] = {"tasks": sorted(dag.task_ids), "edges": sorted(
                [u, d] for u in dag.task_ids for d in dag.get_task(u).downstream_task_ids),
                "rules": {t.task_id: getattr(t.trigger_rule, "value", t.trigger_rule)
                          for t in dag.tasks}}
open(sys.argv[-1], "w").write(json.dumps(out))
"""


@pytest.mark.engine
def test_airflow3_example_dags_give_the_same_tasks_edges_and_rules_as_dagbag(
    tmp_path, airflow3_python
):
    """The same differential test against Airflow 3.3.2 (the core examples and the
    standard provider's, where most operator examples live since 3.0), with
    trigger rules compared too."""
    py = airflow3_python
    found = subprocess.run(
        [str(py), "-c", "import airflow, os; print(os.path.dirname(airflow.__file__))"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    root = Path(found.stdout.strip())
    folders = [root / "example_dags", root / "providers" / "standard" / "example_dags"]
    script = tmp_path / "dump.py"
    script.write_text(_DUMP3, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    subprocess.run(
        [str(py), str(script), *map(str, folders), str(tmp_path / "real.json")],
        capture_output=True,
        env=env,
        timeout=600,
        check=True,
    )
    real = json.loads((tmp_path / "real.json").read_text())
    assert len(real) > 100
    ours = {}
    for folder in folders:
        for f in sorted(folder.glob("*.py")):
            for w in airflow.parse(str(f), f.read_text(encoding="utf-8")).workflows:
                ours[w.id] = {
                    "tasks": sorted(w.task_ids()),
                    "edges": sorted([e.src, e.dst] for e in w.edges),
                    "rules": {t.id: t.trigger_rule for t in w.tasks},
                }
    assert [d for d in real if ours.get(d) != real[d]] == []


FAIL_DAG = """
from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.providers.standard.operators.python import PythonOperator


def stop(message):
    \"\"\"Fail the run.\"\"\"
    raise AirflowFailException(message)


def stop_maybe(message):
    if message:
        raise AirflowFailException(message)


def stop_other(message):
    raise ValueError(message)


with DAG("f") as dag:
    PythonOperator(task_id="kill", python_callable=stop, op_args=["bad input"])
    PythonOperator(task_id="cond", python_callable=stop_maybe, op_args=["x"])
    PythonOperator(task_id="other", python_callable=stop_other, op_args=["x"])
    PythonOperator(task_id="kw", python_callable=stop, op_kwargs={"message": "x"})
"""


def test_a_callable_that_only_raises_airflow_fail_exception_reads_as_fail():
    w = one(FAIL_DAG)
    kinds = {t.id: t.action.kind for t in w.tasks}
    assert kinds == {"kill": "fail", "cond": "python", "other": "python", "kw": "python"}
    assert w.task("kill").action.fields == {"message": "bad input"}


# -- task results turned into text, and task results in decorator options ----


def test_a_task_result_as_text_is_the_xcom_template_in_every_spelling():
    """Airflow's str(XComArg) is its xcom_pull template; str(), format(),
    str.format, % and f-strings all give it, and never wfconv's own objects."""
    w = one(
        """
        from airflow.sdk import dag, task
        from airflow.providers.standard.operators.bash import BashOperator

        @dag(schedule=None)
        def d():
            @task
            def a():
                return "x"
            s = a()
            BashOperator(task_id="f", bash_command=f"echo {s}")
            BashOperator(task_id="fmt", bash_command="echo {}".format(s))
            BashOperator(task_id="str", bash_command="echo " + str(s))
            BashOperator(task_id="pct", bash_command="echo %s" % s)
            BashOperator(task_id="key", bash_command="echo " + format(s["k"]))
            BashOperator(task_id="listed", bash_command="echo " + str([s]))
        d()
        """
    )
    cmd = {t.id: t.action.fields.get("command") for t in w.tasks}
    pull = "echo {{ ti.xcom_pull(task_ids='a') }}"
    assert cmd["f"] == cmd["fmt"] == cmd["str"] == cmd["pct"] == pull
    assert cmd["key"] == "echo {{ ti.xcom_pull(task_ids='a', key='k') }}"
    # A container of model objects has no engine text: kept as source, noted.
    assert cmd["listed"] == '"echo " + str([s])'
    assert ("AF104", 16) in codes(w)
    text = json.dumps([t.action.fields for t in w.tasks])
    assert "TaskObj" not in text and "XComArg(" not in text
    # Text made from a result is no dependency (Airflow sets none either).
    assert edges(w) == set()


def test_task_results_in_override_and_decorator_options_are_dependencies():
    w = one(
        """
        from airflow.sdk import dag, task

        @dag(schedule=None)
        def d():
            @task.bash(multiple_outputs=True)
            def stats() -> str:
                return "echo '{}'"
            s = stats()
            @task.bash
            def show() -> str:
                return 'echo "$N"'
            show.override(env={"N": s["n"]}, append_env=True, cwd="/tmp")()
        d()
        """
    )
    assert edges(w) == {("stats", "show")}
    assert [e.kind for e in w.edges] == ["data"]
    show = w.task("show")
    assert show.action.fields["env"] == {"N": "{{ ti.xcom_pull(task_ids='stats', key='n') }}"}
    assert show.action.fields["cwd"] == "/tmp"
    # append_env=True: the variables are added to the inherited environment,
    # which is what the IR's env means without env_replace.
    assert "env_replace" not in show.action.fields
    assert show.extra["airflow"]["kwargs"] == {}


def test_an_old_import_path_tried_only_after_the_new_one_is_no_airflow3_finding():
    w = one(
        """
        from datetime import datetime
        try:
            from airflow.providers.standard.operators.bash import BashOperator
        except (ImportError, ModuleNotFoundError):
            from airflow.operators.bash import BashOperator
        try:
            from airflow.sdk import DAG
        except ImportError:
            from airflow import DAG
        try:
            import json
        except ValueError:
            from airflow.operators.dummy import DummyOperator
        from airflow.operators.python import PythonOperator

        with DAG("d", start_date=datetime(2024, 1, 1)):
            BashOperator(task_id="a", bash_command="echo")
        """
    )
    # Only imports outside an `except ImportError` fallback are reported.
    assert [(c, line) for c, line in codes(w) if c == "AF203"] == [("AF203", 14), ("AF203", 15)]
    assert w.task("a").action.kind == "shell"


def test_setup_and_teardown_decorators_with_options():
    """@setup, @teardown, @teardown(on_failure_fail_dagrun=True), and @teardown over
    @task.bash: roles, rules and edges as Airflow 3.3.2's DagBag builds them."""
    w = one(
        """
        from airflow.sdk import dag, setup, task, teardown

        @dag(schedule=None)
        def d():
            @setup
            def make():
                return "x"

            @teardown(on_failure_fail_dagrun=True)
            def clean(x):
                print(x)

            @teardown
            @task.bash
            def clean2() -> str:
                return "echo"

            @task
            def work(x):
                return x

            m = make()
            work(m) >> clean(m)
            m >> clean2()
        d()
        """
    )
    got = {t.id: (t.role, t.trigger_rule, t.teardown_fails_run) for t in w.tasks}
    assert got == {
        "make": ("setup", "all_success", False),
        "work": (None, "all_success", False),
        "clean": ("teardown", "all_done_setup_success", True),
        "clean2": ("teardown", "all_done_setup_success", False),
    }
    assert edges(w) == {("make", "work"), ("make", "clean"), ("work", "clean"), ("make", "clean2")}
    assert w.task("clean2").action.kind == "shell"
    assert all(t.extra["airflow"]["kwargs"] == {} for t in w.tasks)


@pytest.mark.parametrize(
    "imports,schedule",
    [
        (
            "from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable",
            'AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 1 * * *", timezone="UTC"), '
            'assets=[Asset("s3://b/orders")])',
        ),
        (
            "from airflow.datasets import Dataset\n"
            "from airflow.timetables.datasets import DatasetOrTimeSchedule\n"
            "from airflow.timetables.interval import CronDataIntervalTimetable",
            'DatasetOrTimeSchedule(timetable=CronDataIntervalTimetable("0 1 * * *", "UTC"), '
            'datasets=[Dataset("s3://b/orders")])',
        ),
    ],
    ids=["assets", "datasets"],
)
def test_dataset_or_time_schedule_is_the_time_schedule_with_its_datasets(imports, schedule):
    w = one(
        HEAD
        + imports
        + f"\nwith DAG('d', start_date=datetime(2024, 1, 1), schedule={schedule}):\n"
        + "    EmptyOperator(task_id='a')\n"
    )
    s = w.schedule
    assert (s.kind, s.cron, s.datasets) == ("cron", "0 1 * * *", ["s3://b/orders"])
    assert "AF212" in [c for c, _ in codes(w)]
    assert "AF101" not in [c for c, _ in codes(w)]


def test_the_teardown_decorator_called_by_hand():
    w = one(
        """
        from airflow.sdk import dag, teardown

        @dag(schedule=None)
        def d():
            def clean():
                print("x")
            teardown(on_failure_fail_dagrun=True)(clean)()
        d()
        """
    )
    (t,) = w.tasks
    assert (t.id, t.role, t.trigger_rule, t.teardown_fails_run) == (
        "clean",
        "teardown",
        "all_done_setup_success",
        True,
    )


def test_a_scheduled_dag_without_a_start_date_does_not_load_in_airflow_2():
    # Measured: Airflow 2.10.5's DagBag reports "DAG is missing the start_date
    # parameter" for the first DAG and loads the others; 3.3.2 loads all four.
    src = """
    with DAG("nostart", schedule="0 6 * * 1"):
        EmptyOperator(task_id="a")
    with DAG("unscheduled", schedule=None):
        EmptyOperator(task_id="a")
    with DAG("default_schedule"):
        EmptyOperator(task_id="a")
    with DAG("in_args", schedule="@daily", default_args={"start_date": datetime(2024, 1, 1)}):
        EmptyOperator(task_id="a")
    """
    for version, refused in (("2", ["nostart"]), ("3", [])):
        b = airflow.parse("dags/x.py", HEAD + textwrap.dedent(src), airflow_source_version=version)
        assert [w.id for w in b.workflows if w.has_errors()] == refused
        assert all(d.line == 6 for w in b.workflows for d in w.diagnostics if d.code == "AF115")
