"""Airflow backend: the emitted DAG file compiles, is ruff-clean, deterministic,
uses the right idioms per version, and reads back (through the Airflow
frontend) to the same tasks, edges, retries, trigger rules and schedule,
except what the ledger lists."""

from __future__ import annotations

import ast
import copy
import keyword
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_backend_common import (
    ALL_CORPUS,
    assert_no_new_ruff_findings,
    assert_round_trip,
    corpus_conversions,
    kitchen_sink,
    ruff_clean,
    ruff_format_check,
    valid_corpus_workflows,
)

from wfconv.backends import airflow
from wfconv.frontends import airflow as airflow_frontend
from wfconv.ir.model import TRIGGER_RULES, Action, Edge, Group, Schedule, SourceRef, Task, Workflow

ROOT = Path(__file__).resolve().parent.parent


def emit_one(w, **options):
    out = airflow.emit(w, **options)
    ((name, code),) = out.files.items()
    return name, code, out


def reparse(tmp_path, name, code):
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    bundle = airflow_frontend.parse(str(path), code)
    assert len(bundle.workflows) == 1, [d.message for d in bundle.all_diagnostics()]
    return bundle.workflows[0]


def codes(out):
    return {d.code for d in out.diagnostics}


def test_kitchen_sink_airflow3_compiles_and_is_ruff_clean(tmp_path):
    name, code, out = emit_one(kitchen_sink())
    assert name == "kitchen_sink.py"
    compile(code, name, "exec")
    (tmp_path / name).write_text(code)
    ruff_clean(tmp_path / name)
    # Airflow 3 idioms
    assert "from airflow.sdk import DAG, TaskGroup" in code
    assert "from airflow.providers.standard.operators.bash import BashOperator" in code
    assert "EmptyOperator" in code and "schedule=" in code and "schedule_interval" not in code
    assert (
        'TriggerDagRunOperator(\n        task_id="child",\n        trigger_dag_id="other_flow"'
        in code
    )
    assert "wait_for_completion=True" in code
    assert "from etl.jobs import each, run" in code
    assert "raise AirflowFailException(message)" in code
    assert "PythonOperator.partial(" in code and ".expand(" in code
    assert "def kept(x=1):\n    return x + 1" in code  # a self-contained kept function is pasted
    assert 'with TaskGroup(group_id="grp", tooltip="the group") as tg_grp:' in code
    # every approximation is in the ledger with the task's source line
    assert {"BA101", "BA102", "BA104", "BA105", "BA107", "BA117", "BA118"} <= codes(out)
    stub = next(d for d in out.diagnostics if d.code == "BA101")
    assert (stub.path, stub.line, stub.target) == ("dags/sink.py", 13, "python stub")


def test_airflow2_uses_2x_import_paths(tmp_path):
    name, code, _ = emit_one(kitchen_sink(), airflow_version=2)
    compile(code, name, "exec")
    (tmp_path / name).write_text(code)
    ruff_clean(tmp_path / name)
    assert "from airflow import DAG" in code
    assert "from airflow.operators.bash import BashOperator" in code
    assert "from airflow.utils.task_group import TaskGroup" in code
    assert "airflow.sdk" not in code and "providers.standard" not in code


def test_output_is_deterministic():
    a = emit_one(kitchen_sink())[1]
    b = emit_one(copy.deepcopy(kitchen_sink()))[1]
    assert a == b


def test_emit_does_not_mutate_the_workflow():
    w = kitchen_sink()
    before = copy.deepcopy(w)
    airflow.emit(w)
    assert w == before


def test_schedules_and_dates():
    w = Workflow(
        "w",
        # Airflow 3's meaning of a bare cron, so Airflow 3 output writes it bare.
        schedule=Schedule("cron", cron="30 2 * * 1", timezone="Europe/Paris", model="trigger"),
        start_date="2024-03-01T00:00:00+00:00",
        end_date="2024-06-01T00:00:00+00:00",
        catchup=True,
        tasks=[Task("a", Action("empty"))],
    )
    code = emit_one(w)[1]
    assert 'schedule="30 2 * * 1"' in code
    assert 'start_date=pendulum.datetime(2024, 3, 1, 1, tz="Europe/Paris")' in code
    assert "end_date=pendulum.datetime(2024, 6, 1, 2, tz=" in code
    assert "catchup=True" in code
    w.schedule = Schedule("interval", seconds=3600, model="trigger")
    name, code, out = emit_one(w)
    assert "schedule=datetime.timedelta(seconds=3600)" in code and not codes(out)
    w.schedule = Schedule("datasets", datasets=["s3://b/k"])
    assert 'schedule=[Asset("s3://b/k")]' in emit_one(w)[1]
    assert 'schedule=[Dataset("s3://b/k")]' in emit_one(w, airflow_version=2)[1]
    w.schedule = Schedule("once")
    assert 'schedule="@once"' in emit_one(w)[1]
    w.schedule = Schedule("manual")
    assert "schedule=None" in emit_one(w)[1]


def test_invalid_airflow_ids_are_mapped_and_reported(tmp_path):
    w = Workflow(
        "my dag", tasks=[Task("load it!", Action("empty")), Task("load_it_", Action("empty"))]
    )
    w.add_edge("load it!", "load_it_")
    name, code, out = emit_one(w)
    assert 'dag_id="my_dag"' in code
    assert 'task_id="load_it_"' in code and 'task_id="load_it__2"' in code
    assert [d.code for d in out.diagnostics].count("BA119") == 2
    back = reparse(tmp_path, name, code)
    assert back.task_ids() == ["load_it__2", "load_it_"]


def test_groups_without_airflow_prefix_keep_ids(tmp_path):
    w = Workflow(
        "g",
        groups=[Group("stage")],
        tasks=[
            Task("x", Action("empty"), group="stage"),
            Task("y", Action("empty"), group="stage"),
        ],
    )
    w.add_edge("x", "y")
    name, code, out = emit_one(w)
    assert "prefix_group_id=False" in code and "BA115" in codes(out)
    assert reparse(tmp_path, name, code).task_ids() == ["x", "y"]


def test_data_passing_becomes_xcomarg(tmp_path):
    w = Workflow(
        "d",
        tasks=[
            Task("a", Action("python", {"callable": "produce", "module": "m"})),
            Task(
                "b",
                Action(
                    "python",
                    {
                        "callable": "consume",
                        "module": "m",
                        "op_args": ["{{ ti.xcom_pull(task_ids='a') }}"],
                    },
                ),
            ),
        ],
    )
    w.add_edge("a", "b", "data")
    name, code, out = emit_one(w)
    assert "op_args=[a.output]" in code and "a >> b" not in code
    assert "BA114" not in codes(out)
    back = reparse(tmp_path, name, code)
    assert [(e.src, e.dst) for e in back.edges] == [("a", "b")]


@pytest.mark.parametrize("path", ALL_CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_round_trip_through_the_airflow_frontend(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    for version in (3, 2):
        for w in valid_corpus_workflows(path):
            name, code, out = emit_one(w, airflow_version=version)
            compile(code, name, "exec")
            back = reparse(tmp_path, name, code)
            rename = {t.id: airflow.airflow_keys(w.task_ids())[t.id] for t in w.tasks}
            assert_round_trip(w, out, back, rename)


def test_corpus_outputs_add_no_ruff_findings(tmp_path, monkeypatch):
    """Generated code is ruff-clean; a user function pasted verbatim from the
    source keeps its own style, so the output may only show rule codes the
    source file already has."""
    monkeypatch.chdir(ROOT)
    written: dict[str, Path] = {}
    for path in ALL_CORPUS:
        try:
            workflows = valid_corpus_workflows(path)
        except pytest.skip.Exception:
            continue
        for w in workflows:
            for version in (3, 2):
                name, code, _ = emit_one(w, airflow_version=version)
                fname = f"{len(written)}_{name}"
                (tmp_path / fname).write_text(code)
                written[fname] = path
    assert len(written) >= 40
    assert_no_new_ruff_findings(tmp_path, written)


# --- property test: hostile strings -------------------------------------------------

HOSTILE_TEXT = st.sampled_from(
    [
        "'",
        '"',
        '"""',
        "'''",
        "\\",
        "\\n",
        "\n",
        "{{ ds }}",
        "{% if x %}",
        "${wf:id()}",
        "é",
        "日本",
        "\x00",
        "\u202e",
        " ",
        "#",
        "%s",
        "class",
        "None",
        "def",
        "import",
        "-",
        ".",
        "1",
    ]
)
hostile = st.lists(st.one_of(HOSTILE_TEXT, st.text(max_size=4)), min_size=1, max_size=4).map(
    "".join
)
task_ids = st.one_of(
    hostile, st.sampled_from(list(keyword.kwlist) + ["dag", "DAG", "task", "a.b", "x-y"])
)


@st.composite
def hostile_workflows(draw):
    ids = draw(st.lists(task_ids, min_size=1, max_size=6, unique=True))
    kinds = st.sampled_from(["shell", "python", "empty", "fail", "sensor"])
    tasks = []
    for i, tid in enumerate(ids):
        kind = draw(kinds)
        fields = {
            "shell": lambda: {"command": draw(hostile), "env": {"K": draw(hostile)}},
            "python": lambda: {
                "callable": "fn",
                "module": "pkg.mod",
                "op_kwargs": {"a": draw(hostile)},
            },
            "empty": dict,
            "fail": lambda: {"message": draw(hostile)},
            "sensor": lambda: {
                "sensor": "FileSensor",
                "target": draw(hostile),
                "soft_fail": draw(st.booleans()),
            },
        }[kind]()
        tasks.append(
            Task(
                tid,
                Action(kind, fields),
                retries=draw(st.integers(0, 4)),
                retry_delay_s=draw(st.sampled_from([None, 5.0, 60.0])),
                trigger_rule=draw(st.sampled_from(TRIGGER_RULES)),
                doc=draw(st.none() | hostile),
                source=SourceRef("airflow", "x.py", i + 1),
            )
        )
    w = Workflow(
        draw(hostile),
        description=draw(st.none() | hostile),
        tasks=tasks,
        params={draw(hostile): draw(hostile)},
        tags=[draw(hostile)],
        schedule=draw(st.sampled_from([Schedule("manual"), Schedule("cron", cron="0 1 * * *")])),
        start_date="2024-01-01T00:00:00+00:00",
    )
    for i in range(1, len(ids)):
        for j in range(i):
            if draw(st.booleans()):
                w.edges.append(Edge(ids[j], ids[i]))
    return w


@given(hostile_workflows())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_hostile_workflows_compile_and_round_trip(tmp_path, w):
    name, code, out = emit_one(w)
    ast.parse(code)
    assert code == emit_one(w)[1]
    back = reparse(tmp_path, name, code)
    keys = airflow.airflow_keys(w.task_ids())
    assert_round_trip(w, out, back, keys)
    # the ledger explains every id Airflow could not keep
    renamed = {t for t in w.task_ids() if keys[t] != t}
    reported = {d.message for d in out.diagnostics if d.code == "BA119"}
    assert len(reported) >= len(renamed)


@given(hostile_workflows())
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_hostile_workflows_are_ruff_clean(tmp_path, w):
    name, code, _ = emit_one(w)
    (tmp_path / name).write_text(code, encoding="utf-8")
    ruff_clean(tmp_path / name)


AIRFLOW_IMPORTER = """
import importlib.util, json, pathlib, sys
out = {"ok": [], "missing": [], "error": []}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        assert module.dag.dag_id
        out["ok"].append(path.name)
    except ModuleNotFoundError as exc:  # a provider or user module not installed
        out["missing"].append([path.name, exc.name])
    except Exception as exc:
        out["error"].append([path.name, repr(exc)])
print("WFCONV_RESULT " + json.dumps(out))
"""


@pytest.mark.engine
def test_emitted_dags_import_under_real_airflow(tmp_path, monkeypatch, airflow3_python):
    """Every DAG emitted from the corpora of all four engines imports under
    Airflow 3.3.2, whose virtualenv has neither Prefect nor Luigi: the DAGs
    converted from Prefect and Luigi need neither, nor their source modules
    (docs/output.md §3). Missing providers are fine."""
    import json
    import os
    import subprocess

    python = str(airflow3_python)
    monkeypatch.chdir(ROOT)
    dags = tmp_path / "dags"
    dags.mkdir()
    n = 0
    check = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util as u; print(u.find_spec('prefect'), u.find_spec('luigi'))",
        ],
        capture_output=True,
        text=True,
    )
    assert check.stdout.split() == ["None", "None"]
    for path in ALL_CORPUS:
        try:
            workflows = valid_corpus_workflows(path)
        except pytest.skip.Exception:
            continue
        for w in workflows:
            for name, code in airflow.emit(w).files.items():
                (dags / f"d{n:03d}_{name}").write_text(code)
                n += 1
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    proc = subprocess.run(
        [python, "-c", AIRFLOW_IMPORTER, str(dags)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV_RESULT ")), None)
    assert line, proc.stderr[-2000:]
    result = json.loads(line[len("WFCONV_RESULT ") :])
    assert result["error"] == []
    assert all(name.startswith("airflow.providers.") for _, name in result["missing"])
    assert len(result["ok"]) >= 50


def _parent_and_child():
    child = Workflow(
        "child",
        tasks=[
            Task("load", Action("shell", {"command": "echo load"})),
            Task("kill", Action("fail", {"message": "child failed"}), trigger_rule="one_failed"),
        ],
    )
    child.add_edge("load", "kill", "error")
    parent = Workflow(
        "parent",
        tasks=[
            Task("prep", Action("shell", {"command": "echo prep"})),
            Task(
                "run-child",
                Action("subworkflow", {"workflow": "child", "conf": {"x": "1"}}),
                retries=1,
            ),
            Task("after", Action("shell", {"command": "echo after"})),
        ],
    )
    parent.add_edge("prep", "run-child")
    parent.add_edge("run-child", "after")
    return parent, child


def test_subworkflow_trigger_is_the_default(tmp_path):
    parent, child = _parent_and_child()
    code = emit_one(parent, workflows={"parent": parent, "child": child})[1]
    assert 'trigger_dag_id="child"' in code and "wait_for_completion=True" in code


def test_subworkflow_inlined_as_taskgroup_keeps_the_child_outcome(tmp_path):
    from wfconv.backends.inline import inline_subworkflows
    from wfconv.runtime import ALL, Scenario, run

    parent, child = _parent_and_child()
    bundle = {"parent": parent, "child": child}
    name, code, out = emit_one(parent, subworkflow="taskgroup", workflows=bundle)
    (tmp_path / name).write_text(code)
    ruff_clean(tmp_path / name)
    assert 'with TaskGroup(group_id="run-child") as tg_run_child:' in code
    ba120 = [d for d in out.diagnostics if d.code == "BA120"]
    assert (
        len(ba120) == 1
        and "1 retries of the call" in ba120[0].message
        and ba120[0].task == "run-child"
    )
    back = reparse(tmp_path, name, code)
    assert set(back.task_ids()) == {
        "prep",
        "run-child.load",
        "run-child.kill",
        "run-child.end",
        "after",
    }
    # Behaviour: the inlined group succeeds or fails as the child run would.
    inlined, _ = inline_subworkflows(parent, bundle, lambda t, m: None)
    ok = run(inlined, Scenario(), date="2024-01-01")[0]
    assert ok.state == "success" and ok.tasks["after"].state == "success"
    bad = run(inlined, Scenario(fail={"run-child.load": ALL}), date="2024-01-01")[0]
    assert bad.state == "failed" and bad.tasks["after"].state == "upstream_failed"
    assert parent.task_ids() == ["prep", "run-child", "after"]  # the input is not modified


def test_mapping_over_an_upstream_output_uses_xcomarg_map(tmp_path):
    w = Workflow(
        "m",
        tasks=[
            Task("stations", Action("python", {"callable": "stations", "module": "m"})),
            Task(
                "score",
                Action("python", {"callable": "score", "module": "m", "op_kwargs": {"w": 1}}),
                mapped={
                    "kind": "zip",
                    "over": {"station": "{{ ti.xcom_pull(task_ids='stations') }}"},
                },
            ),
        ],
    )
    w.add_edge("stations", "score", "data")
    name, code, out = emit_one(w)
    # the imported functions keep their names; the task variables yield
    assert "def score_task_kwargs(value):" in code
    assert 'return {"w": 1, "station": value}' in code
    assert "op_kwargs=stations_task.output.map(score_task_kwargs)" in code
    assert not {"BA109", "BA114"} & codes(out)
    (tmp_path / name).write_text(code)
    ruff_clean(tmp_path / name)
    back = reparse(tmp_path, name, code)
    assert [(e.src, e.dst) for e in back.edges] == [("stations", "score")]
    assert back.task("score").mapped is not None


def test_shell_scripts_escape_airflow_template_lookup_unless_the_source_was_airflow():
    w = Workflow(
        "s",
        tasks=[Task("a", Action("shell", {"command": "run.sh"}))],
        source=SourceRef("oozie", "wf.xml", 1),
    )
    code, out = emit_one(w)[1:]
    assert 'bash_command="run.sh ",' in code and "BA112" in codes(out)
    w.source = SourceRef("airflow", "dag.py", 1)
    assert 'bash_command="run.sh",' in emit_one(w)[1]


def test_propagated_configuration_passes_params_in_conf():
    w = Workflow(
        "p",
        params={"day": "2024-01-01", "it's": 1},
        tasks=[
            Task(
                "call",
                Action(
                    "subworkflow",
                    {"workflow": "child", "propagate_configuration": True, "conf": {"x": "1"}},
                ),
            )
        ],
    )
    code, out = emit_one(w)[1:]
    line = next(x for x in code.splitlines() if x.strip().startswith("conf="))
    conf = ast.literal_eval(line.strip()[len("conf=") :].rstrip(","))
    assert conf == {"day": '{{ params["day"] }}', "it's": '{{ params["it\'s"] }}', "x": "1"}
    assert "BA122" in codes(out)


def test_unknown_airflow_operator_is_re_emitted_from_its_import(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (w,) = valid_corpus_workflows(ROOT / "corpus" / "airflow" / "sensors_and_operators.py")
    name, code, out = emit_one(w)
    assert "from company.plugins.operators import FancyOperator" in code
    assert (
        'FancyOperator(\n        task_id="fancy",\n        level=3,\n        targets=["a", "b"],'
        in code
    )
    assert (
        'HiveOperator(\n        task_id="hive",\n        hql="INSERT OVERWRITE TABLE t SELECT * FROM s",'
        in code
    )
    assert "BA123" in codes(out) and "BA105" not in codes(out)
    back = reparse(tmp_path, name, code)
    assert back.task("fancy").action.get("type") == "FancyOperator"
    assert back.task("fancy").action.get("args") == {"level": 3, "targets": ["a", "b"]}


# --- engine test: the emitted DAG runs in a real Airflow --------------------------

AIRFLOW_RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("wfconv_emitted", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = module.dag.test()
print("WFCONV_RESULT " + json.dumps({"state": str(run.state),
      "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()}}))
"""


@pytest.mark.engine
def test_emitted_dag_runs_in_real_airflow_like_the_reference_runtime(tmp_path, airflow3_python):
    """dag.test() of the emitted DAG in Airflow 3.3.2 gives the reference runtime's outcome."""
    import json
    import os
    import subprocess

    python = str(airflow3_python)
    from test_backend_prefect import _branching_workflow, reference

    w = _branching_workflow()
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    name, code, _ = emit_one(w)
    (home / "dags" / name).write_text(code)
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run(
            [python, "-m", "airflow", *args], env=env, check=True, capture_output=True, timeout=300
        )
    proc = subprocess.run(
        [python, "-c", AIRFLOW_RUNNER, str(home / "dags" / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV_RESULT ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(line[len("WFCONV_RESULT ") :])
    want_state, want_tasks = reference(w, fail={"boom"}, branch={"pick": ["b"]})
    assert result["state"].lower().endswith(want_state)
    assert result["tasks"] == want_tasks


def test_all_done_min_one_success_on_airflow_2_is_reported():
    w = Workflow(
        "r",
        tasks=[
            Task("a", Action("empty")),
            Task("b", Action("empty"), trigger_rule="all_done_min_one_success"),
        ],
    )
    w.add_edge("a", "b")
    code3, out3 = emit_one(w)[1:]
    assert 'trigger_rule="all_done_min_one_success"' in code3
    assert [d.severity for d in out3.diagnostics if d.code == "BA124"] == ["info"]
    code2, out2 = emit_one(w, airflow_version=2)[1:]
    assert 'trigger_rule="all_done"' in code2
    assert [d.severity for d in out2.diagnostics if d.code == "BA124"] == ["warning"]


def _decision_workflow():
    from wfconv.frontends import load_path

    (w,) = load_path("corpus/oozie/decision_default.xml", "oozie").workflows
    return w


def _helper_namespace(code):
    """Run the emitted module's helper section (everything but imports and the
    DAG itself) so that its decision chooser can be called without Airflow."""
    tree = ast.parse(code)
    keep = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Assign))]
    ns = {"os": __import__("os")}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "<dag>", "exec"), ns)
    return ns


@pytest.mark.parametrize(
    ("params", "exists", "chosen"),
    [
        ({"mode": "full"}, False, "no-input"),  # the first true case wins (R4)
        ({"mode": "full"}, True, "full-load"),
        ({"mode": "inc", "dryRun": "true"}, True, []),  # to: null is the end
        ({"mode": "inc", "maxRows": "6000"}, True, "check-input__stats"),
        ({"mode": "inc"}, True, "incremental-load"),  # no case holds: default
    ],
)
def test_oozie_decision_cases_are_evaluated_in_order(monkeypatch, tmp_path, params, exists, chosen):
    monkeypatch.chdir(ROOT)
    w = _decision_workflow()
    name, code, out = emit_one(w)
    assert "BA102" not in codes(out)
    ns = _helper_namespace(code)
    ns["fs_exists"] = lambda path: exists and path == "/data/in/_SUCCESS"
    full = {"inputDir": "/data/in", "mode": "full", "maxRows": "1000", "dryRun": None, **params}
    assert ns["wfconv_decide"]("check-input", full) == chosen


def test_oozie_decision_reads_back_as_the_same_cases(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    w = _decision_workflow()
    name, code, _ = emit_one(w)
    back = reparse(tmp_path, name, code).task("check-input").action
    src = w.task("check-input").action
    assert back.kind == "branch"
    assert back.fields == {"cases": src.fields["cases"], "default": src.fields["default"]}
    # An edited predicate no longer is the EL text's translation: plain python.
    edited = code.replace('_equals(params["mode"], "full")', "True", 1)
    assert edited != code
    back = reparse(tmp_path, name, edited).task("check-input").action
    assert "cases" not in back.fields and back.fields["callable"] == "wfconv_decide"


def test_untranslatable_decision_case_is_left_out_with_ba102():
    w = _decision_workflow()
    cases = w.task("check-input").action.fields["cases"]
    cases.insert(0, {"when": "${wf:lastErrorNode() eq 'x'}", "to": "full-load"})
    _, code, out = emit_one(w)
    assert "BA102" in codes(out)
    assert "lastErrorNode" not in code.split("WFCONV_DECISIONS")[1].split("def wfconv_decide")[0]


def test_file_sensors_on_hdfs_and_s3_use_the_provider_sensor_others_are_a_ledgered_loss():
    """An Oozie dataset read as a FileSensor on hdfs:// would never succeed in
    Airflow's FileSensor (it checks the local disk): HDFS and S3 get the
    provider's sensor on that file system (connection named in the ledger);
    other URLs stay FileSensors and the ledger says they cannot succeed."""

    def sensor(tid, target):
        return Task(tid, Action("sensor", {"sensor": "FileSensor", "target": target}))

    w = Workflow(
        "datasets",
        tasks=[
            sensor("wait_hdfs", "hdfs://nn:8020/data/{{ ds }}/_SUCCESS"),
            sensor("wait_s3", "s3://bucket/in/*.csv"),
            sensor("wait_gs", "gs://bucket/data/_SUCCESS"),
            sensor("wait_local", "/data/_SUCCESS"),
        ],
    )
    _, code, out = emit_one(w)
    assert "wait_hdfs = WebHdfsSensor(" in code
    assert 'filepath="/data/{{ ds }}/_SUCCESS"' in code
    assert "wait_s3 = S3KeySensor(" in code
    assert 'bucket_key="s3://bucket/in/*.csv"' in code and "wildcard_match=True" in code
    assert 'filepath="gs://bucket/data/_SUCCESS"' in code
    assert 'filepath="/data/_SUCCESS"' in code
    got = sorted(
        (d.code, d.task, d.severity) for d in out.diagnostics if d.code in ("BA126", "BA128")
    )
    assert got == [
        ("BA126", "wait_gs", "warning"),
        ("BA128", "wait_hdfs", "info"),
        ("BA128", "wait_s3", "info"),
    ]
    assert "nn:8020" in next(d.message for d in out.diagnostics if d.task == "wait_hdfs")
    # Read back, the sensors are the provider's, waiting for the same files.
    (back,) = airflow_frontend.parse("dags/x.py", code).workflows
    targets = {t.id: (t.action.get("sensor"), t.action.get("target")) for t in back.tasks}
    assert targets["wait_hdfs"] == ("WebHdfsSensor", "/data/{{ ds }}/_SUCCESS")
    assert targets["wait_s3"] == ("S3KeySensor", "s3://bucket/in/*.csv")


@pytest.mark.parametrize("version", [3, 2])
def test_a_time_schedule_with_datasets_is_an_or_time_schedule_and_reads_back(version):
    w = Workflow(
        "ots",
        tasks=[Task("a", Action("empty"))],
        schedule=Schedule("cron", "0 1 * * *", datasets=["s3://b/orders"], model="trigger"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    _, code, _ = emit_one(w, airflow_version=version)
    # The timetable of the schedule's time model, in either version.
    if version >= 3:
        assert "AssetOrTimeSchedule(timetable=CronTriggerTimetable(" in code
        assert 'assets=[Asset("s3://b/orders")]' in code
    else:
        assert "DatasetOrTimeSchedule(timetable=CronTriggerTimetable(" in code
        assert 'datasets=[Dataset("s3://b/orders")]' in code
    (back,) = airflow_frontend.parse("dags/x.py", code).workflows
    assert (back.schedule.kind, back.schedule.cron, back.schedule.datasets) == (
        "cron",
        "0 1 * * *",
        ["s3://b/orders"],
    )


# --- Airflow 3's spelling of the template variables it removed --------------------

REMOVED_VARIABLES_DAG = """
import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="removed_vars",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
) as dag:
    BashOperator(
        task_id="say",
        bash_command="echo '{{ execution_date }} {{ prev_ds }} {{ prev_ds_nodash }} "
        "{{ tomorrow_ds }} {{ yesterday_ds_nodash }} {% if prev_ds %}since{% endif %} "
        "{{ prev_execution_date_success }}' > OUT_PATH",
    )
"""

DAG_TEST_RUNNER = """
import importlib.util, sys
import pendulum
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
when = pendulum.datetime(2024, 3, 5, tz="UTC")
key = "logical_date" if sys.argv[2] == "3" else "execution_date"
module.dag.test(**{key: when})
"""


def _dag_test(python, dag_file, major: str, home) -> None:
    import os
    import subprocess

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dag_file.parent),
    }
    steps = [["db", "migrate"]] + ([["dags", "reserialize"]] if major == "3" else [])
    for args in steps:
        subprocess.run(
            [python, "-m", "airflow", *args], env=env, check=True, capture_output=True, timeout=300
        )
    subprocess.run(
        ["timeout", "-k", "10", "300", python, "-c", DAG_TEST_RUNNER, str(dag_file), major],
        env=env,
        check=True,
        capture_output=True,
        cwd=dag_file.parent,
    )


@pytest.mark.engine
@pytest.mark.slow
def test_removed_template_variables_render_in_airflow_3_as_in_airflow_2(
    tmp_path, airflow2_python, airflow3_python
):
    """execution_date, prev_ds (also in a {% if %}), prev_ds_nodash, tomorrow_ds,
    yesterday_ds_nodash, prev_execution_date_success: the Airflow 2 DAG in
    Airflow 2.10.5 and its Airflow 3 conversion in Airflow 3.3.2 write the same line for the same logical date. (next_ds is
    left out: dag.test() makes a manual run, for which Airflow 2 gives the
    logical date itself rather than the next tick.)"""
    src = tmp_path / "src"
    src.mkdir()
    out_path = tmp_path / "OUT"
    (src / "removed_vars.py").write_text(REMOVED_VARIABLES_DAG.replace("OUT_PATH", str(out_path)))
    (w,) = airflow_frontend.parse(str(src / "removed_vars.py")).workflows
    name, code, out = emit_one(w)
    assert "BA129" in codes(out) and "BA130" not in codes(out)
    assert "execution_date" not in code and "prev_ds" not in code
    assert "{% if (logical_date - macros.timedelta(days=1))" in code
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / name).write_text(code)
    _dag_test(str(airflow2_python), src / "removed_vars.py", "2", tmp_path / "home2")
    before = out_path.read_text()
    out_path.unlink()
    _dag_test(str(airflow3_python), dst / name, "3", tmp_path / "home3")
    assert before.split() == [
        "2024-03-05",
        "00:00:00+00:00",
        "2024-03-04",
        "20240304",
        "2024-03-06",
        "20240304",
        "since",
        "None",
    ]
    assert out_path.read_text() == before


OOZIE_PARAMETERS = """<workflow-app xmlns="uri:oozie:workflow:0.5" name="params-app">
  <parameters>
    <property><name>inputDir</name><value>/data/in</value></property>
    <property><name>mode</name><value>full</value></property>
  </parameters>
  <start to="route"/>
  <decision name="route">
    <switch>
      <case to="write">${mode eq 'full'}</case>
      <default to="end"/>
    </switch>
  </decision>
  <action name="write">
    <shell xmlns="uri:oozie:shell-action:0.3">
      <exec>bash</exec>
      <argument>-c</argument>
      <argument>echo "$0" > OUT_PATH</argument>
      <argument>${inputDir}</argument>
    </shell>
    <ok to="end"/>
    <error to="fail"/>
  </action>
  <kill name="fail"><message>failed</message></kill>
  <end name="end"/>
</workflow-app>
"""

CONF_RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.dag.test(run_conf=json.loads(sys.argv[2]))
"""


@pytest.mark.engine
@pytest.mark.slow
def test_oozie_parameters_given_to_a_run_reach_commands_and_decisions_alike(
    tmp_path, airflow3_python
):
    """A declared Oozie parameter is the run's params in every task: a run
    given another inputDir writes that one (the default is not inlined into
    the command while the decision reads params)."""
    import json
    import os
    import subprocess

    from wfconv.frontends import oozie as oozie_frontend

    out_path = tmp_path / "OUT"
    src = tmp_path / "workflow.xml"
    src.write_text(OOZIE_PARAMETERS.replace("OUT_PATH", str(out_path)))
    (w,) = oozie_frontend.parse(str(src)).workflows
    assert "{{ params.inputDir }}" in w.task("write").action.fields["command"]
    name, code, _ = emit_one(w)
    assert "/data/in" not in code.split("params=")[0]  # only the default, in params
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / name).write_text(code)
    home = tmp_path / "home"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
    }
    python = str(airflow3_python)
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run(
            [python, "-m", "airflow", *args], env=env, check=True, capture_output=True, timeout=300
        )
    conf = json.dumps({"inputDir": "/elsewhere", "mode": "full"})
    subprocess.run(
        ["timeout", "-k", "10", "300", python, "-c", CONF_RUNNER, str(dags / name), conf],
        env=env,
        check=True,
        capture_output=True,
    )
    assert out_path.read_text().strip() == "/elsewhere"


CUSTOM_TIMETABLE = """
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.timetables.base import Timetable


class PayrollTimetable(Timetable):
    pass


with DAG("payroll", start_date=datetime(2024, 1, 1), timetable=PayrollTimetable()) as dag:
    EmptyOperator(task_id="pay")
"""


@pytest.mark.parametrize("target", ["airflow", "prefect"])
def test_a_custom_timetable_instance_is_a_warned_loss_not_a_silent_manual_dag(tmp_path, target):
    """``timetable=PayrollTimetable()`` (a class of the file) has no IR form:
    the output is unscheduled, and the ledger says so as a warning naming the
    class (it used to read as manual with an info only)."""
    from wfconv.backends import backend
    from wfconv.frontends import load_path

    src = tmp_path / "payroll.py"
    src.write_text(CUSTOM_TIMETABLE, encoding="utf-8")
    (w,) = load_path(str(src), "airflow").workflows
    assert w.schedule.kind == "manual"
    lost = [d for d in w.diagnostics if d.code == "AF216"]
    assert [d.severity for d in lost] == ["warning"]
    assert "PayrollTimetable" in lost[0].message
    text = next(iter(backend(target).emit(w).files.values()))
    assert "PayrollTimetable" not in text


TIME_SENSOR_DAG = """
from datetime import datetime, time

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.sensors.time_sensor import TimeSensor

with DAG("at_six", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    wait = TimeSensor(task_id="wait", target_time=time(6, 30, 15))
    go = BashOperator(task_id="go", bash_command="echo go")
    wait >> go
"""

TIME_SENSOR_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
when = module.dag.get_task("wait").target_datetime
print("WFCONV", type(when).__name__, when.strftime("%H:%M:%S"))
"""


@pytest.mark.engine
def test_time_sensor_target_time_is_a_time_airflow_3_reads(tmp_path, airflow3_python):
    """TimeSensor(target_time=...) is written as a datetime.time (it was the
    text of the code), and Airflow 3.3.2's TimeSensor builds its target
    moment from it."""
    import os
    import subprocess

    src = tmp_path / "at_six.py"
    src.write_text(TIME_SENSOR_DAG, encoding="utf-8")
    (w,) = airflow_frontend.parse(str(src)).workflows
    name, code, _ = emit_one(w)
    assert "target_time=datetime.time(6, 30, 15)" in code
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / name).write_text(code)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [str(airflow3_python), "-c", TIME_SENSOR_PROBE, str(dst / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV ")), None)
    assert line == "WFCONV DateTime 06:30:15", proc.stderr[-2000:]


PLACEHOLDER_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
task = module.dag.get_task("fancy")
print("WFCONV", type(task).__name__)
"""


@pytest.mark.engine
def test_a_mapped_operator_wfconv_cannot_write_is_an_unmapped_placeholder(
    tmp_path, airflow3_python
):
    """An operator with no Airflow form, mapped in the source, becomes the
    failing BashOperator placeholder without the source's .expand(value=...)
    (BA105, BA109): the DAG loads in Airflow 3.3.2 with one plain task."""
    import os
    import subprocess

    from wfconv.ir.model import Action, Task, Workflow

    task = Task("fancy", Action("opaque", {"operator": "FancyOperator"}), mapped={"value": [1, 2]})
    w = Workflow(id="placeholder", tasks=[task], edges=[])
    name, code, out = emit_one(w)
    assert {"BA105", "BA109"} <= codes(out)
    assert ".expand(" not in code and ".partial(" not in code
    (tmp_path / name).write_text(code)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [str(airflow3_python), "-c", PLACEHOLDER_PROBE, str(tmp_path / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "WFCONV BashOperator" in proc.stdout, proc.stderr[-2000:]


def test_corpus_dags_are_ruff_format_clean(tmp_path):
    """Every corpus workflow, from every source engine, converted to Airflow
    is laid out as ``ruff format`` (its defaults: 88 columns) lays it out:
    long literals one element per line, long task groups and stub messages
    split, an Oozie decision's cases (``WFCONV_DECISIONS``) as ruff splits
    them."""
    written = corpus_conversions(tmp_path, "airflow")
    assert len(written) >= 50
    unformatted, report = ruff_format_check(written)
    assert not unformatted, report
    assert any("WFCONV_DECISIONS = {" in p.read_text() for p in written)
