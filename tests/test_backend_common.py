"""The shared backend toolkit: escaping, identifiers, the loss path, formatting."""

from __future__ import annotations

import ast
import keyword
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.backends.common import (
    Emitted,
    cron_field_values,
    format_python,
    identifier_map,
    loss,
    py_comment,
    py_literal,
    py_str,
    render,
    retry_delays,
    topo_order,
)
from wfconv.ir.model import Action, Edge, SourceRef, Task, Workflow

HOSTILE = [
    "",
    "plain",
    "it's",
    'say "hi"',
    "both ' and \"",
    "back\\slash\\",
    'triple """ quotes',
    "triple ''' quotes",
    "new\nline\r\nand\rcr",
    "{{ ds }} ${wf:id()} %(x)s {0}",
    "nul\x00byte",
    "bidi \u202e override \u2028 sep",
    "ünïcödé 日本語 🎉",
    "lone \ud800 surrogate",
    "trailing spaces   ",
    "\\N{BULLET} not an escape",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_py_str_round_trips_hostile_text(text):
    lit = py_str(text)
    assert ast.literal_eval(lit) == text
    assert "\n" not in lit and "\r" not in lit  # always one line
    # embeds cleanly in a module that compiles
    format_python(f"X = {lit}\n")


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_py_str_round_trips_any_text(text):
    lit = py_str(text)
    assert ast.literal_eval(lit) == text
    assert lit.count("\n") == 0
    assert py_str(text) == lit  # deterministic


def test_py_str_prefers_double_quotes_like_ruff_format():
    assert py_str("a") == '"a"'
    assert py_str('a"b') == "'a\"b'"
    assert py_str("a'b\"c") == '"a\'b\\"c"'


def test_py_str_rejects_non_strings():
    with pytest.raises(TypeError):
        py_str(3)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_py_literal_round_trips_json_values(value):
    assert ast.literal_eval(py_literal(value)) == value


def test_py_literal_spells_special_floats_and_tuples():
    assert py_literal(float("inf")) == 'float("inf")'
    assert py_literal((1,)) == "(1,)"
    assert py_literal({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'  # order kept
    with pytest.raises(TypeError):
        py_literal(object())


def test_py_comment_stays_on_one_line():
    text = py_comment("a\nb\r\x00 c  ")
    assert "\n" not in text and "\r" not in text
    assert not text.endswith(" ")
    format_python(f"# {text}\nX = 1\n")


def test_identifier_map_keeps_valid_ids_and_fixes_the_rest():
    ids = ["extract", "a-b", "a_b", "class", "1st", "é.x", "", "a.b", "日本", "_"]
    m = identifier_map(ids)
    assert m["extract"] == "extract"
    assert m["a_b"] == "a_b"  # valid ids keep their name even when listed later
    assert m["a-b"] == "a_b_2" and m["a.b"] == "a_b_3"
    assert m["class"] == "class_"
    assert m["1st"] == "t_1st"
    assert m["é.x"] == "e_x"
    assert len(set(m.values())) == len(ids)
    for v in m.values():
        assert v.isidentifier() and v.isascii() and not keyword.iskeyword(v)


def test_identifier_map_is_deterministic_and_reversible():
    ids = ["x-1", "x_1", "x.1", "X 1"]
    a = identifier_map(ids, reserved=["dag"])
    assert a == identifier_map(ids, reserved=["dag"])
    inverse = {v: k for k, v in a.items()}
    assert [inverse[a[i]] for i in ids] == ids


def test_identifier_map_respects_reserved_names():
    m = identifier_map(["dag", "subprocess", "ok"], reserved=["dag", "subprocess"])
    assert m == {"ok": "ok", "dag": "dag_", "subprocess": "subprocess_"}


def test_identifier_map_class_and_oozie_styles():
    c = identifier_map(["extract_orders", "extract-orders", "class"], style="class")
    assert c == {
        "extract_orders": "ExtractOrders",
        "extract-orders": "ExtractOrders_2",
        "class": "Class",
    }
    o = identifier_map(["a" * 60, "a" * 60 + "b", "ok-node", "9x"], style="oozie")
    assert all(len(v) <= 40 for v in o.values())
    assert o["ok-node"] == "ok-node"
    assert len(set(o.values())) == 4
    with pytest.raises(ValueError):
        identifier_map(["a"], style="cobol")


@given(st.lists(st.text(max_size=12), max_size=15, unique=True))
@settings(max_examples=200, deadline=None)
def test_identifier_map_is_always_injective_and_valid(ids):
    m = identifier_map(ids, reserved=["flow", "task"])
    assert set(m) == set(ids)
    assert len(set(m.values())) == len(ids)
    for v in m.values():
        assert v.isidentifier() and not keyword.iskeyword(v) and v not in ("flow", "task")


def test_loss_carries_the_task_source_location():
    t = Task("t1", Action("shell", {"command": "x"}), source=SourceRef("airflow", "dags/a.py", 12))
    d = loss("BA101", "no equivalent", task=t, target="BashOperator")
    assert (d.code, d.severity, d.path, d.line, d.target) == (
        "BA101",
        "warning",
        "dags/a.py",
        12,
        "BashOperator",
    )
    assert "t1" in d.message
    w = Workflow("w", source=SourceRef("airflow", "dags/w.py", 3))
    d2 = loss("BA001", "catchup dropped", source=w, severity="info")
    assert (d2.path, d2.line, d2.severity) == ("dags/w.py", 3, "info")


def test_format_python_normalises_whitespace_but_not_strings():
    code = "\n\nx = 1   \n\n\n\n\ny = '''a  \n\n\n\nb'''\n\n\n"
    out = format_python(code)
    assert out == "x = 1\n\n\ny = '''a  \n\n\n\nb'''\n"
    with pytest.raises(SyntaxError):
        format_python("def (:\n")


def test_render_uses_the_escaping_filters(tmp_path):
    # The filters are registered on the shared environment.
    from wfconv.backends.common import _environment

    tpl = _environment().from_string("X = {{ v | py }}\nY = {{ s | pystr }}  # {{ s | comment }}\n")
    out = tpl.render(v={"k": ['"""']}, s="a\nb")
    assert ast.literal_eval(out.splitlines()[0][4:]) == {"k": ['"""']}
    format_python(out)
    assert callable(render)


def test_emitted_single():
    assert Emitted({"a.py": "x"}, []).single() == "x"
    with pytest.raises(ValueError):
        Emitted({}, []).single()


def test_topo_order_follows_document_order_where_edges_allow():
    w = Workflow("w", tasks=[Task(i, Action("empty")) for i in ["c", "a", "b", "d"]])
    w.edges = [Edge("b", "c"), Edge("a", "d")]
    assert topo_order(w) == ["a", "b", "c", "d"]
    w.edges.append(Edge("c", "b"))
    with pytest.raises(ValueError):
        topo_order(w)


@pytest.mark.parametrize(
    ("retries", "delay", "backoff", "cap", "expected"),
    [
        (0, 30, "fixed", None, []),
        (3, 30, "fixed", None, [30, 30, 30]),
        (4, 10, "exponential", None, [10, 20, 40, 80]),
        (4, 10, "exponential", 25, [10, 20, 25, 25]),
        (3, [1, 5], "fixed", None, [1, 5, 5]),
        (2, None, "fixed", None, [300, 300]),
    ],
)
def test_retry_delays(retries, delay, backoff, cap, expected):
    t = Task(
        "t",
        Action("empty"),
        retries=retries,
        retry_delay_s=delay,
        retry_backoff=backoff,
        max_retry_delay_s=cap,
    )
    assert retry_delays(t, default=300) == expected


# ---------------------------------------------------------------------------
# Shared by the backend tests (imported by test_backend_airflow/prefect).
# ---------------------------------------------------------------------------

_VENV_RUFF = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "ruff"
RUFF = str(_VENV_RUFF) if _VENV_RUFF.exists() else "ruff"

# Which compared field a ledger code (of an emitted task) declares lost.
LOST_FIELD = {
    "BA110": "delays",
    "BA124": "trigger_rule",
    "BA119": "id",
    "BP112": "trigger_rule",
    "BP113": "trigger_rule",
    "BP110": "mapped",
}
LOST_SCHEDULE = {"BP203", "BP204", "BA201", "BP206"}


def ledger_losses(diagnostics) -> tuple[dict[str, set[str]], bool]:
    """(task id -> fields the ledger says were lost, schedule lost?)"""
    per_task: dict[str, set[str]] = {}
    schedule = False
    for d in diagnostics:
        if d.code in LOST_SCHEDULE:
            schedule = True
        if d.task is not None and d.code in LOST_FIELD:
            per_task.setdefault(d.task, set()).add(LOST_FIELD[d.code])
    return per_task, schedule


def structure(w, lost: dict[str, set[str]] | None = None, rename=None, schedule_lost=False):
    """What a round trip must keep: task ids, edges, retries (+ effective
    delays), trigger rules, schedule; minus what the ledger lists."""
    lost = lost or {}
    rename = rename or {}
    tasks = {}
    for t in w.tasks:
        gone = lost.get(t.id, set())
        entry = {"retries": t.retries}
        # None = "the engine's default": the target's default is then right
        if "delays" not in gone and t.retries and t.retry_delay_s is not None:
            entry["delays"] = retry_delays(t, default=0)
        if "trigger_rule" not in gone:
            # a task without upstream tasks always passes its rule (docs/semantics.md R1)
            entry["trigger_rule"] = t.trigger_rule if w.upstream(t.id) else "(no upstream)"
        tasks[rename.get(t.id, t.id)] = entry
    edges = {(rename.get(e.src, e.src), rename.get(e.dst, e.dst)) for e in w.edges}
    s = w.schedule
    kind = "assets" if s.kind == "datasets" else s.kind  # Airflow 2 vs 3 spelling
    seconds, cron = s.seconds, s.cron
    if kind == "interval" and seconds and w.start_date:
        # An interval on a grid is the same ticks as a cron (Airflow 2 has no
        # DeltaTriggerTimetable, so the backend writes that cron).
        from wfconv.runtime.schedule import delta_cron, parse_datetime

        as_cron = delta_cron(float(seconds), parse_datetime(w.start_date))
        if as_cron is not None:
            kind, seconds, cron = "cron", None, as_cron
    # A cron line is compared by the times it matches ("1-5" is "1,2,3,4,5").
    cron = (cron_field_values(cron) or cron) if cron else cron
    sched = None if schedule_lost else (kind, cron, seconds, tuple(s.datasets))
    return {"tasks": tasks, "edges": edges, "schedule": sched}


def assert_round_trip(original, emitted, reparsed, rename=None):
    lost, schedule_lost = ledger_losses(emitted.diagnostics)
    want = structure(original, lost, rename, schedule_lost)
    back = {rename.get(k, k) if rename else k: v for k, v in lost.items()}
    got = structure(reparsed, back, None, schedule_lost)
    assert got["tasks"].keys() == want["tasks"].keys()
    for tid, entry in want["tasks"].items():
        got_entry = {k: v for k, v in got["tasks"][tid].items() if k in entry}
        assert got_entry == entry, tid
    assert got["edges"] == want["edges"]
    assert got["schedule"] == want["schedule"]


def corpus_conversions(tmp_path, target: str) -> list[Path]:
    """Every corpus workflow, from every source engine, converted to
    ``target``: its Python files written as ``<engine>_<name>``."""
    from wfconv.cli.convert import convert
    from wfconv.frontends import load_path

    written = []
    for engine in ("airflow", "prefect", "luigi", "oozie"):
        files, _ = convert(load_path(str(ROOT / "corpus" / engine)), target)
        for name, text in files.items():
            if name.endswith(".py"):
                path = tmp_path / f"{engine}_{name}"
                path.write_text(text, encoding="utf-8")
                written.append(path)
    return written


def ruff_format_check(paths) -> tuple[set[str], str]:
    """(names of the files ``ruff format`` would change, its report)."""
    import subprocess

    res = subprocess.run(
        [RUFF, "format", "--isolated", "--no-cache", "--check", "--output-format", "concise"]
        + list(map(str, paths)),
        capture_output=True,
        text=True,
    )
    unformatted = {
        Path(line.split(":")[0]).name
        for line in res.stdout.splitlines()
        if "would be reformatted" in line and ":" in line
    }
    assert res.returncode == (1 if unformatted else 0), res.stdout + res.stderr
    return unformatted, res.stdout


def ruff_clean(path) -> None:
    """`ruff check` with ruff's default rules (no project config) passes."""
    import subprocess

    proc = subprocess.run(
        [RUFF, "check", "--isolated", "--no-cache", "--quiet", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def ruff_codes(path) -> dict[str, set[str]]:
    """Rule codes ruff (default rules) reports, per file under ``path``."""
    import json
    import subprocess

    proc = subprocess.run(
        [RUFF, "check", "--isolated", "--no-cache", "--output-format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    out: dict[str, set[str]] = {}
    for item in json.loads(proc.stdout or "[]"):
        out.setdefault(Path(item["filename"]).name, set()).add(item["code"] or "syntax")
    return out


ROOT = Path(__file__).resolve().parent.parent

# Every corpus entry of every engine: what the backends' round-trip tests convert.
ALL_CORPUS = [
    p
    for engine in ("airflow", "prefect", "luigi", "oozie")
    for p in sorted((ROOT / "corpus" / engine).iterdir())
    if p.suffix in (".py", ".xml") or p.is_dir()
]


def valid_corpus_workflows(path):
    """The valid workflows of a corpus entry (Luigi read statically); skips the
    test for inputs the frontend refuses or that hold no valid workflow."""
    from wfconv.frontends import load
    from wfconv.ir.validate import graph_errors

    engine = path.relative_to(ROOT).parts[1]
    options = {"static": True} if engine == "luigi" else {}
    try:
        bundle = load([str(path.relative_to(ROOT))], engine, **options)
    except Exception as exc:  # inputs the frontend refuses are not conversions
        pytest.skip(f"frontend refuses it: {exc}")
    workflows = [w for w in bundle.workflows if not graph_errors(w)]
    if not workflows:
        pytest.skip("no valid workflow in this file")
    return workflows


def assert_no_new_ruff_findings(folder, written: dict[str, Path]) -> None:
    """Generated files in ``folder`` (name -> corpus source) are ruff-clean; a
    user function pasted verbatim from the source keeps its own style, so a
    file may only show rule codes its source file already has."""
    found = ruff_codes(folder)
    allowed: dict[str, set[str]] = {}
    for engine in ("airflow", "prefect", "luigi"):
        for fname, c in ruff_codes(ROOT / "corpus" / engine).items():
            allowed.setdefault(fname, set()).update(c)
    for fname, source in written.items():
        extra = found.get(fname, set()) - allowed.get(source.name, set())
        assert not extra, (fname, extra)


def kitchen_sink():
    """One workflow using every action kind and task setting."""
    from wfconv.ir.model import Group, Schedule

    src = lambda line: SourceRef("airflow", "dags/sink.py", line)  # noqa: E731
    tasks = [
        Task("start", Action("empty"), source=src(10)),
        Task(
            "sh",
            Action(
                "shell",
                {"command": "echo '{{ ds }}' \"q\" \\ done", "env": {"A": "1"}, "cwd": "/tmp"},
            ),
            retries=2,
            retry_delay_s=30,
            timeout_s=600,
            source=src(11),
        ),
        Task(
            "py",
            Action(
                "python",
                {"callable": "run", "module": "etl.jobs", "op_args": [1], "op_kwargs": {"k": "v"}},
            ),
            retries=3,
            retry_delay_s=10,
            retry_backoff="exponential",
            max_retry_delay_s=60,
            source=src(12),
        ),
        Task("py_stub", Action("python", {"callable": "local_fn"}), source=src(13)),
        Task(
            "py_kept",
            Action(
                "python", {"callable": "kept", "source_code": "def kept(x=1):\n    return x + 1\n"}
            ),
            source=src(14),
        ),
        Task(
            "decide",
            Action(
                "branch",
                {
                    "cases": [
                        {"when": "{{ params.mode == 'full' }}", "to": "grp.a"},
                        {"when": "${wf:conf('x')}", "to": "fail_now"},
                    ],
                    "default": "grp.a",
                },
            ),
            source=src(15),
        ),
        Task("grp.a", Action("shell", {"command": "true"}), group="grp", source=src(16)),
        Task(
            "grp.b",
            Action(
                "sensor",
                {
                    "sensor": "FileSensor",
                    "target": "/tmp/flag",
                    "poke_interval_s": 5,
                    "timeout_s": 60,
                    "mode": "reschedule",
                },
            ),
            group="grp",
            source=src(17),
        ),
        Task("fail_now", Action("fail", {"message": 'stop: "bad"'}), source=src(18)),
        Task(
            "mail",
            Action("email", {"to": ["a@example.com"], "subject": "s", "body": "b"}),
            trigger_rule="one_failed",
            source=src(19),
        ),
        Task(
            "q",
            Action("sql", {"sql": "select 1", "conn_id": "db", "operator": "PostgresOperator"}),
            source=src(20),
        ),
        Task(
            "pod",
            Action("container", {"image": "alpine", "cmds": ["echo"], "arguments": ["hi"]}),
            source=src(21),
        ),
        Task(
            "child",
            Action("subworkflow", {"workflow": "other_flow", "conf": {"a": 1}}),
            source=src(22),
        ),
        Task(
            "spark",
            Action(
                "hadoop",
                {"engine": "spark", "script": "job.py", "args": ["--x"], "properties": {"k": "v"}},
            ),
            source=src(23),
        ),
        Task("dcp", Action("hadoop", {"engine": "distcp", "args": ["a", "b"]}), source=src(24)),
        Task("ext", Action("external", {"output": "/data/in.csv"}), source=src(25)),
        Task("odd", Action("opaque", {"type": "MyOperator", "args": {"x": 1}}), source=src(26)),
        Task(
            "fan",
            Action("python", {"callable": "each", "module": "etl.jobs"}),
            mapped={"kind": "product", "over": {"n": [1, 2, 3]}},
            source=src(27),
        ),
        Task("end", Action("empty"), trigger_rule="none_failed_min_one_success", source=src(28)),
    ]
    edges = [
        ("start", "sh"),
        ("sh", "py"),
        ("py", "py_stub"),
        ("py", "py_kept"),
        ("py_kept", "decide"),
        ("decide", "grp.a"),
        ("decide", "fail_now"),
        ("grp.a", "grp.b"),
        ("grp.b", "mail"),
        ("start", "q"),
        ("start", "pod"),
        ("start", "child"),
        ("start", "spark"),
        ("start", "dcp"),
        ("start", "ext"),
        ("start", "odd"),
        ("start", "fan"),
        ("mail", "end"),
        ("grp.b", "end"),
    ]
    w = Workflow(
        "kitchen_sink",
        description="every construct",
        schedule=Schedule("cron", cron="0 6 * * *", timezone="UTC", model="trigger"),
        start_date="2024-01-01T00:00:00+00:00",
        catchup=False,
        params={"mode": "full"},
        tags=["demo"],
        tasks=tasks,
        groups=[Group("grp", tooltip="the group")],
        source=SourceRef("airflow", "dags/sink.py", 5),
    )
    for a, b in edges:
        w.add_edge(a, b)
    return w


def test_loss_names_its_task():
    t = Task("t1", Action("empty"))
    assert loss("BA101", "x", task=t).task == "t1"
    assert loss("BA101", "x").task is None


def test_shell_command_does_not_repeat_kept_arguments():
    from wfconv.backends.common import shell_command

    # Oozie keeps exec + args and the joined command
    assert (
        shell_command({"command": "'run me.sh' x", "exec": "run me.sh", "args": ["x"]})
        == "'run me.sh' x"
    )
    assert shell_command({"exec": "run.sh", "args": ["a b"]}) == "run.sh 'a b'"
    assert shell_command({"command": "echo", "args": ["a b"]}) == "echo 'a b'"
    assert shell_command({"command": "echo 'a b'", "args": ["a b"]}) == "echo 'a b'"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "engine": "spark",
                "master": "yarn",
                "main_class": "C",
                "jar": "app.jar",
                "args": ["--d", "x y"],
            },
            "spark-submit --master yarn --class C app.jar --d 'x y'",
        ),
        ({"engine": "sqoop", "command": "import --table t"}, "sqoop import --table t"),
        (
            {"engine": "ssh", "host": "u@h", "command": "go.sh", "args": ["{{ ds }}"]},
            # a template stays renderable: double quotes around it, not single
            'ssh u@h go.sh "{{ ds }}"',
        ),
        (
            {
                "engine": "fs",
                "operations": [{"op": "delete", "path": "/a b"}, {"op": "mkdir", "path": "/c"}],
            },
            "hdfs dfs -rm -r -f '/a b' && hdfs dfs -mkdir -p /c",
        ),
        (
            {"engine": "hive2", "jdbc_url": "jdbc:x", "query": "select 'a'"},
            "beeline -u jdbc:x -e 'select '\"'\"'a'\"'\"''",
        ),
        (
            {"engine": "distcp", "args": ["s", "d"], "properties": {"k": "v"}},
            "hadoop distcp -D k=v s d",
        ),
        ({"engine": "mystery", "script": "x"}, "mystery x"),
    ],
)
def test_hadoop_command_lines_quote_user_values(fields, expected):
    import shlex

    from wfconv.backends.common import hadoop_command

    assert hadoop_command(fields) == expected
    shlex.split(expected)  # well-formed for a POSIX shell
