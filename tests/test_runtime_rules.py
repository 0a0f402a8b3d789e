"""Trigger rules: a table written by hand from docs/semantics.md §6 R1 (not from the
implementation), checked against the rule table and against whole runs.

Columns are the states of two direct upstreams: S success, K skipped,
F failed, U upstream_failed, R not finished yet. Verdicts: run, skip, uf
(upstream_failed), wait.
"""

from __future__ import annotations

import pytest

from wfconv.ir.model import Action, Edge, Task, Workflow
from wfconv.runtime import ALL, Scenario, run
from wfconv.runtime.rules import RULES, evaluate

COLUMNS = "SS SK SF SU KK KF KU FF FU UU SR KR FR UR".split()

# fmt: off
TABLE = {
    #                           SS   SK   SF   SU   KK   KF   KU   FF   FU   UU   SR   KR   FR   UR
    "all_success":            "run skip uf   uf   skip uf   uf   uf   uf   uf   wait skip uf   uf",
    "all_failed":             "skip skip skip skip skip skip skip run  run  run  skip skip wait wait",
    "all_done":               "run run  run  run  run  run  run  run  run  run  wait wait wait wait",
    "all_skipped":            "skip skip skip skip run  skip skip skip skip skip skip wait skip skip",
    "one_success":            "run run  run  run  skip uf   uf   uf   uf   uf   run  wait wait wait",
    "one_failed":             "skip skip run  run  skip run  run  run  run  run  wait wait run  run",
    "one_done":               "run run  run  run  skip run  skip run  run  skip run  wait run  wait",
    "none_failed":            "run run  uf   uf   run  uf   uf   uf   uf   uf   wait wait uf   uf",
    "none_failed_min_one_success": "run run uf uf  skip uf   uf   uf   uf   uf   wait wait uf   uf",
    "none_skipped":           "run skip run  run  skip skip skip run  run  run  wait skip wait wait",
    "always":                 "run run  run  run  run  run  run  run  run  run  run  run  run  run",
    "all_done_min_one_success": "run skip run run skip skip skip uf   uf   uf   wait skip wait wait",
    # Without setup upstreams (tests/test_runtime_setup_teardown.py has them).
    "all_done_setup_success": "run run  run  run  run  run  run  run  run  run  wait wait wait wait",
}
# fmt: on

VERDICT = {"run": "run", "skip": "skipped", "uf": "upstream_failed", "wait": "wait"}


def _counts(col: str) -> tuple[int, int, int, int, int]:
    return (col.count("S"), col.count("K"), col.count("F"), col.count("U"), len(col))


CASES = [
    (rule, col, VERDICT[v])
    for rule, row in TABLE.items()
    for col, v in zip(COLUMNS, row.split(), strict=True)
]


def test_table_covers_every_rule():
    from wfconv.ir.model import TRIGGER_RULES

    assert set(TABLE) == set(TRIGGER_RULES) == set(RULES)


@pytest.mark.parametrize("rule,col,expected", CASES)
def test_rule_verdict(rule, col, expected):
    assert evaluate(rule, *_counts(col)) == expected


@pytest.mark.parametrize("rule", sorted(TABLE))
def test_no_upstream_always_runs(rule):
    assert evaluate(rule, 0, 0, 0, 0, 0) == "run"


# -- the same table through whole simulated runs ---------------------------

FINAL = {"run": "success", "skip": "skipped", "uf": "upstream_failed"}


def _workflow_for(rule: str, col: str) -> tuple[Workflow, Scenario]:
    """Two upstreams u0, u1 forced into the states of ``col``; target ``t``."""
    tasks, edges = [], []
    sc = Scenario()
    for n, st in enumerate(col):
        u = f"u{n}"
        if st == "U":  # upstream_failed: downstream of a failing task
            tasks.append(Task(f"pre{n}", Action("shell", {"command": "x"})))
            edges.append(Edge(f"pre{n}", u))
            sc.fail[f"pre{n}"] = ALL
            # settle before the other upstream so that the rule sees both:
            # Airflow evaluates a task once per scheduler pass on a snapshot.
            sc.durations[f"pre{n}"] = 0.5
        tasks.append(Task(u, Action("shell", {"command": "x"})))
        if st == "F":
            sc.fail[u] = ALL
        elif st == "K":
            sc.skip.add(u)
        edges.append(Edge(u, "t"))
    tasks.append(Task("t", Action("empty"), trigger_rule=rule))
    return Workflow("tr", tasks=tasks, edges=edges), sc


FULL = [(r, c, v) for r, c, v in CASES if "R" not in c]


@pytest.mark.parametrize("rule,col,expected", FULL)
def test_rule_in_a_run(rule, col, expected):
    w, sc = _workflow_for(rule, col)
    (res,) = run(w, sc, date="2024-01-01")
    for n, st in enumerate(col):
        assert (
            res.tasks[f"u{n}"].state
            == {"S": "success", "K": "skipped", "F": "failed", "U": "upstream_failed"}[st]
        )
    want = {"run": "success", "skipped": "skipped", "upstream_failed": "upstream_failed"}[expected]
    assert res.tasks["t"].state == want


def test_one_success_fires_without_waiting():
    w = Workflow(
        "w",
        tasks=[
            Task("fast", Action("empty")),
            Task("slow", Action("empty")),
            Task("t", Action("empty"), trigger_rule="one_success"),
        ],
        edges=[Edge("fast", "t"), Edge("slow", "t")],
    )
    (res,) = run(w, Scenario(durations={"slow": 100}), date="2024-01-01T00:00:00+00:00")
    t0 = res.start
    # right after "fast", not after "slow"
    assert (res.tasks["t"].start - t0).total_seconds() == 1.0
    assert (res.tasks["slow"].end - t0).total_seconds() == 100.0


def test_all_success_fails_early_and_always_starts_at_once():
    w = Workflow(
        "w",
        tasks=[
            Task("bad", Action("empty")),
            Task("slow", Action("empty")),
            Task("t", Action("empty")),
            Task("a", Action("empty"), trigger_rule="always"),
        ],
        edges=[Edge("bad", "t"), Edge("slow", "t"), Edge("slow", "a")],
    )
    (res,) = run(w, Scenario(fail={"bad": ALL}, durations={"slow": 50}), date="2024-01-01")
    assert res.tasks["t"].state == "upstream_failed"
    assert (res.tasks["t"].end - res.start).total_seconds() == 1.0  # decided when "bad" failed
    assert res.tasks["a"].start == res.start  # always: does not wait for "slow"


def test_skip_cascades_through_all_success_chain():
    w = Workflow(
        "w",
        tasks=[Task(x, Action("empty")) for x in "abcd"],
        edges=[Edge("a", "b"), Edge("b", "c"), Edge("c", "d")],
    )
    (res,) = run(w, Scenario(skip={"a"}), date="2024-01-01")
    assert [res.tasks[x].state for x in "abcd"] == ["skipped"] * 4
    assert res.state == "success"  # skipped leaves count as success


def test_leaf_rule_all_done_leaf_masks_failure():
    w = Workflow(
        "w",
        tasks=[
            Task("a", Action("empty")),
            Task("cleanup", Action("empty"), trigger_rule="all_done"),
        ],
        edges=[Edge("a", "cleanup")],
    )
    (res,) = run(w, Scenario(fail={"a": ALL}), date="2024-01-01")
    assert res.tasks["a"].state == "failed"
    assert res.state == "success"
    (res2,) = run(
        w.__class__(
            "w2",
            tasks=w.tasks + [Task("leaf", Action("empty"))],
            edges=w.edges + [Edge("a", "leaf")],
        ),
        Scenario(fail={"a": ALL}),
        date="2024-01-01",
    )
    assert res2.state == "failed"


def test_duplicate_edges_count_once_on_wide_fan_out_and_fan_in():
    """A repeated edge is one upstream, also past the size where the
    compiler checks duplicates with a set (fan-out and fan-in of 24): the
    join waits for its 24 upstreams, is upstream_failed by the failed one,
    and the one_failed handler behind it runs once."""
    from wfconv.runtime.graph import BIG_FAN_OUT, CompiledWorkflow

    k = BIG_FAN_OUT + 8
    mids = [f"m{i}" for i in range(k)]
    edges = [Edge("src", m) for m in mids] + [Edge(m, "join") for m in mids]
    edges += [Edge("src", m) for m in mids] + [Edge(m, "join") for m in reversed(mids)]
    w = Workflow(
        "dups",
        tasks=[Task("src", Action("empty"))]
        + [Task(m, Action("empty")) for m in mids]
        + [
            Task("join", Action("empty")),
            Task("alert", Action("empty"), trigger_rule="one_failed"),
        ],
        edges=edges + [Edge("join", "alert"), Edge("join", "alert")],
    )
    cw = CompiledWorkflow(w)
    assert cw.n_up[cw.index["join"]] == k
    assert cw.downs[cw.index["src"]] == [cw.index[m] for m in mids]
    assert cw.ups[cw.index["join"]] == [cw.index[m] for m in mids]
    ok = run(w, date="2024-01-01")[0]
    assert ok.tasks["join"].state == "success" and ok.tasks["alert"].state == "skipped"
    assert [e.task for e in ok.trace].count("join") == 3  # scheduled, running, success
    bad = run(w, Scenario(fail={"m20": ALL}), date="2024-01-01")[0]
    assert bad.tasks["join"].state == "upstream_failed"
    assert bad.summary()["alert"] == ("success", 1)
