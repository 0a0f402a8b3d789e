"""Every audit check on small hand-built workflows (IR level): the finding a
user sees, and the look-alike that must stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wfconv.audit.analyze import audit_bundle, audit_workflow
from wfconv.audit.checks import CHECKS
from wfconv.audit.codes import CODES, DIAGNOSTIC_MAP
from wfconv.audit.graph import TaskGraph, exact_width, level_width, longest_path, width
from wfconv.ir.model import (
    Action,
    Bundle,
    Diagnostic,
    Edge,
    Group,
    Schedule,
    SourceRef,
    Task,
    Workflow,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def T(tid, kind="shell", line=None, **kw):
    fields = kw.pop("fields", None)
    if fields is None:
        fields = {"command": "echo hi"} if kind == "shell" else {}
    return Task(tid, Action(kind, fields), source=SourceRef("airflow", "dag.py", line), **kw)


def W(tasks, edges=(), engine="airflow", path="dag.py", **kw):
    w = Workflow(
        kw.pop("id", "wf"),
        tasks=list(tasks),
        edges=[Edge(a, b) for a, b in edges],
        source=SourceRef(engine, path, 1),
        **kw,
    )
    return w


def findings(w, path="dag.py", engine="airflow"):
    found, _ = audit_workflow(w, path, engine, NOW)
    return found


def codes(w, **kw):
    return sorted({f.code for f in findings(w, **kw)})


def only(w, code, **kw):
    return [f for f in findings(w, **kw) if f.code == code]


# -- table hygiene -------------------------------------------------------------


def test_every_check_has_a_documented_code_and_every_mapping_target_exists():
    assert set(CHECKS) <= set(CODES)
    assert set(DIAGNOSTIC_MAP.values()) <= set(CODES)
    for code, c in CODES.items():
        assert code.startswith("AU") and c.severity in ("error", "warning", "info")
        assert c.title and c.why and c.fix


# -- structure -----------------------------------------------------------------


def test_cycle_is_reported_with_its_path():
    w = W([T("a", line=3), T("b", line=4), T("c", line=5)], [("a", "b"), ("b", "c"), ("c", "a")])
    (f,) = only(w, "AU001")
    assert f.severity == "error" and f.origin == "IR004"
    assert "a -> b -> c -> a" in f.message and f.line == 3 and f.task == "a"


def test_duplicate_task_and_unknown_dependency():
    w = W([T("a", line=3), T("a", line=7), T("b", line=9)], [("a", "b"), ("b", "ghost")])
    assert {f.code for f in findings(w)} >= {"AU002", "AU003"}
    (f,) = only(w, "AU003")
    assert "ghost" in f.message


def test_isolated_task_only_in_multi_task_workflows_and_not_for_prefect():
    w = W([T("a"), T("b"), T("lonely", line=8)], [("a", "b")])
    (f,) = only(w, "AU004")
    assert f.task == "lonely" and f.line == 8
    assert not only(W([T("solo")]), "AU004")
    assert not only(W([T("a"), T("b")], engine="prefect"), "AU004", engine="prefect")


def test_invalid_trigger_rule_maps_to_au007():
    (f,) = only(W([T("a", trigger_rule="none_failed_or_skipped")]), "AU007")
    assert f.origin == "IR003" and "none_failed_or_skipped" in f.message


# -- scheduling ----------------------------------------------------------------


def cron(expr, tz="UTC"):
    return Schedule("cron", cron=expr, timezone=tz)


def test_missing_start_date_for_scheduled_airflow_workflow():
    assert only(W([T("a")], schedule=cron("0 6 * * *")), "AU101")
    assert not only(
        W([T("a")], schedule=cron("0 6 * * *"), start_date="2025-01-01T00:00:00+00:00"), "AU101"
    )
    assert not only(W([T("a")]), "AU101")  # manual: no start needed
    assert not only(
        W([T("a")], schedule=cron("0 6 * * *"), engine="prefect"), "AU101", engine="prefect"
    )


def test_dynamic_start_date_comes_from_af103_and_silences_start_checks():
    w = W(
        [T("a")],
        schedule=cron("@daily".replace("@daily", "0 0 * * *")),
        catchup=True,
        start_date="2020-01-01T00:00:00+00:00",
    )
    w.diagnostics.append(Diagnostic("warning", "AF103", "days_ago(3) is dynamic", "dag.py", 5))
    got = findings(w)
    (f,) = [x for x in got if x.code == "AU102"]
    assert f.origin == "AF103" and f.line == 5 and f.severity == "warning"
    assert not [x for x in got if x.code in ("AU101", "AU103")]


def test_catchup_far_in_the_past_counts_runs():
    w = W(
        [T("a")], schedule=cron("0 0 * * *"), catchup=True, start_date="2025-01-01T00:00:00+00:00"
    )
    (f,) = only(w, "AU103")
    assert "creates 366 runs" in f.message  # 2025-01-01 .. 2026-01-01 inclusive, exact
    hourly = W(
        [T("a")], schedule=cron("0 * * * *"), catchup=True, start_date="2016-01-01T00:00:00+00:00"
    )
    (g,) = only(hourly, "AU103")
    n = int(g.message.split("about ")[1].split(" runs")[0].replace(",", ""))
    assert abs(n - 87_673) <= 2  # ten years of hours (and the first tick), extrapolated
    assert not only(
        W(
            [T("a")],
            schedule=cron("0 0 * * *"),
            catchup=False,
            start_date="2015-01-01T00:00:00+00:00",
        ),
        "AU103",
    )
    recent = W(
        [T("a")], schedule=cron("0 0 * * *"), catchup=True, start_date="2025-12-01T00:00:00+00:00"
    )
    assert not only(recent, "AU103")
    interval = W(
        [T("a")],
        schedule=Schedule("interval", seconds=600),
        catchup=True,
        start_date="2025-12-30T00:00:00+00:00",
    )
    assert "creates 289 runs" in only(interval, "AU103")[0].message
    unset = W([T("a")], schedule=cron("0 0 * * *"), start_date="2025-01-01T00:00:00+00:00")
    assert "catchup is not set (Airflow 2 defaults it to True)" in only(unset, "AU103")[0].message
    assert not only(
        W(
            [T("a")],
            schedule=cron("0 0 * * *"),
            start_date="2025-01-01T00:00:00+00:00",
            engine="oozie",
        ),
        "AU103",
        engine="oozie",
    )
    coord = W(
        [T("a")],
        schedule=cron("0 0 * * *"),
        start_date="2025-01-01T00:00:00+00:00",
        catchup=True,
        engine="oozie",
    )
    assert (
        "Oozie materializes every missed action" in only(coord, "AU103", engine="oozie")[0].message
    )
    bounded = W(
        [T("a")],
        schedule=cron("0 0 * * *"),
        catchup=True,
        start_date="2020-01-01T00:00:00+00:00",
        end_date="2020-01-31T00:00:00+00:00",
    )
    assert not only(bounded, "AU103")


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6 *"])
def test_schedule_that_never_fires(expr):
    (f,) = only(W([T("a")], schedule=cron(expr), start_date="2025-01-01T00:00:00+00:00"), "AU104")
    assert f.severity == "error" and expr in f.message


def test_schedule_fires_on_possible_dates_and_outside_window_is_reported():
    assert not only(W([T("a")], schedule=cron("0 0 29 2 *")), "AU104")
    assert not only(W([T("a")], schedule=cron("0 0 31 2 1")), "AU104")  # day-of-week OR
    w = W(
        [T("a")],
        schedule=cron("0 0 1 1 *"),
        start_date="2025-02-01T00:00:00+00:00",
        end_date="2025-12-01T00:00:00+00:00",
    )
    assert "no tick between" in only(w, "AU104")[0].message
    assert only(W([T("a")], schedule=Schedule("interval", seconds=0)), "AU104")


def test_end_before_start_and_invalid_cron():
    w = W([T("a")], start_date="2025-02-01T00:00:00+00:00", end_date="2025-01-01T00:00:00+00:00")
    assert only(w, "AU105")
    (f,) = only(W([T("a")], schedule=cron("61 * * * *")), "AU106")
    assert "Bad minute" in f.message
    assert not only(W([T("a")], schedule=cron("61 * * * *")), "AU104")


# -- Airflow 3 removals come from the frontend's diagnostics ------------------------


@pytest.mark.parametrize(
    "af,au",
    [
        ("AF201", "AU201"),
        ("AF202", "AU202"),
        ("AF203", "AU203"),
        ("AF204", "AU204"),
        ("AF205", "AU205"),
    ],
)
def test_frontend_codes_are_renamed_keeping_origin_and_task(af, au):
    w = W([T("a", line=12)])
    w.diagnostics.append(Diagnostic("info", af, f"{af} message", "dag.py", 12))
    (f,) = only(w, au)
    assert (f.origin, f.task, f.line, f.message, f.severity) == (
        af,
        "a",
        12,
        f"{af} message",
        CODES[au].severity,
    )


def test_af101_is_heavy_top_level_code_only_for_io():
    w = W([T("a", line=12)])
    w.diagnostics += [
        Diagnostic(
            "warning", "AF101", '`requests.get("https://x")` makes a network call', "dag.py", 3
        ),
        Diagnostic(
            "warning",
            "AF101",
            "`Variable.get(\"b\")` reads Airflow Variable 'b' when the file is parsed",
            "dag.py",
            4,
        ),
        Diagnostic(
            "warning", "AF101", "`ghost` name 'ghost' is not defined in this file", "dag.py", 5
        ),
        Diagnostic("warning", "AF101", "`datetime.now()` reads the clock", "dag.py", 6),
    ]
    got = sorted((f.line, f.code) for f in findings(w) if f.line in (3, 4, 5, 6))
    assert got == [(3, "AU407"), (4, "AU407"), (5, "AF101"), (6, "AF101")]


def test_heavy_io_reasons_are_the_frontends_words():
    from wfconv.audit.codes import HEAVY_IO_REASONS

    pyeval = pytest.importorskip("wfconv.frontends.pyeval")
    words = set(pyeval.RUNTIME_REASONS.values())
    for reason in HEAVY_IO_REASONS:
        if reason != "reads Airflow Variable":
            assert any(w.startswith(reason) for w in words), reason


def test_unmapped_frontend_codes_pass_through_with_their_severity():
    w = W([T("a")])
    w.diagnostics.append(
        Diagnostic("info", "AF301", "operator FooOperator kept opaque", "dag.py", 4)
    )
    (f,) = [x for x in findings(w) if x.code == "AF301"]
    assert f.severity == "info" and f.origin is None


# -- Airflow gotchas -----------------------------------------------------------------


def bash(tid, command, line=10):
    t = T(tid, fields={"command": command}, line=line)
    t.extra["airflow"] = {"operator": "BashOperator", "kwargs": {}}
    return t


def test_bash_command_ending_in_sh_without_trailing_space(tmp_path):
    dag = tmp_path / "dag.py"
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "ok.sh").write_text("echo ok\n")
    w = W(
        [
            bash("bad", "bash /opt/run.sh"),
            bash("abs", "/opt/run.bash"),
            bash("fine", "bash /opt/run.sh "),
            bash("tmpl", "scripts/ok.sh"),
            bash("later", "run.sh"),
        ],
        path=str(dag),
    )
    got = findings(w, path=str(dag))
    assert sorted(f.task for f in got if f.code == "AU301") == ["abs", "bad"]
    (missing,) = [f for f in got if f.code == "AU302"]
    assert missing.task == "later" and "template_searchpath" in missing.message


def test_template_searchpath_declared_on_the_dag_is_searched(tmp_path):
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "load.sh").write_text("echo\n")
    dag = tmp_path / "dag.py"
    w = W([bash("t", "load.sh")], path=str(dag))
    assert only(w, "AU302", path=str(dag))
    w.extra["airflow"] = {"dag_kwargs": {"template_searchpath": [str(tmp_path / "sql")]}}
    assert not only(w, "AU302", path=str(dag))


def test_sql_template_files_are_looked_up_too(tmp_path):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "load.sql").write_text("select 1")
    dag = tmp_path / "dag.py"
    w = W(
        [
            T("ok", "sql", fields={"sql": "queries/load.sql"}),
            T("gone", "sql", fields={"sql": "queries/gone.sql"}),
            T("inline", "sql", fields={"sql": "SELECT * FROM t"}),
        ],
        path=str(dag),
    )
    assert [f.task for f in only(w, "AU302", path=str(dag))] == ["gone"]


def test_bash_checks_only_for_airflow_bash_operators():
    t = bash("t", "bash run.sh")
    t.extra["airflow"]["operator"] = "SSHOperator"
    assert not only(W([t]), "AU301")
    assert not only(
        W([T("t", fields={"command": "bash run.sh"})], engine="luigi"), "AU301", engine="luigi"
    )


def test_bash_env_without_append_env_is_a_gotcha():
    replaced = bash("replaced", "echo $X")
    replaced.action.fields.update({"env": {"X": "1"}, "env_replace": True})
    added = bash("added", "echo $X")
    added.action.fields["env"] = {"X": "1"}
    (f,) = only(W([replaced, added]), "AU303")
    assert f.task == "replaced" and "append_env=True" in f.message and f.severity == "warning"
    # Another engine's subprocess env=... is that engine's business, not an Airflow gotcha.
    other = T("p", fields={"command": "x", "env": {"X": "1"}, "env_replace": True})
    assert not only(W([other], engine="prefect"), "AU303", engine="prefect")


# -- reliability ----------------------------------------------------------------------


def sensor(tid, **fields):
    return T(tid, "sensor", fields={"sensor": "FileSensor", **fields})


def test_sensor_timeouts_and_poke_mode():
    w = W(
        [
            sensor("none"),
            sensor("week", timeout_s=7 * 86400.0),
            sensor("short", timeout_s=600),
            sensor("longpoke", timeout_s=6 * 3600),
            sensor("resched", timeout_s=6 * 3600, mode="reschedule"),
            sensor("deferred", timeout_s=6 * 3600, mode="poke", args={"deferrable": True}),
        ]
    )
    assert [f.task for f in only(w, "AU401")] == [
        "none",
        "week",
    ]  # frontends fill the 7-day default
    assert sorted(f.task for f in only(w, "AU402")) == ["longpoke", "none", "week"]


def test_tasks_without_retries_when_others_retry():
    w = W([T("a", retries=3), T("b"), T("noop", "empty")], [("a", "b"), ("b", "noop")])
    assert [f.task for f in only(w, "AU403")] == ["b"]
    assert not only(W([T("a"), T("b")], [("a", "b")]), "AU403")
    prefect = W([T("a", retries=3), T("b")], [("a", "b")], engine="prefect")
    assert not only(prefect, "AU403", engine="prefect")


def test_trigger_rules_that_can_never_fire():
    # one_failed below tasks that cannot fail (empty) never fires; below a shell task it can.
    w = W(
        [
            T("start", "empty"),
            T("alert", trigger_rule="one_failed"),
            T("work"),
            T("on_err", trigger_rule="one_failed"),
            T("cleanup", trigger_rule="all_skipped"),
            T("both_failed", trigger_rule="all_failed"),
        ],
        [
            ("start", "alert"),
            ("work", "on_err"),
            ("work", "cleanup"),
            ("work", "both_failed"),
            ("start", "both_failed"),
        ],
    )
    got = {f.task: f for f in only(w, "AU404")}
    assert set(got) == {"alert", "cleanup", "both_failed"}
    assert "no upstream ('start') can fail" in got["alert"].message
    assert "'start' can never fail" in got["both_failed"].message


def test_all_skipped_fires_below_branches_soft_fail_sensors_and_propagated_skips():
    w = W(
        [
            T("br", "branch", fields={"callable": "pick"}),
            T("x"),
            T("y"),
            T("after_x", trigger_rule="all_skipped"),
            T("deep"),
            T("deep_skip", trigger_rule="all_skipped"),
            sensor("s", soft_fail=True, timeout_s=60),
            T("s_skip", trigger_rule="all_skipped"),
        ],
        [
            ("br", "x"),
            ("br", "y"),
            ("x", "after_x"),
            ("x", "deep"),
            ("deep", "deep_skip"),
            ("s", "s_skip"),
        ],
    )
    assert not only(w, "AU404")


def test_upstream_failed_propagates_through_empty_joins():
    w = W(
        [T("work"), T("join", "empty"), T("alert", trigger_rule="one_failed")],
        [("work", "join"), ("join", "alert")],
    )
    assert not only(w, "AU404")  # join ends upstream_failed when work fails
    w2 = W(
        [
            T("work"),
            T("join", "empty", trigger_rule="all_done"),
            T("alert", trigger_rule="one_failed"),
        ],
        [("work", "join"), ("join", "alert")],
    )
    assert only(w2, "AU404")  # an all_done empty join always succeeds


def test_branch_targets():
    w = W(
        [
            T("br", "branch", fields={"cases": [{"when": "x", "to": "a"}], "default": "nope"}),
            T("a"),
            T("b"),
            T("far"),
        ],
        [("br", "a"), ("br", "b"), ("b", "far")],
    )
    (missing,) = only(w, "AU405")
    assert "'nope'" in missing.message and missing.severity == "error"
    w.tasks[0].action.fields["targets"] = ["far"]
    (indirect,) = only(w, "AU409")
    assert "'far'" in indirect.message


def test_branch_targets_from_the_callable_source_and_follow_ids():
    code = (
        "def pick(**ctx):\n"
        "    def helper():\n"
        "        return 'not_a_target'\n"
        "    if ctx['x']:\n"
        "        return ['a', 'ghost']\n"
        "    return compute()\n"
    )
    w = W(
        [T("br", "branch", fields={"callable": "pick", "source_code": code}), T("a")], [("br", "a")]
    )
    assert [f.message for f in only(w, "AU405")] == [
        "branch 'br' can follow 'ghost', which is not a task of the workflow"
    ]
    dt = W(
        [
            T(
                "br",
                "branch",
                fields={
                    "operator": "BranchDateTimeOperator",
                    "follow_task_ids_if_true": ["a"],
                    "follow_task_ids_if_false": "missing",
                },
            ),
            T("a"),
        ],
        [("br", "a")],
    )
    assert "'missing'" in only(dt, "AU405")[0].message


def test_branch_to_a_group_id_is_valid():
    a = T("grp.a")
    a.group = "grp"
    w = W(
        [T("br", "branch", fields={"targets": ["grp"]}), a],
        [("br", "grp.a")],
        groups=[Group("grp")],
    )
    assert not only(w, "AU405") and not only(w, "AU409")


def test_depends_on_past_with_catchup():
    w = W(
        [T("a", depends_on_past=True, line=5)],
        schedule=cron("0 0 * * *"),
        catchup=True,
        start_date="2025-12-20T00:00:00+00:00",
    )
    (f,) = only(w, "AU406")
    assert f.line == 5 and "'a'" in f.message
    w.catchup = False
    assert not only(w, "AU406")


def test_failure_rule_on_a_root_task():
    assert only(W([T("a", trigger_rule="one_failed")]), "AU408")
    assert not only(W([T("a"), T("b", trigger_rule="one_failed")], [("a", "b")]), "AU408")


# -- parse-level ------------------------------------------------------------------------


def test_bundle_without_workflows_is_au905_and_af302_is_not_doubled():
    res = audit_bundle(Bundle(), "dag.py", "airflow", NOW)
    assert [f.code for f in res.findings] == ["AU905"]
    b = Bundle(diagnostics=[Diagnostic("warning", "AF302", "no DAG found", "dag.py", None)])
    res = audit_bundle(b, "dag.py", "airflow", NOW)
    assert [(f.code, f.origin) for f in res.findings] == [("AU905", "AF302")]


# -- metrics -------------------------------------------------------------------------------


def test_depth_width_and_critical_path():
    # a -> b -> d, a -> c -> d, a -> e  : depth 3, width 3 (b, c, e)
    w = W([T(x) for x in "abcde"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "e")])
    _, s = audit_workflow(w, "dag.py", "airflow", NOW)
    assert (s.tasks, s.edges, s.depth, s.width, s.width_exact) == (5, 5, 3, 3, True)
    assert s.critical_path[0] == "a" and s.critical_path[-1] == "d"


def test_exact_width_beats_levels_when_layers_mislead():
    # Levels {a,c} {b,d} {e,f} are 2 wide, but {b, e, f} is an antichain of 3.
    w = W([T(x) for x in "abcdef"], [("a", "b"), ("a", "d"), ("d", "e"), ("c", "f"), ("d", "f")])
    g = TaskGraph.of(w)
    assert exact_width(g) == 3
    assert level_width(g) == 2
    assert width(g) == (3, True)
    path = longest_path(g)
    assert len(path) == 3 and path[:2] == ["a", "d"]


def test_cyclic_workflow_has_no_depth_or_width():
    _, s = audit_workflow(W([T("a"), T("b")], [("a", "b"), ("b", "a")]), "dag.py", "airflow", NOW)
    assert s.depth is None and s.width is None


def test_docs_table_is_the_code_table():
    from pathlib import Path

    from wfconv.audit.codes import markdown_table

    docs = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text(
        encoding="utf-8"
    )
    assert markdown_table() in docs, "regenerate the table: python -m wfconv.audit.codes"


def test_oozie_nodes_unreachable_from_start(tmp_path):
    from wfconv.audit.oozie import unreachable_nodes

    xml = tmp_path / "workflow.xml"
    xml.write_text(
        '<workflow-app name="w" xmlns="uri:oozie:workflow:0.5">\n'
        '  <start to="split"/>\n'
        '  <fork name="split"><path start="a"/><path start="b"/></fork>\n'
        '  <action name="a"><fs/><ok to="joined"/><error to="kill"/></action>\n'
        '  <action name="b"><fs/><ok to="joined"/><error to="kill"/></action>\n'
        '  <join name="joined" to="decide"/>\n'
        '  <decision name="decide"><switch><case to="c">${x}</case><default to="end"/></switch></decision>\n'
        '  <action name="c"><fs/><ok to="end"/><error to="kill"/></action>\n'
        '  <action name="dead"><fs/><ok to="deader"/><error to="kill"/></action>\n'
        '  <action name="deader"><fs/><ok to="end"/><error to="kill"/></action>\n'
        '  <kill name="kill"><message>x</message></kill>\n'
        '  <kill name="unused_kill"><message>y</message></kill>\n'
        '  <end name="end"/>\n'
        "</workflow-app>\n"
    )
    got = [(u.name, u.tag, u.line) for u in unreachable_nodes(xml)]
    assert got == [("dead", "action", 9), ("deader", "action", 10), ("unused_kill", "kill", 12)]
    (tmp_path / "bomb.xml").write_text(
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><workflow-app>&a;</workflow-app>'
    )
    assert unreachable_nodes(tmp_path / "bomb.xml") == []


def test_large_workflows_get_the_level_width_marked_as_a_lower_bound(monkeypatch):
    import wfconv.audit.graph as graph_mod

    w = W([T(x) for x in "abcdef"], [("a", "b"), ("a", "d"), ("d", "e"), ("c", "f"), ("d", "f")])
    monkeypatch.setattr(graph_mod, "EXACT_WIDTH_LIMIT", 5)
    assert graph_mod.width(TaskGraph.of(w)) == (2, False)
