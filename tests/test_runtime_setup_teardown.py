"""Setup/teardown in the reference runtime (Airflow >= 2.7 semantics, checked
against Airflow 3.3.2's dag.test(): docs/codes/runtime.md). Expected states
written by hand from Airflow's TriggerRuleDep and DagRun, not from the code."""

from __future__ import annotations

import pytest

from wfconv.ir.model import Action, Edge, Task, Workflow
from wfconv.ir.roles import role_facts
from wfconv.runtime import ALL, Scenario, run


def wf(tasks, edges, **roles) -> Workflow:
    w = Workflow("st")
    for tid in tasks:
        role = roles.get(tid)
        w.tasks.append(
            Task(
                tid,
                Action("empty"),
                role=role,
                trigger_rule="all_done_setup_success" if role == "teardown" else "all_success",
            )
        )
    w.edges = [Edge(a, b) for a, b in edges]
    return w


# create >> work >> check >> delete, create >> delete (as_teardown(setups=create))
CLUSTER = wf(
    ["create", "work", "check", "delete"],
    [("create", "work"), ("work", "check"), ("check", "delete"), ("create", "delete")],
    create="setup",
    delete="teardown",
)


def states(w, fail=(), skip=()):
    (r,) = run(w, Scenario(fail=dict.fromkeys(fail, ALL), skip=set(skip)), date="2024-01-01")
    return r.state, {t: tr.state for t, tr in r.tasks.items()}


def test_role_facts_of_a_setup_with_its_teardown():
    f = role_facts(CLUSTER)
    assert f.setup_upstreams == {"work": ["create"], "delete": ["create"]}
    # check is after create only through work: create must succeed for it.
    assert f.indirect_setups == {"check": ["create"]}
    assert f.scope == {"delete": ["work"]}
    assert f.leaves == ["check"]


@pytest.mark.parametrize(
    "fail,run_state,expected",
    [
        ([], "success", ["success", "success", "success", "success"]),
        # The teardown runs after a failure, and the run fails by its work task.
        (["work"], "failed", ["success", "failed", "upstream_failed", "success"]),
        # No setup succeeded: the teardown has nothing to tear down.
        (["create"], "failed", ["failed", "upstream_failed", "upstream_failed", "upstream_failed"]),
        # A failing teardown does not fail the run.
        (["delete"], "success", ["success", "success", "success", "failed"]),
    ],
)
def test_cluster_lifecycle(fail, run_state, expected):
    assert states(CLUSTER, fail=fail) == (
        run_state,
        dict(zip(["create", "work", "check", "delete"], expected, strict=True)),
    )


def test_a_skipped_setup_skips_its_teardown_and_the_tasks_it_guards():
    assert states(CLUSTER, skip=["create"])[1] == {
        "create": "skipped",
        "work": "skipped",
        "check": "skipped",
        "delete": "skipped",
    }


def test_a_setup_stops_tasks_after_it_whatever_their_rule():
    w = wf(["s", "a", "b"], [("s", "a"), ("a", "b")], s="setup")
    w.task("b").trigger_rule = "all_done"
    # Without the setup role, all_done would run b after a's upstream_failed.
    assert states(w, fail=["s"])[1]["b"] == "upstream_failed"
    w.task("s").role = None
    assert states(w, fail=["s"])[1]["b"] == "success"


def test_a_teardown_that_fails_the_run_is_a_leaf_again():
    w = wf(["s", "a", "t"], [("s", "a"), ("a", "t"), ("s", "t")], s="setup", t="teardown")
    assert states(w, fail=["t"])[0] == "success"
    w.task("t").teardown_fails_run = True
    assert states(w, fail=["t"])[0] == "failed"


def test_a_teardown_waits_for_its_scope_not_only_its_direct_upstreams():
    # s >> slow >> quick >> t, s >> t: quick ("always") finishes at once, so
    # t's direct upstreams are done long before slow; slow is in t's scope.
    w = wf(
        ["s", "slow", "quick", "t"],
        [("s", "slow"), ("slow", "quick"), ("quick", "t"), ("s", "t")],
        s="setup",
        t="teardown",
    )
    w.task("quick").trigger_rule = "always"
    assert role_facts(w).scope == {"t": ["slow"]}
    (r,) = run(w, Scenario(durations={"slow": 100}), date="2024-01-01")
    start = {tid: tr.attempts[0].start for tid, tr in r.tasks.items()}
    end = {tid: tr.attempts[0].end for tid, tr in r.tasks.items()}
    assert end["quick"] < end["slow"] <= start["t"]
