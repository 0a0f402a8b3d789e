"""Branches, joins, ShortCircuit, and Oozie decision / error / kill workflows
(Oozie IR built by hand, the way docs/architecture.md §4 maps Oozie onto the IR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfconv.errors import UsageError
from wfconv.ir.expr import parse_template
from wfconv.ir.model import Action, Edge, Group, SourceRef, Task, Workflow
from wfconv.runtime import ALL, Scenario, run


def T(tid, kind="empty", rule="all_success", **fields):
    return Task(tid, Action(kind, fields), trigger_rule=rule)


def states(res):
    return {k: v.state for k, v in res.tasks.items()}


def branch_join(join_rule):
    return Workflow(
        "bj",
        tasks=[
            T("start"),
            T("choose", "branch", callable="pick"),
            T("a"),
            T("b"),
            T("b2"),
            T("join", rule=join_rule),
            T("end"),
        ],
        edges=[
            Edge("start", "choose"),
            Edge("choose", "a"),
            Edge("choose", "b"),
            Edge("b", "b2"),
            Edge("a", "join"),
            Edge("b2", "join"),
            Edge("join", "end"),
        ],
    )


def test_branch_then_join_none_failed_min_one_success():
    (res,) = run(
        branch_join("none_failed_min_one_success"),
        Scenario(branch={"choose": ["b"]}),
        date="2024-01-01",
    )
    assert states(res) == {
        "start": "success",
        "choose": "success",
        "a": "skipped",
        "b": "success",
        "b2": "success",
        "join": "success",
        "end": "success",
    }
    assert res.state == "success"
    assert res.notes == []


def test_branch_then_join_all_success_is_skipped():
    (res,) = run(branch_join("all_success"), Scenario(branch={"choose": ["b"]}), date="2024-01-01")
    assert res.tasks["join"].state == "skipped"
    assert res.tasks["end"].state == "skipped"
    assert res.state == "success"


def test_branch_without_choice_follows_first_downstream_and_says_so():
    (res,) = run(branch_join("none_failed_min_one_success"), date="2024-01-01")
    assert res.tasks["a"].state == "success"
    assert res.tasks["b"].state == "skipped" and res.tasks["b2"].state == "skipped"
    assert [n["code"] for n in res.notes] == ["RT101"]


def test_branch_to_several_and_to_the_join_itself():
    # choose -> a, choose -> join, a -> join: following "a" must not skip
    # "join" (it is downstream of a followed task).
    w = Workflow(
        "w",
        tasks=[
            T("choose", "branch"),
            T("a"),
            T("other"),
            T("join", rule="none_failed_min_one_success"),
        ],
        edges=[
            Edge("choose", "a"),
            Edge("choose", "other"),
            Edge("choose", "join"),
            Edge("a", "join"),
        ],
    )
    (res,) = run(w, Scenario(branch={"choose": ["a"]}), date="2024-01-01")
    assert states(res) == {
        "choose": "success",
        "a": "success",
        "other": "skipped",
        "join": "success",
    }
    (res,) = run(w, Scenario(branch={"choose": ["a", "other"]}), date="2024-01-01")
    assert res.tasks["other"].state == "success"


def test_branch_choosing_a_non_downstream_fails():
    (res,) = run(
        branch_join("none_failed_min_one_success"),
        Scenario(branch={"choose": ["end"]}),
        date="2024-01-01",
    )
    assert res.tasks["choose"].state == "failed"
    assert "not a direct downstream" in res.tasks["choose"].attempts[-1].reason
    assert res.state == "failed"


def test_branch_to_task_group_id():
    w = Workflow(
        "w",
        tasks=[
            T("choose", "branch"),
            Task("grp.x", Action("empty"), group="grp"),
            Task("grp.y", Action("empty"), group="grp"),
            T("z"),
        ],
        edges=[Edge("choose", "grp.x"), Edge("choose", "grp.y"), Edge("choose", "z")],
        groups=[Group("grp")],
    )
    (res,) = run(w, Scenario(branch={"choose": ["grp"]}), date="2024-01-01")
    assert states(res) == {
        "choose": "success",
        "grp.x": "success",
        "grp.y": "success",
        "z": "skipped",
    }


def short_circuit(ignore):
    fields = {"short_circuit": True}
    if ignore is not None:
        fields["ignore_downstream_trigger_rules"] = ignore
    return Workflow(
        "sc",
        tasks=[Task("check", Action("branch", fields)), T("a"), T("b"), T("c", rule="all_done")],
        edges=[Edge("check", "a"), Edge("a", "b"), Edge("b", "c")],
    )


def test_short_circuit_false_skips_all_descendants_by_default():
    (res,) = run(short_circuit(None), Scenario(branch={"check": []}), date="2024-01-01")
    assert states(res) == {"check": "success", "a": "skipped", "b": "skipped", "c": "skipped"}


def test_short_circuit_respecting_trigger_rules_skips_direct_downstream_only():
    (res,) = run(short_circuit(False), Scenario(branch={"check": []}), date="2024-01-01")
    # a skipped directly, b skipped by all_success, c (all_done) runs.
    assert states(res) == {"check": "success", "a": "skipped", "b": "skipped", "c": "success"}


def test_short_circuit_true_by_default_with_note():
    (res,) = run(short_circuit(None), date="2024-01-01")
    assert all(s == "success" for s in states(res).values())
    assert [n["code"] for n in res.notes] == ["RT103"]


# -- Oozie ---------------------------------------------------------------


def oozie_workflow(cases, params=None):
    """start -> check(decision) -> {load | report}; load ok -> end, load error -> notify -> kill.

    Oozie's decision becomes a branch task with cases; the error transition an
    ``error`` edge to a one_failed task; ``kill`` a ``fail`` task.
    """
    return Workflow(
        "ooz",
        params=params or {},
        source=SourceRef("oozie", "workflow.xml", 1),
        tasks=[
            Task("check", Action("branch", {"cases": cases, "default": "report"})),
            Task("load", Action("shell", {"command": "load.sh"})),
            Task("report", Action("shell", {"command": "report.sh"})),
            Task("notify", Action("email", {"to": ["ops"]}), trigger_rule="one_failed"),
            Task("kill", Action("fail", {"message": "load failed"})),
        ],
        edges=[
            Edge("check", "load"),
            Edge("check", "report"),
            Edge("load", "notify", "error"),
            Edge("notify", "kill"),
        ],
    )


def case(when, to):
    return {"when": when, "expr": parse_template(when), "to": to}


def test_oozie_decision_evaluates_first_true_case():
    w = oozie_workflow(
        [case("${mode eq 'full'}", "load"), case("${true}", "report")], {"mode": "full"}
    )
    (res,) = run(w, date="2024-01-01")
    assert res.tasks["load"].state == "success"
    assert res.tasks["report"].state == "skipped"
    assert res.tasks["notify"].state == "skipped"  # one_failed, nothing failed
    assert res.engine_state == "succeeded"
    assert [n["code"] for n in res.notes] == ["RT104"]


def test_oozie_decision_falls_to_default_when_no_case_holds():
    w = oozie_workflow([case("${mode eq 'full'}", "load")], {"mode": "delta"})
    (res,) = run(w, date="2024-01-01")
    assert res.tasks["report"].state == "success" and res.tasks["load"].state == "skipped"


def test_oozie_decision_unevaluable_case_follows_default_and_says_so():
    w = oozie_workflow([case("${fs:exists('/data/_SUCCESS')}", "load")])
    (res,) = run(w, date="2024-01-01")
    assert res.tasks["report"].state == "success"
    assert res.notes[0]["code"] == "RT102" and "fs:exists" in res.notes[0]["message"]


def test_oozie_error_path_reaches_kill():
    w = oozie_workflow([case("${true}", "load")])
    (res,) = run(w, Scenario(fail={"load": ALL}), date="2024-01-01")
    assert states(res) == {
        "check": "success",
        "load": "failed",
        "report": "skipped",
        "notify": "success",
        "kill": "failed",
    }
    assert res.state == "failed"
    assert res.engine_state == "killed"


def test_oozie_error_path_to_end_is_a_success_for_oozie():
    # load error -> cleanup -> end (no kill): Oozie SUCCEEDED, Airflow leaf rule
    # sees the failed path's leaves.
    w = Workflow(
        "o",
        source=SourceRef("oozie", "wf.xml", 1),
        tasks=[
            Task("load", Action("shell", {"command": "x"})),
            T("publish"),
            T("cleanup", rule="one_failed"),
        ],
        edges=[Edge("load", "publish"), Edge("load", "cleanup", "error")],
    )
    (res,) = run(w, Scenario(fail={"load": ALL}), date="2024-01-01")
    assert res.tasks["publish"].state == "upstream_failed"
    assert res.tasks["cleanup"].state == "success"
    assert res.state == "failed"
    assert res.engine_state == "succeeded"


def test_fail_task_is_never_retried():
    w = Workflow("f", tasks=[Task("k", Action("fail", {"message": "stop"}), retries=3)])
    (res,) = run(w, date="2024-01-01")
    assert res.tasks["k"].state == "failed" and len(res.tasks["k"].attempts) == 1
    assert res.tasks["k"].attempts[0].reason == "stop"
    assert res.engine_state is None  # not an Oozie source: the leaf rule only


def test_mapped_task_over_an_empty_list_is_skipped():
    w = Workflow(
        "m",
        tasks=[
            T("a"),
            Task(
                "m",
                Action("python", {"callable": "f"}),
                mapped={"kind": "product", "over": {"x": []}},
            ),
            T("after"),
        ],
        edges=[Edge("a", "m"), Edge("m", "after")],
    )
    (res,) = run(w, date="2024-01-01")
    assert res.tasks["m"].state == "skipped" and res.tasks["m"].attempts == []
    assert res.tasks["after"].state == "skipped"
    assert (res.tasks["m"].end - res.start).total_seconds() == 1.0


# -- real Oozie corpus workflows (through the Oozie frontend) ------------

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "oozie"


def corpus_workflow(name):
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus/oozie/{name} not present")
    from wfconv.frontends import load

    (w,) = load(str(path)).workflows
    return w


def test_corpus_oozie_error_handlers():
    w = corpus_workflow("error_handlers.xml")
    (ok,) = run(w, date="2024-01-01")
    assert ok.state == "success" and ok.engine_state == "succeeded"
    # extract fails: its error transition notifies, then the kill node ends the job.
    (res,) = run(w, Scenario(fail={"extract": ALL}), date="2024-01-01")
    assert res.tasks["notify"].state == "success"
    assert res.tasks["load"].state == "upstream_failed"
    assert res.state == "failed" and res.engine_state == "killed"
    # load fails: the fallback recovers and the job still succeeds.
    (res,) = run(w, Scenario(fail={"load": ALL}), date="2024-01-01")
    assert res.tasks["load_fallback"].state == "success"
    assert res.tasks["publish"].state == "success"
    assert res.engine_state == "succeeded"


def test_corpus_oozie_decision_default_and_choice():
    w = corpus_workflow("decision_default.xml")
    (res,) = run(w, date="2024-01-01")
    # the first case needs fs:exists, which a simulation cannot answer
    assert res.notes[0]["code"] == "RT102"
    assert res.tasks["incremental-load"].state == "success"
    assert res.tasks["full-load"].state == "skipped"
    (res,) = run(w, Scenario(branch={"check-input": ["full-load"]}), date="2024-01-01")
    assert res.tasks["full-load"].state == "success"
    assert res.tasks["incremental-load"].state == "skipped"
    assert res.notes == []


def test_scenario_api_summary_and_lenient_scenario():
    w = branch_join("none_failed_min_one_success")
    sc = Scenario(fail={"a": 1, "not_here": ALL}, branch={"choose": ["a"]})
    with pytest.raises(UsageError):
        run(w, sc, date="2024-01-01")
    (res,) = run(w, sc, date="2024-01-01", strict_scenario=False)
    assert res.summary()["a"] == ("failed", 1)
    assert res.summary()["join"] == ("upstream_failed", 0)
    assert Scenario.from_dict(sc.to_dict()) == sc


def test_corpus_oozie_subworkflow_runs_its_child():
    app = CORPUS / "subworkflow_app"
    if not app.exists():
        pytest.skip("corpus/oozie/subworkflow_app not present")
    from wfconv.frontends import load

    bundle = {w.id: w for w in load(str(app)).workflows}
    parent = bundle["parent"]
    (ok,) = run(parent, date="2024-01-01", workflows=bundle)
    assert ok.tasks["run-child"].state == "success"
    child = ok.tasks["run-child"]
    assert (child.end - child.start).total_seconds() == 1.0  # the child's one task
    # The child's load fails: the child is KILLED, so the parent's action fails
    # and its error transition reaches the parent's kill node.
    (res,) = run(
        parent,
        Scenario(fail={"load": ALL}),
        date="2024-01-01",
        workflows=bundle,
        strict_scenario=False,
    )
    assert res.tasks["run-child"].state == "failed"
    assert res.engine_state == "killed"
    assert any(n["code"] == "RT150" and "killed" in n["message"] for n in res.notes)
