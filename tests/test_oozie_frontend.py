"""Oozie frontend: what a user sees when parsing Oozie workflows, coordinators,
bundles and application folders; hostile XML; and, for every corpus workflow,
that the IR run under Airflow's rules ends where Oozie would."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cronsim import CronSim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oozie_sim import WorkflowGen, oozie_nodes, run_airflow, run_oozie

from wfconv.errors import InputError
from wfconv.frontends import load_path
from wfconv.frontends.oozie.props import parse_properties
from wfconv.ir import expr as E
from wfconv.ir.jsonio import dumps, loads

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "oozie"
WFCONV = [sys.executable, "-c", "from wfconv.cli import main; main()"]

WF_HEAD = '<workflow-app xmlns="uri:oozie:workflow:0.5" name="t">'


def wf(tmp_path, body: str, name: str = "wf.xml"):
    p = tmp_path / name
    p.write_text(f"<?xml version='1.0'?>\n{WF_HEAD}\n{body}\n</workflow-app>\n", encoding="utf-8")
    return load_path(p, "oozie").workflows[0]


def shell(name: str, ok: str, error: str, extra: str = "") -> str:
    return (
        f'<action name="{name}" {extra}><shell xmlns="uri:oozie:shell-action:0.3"><exec>{name}.sh</exec></shell>'
        f'<ok to="{ok}"/><error to="{error}"/></action>'
    )


def rules(w) -> dict[str, str]:
    return {t.id: t.trigger_rule for t in w.tasks}


def ups(w, tid: str) -> list[tuple[str, str]]:
    return sorted((e.src, e.kind) for e in w.edges if e.dst == tid)


def codes(w) -> list[str]:
    return [d.code for d in w.diagnostics]


# --- transitions -> trigger rules ----------------------------------------------------


def test_ok_and_error_transitions(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/>'
        + shell("a", "b", "h")
        + shell("b", "end", "k")
        + shell("h", "k", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    r = rules(w)
    assert r["a"] == r["b"] == "all_success"
    assert r["h"] == "one_failed" and ups(w, "h") == [("a", "error")]
    # k is reached by b's error and by h's ok+error: one rule cannot serve both -> clones
    assert r["k__from_b"] == "one_failed" and ups(w, "k__from_b") == [("b", "error")]
    assert r["k__from_h"] == "one_done"
    assert {t.id for t in w.tasks if t.action.kind == "fail"} == {"k__from_b", "k__from_h"}
    assert all(t.action.fields["message"] == "m" for t in w.tasks if t.action.kind == "fail")
    assert "OZ304" in codes(w)


def test_handler_of_a_node_that_may_be_upstream_failed_is_guarded(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/>'
        + shell("a", "b", "k")
        + shell("b", "end", "h")
        + shell("h", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    assert rules(w)["b__error"] == "one_failed" and rules(w)["b__ran"] == "one_done"
    assert ups(w, "h") == [("b__error", "control"), ("b__ran", "control")]
    assert rules(w)["h"] == "all_success"


def test_decision_cases_default_end_and_kill(tmp_path):
    w = wf(
        tmp_path,
        """<start to="d"/>
        <decision name="d"><switch>
          <case to="x">${wf:conf('m') eq 'x'}</case>
          <case to="end">${wf:conf('m') eq 'none'}</case>
          <case to="k">${wf:conf('m') eq 'bad'}</case>
          <default to="y"/>
        </switch></decision>"""
        + shell("x", "z", "k")
        + shell("y", "z", "k")
        + shell("z", "end", "k")
        + '<kill name="k"><message>bad</message></kill><end name="end"/>',
    )
    d = w.task("d")
    assert d.action.kind == "branch"
    assert [c["to"] for c in d.action.fields["cases"]] == ["x", None, "k__from_d"]
    assert d.action.fields["default"] == "y"
    assert [c["when"] for c in d.action.fields["cases"]][0] == "${wf:conf('m') eq 'x'}"
    assert rules(w)["z"] == "one_success"  # alternatives meet again
    env = E.ExprEnv(params={"m": "bad"})
    assert E.choose_case(d.action.fields["cases"], d.action.fields["default"], env) == "k__from_d"
    assert E.choose_case(d.action.fields["cases"], d.action.fields["default"], E.ExprEnv()) == "y"
    assert sorted(w.downstream("d")) == ["k__from_d", "x", "y"]


def test_decision_target_reached_otherwise_gets_a_hop(tmp_path):
    w = wf(
        tmp_path,
        """<start to="a"/>"""
        + shell("a", "d", "k")
        + """<decision name="d"><switch><case to="b">${true}</case><default to="c"/></switch></decision>"""
        + shell("b", "c", "k")
        + shell("c", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    d = w.task("d").action.fields
    assert d["default"] == "d__c"
    assert ups(w, "c") == [("b", "control"), ("d__c", "control")]
    assert rules(w)["c"] == "one_success"


def test_fork_join_and_join_after_decision(tmp_path):
    w = wf(
        tmp_path,
        """<start to="f"/><fork name="f"><path start="a"/><path start="d"/></fork>"""
        + shell("a", "j", "k")
        + """<decision name="d"><switch><case to="b">${x}</case><default to="j"/></switch></decision>"""
        + shell("b", "j", "k")
        + '<join name="j" to="c"/>'
        + shell("c", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    assert rules(w)["c"] == "none_failed_min_one_success"
    assert ups(w, "c") == [("a", "control"), ("b", "control"), ("d__j", "control")]
    assert not any(t.id in ("f", "j") for t in w.tasks)


def test_plain_join_is_all_success(tmp_path):
    w = wf(
        tmp_path,
        """<start to="f"/><fork name="f"><path start="a"/><path start="b"/></fork>"""
        + shell("a", "j", "k")
        + shell("b", "j", "k")
        + '<join name="j" to="c"/>'
        + shell("c", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    assert rules(w)["c"] == "all_success" and ups(w, "c") == [("a", "control"), ("b", "control")]


def test_error_to_end_is_handled(tmp_path):
    w = wf(tmp_path, '<start to="a"/>' + shell("a", "end", "end") + '<end name="end"/>')
    assert rules(w)["a"] == "all_success"
    assert rules(w)["end__from_a"] == "one_failed"
    assert run_airflow(w, {"a"}, {}) == ("success", ["a"])


def test_invalid_graphs_are_diagnosed_naming_nodes(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/>'
        + shell("a", "b", "nowhere")
        + shell("b", "a", "k")
        + shell("lost", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    msgs = {d.code: d.message for d in w.diagnostics}
    assert "'nowhere'" in msgs["OZ101"] and "'a'" in msgs["OZ101"]
    assert "lost" in msgs["OZ102"]
    assert "a -> b -> a" in msgs["IR004"]


# --- actions, retries, EL -----------------------------------------------------------


def test_retry_attributes(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/>'
        + shell("a", "b", "k", 'retry-max="2" retry-interval="5"')
        + shell("b", "c", "k", 'retry-max="9" retry-policy="exponential"')
        + shell("c", "end", "k", 'retry-max="${n}"')
        + '<kill name="k"><message>m</message></kill><end name="end"/>',
    )
    a, b, c = w.task("a"), w.task("b"), w.task("c")
    assert (a.retries, a.retry_delay_s, a.retry_backoff) == (2, 300.0, "fixed")
    assert (b.retries, b.retry_delay_s, b.retry_backoff) == (3, 600.0, "exponential")
    assert c.retries == 0 and c.extra["oozie"]["retry"] == {"retry-max": "${n}"}
    assert codes(w).count("OZ301") == 2 and "OZ302" in codes(w) and "OZ307" in codes(w)


def test_templates_are_translated_or_kept_with_a_diagnostic(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "job.properties").write_text(
        "nn=hdfs://nn\nday=${coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}\n"
    )
    w = wf(
        tmp_path / "app",
        '<start to="a"/><action name="a"><shell xmlns="uri:oozie:shell-action:0.3"><exec>run.sh</exec>'
        "<argument>${nn}/d/${day}</argument><argument>${wf:id()}</argument>"
        "<argument>${wf:conf('opt')}</argument><argument>${unknown}</argument>"
        "<argument>${wf:lastErrorNode()}</argument></shell>"
        '<ok to="end"/><error to="end"/></action><end name="end"/>',
        name="workflow.xml",
    )
    args = w.task("a").action.fields["args"]
    assert args == [
        "hdfs://nn/d/{{ data_interval_end.strftime('%Y-%m-%d') }}",
        "{{ run_id }}",
        "{{ params.opt }}",
        "{{ params.unknown }}",
        "${wf:lastErrorNode()}",
    ]
    assert w.params == {"opt": None, "unknown": None}
    assert any(d.code == "OZ202" and "wf:lastErrorNode" in d.message for d in w.diagnostics)
    assert any(d.code == "OZ203" and "unknown" in d.message for d in w.diagnostics)


def test_custom_action_is_opaque_with_its_xml(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/><action name="a"><x:job xmlns:x="uri:custom:1"><x:p>v</x:p></x:job>'
        '<ok to="end"/><error to="end"/></action><end name="end"/>',
    )
    a = w.task("a").action
    assert a.kind == "opaque" and a.fields["type"] == "job" and a.fields["args"] == {"p": "v"}
    assert "<x:p>v</x:p>" in a.fields["xml"]


def test_java_properties_syntax():
    props = parse_properties(
        "# c\n! c\na=1\nb : 2\nc 3\nd=x\\\n   y\ne\\=f=g\nh=\\u00e9\\tz\n  \nempty=\n",
        "job.properties",
    )
    assert {p.name: p.value for p in props} == {
        "a": "1",
        "b": "2",
        "c": "3",
        "d": "xy",
        "e=f": "g",
        "h": "é\tz",
        "empty": "",
    }
    assert [p.line for p in props][:4] == [3, 4, 5, 6]


# --- coordinators ------------------------------------------------------------------


def _trigger_run_starts(w) -> list[dt.datetime]:
    """When every run Airflow's trigger model creates starts (the ticks from
    start_date to end_date, inclusive): the IR of a coordinator is in that
    model, where each run starts at and sees its tick."""
    assert w.schedule.model == "trigger"
    start = dt.datetime.fromisoformat(w.start_date)
    end = dt.datetime.fromisoformat(w.end_date)
    out = []
    if w.schedule.kind == "interval":
        x = start
        step = dt.timedelta(seconds=w.schedule.seconds)
        while x <= end:
            out.append(x)
            x += step
        return out
    from wfconv.frontends.oozie.sched import zone

    tz = zone(w.schedule.timezone)
    x = next(CronSim(w.schedule.cron, start.astimezone(tz) - dt.timedelta(seconds=1)))
    while x <= end:
        out.append(x)
        x = next(CronSim(w.schedule.cron, x))
    return out
    from wfconv.frontends.oozie.sched import zone

    tz = zone(w.schedule.timezone)
    x = next(CronSim(w.schedule.cron, start.astimezone(tz) - dt.timedelta(seconds=1)))
    while x <= end:
        nxt = next(CronSim(w.schedule.cron, x))
        out.append(nxt)
        x = nxt
    return out


@pytest.mark.parametrize(
    "freq,start,end,tz,first,count",
    [
        (
            "${coord:days(1)}",
            "2024-03-01T08:00Z",
            "2024-04-01T07:00Z",
            "America/Los_Angeles",
            "2024-03-01T08:00Z",
            31,
        ),
        (
            "${coord:hours(6)}",
            "2024-01-01T00:00Z",
            "2024-01-03T00:00Z",
            "UTC",
            "2024-01-01T00:00Z",
            8,
        ),
        (
            "${coord:minutes(7)}",
            "2024-01-01T00:03Z",
            "2024-01-01T01:00Z",
            "UTC",
            "2024-01-01T00:03Z",
            9,
        ),
        ("60", "2024-01-01T00:30Z", "2024-01-01T05:30Z", "UTC", "2024-01-01T00:30Z", 5),
        (
            "${coord:days(2)}",
            "2024-01-01T00:00Z",
            "2024-01-10T00:00Z",
            "UTC",
            "2024-01-01T00:00Z",
            5,
        ),
        (
            "${coord:months(1)}",
            "2024-01-15T06:00Z",
            "2024-06-15T06:00Z",
            "UTC",
            "2024-01-15T06:00Z",
            5,
        ),
        # Quartz day-of-week: 2-6 = MON-FRI; from Wednesday 3rd: Wed Thu Fri Mon Tue
        ("0 6 * * 2-6", "2024-01-03T00:00Z", "2024-01-10T00:00Z", "UTC", "2024-01-03T06:00Z", 5),
        ("0 6 * * 1-5", "2024-01-03T00:00Z", "2024-01-10T00:00Z", "UTC", "2024-01-03T06:00Z", 5),
    ],
)
def test_coordinator_runs_match_nominal_times(tmp_path, freq, start, end, tz, first, count):
    (tmp_path / "workflow.xml").write_text(
        f"{WF_HEAD}<start to='end'/><end name='end'/></workflow-app>", encoding="utf-8"
    )
    (tmp_path / "coordinator.xml").write_text(
        f'<coordinator-app name="c" frequency="{freq}" start="{start}" end="{end}" timezone="{tz}" '
        'xmlns="uri:oozie:coordinator:0.4"><action><workflow><app-path>.</app-path></workflow></action>'
        "</coordinator-app>",
        encoding="utf-8",
    )
    w = load_path(tmp_path).workflows[0]
    ends = _trigger_run_starts(w)
    assert E.format_oozie_time(ends[0]) == first
    assert len(ends) == count
    assert all(e < E.parse_oozie_time(end) for e in ends)  # N_k < end
    assert w.catchup is True and w.max_active_runs == 1


def test_coordinator_app_folder(repo_root):
    w = load_path("corpus/oozie/coord_app").workflows[0]
    assert w.id == "sales-daily"
    assert (w.schedule.kind, w.schedule.cron, w.schedule.timezone) == (
        "cron",
        "0 0 * * *",
        "America/Los_Angeles",
    )
    assert w.max_active_runs == 2
    assert [t.id for t in w.tasks][:2] == ["wait_today", "wait_yesterday"]
    assert w.task("wait_today").action.fields["timeout_s"] == 180 * 60
    assert ups(w, "aggregate") == [("wait_today", "control"), ("wait_yesterday", "control")]
    params = w.task("aggregate").action.fields["params"]
    assert "DAY={{ data_interval_end.strftime('%Y-%m-%d') }}" in params
    assert w.task("notify").action.fields["to"] == ["sales@example.com", "ops@example.com"]
    assert w.params == {"queueName": "sales"}  # config-default.xml beats <parameters>
    assert w.extra["oozie"]["coordinator"]["controls"]["throttle"] == 5


def test_bundle_gives_one_workflow_per_coordinator(repo_root):
    b = load_path("corpus/oozie/bundle_app")
    assert [w.id for w in b.workflows] == ["metrics-hourly", "metrics-monthly"]
    hourly, monthly = b.workflows
    assert hourly.schedule.cron == "0 * * * *" and hourly.max_active_runs == 4
    assert monthly.schedule.cron == "30 7 15 2,5,8,11 *" and monthly.catchup is False
    assert monthly.extra["oozie"]["bundle"]["enabled"] is False
    assert hourly.task("compute").action.fields["name"] == "metrics-hour-metrics"


def test_subworkflow_found_on_disk_is_parsed_and_linked(repo_root):
    b = load_path("corpus/oozie/subworkflow_app")
    parent, child = b.workflows
    assert parent.task("run-child").action.fields["workflow"] == "child"
    assert "workflow" not in parent.task("run-external").action.fields
    assert child.task("load").action.fields["args"] == ["orders_eu", "eu"]


# --- safety ---------------------------------------------------------------------------


def _cli(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*WFCONV, "parse", str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_external_entity_is_refused_and_nothing_leaks(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    p = tmp_path / "xxe.xml"
    p.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        f'{WF_HEAD}<start to="end"/><kill name="k"><message>&s;</message></kill><end name="end"/></workflow-app>'
    )
    out = _cli(p)
    assert out.returncode == 2
    assert out.stderr.startswith(f"{p}:2: ") and "entity" in out.stderr
    assert "TOP-SECRET" not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_billion_laughs_is_refused_fast():
    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_path(CORPUS / "billion_laughs.xml", "oozie")
    assert time.perf_counter() - t0 < 1.0
    assert info.value.line == 3


def test_undeclared_entity_and_external_dtd_are_input_errors(tmp_path):
    p = tmp_path / "w.xml"
    p.write_text(f'{WF_HEAD}\n<start to="end"/>\n<end name="&x;"/></workflow-app>')
    with pytest.raises(InputError) as info:
        load_path(p, "oozie")
    assert info.value.line == 3
    p.write_text(
        f'<!DOCTYPE w SYSTEM "http://example.invalid/w.dtd">\n{WF_HEAD}<start to="end"/><end name="end"/></workflow-app>'
    )
    with pytest.raises(InputError, match="DTD"):
        load_path(p, "oozie")


def test_oversized_file_is_refused_within_a_second(tmp_path):
    p = tmp_path / "big.xml"
    with open(p, "w") as fh:
        fh.write(WF_HEAD + "<!--")
        fh.write("x" * (11 * 1024 * 1024))
        fh.write("--></workflow-app>")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="larger than"):
        load_path(p, "oozie")
    assert time.perf_counter() - t0 < 1.0


def test_truncated_file_gives_path_line_message():
    out = _cli(CORPUS / "truncated.xml")
    assert out.returncode == 2
    assert (
        out.stderr.strip()
        == f"{CORPUS / 'truncated.xml'}:7: malformed XML: Premature end of data in tag shell line 5"
    )


def test_non_oozie_xml_is_an_input_error(tmp_path):
    p = tmp_path / "x.xml"
    p.write_text("<configuration/>")
    with pytest.raises(InputError, match="not an Oozie"):
        load_path(p, "oozie")


# --- the IR runs where Oozie would end --------------------------------------------------

RUNNABLE = sorted(
    p.name
    for p in CORPUS.glob("*.xml")
    if p.name not in ("xxe.xml", "billion_laughs.xml", "truncated.xml", "invalid_graph.xml")
)


def _scenarios(nodes):
    actions = [n for n, v in nodes.items() if v["kind"] == "action"]
    decisions = {n: len(v["targets"]) for n, v in nodes.items() if v["kind"] == "decision"}
    failing_sets = (
        [set()] + [{a} for a in actions] + [set(p) for p in itertools.combinations(actions, 2)]
    )
    choice_sets = [
        dict(zip(decisions, c, strict=True))
        for c in itertools.product(*(range(k) for k in decisions.values()))
    ]
    return [(f, c) for f in failing_sets for c in choice_sets]


@pytest.mark.parametrize("name", RUNNABLE)
def test_ir_under_airflow_rules_ends_like_oozie(name):
    path = CORPUS / name
    nodes = oozie_nodes(str(path))
    w = load_path(path, "oozie").workflows[0]
    forks = any(v["kind"] == "fork" for v in nodes.values())
    for failing, choices in _scenarios(nodes):
        o_state, o_ran = run_oozie(nodes, failing, choices)
        a_state, a_ran = run_airflow(w, failing, choices)
        where = f"{name}: failing={sorted(failing)} choices={choices}"
        assert {"SUCCEEDED": "success", "KILLED": "failed"}[o_state] == a_state, where
        if o_state == "SUCCEEDED" or not forks:
            assert sorted(o_ran) == sorted(a_ran), where
        else:
            # Oozie kills running fork siblings; Airflow lets them finish.
            assert set(o_ran) <= set(a_ran), where


def test_corpus_ir_is_valid_json_ir(repo_root):
    for name in RUNNABLE + ["coord_app", "bundle_app", "subworkflow_app", "cron_coord"]:
        b = load_path(f"corpus/oozie/{name}", "oozie")
        assert loads(dumps(b), name) is not None
        for w in b.workflows:
            assert w.source.engine == "oozie"
            assert not [d for d in w.diagnostics if d.code.startswith("IR")], (name, w.diagnostics)


def test_cli_parses_an_app_folder(tmp_path):
    out = _cli(CORPUS / "coord_app")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["workflows"][0]["id"] == "sales-daily"
    assert os.path.exists(CORPUS / "coord_app" / "job.properties")


def test_recovery_that_never_rejoins_ends_like_oozie(tmp_path):
    """Oozie: a fails -> h -> end = SUCCEEDED. In the IR b is upstream_failed
    but not a leaf: its guarded error path (b__error, b__ran) keeps the kill
    skipped, so Airflow's leaf rule also ends in success."""
    body = (
        '<start to="a"/>'
        + shell("a", "b", "h")
        + shell("b", "end", "k")
        + shell("h", "end", "k")
        + '<kill name="k"><message>m</message></kill><end name="end"/>'
    )
    w = wf(tmp_path, body)
    (tmp_path / "w2.xml").write_text(f"{WF_HEAD}{body}</workflow-app>")
    nodes = oozie_nodes(str(tmp_path / "w2.xml"))
    assert run_oozie(nodes, {"a"}, {}) == ("SUCCEEDED", ["a", "h"])
    assert run_airflow(w, {"a"}, {}) == ("success", ["a", "h"])
    assert run_oozie(nodes, {"a", "h"}, {}) == ("KILLED", ["a", "h"])
    assert run_airflow(w, {"a", "h"}, {}) == ("failed", ["a", "h"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_workflows_end_like_oozie(data):
    """Random valid workflows: for every decision choice combination (or each
    choice alone when there are many) and every set of at most two failing
    actions, the IR under Airflow's rules ends in Oozie's state and, when the
    run succeeds or has no fork, runs exactly Oozie's actions."""
    from wfconv.frontends import oozie

    text = WorkflowGen(data.draw, st).workflow()
    nodes = oozie_nodes("gen.xml", text)
    w = oozie.parse("gen.xml", text).workflows[0]
    assert not [d for d in w.diagnostics if d.severity == "error"], (text, w.diagnostics)
    actions = [n for n, v in nodes.items() if v["kind"] == "action"]
    decisions = {n: len(v["targets"]) for n, v in nodes.items() if v["kind"] == "decision"}
    combos = list(itertools.product(*(range(k) for k in decisions.values())))
    if len(combos) > 24:
        combos = [tuple(0 for _ in decisions)] + [
            tuple(c if j == i else 0 for j in range(len(decisions)))
            for i, k in enumerate(decisions.values())
            for c in range(1, k)
        ]
    fails = (
        [set()] + [{a} for a in actions] + [set(p) for p in itertools.combinations(actions, 2)][:40]
    )
    forks = any(v["kind"] == "fork" for v in nodes.values())
    for combo in combos:
        choices = dict(zip(decisions, combo, strict=True))
        for failing in fails:
            o_state, o_ran = run_oozie(nodes, failing, choices)
            a_state, a_ran = run_airflow(w, failing, choices)
            where = f"{text}\nfailing={sorted(failing)} choices={choices}"
            assert {"SUCCEEDED": "success", "KILLED": "failed"}[o_state] == a_state, where
            if o_state == "SUCCEEDED" or not forks:
                assert sorted(o_ran) == sorted(a_ran), where
            else:
                assert set(o_ran) <= set(a_ran), where


def _coordinator(
    tmp_path,
    freq: str,
    tz: str = "UTC",
    body: str = "",
    start: str = "2024-01-01T00:00Z",
    end: str = "2025-01-01T00:00Z",
):
    (tmp_path / "workflow.xml").write_text(
        f"{WF_HEAD}<start to='a'/>"
        + shell("a", "end", "k")
        + "<kill name='k'><message>m</message></kill>"
        "<end name='end'/></workflow-app>",
        encoding="utf-8",
    )
    (tmp_path / "coordinator.xml").write_text(
        f'<coordinator-app name="c" frequency="{freq}" start="{start}" end="{end}" '
        f'timezone="{tz}" xmlns="uri:oozie:coordinator:0.4">{body}'
        "<action><workflow><app-path>hdfs://nn/apps/c</app-path></workflow></action></coordinator-app>",
        encoding="utf-8",
    )
    return load_path(tmp_path).workflows[0]


@pytest.mark.parametrize(
    "freq,tz,kind,needle",
    [
        ("${coord:months(5)}", "UTC", "interval", "no cron form"),
        ("${coord:days(2)}", "Europe/Paris", "interval", "DST"),
        ("${coord:endOfDays(1)}", "UTC", "cron", "end of the period"),
        ("0 0 L * *", "UTC", "cron", "Quartz"),
        ("${coord:hours(5)}", "UTC", "interval", None),
    ],
)
def test_frequencies_that_are_approximated_say_so(tmp_path, freq, tz, kind, needle):
    w = _coordinator(tmp_path, freq, tz)
    assert w.schedule.kind == kind
    notes = [d.message for d in w.diagnostics if d.code == "OZ501"]
    if needle:
        assert any(needle in m for m in notes), notes
    else:
        assert not notes


@pytest.mark.parametrize(
    "freq,cron",
    [
        ("30 6 ? * 2-6", "30 6 * * 1-5"),  # Quartz 2-6 = MON-FRI
        ("30 6 ? * 1,7", "30 6 * * 0,6"),  # SUN, SAT
        ("0 5 ? * MON", "0 5 * * MON"),
        ("0 5 ? * 6L", "0 5 * * 5L"),  # last Friday
        ("0 5 ? * 2#1", "0 5 * * 1#1"),  # first Monday
        ("0 5 ? * L", "0 5 * * 6"),  # L alone: Saturday
        ("0 5 ? * 1/2", "0 5 * * 0/2"),  # SUN, TUE, THU, SAT
    ],
)
def test_cron_day_of_week_is_quartz_numbering(tmp_path, freq, cron):
    w = _coordinator(tmp_path, freq)
    assert (w.schedule.kind, w.schedule.cron) == ("cron", cron)


def test_weekly_frequency_keeps_its_wall_clock_time_across_dst(tmp_path):
    # 2024-03-03 is a Sunday; Paris moves to summer time on 2024-03-31
    w = _coordinator(tmp_path, "${coord:days(7)}", "Europe/Paris", start="2024-03-03T07:00Z")
    assert (w.schedule.kind, w.schedule.cron, w.schedule.timezone) == (
        "cron",
        "0 8 * * 0",
        "Europe/Paris",
    )
    assert [d for d in w.diagnostics if d.code == "OZ501"] == []


def test_daily_time_that_repeats_when_dst_ends_is_diagnosed(tmp_path):
    # 01:30 in New York happens twice on 2024-11-03; 19:00 never is ambiguous
    w = _coordinator(tmp_path, "${coord:days(1)}", "America/New_York", start="2024-06-01T05:30Z")
    assert w.schedule.cron == "30 1 * * *"
    assert any("DST change days" in d.message for d in w.diagnostics if d.code == "OZ501")
    w = _coordinator(tmp_path, "${coord:days(1)}", "America/New_York", start="2024-06-01T23:00Z")
    assert not [d for d in w.diagnostics if d.code == "OZ501"]


def test_input_events_ranges_latest_and_unknown_datasets(tmp_path):
    body = """
    <datasets>
      <dataset name="logs" frequency="${coord:hours(1)}" initial-instance="2024-01-01T00:00Z" timezone="UTC">
        <uri-template>hdfs://nn/logs/${YEAR}${MONTH}${DAY}/${HOUR}</uri-template>
        <done-flag>READY</done-flag>
      </dataset>
    </datasets>
    <input-events>
      <data-in name="hour" dataset="logs"><instance>${coord:current(-2)}</instance></data-in>
      <data-in name="day" dataset="logs">
        <start-instance>${coord:current(-23)}</start-instance><end-instance>${coord:current(0)}</end-instance>
      </data-in>
      <data-in name="newest" dataset="logs"><instance>${coord:latest(0)}</instance></data-in>
      <data-in name="ghost" dataset="nope"><instance>${coord:current(0)}</instance></data-in>
    </input-events>"""
    w = _coordinator(tmp_path, "${coord:hours(1)}", body=body)
    f = {t.id: t.action.fields for t in w.tasks if t.action.kind == "sensor"}
    assert f["wait_hour"]["target"] == (
        "hdfs://nn/logs/{{ (data_interval_end + macros.timedelta(hours=-2)).strftime('%Y%m%d/%H') }}/READY"
    )
    assert (
        f["wait_day"]["target"]
        == "hdfs://nn/logs/{{ data_interval_end.strftime('%Y%m%d/%H') }}/READY"
    )
    assert (
        f["wait_newest"]["target"] == "hdfs://nn/logs/${YEAR}${MONTH}${DAY}/${HOUR}/READY"
    )  # kept
    assert f["wait_ghost"]["target"] is None
    msgs = " ".join(d.message for d in w.diagnostics if d.code == "OZ504")
    assert "range or list" in msgs and "coord:latest" in msgs and "unknown dataset 'nope'" in msgs
    assert ups(w, "a") == sorted((s, "control") for s in f)


def test_app_paths_resolve_to_local_folders_only_inside_the_app(tmp_path):
    from wfconv.frontends.oozie.coord import locate

    app = tmp_path / "apps" / "sales"
    (app / "wf").mkdir(parents=True)
    (app / "wf" / "workflow.xml").write_text("x")
    (tmp_path / "workflow.xml").write_text("x")  # outside the app's parent: never picked
    base = str(app)
    assert locate(base, "hdfs://nn:8020/user/${user.name}/apps/sales/wf", "workflow.xml") == str(
        app / "wf" / "workflow.xml"
    )
    assert locate(base, "${nameNode}/x/wf/workflow.xml", "ignored.xml") == str(
        app / "wf" / "workflow.xml"
    )
    assert locate(base, "hdfs://nn/somewhere/else", "workflow.xml") is None
    assert locate(base, "../../../../etc", "passwd") is None


def test_coordinator_without_its_workflow_app_is_an_input_error(tmp_path):
    (tmp_path / "coordinator.xml").write_text(
        '<coordinator-app name="c" frequency="60" start="2024-01-01T00:00Z" end="2024-01-02T00:00Z" '
        'timezone="UTC" xmlns="uri:oozie:coordinator:0.4">\n<action>\n<workflow><app-path>hdfs://nn/apps/gone</app-path>'
        "</workflow></action></coordinator-app>"
    )
    with pytest.raises(InputError) as info:
        load_path(tmp_path)
    assert info.value.line == 3 and "not found on disk" in info.value.message


def test_coordinator_configuration_is_evaluated_in_the_coordinator(repo_root):
    """`nameNode=${nameNode}` in a coordinator's action configuration passes the
    job's value on (it is not a self-reference), coord:* become templates."""
    w = load_path("corpus/oozie/coord_app").workflows[0]
    assert "OZ204" not in codes(w)
    props = w.extra["oozie"]["properties"]
    assert props["nameNode"] == "hdfs://nn.example.com:8020"
    assert (
        props["inputToday"]
        == "hdfs://nn.example.com:8020/data/orders/{{ data_interval_end.strftime('%Y/%m/%d') }}"
    )
    assert w.extra["oozie"]["coordinator"]["configuration"]["nameNode"] == "${nameNode}"


def test_hadoop_counter_constants_are_not_parameters(tmp_path):
    w = wf(
        tmp_path,
        '<start to="a"/>'
        + shell("a", "d", "k")
        + '<decision name="d"><switch><case to="end">${hadoop:counters("a")[RECORDS][MAP_IN] gt 0}</case>'
        '<default to="k"/></switch></decision><kill name="k"><message>m</message></kill><end name="end"/>',
    )
    assert w.params == {}
    expr = w.task("d").action.fields["cases"][0]["expr"]
    assert (
        E.unparse(expr)
        == "hadoop:counters('a')['org.apache.hadoop.mapred.Task$Counter']['MAP_INPUT_RECORDS'] > 0"
    )
    assert "OZ205" in codes(w) and "OZ203" not in codes(w)


def test_end_inside_a_fork_path_is_diagnosed(tmp_path):
    w = wf(
        tmp_path,
        '<start to="f"/><fork name="f"><path start="a"/><path start="b"/></fork>'
        + shell("a", "j", "k")
        + shell("b", "end", "k")
        + '<join name="j" to="end"/><kill name="k"><message>m</message></kill><end name="end"/>',
    )
    assert any(d.code == "OZ110" and "'b'" in d.message for d in w.diagnostics)


@pytest.mark.parametrize("name", RUNNABLE)
def test_reference_runtime_ends_like_oozie(name):
    """The project's reference runtime (wfconv.runtime), not only the small
    simulator above, runs each corpus workflow to Oozie's end state (its
    Airflow leaf rule and its Oozie engine_state) over the same scenarios."""
    from wfconv.runtime.api import run
    from wfconv.runtime.scenario import ALL, Scenario

    path = CORPUS / name
    nodes = oozie_nodes(str(path))
    w = load_path(path, "oozie").workflows[0]
    forks = any(v["kind"] == "fork" for v in nodes.values())
    actions = {t.id for t in w.tasks if t.extra.get("oozie", {}).get("node") == "action"}
    for failing, choices in _scenarios(nodes):
        branch = {}
        for d, i in choices.items():
            f = w.task(d).action.fields
            to = f["cases"][i]["to"] if i < len(f["cases"]) else f["default"]
            branch[d] = [to] if to else []
        res = run(
            w,
            Scenario(fail=dict.fromkeys(failing, ALL), branch=branch),
            date="2024-01-02T00:00:00+00:00",
        )[0]
        o_state, o_ran = run_oozie(nodes, failing, choices)
        where = f"{name}: failing={sorted(failing)} choices={choices}"
        assert res.state == {"SUCCEEDED": "success", "KILLED": "failed"}[o_state], where
        assert res.engine_state == o_state.lower(), where
        ran = sorted(t for t, r in res.tasks.items() if r.attempts and t in actions)
        if o_state == "SUCCEEDED" or not forks:
            assert ran == sorted(o_ran), where


@pytest.mark.parametrize("freq", ["${coord:months(0)}", "${coord:days(-1)}", "0", "0 0 31 2 *"])
def test_impossible_frequencies_leave_the_workflow_unscheduled(tmp_path, freq):
    w = _coordinator(tmp_path, freq)
    assert w.schedule.kind == "manual"
    assert any(d.code == "OZ501" for d in w.diagnostics)


def _oozie_nominal_times(
    unit: str, n: int, start: dt.datetime, end: dt.datetime, tz
) -> list[dt.datetime]:
    """N_k = start + k·frequency while N_k < end; days and months keep the
    wall-clock time in the coordinator's timezone (DST-aware), like Oozie."""
    out = []
    k = 0
    local = start.astimezone(tz)
    while True:
        if unit in ("minutes", "hours"):
            t = start + dt.timedelta(minutes=k * n * (60 if unit == "hours" else 1))
        elif unit == "days":
            t = (local.replace(tzinfo=None) + dt.timedelta(days=k * n)).replace(tzinfo=tz)
        else:
            m = local.month - 1 + k * n
            t = (
                local.replace(tzinfo=None)
                .replace(year=local.year + m // 12, month=m % 12 + 1)
                .replace(tzinfo=tz)
            )
        if t >= end:
            return out
        out.append(t.astimezone(dt.UTC))
        k += 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    unit=st.sampled_from(["minutes", "hours", "days", "months"]),
    n=st.integers(1, 12),
    start=st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2025, 1, 1)),
    span_days=st.integers(1, 400),
    tz=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]),
)
def test_schedule_reproduces_nominal_times(tmp_path_factory, unit, n, start, span_days, tz):
    """For every exact translation (no OZ501), the IR's runs under the
    trigger model start exactly at Oozie's nominal times."""
    from wfconv.frontends.oozie.sched import zone

    start = start.replace(second=0, microsecond=0, tzinfo=dt.UTC)
    if unit == "months":
        start = start.replace(day=min(start.day, 28))
    if unit in ("minutes",):
        span_days = min(span_days, 3)
    end = start + dt.timedelta(days=span_days)
    d = tmp_path_factory.mktemp("coord")
    w = _coordinator(
        d,
        f"${{coord:{unit}({n})}}",
        tz,
        start=E.format_oozie_time(start),
        end=E.format_oozie_time(end),
    )
    if any(x.code == "OZ501" for x in w.diagnostics):
        return
    want = _oozie_nominal_times(unit, n, start, end, zone(tz))
    assert want  # start < end
    assert _trigger_run_starts(w) == want, (w.schedule, w.start_date, w.end_date)
