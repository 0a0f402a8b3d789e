"""Scale: the IR's fast load path accepts exactly what the JSON Schema accepts,
and the command line streams what it prints."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from wfconv.ir.schema import _fast_check, _validator

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "corpus" / "golden"

# Values put in place of every member of a valid document, one at a time:
# each JSON type, and the edges of the constraints the schema states
# (minimum 0, exclusiveMinimum 0, minLength 1, integer vs 1.0, bool vs int).
ODD_VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, -0.5, "", "x", "cron", [], [1], [-1], {}]


def _documents():
    """Golden IR documents with many kinds of members (schedules of every
    kind, retries, groups, sources, mapped tasks, diagnostics)."""
    names = [
        "airflow/etl_basic.py.json",
        "airflow/mapped_tasks.py.json",
        "airflow/cycle.py.json",
        "oozie/cron_coord.json",
        "oozie/all_actions.xml.json",
    ]
    docs = []
    for name in names:
        p = GOLDEN / name
        if p.exists():
            docs.append(json.loads(p.read_text(encoding="utf-8")))
    assert len(docs) >= 3
    return docs


def _slots(node, path=(), seen=None):
    """(path, key) of each member of a document, once per place in the
    schema (list items count as one: the first task stands for all)."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for k, v in items:
        shape = tuple("[]" if isinstance(p, int) else p for p in (*path, k))
        if shape in seen:
            continue
        seen.add(shape)
        yield path, k
        yield from _slots(v, (*path, k), seen)


def _agree(doc) -> tuple[bool, bool]:
    fast = _fast_check()(doc)
    slow = next(_validator().iter_errors(doc), None) is None
    return fast, slow


def test_fast_check_and_json_schema_agree_on_every_mutation():
    checked = rejected = 0
    seen: set = set()
    for doc in _documents():
        assert _agree(doc) == (True, True)
        for path, key in list(_slots(doc, seen=seen)):
            for value in [*ODD_VALUES, ...]:  # ... stands for "member removed"
                bad = copy.deepcopy(doc)
                node = bad
                for p in path:
                    node = node[p]
                if value is ...:
                    if isinstance(node, list):
                        continue
                    del node[key]
                else:
                    node[key] = value
                fast, slow = _agree(bad)
                assert fast == slow, (path, key, value, fast, slow)
                checked += 1
                rejected += not fast
    # The mutations exercise both answers, many times over.
    assert checked > 1000 and rejected > 500, (checked, rejected)


@pytest.mark.parametrize(
    ("member", "value"),
    [("wfconv_ir", True), ("wfconv_ir", 1.0), ("wfconv_ir", 2)],
)
def test_fast_check_keeps_json_equality_of_the_version(member, value):
    doc = _documents()[0]
    doc[member] = value
    # JSON Schema's const: true is not 1, 1.0 is.
    assert _agree(doc) == ((value == 1 and value is not True),) * 2


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "wfconv", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_json_is_streamed_compact_for_programs_and_the_same_data(tmp_path):
    """Written run by run: off a terminal one compact line; --indent gives
    the text the whole document dumped at once gave (the old output)."""
    src = "corpus/airflow/hostile_strings.py"  # non-ASCII text kept as is
    args = ["run", src, "--backfill", "2024-01-01", "2024-01-03", "--no-db", "--format", "json"]
    compact = _cli(*args, "--fail", _first_task(src), "--trace", str(tmp_path / "c.jsonl"))
    indented = _cli(
        *args, "--indent", "--fail", _first_task(src), "--trace", str(tmp_path / "i.jsonl")
    )
    assert compact.returncode == indented.returncode == 1, compact.stderr  # the task fails
    doc = json.loads(compact.stdout)
    assert len(doc["runs"]) == 3
    assert compact.stdout.count("\n") == 1
    assert indented.stdout == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert compact.stderr == indented.stderr  # each distinct note once, as before
    trace = (tmp_path / "c.jsonl").read_text(encoding="utf-8")
    assert trace == (tmp_path / "i.jsonl").read_text(encoding="utf-8")
    assert {json.loads(line)["run_id"] for line in trace.splitlines()} == {
        r["run_id"] for r in doc["runs"]
    }


def _first_task(src: str) -> str:
    from wfconv.frontends import load

    return load([ROOT / src]).workflows[0].tasks[0].id


def test_run_json_of_no_run_and_of_an_error(tmp_path):
    ir = tmp_path / "ir.json"
    ir.write_text(json.dumps({"wfconv_ir": 1, "workflows": [{"id": "w", "tasks": []}]}))
    r = _cli("run", str(ir), "--no-db", "--format", "json", "--indent", "--date", "2024-01-01")
    assert r.returncode == 0, r.stderr
    (run,) = json.loads(r.stdout)["runs"]
    assert run["tasks"] == {}
    # A run that cannot start writes nothing on stdout, and no -o file.
    r = _cli(
        "run", str(ir), "--no-db", "--format", "json", "--date", "not a date",
        "-o", str(tmp_path / "out.json"),
    )  # fmt: skip
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert not (tmp_path / "out.json").exists()


def test_iter_run_hands_each_run_over_as_it_ends():
    from wfconv.ir import Action, Schedule, Task, Workflow
    from wfconv.runtime.api import iter_run, run

    w = Workflow("w", tasks=[Task("a", Action("empty"))])
    w.schedule = Schedule("cron", cron="@hourly")
    ended: list[str] = []
    runs = iter_run(
        w, backfill=("2024-01-01", "2024-01-02"), on_run=lambda r: ended.append(r.run_id)
    )
    first = next(runs)
    assert ended == [first.run_id]  # the second run is not simulated yet
    rest = list(runs)
    assert len(rest) == 24
    whole = run(w, backfill=("2024-01-01", "2024-01-02"))
    assert [r.to_dict(True) for r in whole] == [r.to_dict(True) for r in [first, *rest]]


def test_every_workflow_read_carries_its_validation_for_run_to_read():
    """``run`` refuses a bad graph from the diagnostics the reader attached
    (``require_valid(read=True)``) instead of validating it again: every
    frontend must attach exactly what validation finds."""
    from wfconv.frontends import iter_load
    from wfconv.ir.validate import _REPLACED_CODES, graph_errors

    workflows = bad = 0
    for bundle in iter_load([ROOT / "corpus"]):
        for w in bundle.workflows:
            attached = [
                d for d in w.diagnostics if d.code in _REPLACED_CODES and d.severity == "error"
            ]
            assert attached == graph_errors(w), w.id
            workflows += 1
            bad += bool(attached)
    assert workflows > 100 and bad >= 3, (workflows, bad)


def test_run_refuses_a_bad_graph_it_reads(tmp_path):
    r = _cli("run", "corpus/airflow/cycle.py", "--no-db", "--date", "2024-01-01")
    assert r.returncode == 2 and "cycle:" in r.stderr and "Traceback" not in r.stderr
    doc = {
        "wfconv_ir": 1,
        "workflows": [
            {
                "id": "w",
                "tasks": [{"id": "a", "action": {"kind": "empty"}, "group": "nowhere"}],
                "edges": [{"from": "a", "to": "b"}],
            }
        ],
    }
    ir = tmp_path / "ir.json"
    ir.write_text(json.dumps(doc), encoding="utf-8")
    r = _cli("run", str(ir), "--no-db", "--date", "2024-01-01")
    assert r.returncode == 2 and "unknown group 'nowhere'" in r.stderr, r.stderr
