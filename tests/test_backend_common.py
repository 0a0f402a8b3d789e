"""The shared backend toolkit: escaping, identifiers, the loss path, formatting."""

from __future__ import annotations

import ast
import keyword

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.backends.common import (
    Emitted,
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
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
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
