"""wfconv verify: structure + behaviour verdicts, and that they catch defects."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from wfconv.backends import backend
from wfconv.cli import main
from wfconv.ir import Action, Bundle, Edge, Task, Workflow, dumps, finalize
from wfconv.ir.model import Schedule, SourceRef
from wfconv.verify import verify_workflow
from wfconv.verify.behaviour import scenario_set
from wfconv.verify.structure import retry_bounds


def shell(tid, **kw):
    return Task(
        tid,
        Action("shell", {"command": f"echo {tid}"}),
        source=SourceRef("airflow", "d.py", 1),
        **kw,
    )


def alert_workflow() -> Workflow:
    """extract -> load, with an alert that runs only when extract fails."""
    return finalize(
        Workflow(
            id="alerting",
            tasks=[
                shell("extract", retries=1, retry_delay_s=60),
                shell("load"),
                shell("alert", trigger_rule="one_failed"),
            ],
            edges=[Edge("extract", "load"), Edge("extract", "alert")],
            source=SourceRef("airflow", "d.py", 1),
            schedule=Schedule("cron", cron="0 6 * * *"),
            start_date="2024-01-01T00:00:00+00:00",
        )
    )


def test_scenario_set_basic_is_linear():
    w = alert_workflow()
    names = [s.name for s in scenario_set(w)]
    assert names == [
        "no failure",
        "extract fails",
        "load fails",
        "alert fails",
        "extract fails once",
    ]
    assert len(scenario_set(w, "all")) == len(names) + 3  # the three failure pairs


def test_airflow_round_trip_is_equivalent():
    report = verify_workflow(alert_workflow(), "airflow")
    assert report.problems == []
    assert report.structure == []
    assert all(v.equivalent for v in report.behaviour), [v.describe() for v in report.behaviour]
    assert report.run_list is not None and report.run_list.equivalent
    assert report.equivalent


def branch_workflow() -> Workflow:
    """choose picks one of two paths; report joins them."""
    return finalize(
        Workflow(
            id="branching",
            tasks=[
                shell("extract"),
                Task("choose", Action("branch", {"callable": "pick", "module": "jobs"})),
                shell("path_a"),
                shell("path_b"),
                shell("report", trigger_rule="none_failed_min_one_success"),
            ],
            edges=[
                Edge("extract", "choose"),
                Edge("choose", "path_a"),
                Edge("choose", "path_b"),
                Edge("path_a", "report"),
                Edge("path_b", "report"),
            ],
            source=SourceRef("airflow", "d.py", 1),
        )
    )


def test_luigi_loses_branches_exactly_where_it_matters():
    """Luigi has no skipped state: both paths of a branch run. The difference
    must show in the scenarios where the choice matters, at the path not
    chosen, and the ledger must name the branch task."""
    report = verify_workflow(branch_workflow(), "luigi")
    assert any(d.code == "BL104" and d.task == "choose" for d in report.ledger)
    bad = {v.name: v for v in report.behaviour if not v.equivalent}
    assert bad["choose chooses path_a"].task == "path_b"
    assert bad["choose chooses path_b"].task == "path_a"
    assert "extract fails" not in bad
    assert not report.equivalent


def test_injected_backend_defect_is_caught(monkeypatch):
    """A backend that silently drops an edge must be caught by structure (a
    difference no ledger entry explains) and by behaviour."""
    airflow = backend("airflow")
    real_emit = airflow.emit

    def broken_emit(workflow, **options):
        w = dataclasses.replace(workflow, edges=[e for e in workflow.edges if e.dst != "load"])
        return real_emit(w, **options)

    monkeypatch.setattr(airflow, "emit", broken_emit)
    report = verify_workflow(alert_workflow(), "airflow")
    assert not report.equivalent
    unexplained = [d for d in report.structure if not d.explained]
    assert [(d.aspect, d.source) for d in unexplained] == [("edge", "extract -> load")]
    bad = {v.name: v for v in report.behaviour if not v.equivalent}
    assert "extract fails" in bad
    v = bad["extract fails"]
    assert (v.task, v.source, v.target) == (
        "load",
        "upstream_failed/0 attempts",
        "success/1 attempt",
    )


def test_retry_bounds_follow_semantics():
    t = shell("x", retries=3, retry_delay_s=10, retry_backoff="exponential", max_retry_delay_s=30)
    assert retry_bounds(t) == [(10, 20), (20, 30), (30, 30)]
    t = shell("y", retries=3, retry_delay_s=[1, 5])
    assert retry_bounds(t) == [(1, 1), (5, 5), (5, 5)]


def _write(tmp_path, w):
    p = tmp_path / "w.json"
    p.write_text(dumps(Bundle([w])), encoding="utf-8")
    return p


def test_cli_exit_codes_and_json(tmp_path):
    p = _write(tmp_path, alert_workflow())
    res = CliRunner().invoke(main, ["verify", str(p), "--to", "airflow"])
    assert res.exit_code == 0, res.output
    assert "5/5 scenarios equivalent" in res.stdout
    assert res.stdout.rstrip().endswith("1/1 workflow conversion(s) verified equivalent")
    p = _write(tmp_path, branch_workflow())
    res = CliRunner().invoke(main, ["verify", str(p), "--to", "luigi", "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "differs"
    rep = doc["reports"][0]
    assert rep["workflow"] == "branching" and rep["target"] == "luigi"
    assert {"scenario", "verdict", "task", "source", "target"} <= set(rep["behaviour"][0])
    # per-check results: without --engine only "complete", and the verdict says
    # that no engine was asked
    assert [c["check"] for c in rep["checks"]] == ["complete"]
    assert rep["unverified"] == ["every engine check (run with --engine)"]
    assert doc["checks"] == {"complete": {"pass": 1}}


@pytest.mark.parametrize("command", ["verify", "compare"])
def test_no_workflow_is_an_input_error(command, repo_root):
    args = [command, "corpus/airflow/no_dag.py"] + (
        ["--to", "airflow"] if command == "verify" else []
    )
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert "corpus/airflow/no_dag.py: no workflow found" in res.stderr


def test_a_stub_is_never_equivalent():
    """The probe scenarios cannot see a stub (every task is replaced): the
    completeness check does."""
    w = finalize(
        Workflow(
            id="stubbed",
            tasks=[Task("t", Action("python", {"callable": "mystery"}))],
            source=SourceRef("airflow", "x.py", 1),
        )
    )
    report = verify_workflow(w, "prefect")
    assert all(v.equivalent for v in report.behaviour)
    assert not report.equivalent
    assert report.verdict_text() == "DIFFERS"
    assert any("NotImplementedError" in d or "BP101" in d for d in report.checks[0].details)


@pytest.mark.parametrize("target", ["prefect", "luigi"])
@pytest.mark.parametrize("body", ["pass", '"""Nothing yet."""\n    return None', "print(1)"])
def test_a_function_that_does_nothing_is_an_empty_task(body, target):
    """Airflow's ``@task def t(): pass`` is a python task; pasted as the
    Prefect task, it reads back as an empty one: the same task, not a defect
    (a function that does something still reads back as python)."""
    source = f"def noop():\n    {body}\n"
    w = finalize(
        Workflow(
            id="nothing",
            tasks=[
                Task(
                    "noop",
                    Action("python", {"callable": "noop", "source_code": source}),
                    source=SourceRef("airflow", "x.py", 1),
                )
            ],
            source=SourceRef("airflow", "x.py", 1),
        )
    )
    report = verify_workflow(w, target)
    assert [d.describe() for d in report.structure] == []
    assert report.equivalent


def test_cli_refuses_cycles(tmp_path):
    w = finalize(
        Workflow(id="c", tasks=[shell("a"), shell("b")], edges=[Edge("a", "b"), Edge("b", "a")])
    )
    res = CliRunner().invoke(main, ["verify", str(_write(tmp_path, w)), "--to", "prefect"])
    assert res.exit_code == 2
    assert "cycle: a -> b -> a" in res.stderr


def test_compare_table_json_html(tmp_path):
    p = _write(tmp_path, alert_workflow())
    res = CliRunner().invoke(main, ["compare", str(p), "--targets", "airflow,luigi"])
    assert res.exit_code == 0, res.output
    assert "airflow  lossless" in res.stdout
    assert "trigger rules" in res.stdout and "lacks" in res.stdout
    res = CliRunner().invoke(
        main, ["compare", str(p), "--targets", "airflow,luigi", "--format", "json"]
    )
    doc = json.loads(res.stdout)["comparisons"][0]
    assert [t["target"] for t in doc["targets"]] == ["airflow", "luigi"]
    assert doc["targets"][0]["verdict"] == "lossless"
    assert doc["targets"][1]["support"]["trigger rules"] == "lacks"
    out = tmp_path / "c.html"
    res = CliRunner().invoke(main, ["compare", str(p), "--format", "html", "-o", str(out)])
    html = out.read_text()
    assert (
        html.startswith("<!DOCTYPE html>")
        and "<svg" in html
        and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


@pytest.mark.parametrize("target", ["oozie", "airflow"])
def test_engine_check_says_why_it_is_skipped(target, monkeypatch):
    from wfconv.verify import engine

    monkeypatch.setattr(engine, "airflow_python", lambda major="3": None)
    verdicts, note = engine.engine_check(alert_workflow(), target)
    assert verdicts == []
    assert ("no local engine" in note) if target == "oozie" else ("wfconv engines install" in note)
