"""Mermaid and DOT pictures: groups, trigger rules, branch and error edges
visible; deterministic; labels escaped so that hostile ids cannot break out."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.backends import dot, mermaid, render_graph
from wfconv.ir.model import Action, Edge, Group, Task, Workflow


def sample() -> Workflow:
    br = Task(
        "check",
        Action("branch", {"cases": [{"when": "${x gt 1}", "to": "etl.load"}], "default": "skip"}),
    )
    return Workflow(
        id="pics",
        groups=[
            Group("etl"),
            Group("etl.inner", parent="etl", label="Inner"),
            Group("orphan", parent="gone"),
        ],
        tasks=[
            Task("start", Action("shell", {"command": "x"})),
            br,
            Task("etl.load", Action("shell", {"command": "x"}), group="etl"),
            Task("etl.inner.t", Action("empty"), group="etl.inner"),
            Task("skip", Action("empty")),
            Task("lonely", Action("empty"), group="orphan"),
            Task("join", Action("empty"), trigger_rule="none_failed_min_one_success"),
            Task("alert", Action("email"), trigger_rule="one_failed"),
        ],
        edges=[
            Edge("start", "check"),
            Edge("check", "etl.load"),
            Edge("check", "skip"),
            Edge("etl.load", "etl.inner.t"),
            Edge("etl.inner.t", "join"),
            Edge("skip", "join"),
            Edge("start", "alert", "error"),
            Edge("start", "ghost"),
        ],
    )


def test_mermaid_groups_rules_branches_and_errors():
    text = mermaid.render(sample())
    lines = text.splitlines()
    assert lines[:2] == ["%% workflow: pics", "flowchart LR"]
    assert '    subgraph g0["etl"]' in lines
    inner = lines.index('        subgraph g1["Inner"]')
    assert lines[inner + 1] == '            n3("t")'  # nested and short name inside its group
    assert '    subgraph g2["orphan"]' in lines  # a group whose parent is unknown is still drawn
    assert '    n1{"check"}' in lines
    assert '    n6("join<br/><i>none_failed_min_one_success</i>")' in lines
    assert '    n1 -->|"${x gt 1}"| n2' in lines
    assert '    n1 -->|"default"| n4' in lines
    assert "    n0 -. error .-> n7" in lines
    assert not any("ghost" in x for x in lines)  # edges to unknown tasks are left out
    assert text == mermaid.render(sample())


def test_dot_groups_rules_branches_and_errors():
    text = dot.render(sample())
    assert text.startswith('digraph "pics" {\n')
    assert '    subgraph cluster_0 {\n        label="etl";' in text
    assert '        subgraph cluster_1 {\n            label="Inner";' in text
    assert '"join" [label="join\\n[none_failed_min_one_success]", shape=oval];' in text
    assert '"check" -> "etl.load" [style=bold, label="${x gt 1}"];' in text
    assert '"check" -> "skip" [style=bold, label="default"];' in text
    assert '"start" -> "alert" [style=dashed, color=red, label="error"];' in text
    assert "ghost" not in text
    assert text == dot.render(sample())
    assert render_graph(sample(), "dot") == text


def test_airflow_branch_edges_say_branch():
    w = Workflow(
        id="w",
        tasks=[Task("b", Action("branch", {"callable": "f"})), Task("x", Action("empty"))],
        edges=[Edge("b", "x")],
    )
    assert '    n0 -->|"branch"| n1' in mermaid.render(w)


HOSTILE = st.lists(
    st.sampled_from(list('ab"\\\n\r\t#<>|`{}[]();%é漢') + ["end", "subgraph", "-->", "\x01"]),
    min_size=1,
    max_size=10,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(st.lists(HOSTILE, min_size=1, max_size=5, unique=True), HOSTILE)
def test_hostile_labels_stay_inside_their_quotes(ids, wid):
    w = Workflow(
        id=wid,
        tasks=[Task(i, Action("empty"), trigger_rule="always") for i in ids],
        edges=[Edge(a, b) for a, b in zip(ids, ids[1:], strict=False)],
        groups=[Group(wid)],
    )
    w.tasks[0].group = wid
    text = mermaid.render(w)
    for line in text.splitlines()[2:]:
        # every line is one statement: node, subgraph header, end, or edge
        assert re.fullmatch(
            r'\s*(n\d+[\[({]+"[^"\n]*"[\])}]+|subgraph g\d+\["[^"\n]*"\]|end|n\d+ --> n\d+)', line
        ), line
    d = dot.render(w)
    for line in d.splitlines()[3:-1]:
        unescaped = re.sub(r"\\.", "", line)
        assert unescaped.count('"') % 2 == 0, line  # every quoted string is closed on its line


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_graphviz_accepts_the_output():
    res = subprocess.run(
        ["dot", "-Tsvg"], input=dot.render(sample()), capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr


def test_setup_and_teardown_tasks_are_marked_in_pictures():
    w = Workflow(
        "st",
        tasks=[
            Task("create", Action("empty"), role="setup"),
            Task("work", Action("empty")),
            Task("delete", Action("empty"), role="teardown", trigger_rule="all_done_setup_success"),
        ],
        edges=[Edge("create", "work"), Edge("work", "delete"), Edge("create", "delete")],
    )
    m = mermaid.render(w)
    assert '"create<br/><b>setup</b>"' in m
    assert '"delete<br/><b>teardown</b><br/><i>all_done_setup_success</i>"' in m
    d = dot.render(w)
    assert 'label="create\\n(setup)"' in d and 'label="work"' in d
