"""Scale of `wfconv run` (issue 19): the shortcuts taken on the way from an IR
file to a run's table and store say what the long way said.

Timing lives in bench/bench_scale.py; here only the answers are compared."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfconv.ir.model import TRIGGER_RULES, Action, Edge, Group, Task, Workflow
from wfconv.ir.validate import _index, _kahn, build_graph, validate_workflow

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "wfconv", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- graph checks on read ----------------------------------------------------

_ids = st.sampled_from([f"t{i}" for i in range(8)])


@st.composite
def workflows(draw):
    """Small workflows with everything validation reports: repeated ids,
    edges forward, backward, to themselves and to unknown tasks, unknown
    trigger rules, action kinds and groups."""
    ids = draw(st.lists(_ids, min_size=0, max_size=7))
    tasks = [
        Task(
            tid,
            Action(draw(st.sampled_from(["empty", "shell", "warp"]))),
            trigger_rule=draw(st.sampled_from(["all_success", "one_failed", "sometimes"])),
            group=draw(st.sampled_from([None, None, "g", "nowhere"])),
        )
        for tid in ids
    ]
    ends = st.sampled_from([*ids, "ghost"]) if ids else st.just("ghost")
    edges = [Edge(a, b) for a, b in draw(st.lists(st.tuples(ends, ends), max_size=12))]
    return Workflow("w", tasks=tasks, edges=edges, groups=[Group("g")])


def _reference(w: Workflow) -> tuple[bool, bool]:
    """(acyclic, an edge names an unknown task), by networkx."""
    ids = {t.id for t in w.tasks}
    unknown = any(e.src not in ids or e.dst not in ids for e in w.edges)
    return nx.is_directed_acyclic_graph(build_graph(w)), unknown


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
def test_cycle_and_unknown_end_checks_agree_with_networkx(w):
    assert _kahn(w, _index(w)) == _reference(w)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
def test_names_checked_as_sets_report_what_the_task_by_task_look_reports(w):
    from wfconv.ir import validate

    fast = [(d.code, d.message) for d in validate_workflow(w)]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(validate, "_known_names", lambda *_: False)
        slow = [(d.code, d.message) for d in validate_workflow(w)]
    assert fast == slow


def test_the_fast_graph_check_is_taken_for_files_in_order_and_not_trusted_otherwise():
    forward = Workflow(
        "w",
        tasks=[Task(f"t{i}", Action("empty")) for i in range(4)],
        edges=[Edge("t0", "t1"), Edge("t1", "t3"), Edge("t0", "t2")],
    )
    assert _kahn(forward, _index(forward)) == (True, False)
    backward = Workflow("w", tasks=forward.tasks, edges=[Edge("t3", "t1"), Edge("t1", "t3")])
    assert _kahn(backward, _index(backward)) == (False, False)
    later_first = Workflow("w", tasks=forward.tasks, edges=[Edge("t3", "t0")])
    assert _kahn(later_first, _index(later_first)) == (True, False)  # acyclic, not in order
    assert TRIGGER_RULES  # the names validation checks against


# -- what `wfconv run` says about an IR file it cannot run ----------------------


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("retries", -1), "$.workflows[0].tasks[0].retries", "-1 is less than the minimum of 0"),
        (("id", ""), "$.workflows[0].tasks[0].id", "'' should be non-empty"),
        (("action", {"kind": "shell"}), "$.workflows[0].tasks[0].action", "'command'"),
        (("retry_backoff", "linear"), "$.workflows[0].tasks[0].retry_backoff", "'linear'"),
    ],
)
def test_an_invalid_ir_file_is_explained_by_its_json_path(tmp_path, change, where, message):
    doc = {
        "wfconv_ir": 1,
        "workflows": [{"id": "w", "tasks": [{"id": "a", "action": {"kind": "empty"}}]}],
    }
    key, value = change
    doc["workflows"][0]["tasks"][0][key] = value
    ir = tmp_path / "bad.json"
    ir.write_text(json.dumps(doc), encoding="utf-8")
    r = _cli("run", str(ir), "--no-db", "--date", "2024-01-01")
    assert r.returncode == 2 and r.stdout == "", r.stderr
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"{ir}: not a valid wfconv IR document at {where}: "), line
    assert message in line, line


def test_a_file_that_is_not_json_names_its_line(tmp_path):
    ir = tmp_path / "bad.json"
    ir.write_text('{"wfconv_ir": 1,\n "workflows": [\n}', encoding="utf-8")
    r = _cli("run", str(ir), "--from", "ir", "--no-db", "--date", "2024-01-01")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"{ir}:3: invalid JSON"), r.stderr


# -- the run's table and its store ---------------------------------------------


def _layered(n: int) -> Workflow:
    return Workflow(
        "layers",
        tasks=[Task(f"t{i}", Action("empty")) for i in range(n)],
        edges=[Edge(f"t{i - 3}", f"t{i}") for i in range(3, n)],
    )


def test_the_run_table_has_a_row_per_task_with_each_duration(tmp_path):
    from wfconv.ir.jsonio import dumps
    from wfconv.ir.model import Bundle

    ir = tmp_path / "ir.json"
    ir.write_text(dumps(Bundle([_layered(30)])), encoding="utf-8")
    r = _cli(
        "run", str(ir), "--no-db", "--date", "2024-01-01",
        "--duration", "t4=90", "--duration", "t5=0.25", "--fail", "t7:1",
    )  # fmt: skip
    assert r.returncode == 1, r.stderr  # t7 fails and its downstreams do not run
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()[2:]}
    assert len(rows) == 30
    assert rows["t0"] == ["success", "1", "1", "s"]
    assert rows["t4"] == ["success", "1", "1m", "30s"]
    assert rows["t5"] == ["success", "1", "250", "ms"]
    assert rows["t7"] == ["failed", "1", "1", "s"]
    assert rows["t10"][:2] == ["upstream_failed", "0"]


def test_a_recorded_simulated_run_stores_each_task_as_it_ended(tmp_path):
    from wfconv.runtime import run
    from wfconv.runtime.scenario import Scenario
    from wfconv.runtime.store import RunStore

    w = _layered(12)
    w.tasks.append(Task("lonely", Action("empty")))
    scenario = Scenario.from_cli(("t4:2",), (), (), ("t2",), (), 1.0)
    w.tasks[4].retries = 1  # fails twice, one retry: failed after 2 attempts
    (res,) = run(w, scenario, date="2024-01-01")
    store = RunStore(tmp_path / "runs.sqlite")
    try:
        run_id = store.record_run(w, res, scenario)
    finally:
        store.close()
    db = sqlite3.connect(tmp_path / "runs.sqlite")
    rows = {
        task: (state, attempts, decided)
        for task, state, attempts, decided in db.execute(
            "SELECT task, state, attempts, decided FROM task_instances WHERE run=?", (run_id,)
        )
    }
    db.close()
    assert sorted(rows) == sorted(t.id for t in w.tasks)
    assert rows == {
        tid: (tr.state, len(tr.attempts), tr.decided_ts) for tid, tr in res.tasks.items()
    }
    assert rows["t4"][:2] == ("failed", 2) and rows["t2"][0] == "skipped"
    assert rows["t7"][0] == "upstream_failed" and rows["t7"][2] is not None
