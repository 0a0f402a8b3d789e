"""Prefect backend: the emitted flow module compiles, is ruff-clean and
deterministic, reads back through the Prefect frontend to the same tasks,
edges, retries, trigger rules and schedule (minus the ledger), and really runs
in Prefect with the states Airflow's rules (the reference runtime) predict."""

from __future__ import annotations

import ast
import copy
import importlib.util
import itertools
import runpy
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_backend_airflow import hostile_workflows
from test_backend_common import (
    ALL_CORPUS,
    RUFF,
    assert_no_new_ruff_findings,
    assert_round_trip,
    corpus_conversions,
    kitchen_sink,
    ruff_clean,
    ruff_format_check,
    valid_corpus_workflows,
)

from wfconv.backends import prefect
from wfconv.frontends import prefect as prefect_frontend
from wfconv.ir.model import Action, Schedule, SourceRef, Task, Workflow

ROOT = Path(__file__).resolve().parent.parent


def emit_one(w, **options):
    """(name, code, Emitted) of the flow module; the helper module, when the
    flow needs it, is the only other file."""
    out = prefect.emit(w, **options)
    ((name, code),) = [(n, c) for n, c in out.files.items() if n not in prefect.HELPER_MODULES]
    assert set(out.files) - {name} <= set(prefect.HELPER_MODULES)
    return name, code, out


def write_helpers(folder: Path) -> None:
    (folder / prefect.HELPER_MODULES[0]).write_text(
        prefect.HELPER_SOURCE_PATH.read_text(encoding="utf-8"), encoding="utf-8"
    )


def reparse(tmp_path, name, code):
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    write_helpers(tmp_path)
    bundle = prefect_frontend.parse(str(path), code)
    assert len(bundle.workflows) == 1, [d.message for d in bundle.all_diagnostics()]
    return bundle.workflows[0]


def codes(out):
    return {d.code for d in out.diagnostics}


def test_kitchen_sink_compiles_and_is_ruff_clean(tmp_path):
    name, code, out = emit_one(kitchen_sink())
    compile(code, name, "exec")
    (tmp_path / name).write_text(code)
    ruff_clean(tmp_path / name)
    assert "from prefect import allow_failure, flow, task, unmapped" in code
    assert "from wfconv_prefect import gate, poll, retryable, skipped" in code
    assert (
        "@task(\n    retries=2, retry_delay_seconds=30, retry_condition_fn=retryable, "
        "timeout_seconds=600\n)\ndef sh(logical_date, upstream):"
    ) in code
    # exponential backoff expanded to per-attempt delays, capped by max_retry_delay
    assert "retry_delay_seconds=[10, 20, 40]" in code
    # the template is an f-string over the run's logical date; bash runs it
    assert 'command = f"echo \'{logical_date:%Y-%m-%d}\' \\"q\\" \\\\ done"' in code
    assert 'result = run(\n        ["bash", "-c", command],' in code
    # subprocess.run by name (a user callable called run takes an alias)
    assert "from subprocess import run\n" in code
    assert "from etl.jobs import run as run_\n" in code
    assert "fan_run = fan.map(\n        n=[1, 2, 3]" in code
    assert 'if not gate("one_failed", upstream):' in code
    # a kept function is the task itself
    assert '@task(name="py_kept")\ndef kept(x=1, *, upstream):' in code
    assert (
        'if __name__ == "__main__":\n    kitchen_sink.serve(\n        name="kitchen_sink",\n'
        # DTSTART: the first run's start (the first 06:00 tick from the start date),
        # whose hour, minute and second the rule takes
        '        schedules=[RRule("DTSTART:20240101T060000\\nRRULE:FREQ=DAILY", timezone="UTC")],'
    ) in code
    assert {"BP101", "BP102", "BP105", "BP107", "BP108", "BP109", "BP112"} <= codes(out)


def test_corpus_outputs_are_laid_out_as_ruff_format_does(tmp_path):
    """Every corpus workflow converted to Prefect is ``ruff format`` clean:
    shell calls, Oozie decision lambdas, sensor lambdas and long subject
    lines laid out by pycode, user callables' lines laid out with their
    final names (a Luigi task's ``from_str_params``)."""
    written = corpus_conversions(tmp_path, "prefect")
    assert len(written) >= 50
    unformatted, report = ruff_format_check(written)
    assert not unformatted, report
    assert any(p.name.startswith("oozie_") and "WFCONV_DECISIONS" in p.read_text() for p in written)


def test_output_is_deterministic_and_pure():
    w = kitchen_sink()
    before = copy.deepcopy(w)
    a = emit_one(w)[1]
    assert w == before
    assert a == emit_one(copy.deepcopy(w))[1]


def test_plain_workflows_use_native_prefect_dependencies():
    w = Workflow(
        "plain",
        tasks=[
            Task("a", Action("shell", {"command": "echo a"})),
            Task("b", Action("shell", {"command": "echo b"})),
            Task("cleanup", Action("shell", {"command": "echo c"}), trigger_rule="all_done"),
        ],
    )
    w.add_edge("a", "b")
    w.add_edge("b", "cleanup")
    name, code, out = emit_one(w)
    assert "wfconv_gate" not in code
    assert "b_run = b.submit(wait_for=[a_run])" in code
    assert "cleanup_run = cleanup.submit(wait_for=[allow_failure(b_run)])" in code
    assert not [d for d in out.diagnostics if d.severity != "info"]


@pytest.mark.parametrize(
    ("schedule", "expected", "code"),
    [
        (Schedule("interval", seconds=3600), "interval=3600", None),
        (
            Schedule("cron", cron="0 6 * * *", timezone="Europe/Paris"),
            'schedules=[Cron("0 6 * * *", timezone="Europe/Paris")]',
            None,
        ),
        (Schedule("once"), "    w()", "BP204"),  # no start date: run when executed
        (Schedule("datasets", datasets=["s3://x"]), 'w.serve(name="w"', "BP203"),
    ],
)
def test_schedules(schedule, expected, code):
    w = Workflow(
        "w", schedule=schedule, catchup=True, max_active_runs=2, tasks=[Task("a", Action("empty"))]
    )
    text, out = emit_one(w)[1:]
    assert expected in text
    if code:
        assert code in codes(out)
    if schedule.kind in ("cron", "interval"):
        assert "BP201" in codes(out)  # catchup
        assert "global_limit=2" in text


def test_templates_are_rendered_and_unknown_names_reported():
    w = Workflow(
        "t",
        params={"day-of": "x"},
        tasks=[
            Task(
                "a",
                Action(
                    "shell", {"command": "echo {{ ds }} {{ params['day-of'] }} {{ var.value.x }}"}
                ),
            ),
            Task("b", Action("shell", {"command": "echo {{ unclosed"})),
        ],
    )
    text, out = emit_one(w)[1:]
    assert 'def t(day_of="x", logical_date: datetime.datetime | None = None)' in text
    # {{ var.value.x }} has no f-string spelling: rendered in jinja2's sandbox
    assert (
        "command = render(\n        \"echo {{ ds }} {{ params['day-of'] }} {{ var.value.x }}\",\n"
        '        logical_date,\n        {"day-of": day_of},\n    )'
    ) in text
    assert {"BP114", "BP115", "BP133", "BP205"} <= codes(out)
    assert 'command = "echo {{ unclosed"' in text  # kept verbatim


@pytest.mark.parametrize("path", ALL_CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_round_trip_through_the_prefect_frontend(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    for w in valid_corpus_workflows(path):
        name, code, out = emit_one(w)
        compile(code, name, "exec")
        back = reparse(tmp_path, name, code)
        assert_round_trip(w, out, back)


def test_corpus_outputs_add_no_ruff_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    written: dict[str, Path] = {}
    for path in ALL_CORPUS:
        try:
            workflows = valid_corpus_workflows(path)
        except pytest.skip.Exception:
            continue
        for w in workflows:
            name, code, _ = emit_one(w)
            fname = f"{len(written)}_{name}"
            (tmp_path / fname).write_text(code)
            written[fname] = path
    assert len(written) >= 20
    assert_no_new_ruff_findings(tmp_path, written)


@pytest.mark.parametrize("wid", ["nightly", "class-", "sales_etl", "etl-daily"])
def test_flow_name_is_the_id_in_prefect_and_read_back(tmp_path, wid):
    """Prefect names an unnamed flow after its function with "_" as "-", while
    a reader takes the function's name: ``name=`` is left out only where both
    give the id (a hypothesis case once lost the "-" of ``class-``)."""
    w = Workflow(id=wid, tasks=[Task(id="a", action=Action("empty", {}))])
    name, code, _ = emit_one(w)
    assert ("@flow(name=" in code) == (wid != "nightly")
    assert reparse(tmp_path, name, code).id == wid
    from prefect import Flow

    module = runpy.run_path(str(tmp_path / name))
    assert [v.name for v in module.values() if isinstance(v, Flow)] == [wid]


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
    # Prefect refuses / % & < > in flow names: those become _ (BP130).
    assert back.id == (prefect.flow_name(w, back.id) if w.id else back.id)
    assert_round_trip(w, out, back, prefect.prefect_names(w))


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


# --- engine tests: the flow really runs in Prefect ---------------------------------

_counter = itertools.count()


def harmless(w: Workflow, fail: set[str] = frozenset(), tmp: Path | None = None) -> Workflow:
    """The fixture of the issue: every command replaced by a harmless one
    (``echo``), ``false`` for the tasks a scenario makes fail."""
    w = copy.deepcopy(w)
    for t in w.tasks:
        kind = t.action.kind
        if kind == "branch":
            continue
        if kind == "sensor" and tmp is not None:
            flag = tmp / f"flag_{len(t.id)}"
            flag.write_text("x")
            t.action.fields.update(target=str(flag), poke_interval_s=0.1, timeout_s=5)
            continue
        if kind in ("fail",) and t.id not in fail:
            continue
        t.action = Action("shell", {"command": "false" if t.id in fail else f"echo {t.id!r}"})
        t.mapped = None
        t.retry_delay_s = 0 if t.retries else t.retry_delay_s
    return w


def run_flow(tmp_path, w, **options):
    """Run the emitted flow in Prefect: (its final state, each task's Airflow
    state as Prefect recorded it)."""
    name, code, out = emit_one(w, **options)
    path = tmp_path / f"{next(_counter)}_{name}"
    path.write_text(code)
    write_helpers(tmp_path)
    spec = importlib.util.spec_from_file_location(f"wfconv_flow_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(tmp_path))
    try:
        spec.loader.exec_module(module)
        from prefect import Flow

        flow_fn = next(v for v in vars(module).values() if isinstance(v, Flow) and v.name == w.id)
        state = flow_fn(return_state=True)
    finally:
        sys.path.remove(str(tmp_path))
    return state, task_states(state, w)


def task_states(state, w) -> dict[str, str]:
    """Airflow's word for each task's outcome in a Prefect flow run: a
    Completed state named Skipped is skipped, a failure of the gate's
    UpstreamFailed (or a task never run, or left NotReady) upstream_failed;
    a mapped task takes its worst run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    # Prefect 3 records task run states from events, a moment after the run:
    # read until every task run is there and settled (NotReady stays Pending).
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
                ),
                limit=200,
                sort="EXPECTED_START_TIME_ASC",
            )
            settled = all(
                r.state and (r.state.is_final() or r.state.name == "NotReady") for r in runs
            )
            names = {r.name.rsplit("-", 1)[0] for r in runs}
            if (settled and {t.id for t in w.tasks} <= names) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    seen: dict[str, list[str]] = {}
    for run in runs:
        s = run.state
        if s.is_completed():
            word = "skipped" if s.name == "Skipped" else "success"
        elif s.is_failed() and "UpstreamFailed" not in (s.message or ""):
            word = "failed"
        else:
            word = "upstream_failed"
        seen.setdefault(run.name.rsplit("-", 1)[0], []).append(word)
    by_name = {}
    for t in w.tasks:
        words = seen.get(t.id, ["upstream_failed"])
        for word in ("failed", "upstream_failed", "success", "skipped"):
            if word in words:
                by_name[t.id] = word
                break
    return by_name


def reference(w, fail=(), branch=None):
    from wfconv.runtime import ALL, Scenario, run

    r = run(w, Scenario(fail={t: ALL for t in fail}, branch=branch or {}), date="2024-01-01")[0]
    return r.state, {tid: tr.state for tid, tr in r.tasks.items()}


def _branching_workflow():
    """A branch that always chooses 'b', a failing path and Airflow's join."""
    w = Workflow(
        "branchy",
        tasks=[
            Task("start", Action("shell", {"command": "echo start"})),
            Task(
                "pick",
                Action(
                    "branch", {"callable": "pick", "source_code": "def pick():\n    return ['b']\n"}
                ),
            ),
            Task("a", Action("shell", {"command": "echo a"})),
            Task("b", Action("shell", {"command": "echo b"})),
            Task("join", Action("empty"), trigger_rule="none_failed_min_one_success"),
            Task("boom", Action("shell", {"command": "false"}), retries=1, retry_delay_s=0),
            Task(
                "on_error", Action("shell", {"command": "echo handled"}), trigger_rule="one_failed"
            ),
            Task("after_boom", Action("empty")),
        ],
        source=SourceRef("ir", "test", 1),
    )
    for a, b in [
        ("start", "pick"),
        ("pick", "a"),
        ("pick", "b"),
        ("a", "join"),
        ("b", "join"),
        ("start", "boom"),
        ("boom", "on_error"),
        ("boom", "after_boom"),
    ]:
        w.add_edge(a, b)
    return w


@pytest.mark.engine
def test_branching_flow_runs_like_the_reference_runtime(prefect_harness, tmp_path):
    w = _branching_workflow()
    state, statuses = run_flow(tmp_path, w)
    ref_state, ref_tasks = reference(w, fail={"boom"}, branch={"pick": ["b"]})
    assert state.is_failed() == (ref_state == "failed")
    assert statuses == ref_tasks


@pytest.mark.engine
def test_plain_flow_runs_and_fails_on_a_failed_leaf(prefect_harness, tmp_path):
    w = Workflow(
        "plain_chain",
        tasks=[
            Task("extract", Action("shell", {"command": "echo extract"})),
            Task("load", Action("shell", {"command": "false"})),
            Task("report", Action("shell", {"command": "echo report"})),
            Task("cleanup", Action("shell", {"command": "echo cleanup"}), trigger_rule="all_done"),
        ],
    )
    for a, b in [("extract", "load"), ("load", "report"), ("load", "cleanup")]:
        w.add_edge(a, b)
    state, statuses = run_flow(tmp_path, w)
    ref_state, ref_tasks = reference(w, fail={"load"})
    assert ref_state == "failed" and state.is_failed()
    assert statuses == ref_tasks
    w.task("load").action.fields["command"] = "echo load"
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed()
    assert statuses == reference(w)[1]


@pytest.mark.engine
@pytest.mark.parametrize(
    "source",
    [
        "airflow/etl_basic.py",
        "airflow/taskgroups.py",
        "prefect/etl_basic.py",
        "oozie/error_handlers.xml",
    ],
)
def test_corpus_flows_run_in_prefect(prefect_harness, tmp_path, monkeypatch, source):
    monkeypatch.chdir(ROOT)
    path = ROOT / "corpus" / source
    for w in valid_corpus_workflows(path):
        w = harmless(w, tmp=tmp_path)
        state, statuses = run_flow(tmp_path, w)
        branch = {
            t.id: [d for d in w.downstream(t.id)][:1] for t in w.tasks if t.action.kind == "branch"
        }
        ref_state, ref_tasks = reference(w, branch=branch)
        assert state.is_completed() == (ref_state == "success"), statuses
        if statuses is not None and not branch:
            assert statuses == ref_tasks


def test_every_ledger_code_is_documented():
    from wfconv.backends import airflow

    doc = (ROOT / "docs" / "codes" / "backends-airflow-prefect.md").read_text()
    for module in (airflow, prefect):
        for code in module.CODES:
            assert f"| {code} |" in doc, code


@pytest.mark.engine
def test_called_workflow_of_the_bundle_runs_as_a_nested_flow(
    prefect_harness, tmp_path, monkeypatch
):
    child = Workflow(
        "pf_child_flow",
        params={"table": "orders"},
        tasks=[
            Task("load", Action("shell", {"command": "test {{ params.table }} = sales"})),
        ],
    )
    parent = Workflow(
        "pf_parent_flow",
        tasks=[
            Task("prep", Action("shell", {"command": "echo prep"})),
            Task(
                "call",
                Action("subworkflow", {"workflow": "pf_child_flow", "conf": {"table": "sales"}}),
            ),
            Task("after", Action("shell", {"command": "echo after"})),
        ],
    )
    parent.add_edge("prep", "call")
    parent.add_edge("call", "after")
    bundle = {w.id: w for w in (parent, child)}
    out = prefect.emit(parent, workflows=bundle)
    assert "from pf_child_flow import pf_child_flow" in out.files["pf_parent_flow.py"]
    assert 'return pf_child_flow(table="sales")' in out.files["pf_parent_flow.py"]
    for name, code in prefect.emit(child).files.items():
        (tmp_path / name).write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    state, statuses = run_flow(tmp_path, parent, workflows=bundle)
    assert state.is_completed(), statuses
    assert statuses == {"prep": "success", "call": "success", "after": "success"}
    # the conf reaches the child: with another value its command fails, and so does the call
    parent.task("call").action.fields["conf"] = {"table": "other"}
    state, statuses = run_flow(tmp_path, parent, workflows=bundle)
    assert state.is_failed()
    assert statuses == {"prep": "success", "call": "failed", "after": "upstream_failed"}


@pytest.mark.engine
def test_luigi_pipeline_converted_to_prefect_runs_its_task_code(
    prefect_harness, tmp_path, monkeypatch
):
    """Luigi -> Prefect: each task instance is built from its parameters and
    its own run() does the work, reading what its requirements wrote."""
    monkeypatch.chdir(ROOT)
    (w,) = valid_corpus_workflows(ROOT / "corpus" / "luigi" / "daily_sales.py")
    name, code, out = emit_one(w)
    assert "Extract.from_str_params(" in code and "BP123" in codes(out)
    monkeypatch.syspath_prepend(str(ROOT / "corpus" / "luigi"))
    monkeypatch.chdir(tmp_path)
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed(), statuses
    assert set(statuses.values()) == {"success"}
    for source in ("crm", "shop", "pos"):  # every Normalize copied its Extract's file
        assert (
            tmp_path / "data" / "clean" / source / "2024-03-01.csv"
        ).read_text() == "order_id,amount\n"
    assert (tmp_path / "reports" / "sales_20240301.txt").read_text() == "0\n"  # header-only inputs


@pytest.mark.engine
def test_mapping_over_an_upstream_output_runs_natively(prefect_harness, tmp_path):
    out_file = tmp_path / "scores.txt"
    w = Workflow(
        "map_over_output",
        tasks=[
            Task(
                "stations",
                Action(
                    "python",
                    {
                        "callable": "stations",
                        "source_code": "def stations():\n    return ['a', 'b', 'c']\n",
                    },
                ),
            ),
            Task(
                "score",
                Action(
                    "python",
                    {
                        "callable": "score",
                        "source_code": "def score(station, factor):\n    return station * factor\n",
                        "op_kwargs": {"factor": 2},
                    },
                ),
                mapped={
                    "kind": "zip",
                    "over": {"station": "{{ ti.xcom_pull(task_ids='stations') }}"},
                },
            ),
            Task(
                "report",
                Action(
                    "python",
                    {
                        "callable": "report",
                        "source_code": f"def report(scores):\n    open({str(out_file)!r}, 'w').write(','.join(scores))\n",
                        "op_args": ["{{ ti.xcom_pull(task_ids='score') }}"],
                    },
                ),
            ),
        ],
    )
    w.add_edge("stations", "score", "data")
    w.add_edge("score", "report", "data")
    name, code, out = emit_one(w)
    assert "score_run = score.map(factor=unmapped(2), station=stations_run)" in code
    assert not {"BP110", "BP111"} & codes(out)
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed(), statuses
    assert out_file.read_text() == "aa,bb,cc"


def test_propagated_configuration_passes_the_run_parameters():
    child = Workflow("kid", params={"day": "x"}, tasks=[Task("a", Action("empty"))])
    w = Workflow(
        "p",
        params={"day": "2024", "region": "eu"},
        tasks=[
            Task(
                "call", Action("subworkflow", {"workflow": "kid", "propagate_configuration": True})
            ),
            Task(
                "ext",
                Action(
                    "subworkflow",
                    {"workflow": "ext", "propagate_configuration": True, "conf": {"a": 1}},
                ),
            ),
        ],
    )
    out = prefect.emit(w, workflows={"kid": child, "p": w})
    code = out.files["p.py"]
    assert "def call(day, region):\n    return kid(day=day)" in code
    assert 'parameters={"day": day, "region": region, "a": 1}' in code
    assert "call_run = call.submit(day, region)" in code
    assert "BP124" in codes(out)


@pytest.mark.engine
def test_airflow_mapping_examples_run_in_prefect_unchanged(prefect_harness, tmp_path, monkeypatch):
    """TaskFlow mapping over an upstream output, a cross product, and
    BashOperator .expand/.expand_kwargs, converted and run as they are
    (their commands and functions are harmless)."""
    monkeypatch.chdir(ROOT)
    (w,) = valid_corpus_workflows(ROOT / "corpus" / "airflow" / "mapped_tasks.py")
    name, code, out = emit_one(w)
    # only: the mapped Bash commands read back as python tasks (the start date
    # is the RRule's DTSTART)
    assert {d.code for d in out.diagnostics if d.severity != "info"} == {"BP128"}
    state, statuses = run_flow(tmp_path, w)
    # total() sums the file names process() returns: a TypeError in Airflow
    # too, so the converted run fails there and only there.
    assert state.is_failed()
    assert statuses == {
        "list_files": "success",
        "process": "success",
        "total": "failed",
        "add": "success",
        "echo": "success",
        "pairs": "success",
    }


def _decision_workflow():
    from wfconv.frontends import load_path

    (w,) = load_path("corpus/oozie/decision_default.xml", "oozie").workflows
    return w


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
def test_oozie_decision_cases_are_evaluated_in_order(monkeypatch, params, exists, chosen):
    monkeypatch.chdir(ROOT)
    name, code, out = emit_one(_decision_workflow())
    assert "BP102" not in codes(out)
    tree = ast.parse(code)
    keep = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Assign))]
    keep = [n for n in keep if not (isinstance(n, ast.FunctionDef) and n.decorator_list)]
    ns: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "<flow>", "exec"), ns)
    ns["fs_exists"] = lambda path: exists and path == "/data/in/_SUCCESS"
    full = {"inputDir": "/data/in", "mode": "full", "maxRows": "1000", "dryRun": None, **params}
    assert ns["wfconv_decide"]("check-input", full) == chosen


def test_long_decision_cases_are_laid_out_as_ruff_format_does(monkeypatch, tmp_path):
    """Cases longer than a line (a sum, a conditional, many conditions) are
    split the way ruff format splits them, and still read back as cases."""
    import subprocess

    monkeypatch.chdir(ROOT)
    w = _decision_workflow()
    long_and = " and ".join(f"wf:conf('parameter_{i}') eq 'value_{i}'" for i in range(4))
    cases = [
        {"when": "${" + long_and + "}", "to": "full-load"},
        {
            "when": "${fs:exists(concat(concat(inputDir, '/' ), concat(mode, '/_SUCCESS_MARKER_FILE')))}",
            "to": "no-input",
        },
        {"when": "${mode eq 'full' ? maxRows gt 5000 : concat(inputDir, mode) eq 'x'}", "to": None},
    ]
    w.task("check-input").action.fields["cases"] = cases
    name, code, out = emit_one(w)
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    res = subprocess.run(
        [RUFF, "format", "--isolated", "--no-cache", "--diff", str(path)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout
    table = code.split("WFCONV_DECISIONS = ")[1].split("\n\n")[0].split("\n")
    # split before the operator, one operand a line
    assert any(line.strip() == "and to_bool(" for line in table)
    assert any(line.strip().startswith("else _equals(") for line in table)
    back = reparse(tmp_path, name, code).task("check-input").action
    assert back.kind == "branch"
    assert [{"when": c["when"], "to": c["to"]} for c in back.fields["cases"]] == cases


def test_oozie_decision_reads_back_as_the_same_cases(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    w = _decision_workflow()
    name, code, _ = emit_one(w)
    back = reparse(tmp_path, name, code)
    src = w.task("check-input").action
    got = back.task("check-input").action
    assert (got.kind, got.fields) == (
        "branch",
        {"cases": src.fields["cases"], "default": src.fields["default"]},
    )
    # The decision's downstream gates name it as their branch.
    assert back.task("no-input").action.kind == "fail"
    edited = code.replace(
        'lambda params: _equals(params["mode"], "full")', "lambda params: True", 1
    )
    assert edited != code
    got = reparse(tmp_path, name, edited).task("check-input").action
    assert got.kind == "branch" and "cases" not in got.fields


@pytest.mark.parametrize(
    ("cron", "tz"),
    [
        ("0 0 * * *", "UTC"),
        ("30 6 * * 1-5", "Europe/London"),
        ("30 7 15 2,5,8,11 *", "Europe/Berlin"),
        ("0 * * * *", "UTC"),
        ("15 6 * * *", "Europe/Berlin"),
        ("*/20 9-17/4 * JAN-MAR SUN,7", "America/New_York"),
    ],
)
def test_a_dated_cron_becomes_an_rrule_prefect_runs_at_the_same_times(cron, tz):
    """Prefect's own RRuleSchedule yields exactly the cron's times from the
    start date (cronsim is the reference), and stops at the end date."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from cronsim import CronSim
    from prefect.client.schemas.schedules import RRuleSchedule

    # A trigger schedule: its runs start at the cron's ticks from the start date.
    w = Workflow(id="d", schedule=Schedule(kind="cron", cron=cron, timezone=tz, model="trigger"))
    w.start_date = "2024-01-01T00:00:00+00:00"
    w.end_date = "2024-03-01T00:00:00+00:00"
    _, code, out = emit_one(w)
    assert "BP202" not in codes(out)
    tree = ast.parse(code)
    call = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "RRule"
    )
    rule, zone = call.args[0].value, call.keywords[0].value.value
    assert zone == tz
    got = list(RRuleSchedule(rrule=rule, timezone=tz).to_rrule())
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).astimezone(ZoneInfo(tz))
    end = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    want = []
    for t in CronSim(cron, start - dt.timedelta(seconds=1)):
        if t > end:
            break
        want.append(t)
    assert [x.astimezone(dt.UTC) for x in got] == [x.astimezone(dt.UTC) for x in want]


def test_once_is_one_scheduled_run_at_the_start_date(tmp_path):
    """Airflow's @once: Prefect's scheduler (its server-side RRuleSchedule)
    creates exactly one run, at the start date in the schedule's timezone,
    and none once that date has passed; the rule reads back as @once."""
    import asyncio
    import datetime as dt

    from prefect.server.schemas.schedules import RRuleSchedule

    w = Workflow(
        id="w",
        schedule=Schedule(kind="once", timezone="Europe/Berlin"),
        tasks=[Task("a", Action("empty"))],
    )
    w.start_date = "2024-03-01T05:00:00+00:00"
    name, code, out = emit_one(w)
    assert (
        '    w.serve(\n        name="w",\n        schedules=[\n            RRule(\n'
        '                "DTSTART:20240301T060000\\nRRULE:FREQ=DAILY;COUNT=1",\n'
        '                timezone="Europe/Berlin",\n            )\n        ],\n    )'
    ) in code
    assert "BP202" not in codes(out) and "BP208" in codes(out)
    call = next(
        n
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "RRule"
    )
    schedule = RRuleSchedule(rrule=call.args[0].value, timezone=call.keywords[0].value.value)
    before = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    got = asyncio.run(schedule.get_dates(n=5, start=before))
    assert [d.astimezone(dt.UTC) for d in got] == [dt.datetime(2024, 3, 1, 5, tzinfo=dt.UTC)]
    assert asyncio.run(schedule.get_dates(n=5, start=dt.datetime(2024, 3, 2, tzinfo=dt.UTC))) == []
    back = reparse(tmp_path, name, code)
    assert back.schedule.kind == "once"
    assert dt.datetime.fromisoformat(back.start_date) == dt.datetime(2024, 3, 1, 5, tzinfo=dt.UTC)


def test_crons_without_an_rrule_spelling_keep_the_date_loss():
    w = Workflow(id="d", schedule=Schedule(kind="cron", cron="0 3 1 * 1"))  # day OR weekday
    w.start_date = "2024-01-01T00:00:00+00:00"
    _, code, out = emit_one(w)
    assert "BP202" in codes(out) and 'cron="0 3 1 * 1"' in code


@pytest.mark.engine
@pytest.mark.parametrize(
    ("mode", "followed"),
    [("full", "full-load"), ("incremental", "incremental-load")],
)
def test_oozie_decision_runs_in_prefect_like_the_reference(
    prefect_harness, tmp_path, monkeypatch, mode, followed
):
    """The decision evaluates its EL cases on the flow's parameters in Prefect:
    the input marker exists, so the mode decides; the path not taken is skipped."""
    monkeypatch.chdir(ROOT)
    marker = tmp_path / "in"
    marker.mkdir()
    (marker / "_SUCCESS").write_text("")
    w = harmless(_decision_workflow())
    w.params["inputDir"] = str(marker)
    w.params["mode"] = mode
    state, statuses = run_flow(tmp_path, w)
    assert statuses["check-input"] == "success"
    assert statuses[followed] == "success"
    other = {"full-load", "incremental-load"} - {followed}
    assert statuses[other.pop()] == "skipped"
    assert statuses["no-input"] == "skipped" and statuses["check-input__stats"] == "skipped"


def test_a_file_sensor_on_a_url_polls_that_file_system_not_the_local_one(tmp_path):
    """hdfs:// and s3:// targets (Oozie datasets) go through fsspec: a local
    glob of a URL never matches, so the sensor could only time out."""
    fsspec = pytest.importorskip("fsspec")
    w = Workflow(id="s")
    w.tasks.append(
        Task(
            id="wait",
            action=Action(
                "sensor",
                {"sensor": "FileSensor", "target": "memory://landing/*/_SUCCESS", "timeout_s": 5},
            ),
        )
    )
    _, code, out = emit_one(w)
    assert "glob.glob(" not in code and "glob_url(" in code
    from wfconv.backends.shipped.wfconv_prefect import glob_url

    assert glob_url("memory://landing/*/_SUCCESS") == []
    fsspec.filesystem("memory").pipe("/landing/2024-01-01/_SUCCESS", b"")
    try:
        assert glob_url("memory://landing/*/_SUCCESS") == ["/landing/2024-01-01/_SUCCESS"]
    finally:
        fsspec.filesystem("memory").rm("/landing", recursive=True)


@pytest.mark.parametrize(
    ("target", "soft"),
    [("/data/in/{{ ds }}/_SUCCESS", False), ("hdfs://nn:8020/data/{{ ds }}/_SUCCESS", True)],
)
def test_file_sensors_read_back_as_file_sensors(tmp_path, target, soft):
    w = Workflow(id="s")
    fields = {"sensor": "FileSensor", "target": target, "poke_interval_s": 30, "timeout_s": 600}
    w.tasks.append(Task(id="wait", action=Action("sensor", {**fields, "soft_fail": soft})))
    name, code, _ = emit_one(w)
    back = reparse(tmp_path, name, code).task("wait").action
    assert (back.kind, back.fields) == ("sensor", {**fields, "soft_fail": soft})
    # A poll helper that is not wfconv's (here: never times out) is plain python.
    helper = tmp_path / prefect.HELPER_MODULES[0]
    text = helper.read_text()
    edited = text.replace("if time.monotonic() >= deadline:", "if False:", 1)
    assert edited != text
    path = tmp_path / name
    helper.write_text(edited)
    bundle = prefect_frontend.parse(str(path), code)
    assert bundle.workflows[0].task("wait").action.kind == "python"


def test_an_email_task_reads_back_as_email(tmp_path):
    w = Workflow(id="m")
    fields = {
        "to": ["a@example.com", "b@example.com"],
        "cc": ["c@example.com"],
        "subject": "done {{ ds }}",
        "body": "see the report",
    }
    w.tasks.append(Task(id="mail", action=Action("email", dict(fields))))
    name, code, _ = emit_one(w)
    back = reparse(tmp_path, name, code).task("mail").action
    assert (back.kind, back.fields) == ("email", fields)
    # One more statement in the body: not obviously an email any more.
    edited = code.replace("    message.set_content(", "    print(1)\n    message.set_content(", 1)
    assert reparse(tmp_path, name, edited).task("mail").action.kind == "python"


@pytest.mark.engine
def test_backfill_runs_every_past_tick_with_its_logical_date(prefect_harness, tmp_path):
    """Prefect creates no past runs (BP201): the module's wfconv_backfill runs
    one flow run per schedule tick, oldest first, each rendering its own ds."""
    log = tmp_path / "ds.log"
    w = Workflow(
        "daily_report",
        tasks=[Task("report", Action("shell", {"command": f"echo {{{{ ds }}}} >> '{log}'"}))],
        schedule=Schedule("cron", "0 6 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
        catchup=True,
    )
    name, code, out = emit_one(w)
    assert "wfconv_backfill(first, last)" in next(
        d.message for d in out.diagnostics if d.code == "BP201"
    )
    assert 'backfill(daily_report, first, last, cron="0 6 * * *")' in code
    path = tmp_path / name
    path.write_text(code)
    write_helpers(tmp_path)
    spec = importlib.util.spec_from_file_location(f"wfconv_flow_backfill_{next(_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(tmp_path))
    try:
        spec.loader.exec_module(module)
        module.wfconv_backfill("2024-01-01", "2024-01-03T23:00")
    finally:
        sys.path.remove(str(tmp_path))
    assert log.read_text().split() == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_a_catch_up_whose_runs_read_no_date_needs_no_backfill():
    """The runs of a flow that reads no date are all alike, and the flow
    takes no logical_date: no wfconv_backfill (it would pass one), no helper
    import; BP201 says to run the flow once per past tick."""
    w = Workflow(
        "monthly",
        tasks=[Task("m", Action("empty"))],
        schedule=Schedule("interval", seconds=2592000),
        start_date="2024-01-01T00:00:00+00:00",
        catchup=True,
    )
    name, code, out = emit_one(w)
    assert "backfill" not in code and "wfconv_prefect" not in code
    assert "def monthly():" in code
    assert "call monthly() once per past tick" in next(
        d.message for d in out.diagnostics if d.code == "BP201"
    )


def test_backfill_ticks_of_an_interval_step_from_the_start_date():
    from wfconv.backends.shipped.wfconv_prefect import backfill

    seen = []

    def flow(logical_date):
        seen.append(logical_date.isoformat())

    backfill(flow, "2024-01-02", "2024-01-03", seconds=43200, start="2024-01-01T03:00:00")
    assert seen == ["2024-01-02T03:00:00+00:00", "2024-01-02T15:00:00+00:00"]


# --- defects of issue 13, each run in Prefect ---------------------------------------


@pytest.mark.engine
def test_a_task_bash_command_computed_by_its_function_runs_in_prefect(prefect_harness, tmp_path):
    """@task.bash whose command the Airflow reader cannot evaluate (it keeps
    the return expression's source): the function is pasted and called when
    the task runs, and bash runs what it returns (not the source text)."""
    from wfconv.frontends import airflow as airflow_frontend

    out_file = tmp_path / "out.txt"
    src = tmp_path / "dag.py"
    src.write_text(
        "from airflow.decorators import dag, task\n"
        "@dag(schedule=None)\n"
        "def bashed():\n"
        "    @task.bash\n"
        "    def say(word):\n"
        f"        target = {str(out_file)!r}\n"
        '        return f"echo {word} > {target}"\n'
        '    say("hello")\n'
        "bashed()\n",
        encoding="utf-8",
    )
    (w,) = airflow_frontend.parse(str(src), src.read_text()).workflows
    name, code, out = emit_one(w)
    assert 'command = say_("hello")' in code  # the task is say
    assert "BP128" in codes(out) and "BP118" not in codes(out)
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed() and statuses == {"say": "success"}
    assert out_file.read_text() == "hello\n"


@pytest.mark.engine
def test_a_sensor_that_times_out_is_not_retried_in_prefect(prefect_harness, tmp_path):
    """Airflow never retries a sensor that timed out: the flow's sensor task
    polls once for its whole timeout and fails, whatever its retries."""
    missing = tmp_path / "never" / "_SUCCESS"
    w = Workflow(
        "sensed",
        tasks=[
            Task(
                "wait",
                Action(
                    "sensor",
                    {
                        "sensor": "FileSensor",
                        "target": str(missing),
                        "poke_interval_s": 0.1,
                        "timeout_s": 0.5,
                    },
                ),
                retries=3,
                retry_delay_s=0,
            )
        ],
    )
    state, statuses = run_flow(tmp_path, w)
    assert state.is_failed() and statuses == {"wait": "failed"}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30
        while True:  # task run states arrive as events, a moment later
            (run,) = client.read_task_runs(
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
                ),
                limit=10,
                sort="EXPECTED_START_TIME_ASC",
            )
            if run.state.is_final() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert run.state.is_failed() and run.run_count == 1  # three retries: 4


@pytest.mark.engine
def test_shell_output_reaches_prefect_logs_and_prev_ds_is_the_previous_day(
    prefect_harness, tmp_path, caplog
):
    """log_prints: what the command prints is in Prefect's task-run logs; the
    command's {{ prev_ds }} is the schedule's previous tick (Airflow 2), not
    empty, for the run's logical date."""
    import datetime as dt
    import logging

    w = Workflow(
        "logged",
        schedule=Schedule("cron", "0 6 * * *"),
        tasks=[Task("say", Action("shell", {"command": "echo day={{ ds }} prev={{ prev_ds }}"}))],
    )
    name, code, out = emit_one(w)
    assert "BP114" not in codes(out)
    path = tmp_path / name
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(f"wfconv_flow_logged_{next(_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with caplog.at_level(logging.INFO, logger="prefect"):
        module.logged(logical_date=dt.datetime(2024, 3, 1, 6, tzinfo=dt.UTC))
    assert any("day=2024-03-01 prev=2024-02-29" in r.getMessage() for r in caplog.records)


LUIGI_PIPELINE = """
import luigi

LOG = "LOG_PATH"


class Fetch(luigi.Task):
    def output(self):
        return luigi.LocalTarget("OUT_DIR/fetch.txt")

    def run(self):
        with open(LOG, "a") as log:
            log.write("fetch\\n")
        with self.output().open("w") as out:
            out.write("data")


class Train(luigi.Task):
    balanced = luigi.BoolParameter(default=True)

    def requires(self):
        return Fetch()

    def output(self):
        return luigi.LocalTarget("OUT_DIR/model.txt")

    def run(self):
        with open(LOG, "a") as log:
            log.write(f"train balanced={self.balanced}\\n")
        with self.output().open("w") as out:
            out.write("model")
"""


@pytest.mark.engine
def test_luigi_tasks_in_prefect_skip_finished_work_and_get_the_flow_parameters(
    prefect_harness, tmp_path, monkeypatch
):
    """Luigi -> Prefect: a task whose outputs exist does not run again (Luigi's
    complete()), and a flow parameter given to the run reaches the task
    (balanced=False is False, not the default's True)."""
    from wfconv.frontends import load_path

    log = tmp_path / "log.txt"
    src = tmp_path / "src"
    src.mkdir()
    text = LUIGI_PIPELINE.replace("LOG_PATH", str(log)).replace("OUT_DIR", str(tmp_path / "out"))
    (src / "pipeline.py").write_text(text)
    (w,) = load_path(str(src / "pipeline.py"), "luigi", static=True).workflows
    assert w.params == {"balanced": True}
    name, code, out = emit_one(w)
    path = tmp_path / name
    path.write_text(code)
    monkeypatch.syspath_prepend(str(src))
    spec = importlib.util.spec_from_file_location(f"wfconv_flow_luigi_{next(_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    flow_fn = module.train_flow
    assert flow_fn(balanced=False, return_state=True).is_completed()
    assert log.read_text().splitlines() == ["fetch", "train balanced=False"]
    assert flow_fn(return_state=True).is_completed()  # everything is complete
    assert log.read_text().splitlines() == ["fetch", "train balanced=False"]


ANNOTATED_DAG = """
from datetime import datetime
from typing import Any, Dict

from airflow import DAG
from airflow.decorators import task


@task
def rows() -> Dict[str, Any]:
    return {"a": 1}


@task
def total(values: Dict[str, Any]) -> Any:
    assert values == {"a": 1}
    return sum(values.values())


with DAG("annotated", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    total(rows())
"""


@pytest.mark.engine
def test_pasted_functions_keep_the_imports_their_annotations_need(prefect_harness, tmp_path):
    """TaskFlow functions annotated with ``Dict``/``Any``: the flow imports
    them from typing (no F821) and runs in Prefect, the value passed along."""
    import subprocess

    from wfconv.frontends import load_path

    src = tmp_path / "annotated.py"
    src.write_text(ANNOTATED_DAG, encoding="utf-8")
    (w,) = load_path(str(src), "airflow").workflows
    _, code, _ = emit_one(w)
    assert "from typing import Any, Dict" in code
    out = tmp_path / "out"
    out.mkdir()
    (out / "annotated.py").write_text(code)
    lint = subprocess.run(
        [
            str(Path(sys.executable).with_name("ruff")),
            "check",
            "--isolated",
            "--select",
            "F",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    state, statuses = run_flow(tmp_path, w)
    assert state.is_completed(), statuses
    assert statuses == {"rows": "success", "total": "success"}


@pytest.mark.engine
def test_camel_case_parameters_are_snake_case_arguments_run_by_that_name(prefect_harness, tmp_path):
    """Oozie's ``outDir`` is the flow argument ``out_dir`` (PEP 8, ruff N803),
    the ledger names the rename, a called flow's parameters are passed by the
    same rule, and a Prefect run given ``out_dir`` uses it."""
    import subprocess

    params = {"outDir": "/nonexistent", "nameNode": "hdfs://nn"}
    touch = Task("touch", Action("shell", {"command": "touch {{ params.outDir }}/done"}))
    call = Task(
        "call", Action("subworkflow", {"workflow": "other", "propagate_configuration": True})
    )
    caller = Workflow("caller", params=params, tasks=[call])
    _, code, out = emit_one(caller)
    assert 'parameters={"out_dir": out_dir, "name_node": name_node}' in code
    w = Workflow("camel", params=params, tasks=[touch], source=SourceRef("oozie", "w.xml", 1))
    name, code, out = emit_one(w)
    assert 'def camel(out_dir="/nonexistent", name_node="hdfs://nn"):' in code
    assert (
        "parameter 'outDir' is the flow argument 'out_dir' (deployments and readers see the new "
        "name)"
    ) in {d.message for d in out.diagnostics if d.code == "BP205"}
    path = tmp_path / name
    path.write_text(code)
    lint = subprocess.run(
        [RUFF, "check", "--isolated", "--no-cache", "--select", "N", str(path)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    spec = importlib.util.spec_from_file_location("wfconv_flow_camel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = module.camel(out_dir=str(tmp_path), return_state=True)
    assert state.is_completed()
    assert (tmp_path / "done").exists()
