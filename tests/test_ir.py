"""The IR contract: JSON round trip, schema errors with JSON paths, validation."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.errors import InputError
from wfconv.ir import Action, Bundle, Edge, Task, Workflow, dumps, finalize, loads
from wfconv.ir.model import Group, Schedule, SourceRef


def wf(tasks, edges, **kw):
    w = Workflow(
        id=kw.pop("id", "w"),
        tasks=[
            Task(t, Action("empty"), source=SourceRef("airflow", "d.py", i + 10))
            for i, t in enumerate(tasks)
        ],
        edges=[Edge(a, b) for a, b in edges],
        source=SourceRef("airflow", "d.py", 1),
        **kw,
    )
    return finalize(w)


def codes(w):
    return [d.code for d in w.diagnostics]


def test_round_trip_is_byte_identical():
    w = Workflow(
        id="sales_etl",
        description='Nightly "sales" ETL \\ ünïcode',
        schedule=Schedule("cron", cron="0 6 * * *", timezone="Europe/Paris"),
        start_date="2023-03-01T00:00:00+00:00",
        catchup=False,
        params={"bucket": "exports"},
        tags=["sales"],
        tasks=[
            Task(
                "transform",
                Action("shell", {"command": 'python t.py "{{ ds }}"\n'}),
                retries=5,
                retry_delay_s=[1, 2, 3],
                group="g",
                source=SourceRef("airflow", "dags/sales.py", 24),
                mapped={"kind": "product", "over": {"x": [1, 2]}},
            ),
            Task("load", Action("python", {"callable": "load"}), trigger_rule="none_failed"),
        ],
        edges=[Edge("transform", "load", "data")],
        groups=[Group("g")],
    )
    text = dumps(Bundle([w]))
    assert json.loads(text)["wfconv_ir"] == 1
    assert dumps(loads(text)) == text
    doc = json.loads(text)["workflows"][0]
    assert doc["schedule"] == {"kind": "cron", "cron": "0 6 * * *", "timezone": "Europe/Paris"}
    assert doc["edges"] == [{"from": "transform", "to": "load", "kind": "data"}]
    assert doc["tasks"][0]["action"] == {"kind": "shell", "command": 'python t.py "{{ ds }}"\n'}


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d.pop("wfconv_ir"), "$"),
        (
            lambda d: d["workflows"][0]["tasks"][1].update(retries=-1),
            "$.workflows[0].tasks[1].retries",
        ),
        (
            lambda d: d["workflows"][0]["tasks"][0]["action"].update(kind="teleport"),
            "$.workflows[0].tasks[0].action.kind",
        ),
        (lambda d: d["workflows"][0]["schedule"].pop("cron"), "$.workflows[0].schedule"),
        (lambda d: d["workflows"][0]["edges"][0].pop("to"), "$.workflows[0].edges[0]"),
    ],
)
def test_schema_violation_names_json_path(mutate, where):
    doc = json.loads(
        dumps(Bundle([wf(["a", "b"], [("a", "b")], schedule=Schedule("cron", cron="* * * * *"))]))
    )
    mutate(doc)
    with pytest.raises(InputError) as err:
        loads(json.dumps(doc), "ir.json")
    msg = str(err.value)
    assert msg.startswith("ir.json: not a valid wfconv IR document at ")
    assert f" at {where}:" in msg


def test_cycle_reported_with_full_path():
    w = wf(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")])
    cyc = [d for d in w.diagnostics if d.code == "IR004"]
    assert len(cyc) == 1
    assert cyc[0].message == "cycle: b -> c -> d -> b"
    assert cyc[0].severity == "error"
    assert (cyc[0].path, cyc[0].line) == ("d.py", 11)


def test_self_loop_and_two_cycles():
    w = wf(["a", "b", "c", "x"], [("a", "a"), ("b", "c"), ("c", "b")])
    msgs = [d.message for d in w.diagnostics if d.code == "IR004"]
    assert msgs == ["cycle: a -> a", "cycle: b -> c -> b"]


def test_duplicate_unknown_edge_and_trigger_rule():
    w = wf(["a", "a", "b"], [("a", "ghost")])
    w.tasks[2].trigger_rule = "sometimes"
    finalize(w)
    assert sorted(codes(w)) == ["IR001", "IR002", "IR003"]
    assert any("unknown task 'ghost'" in d.message for d in w.diagnostics)


def test_finalize_is_idempotent():
    w = wf(["a", "b"], [("a", "b"), ("b", "a")])
    finalize(w)
    finalize(w)
    assert codes(w).count("IR004") == 1


def test_schema_command_prints_json_schema():
    res = CliRunner().invoke(main, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.output)
    assert schema["properties"]["wfconv_ir"] == {"const": 1}


def test_parse_of_ir_file_reports_schema_path(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(
        '{"wfconv_ir": 1, "workflows": [{"id": "w", "tasks": [{"id": 3, "action": {"kind": "empty"}}]}]}'
    )
    res = CliRunner().invoke(main, ["parse", str(p)])
    assert res.exit_code == 2
    assert (
        res.stderr.strip()
        == f"{p}: not a valid wfconv IR document at $.workflows[0].tasks[0].id: 3 is not of type 'string'"
    )


def test_parse_of_cyclic_ir_prints_it_with_diagnostic(tmp_path):
    p = tmp_path / "cyc.json"
    p.write_text(dumps(Bundle([wf(["a", "b"], [("a", "b"), ("b", "a")])])))
    res = CliRunner().invoke(main, ["parse", str(p)])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["workflows"][0]["diagnostics"][0]["message"] == "cycle: a -> b -> a"


def test_graph_mermaid_and_dot_escape_labels(tmp_path):
    p = tmp_path / "w.json"
    p.write_text(dumps(Bundle([wf(['say "hi"', "b"], [('say "hi"', "b")])])))
    res = CliRunner().invoke(main, ["graph", str(p)])
    assert res.exit_code == 0, res.output
    assert 'n0("say #quot;hi#quot;")' in res.stdout
    assert "n0 --> n1" in res.stdout
    res = CliRunner().invoke(main, ["graph", str(p), "--format", "dot"])
    assert '"say \\"hi\\"" -> "b";' in res.stdout


def test_missing_file_is_input_error():
    res = CliRunner().invoke(main, ["parse", "no/such/file.py"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "no/such/file.py: no such file or directory"
