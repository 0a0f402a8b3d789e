"""The neutral expression language (wfconv.ir.expr): Oozie EL parsed, printed
back and evaluated with EL's coercions, as the runtime uses it for decisions."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.ir import expr as E


def lit(v):
    return {"type": "literal", "value": v}


def name(n):
    return {"type": "name", "name": n}


def call(fn, *args):
    return {"type": "call", "fn": fn, "args": list(args)}


def op(o, *args):
    return {"type": "op", "op": o, "args": list(args)}


# --- parsing -----------------------------------------------------------------

PARSE_CASES = [
    ("${wf:id()}", call("wf:id")),
    (
        "${fs:exists(concat(nameNode, '/done'))}",
        call("fs:exists", call("concat", name("nameNode"), lit("/done"))),
    ),
    ("${a eq 'b'}", op("==", name("a"), lit("b"))),
    ('${a ne "b"}', op("!=", name("a"), lit("b"))),
    ("${x lt 1 or x ge 10}", op("||", op("<", name("x"), lit(1)), op(">=", name("x"), lit(10)))),
    ("${not empty x and y}", op("&&", op("!", op("empty", name("x"))), name("y"))),
    ("${!(a || b) && c}", op("&&", op("!", op("||", name("a"), name("b"))), name("c"))),
    ("${1 + 2 * 3}", op("+", lit(1), op("*", lit(2), lit(3)))),
    ("${(1 + 2) * 3}", op("*", op("+", lit(1), lit(2)), lit(3))),
    ("${10 div 4 mod 3}", op("%", op("/", lit(10), lit(4)), lit(3))),
    ("${-x}", op("neg", name("x"))),
    ("${-5}", lit(-5)),
    ("${1.5e2}", lit(150.0)),
    ("${true ? 'y' : 'n'}", op("?:", lit(True), lit("y"), lit("n"))),
    ("${a ? b ? 1 : 2 : 3}", op("?:", name("a"), op("?:", name("b"), lit(1), lit(2)), lit(3))),
    ("${null}", lit(None)),
    (
        "${a ? x : concat('p', 'q')}",
        op("?:", name("a"), name("x"), call("concat", lit("p"), lit("q"))),
    ),
    ("${wf:actionData('n')['k']}", op("[]", call("wf:actionData", lit("n")), lit("k"))),
    ("${wf:actionData('n').k}", op("[]", call("wf:actionData", lit("n")), lit("k"))),
    ("${mapred.job.queue.name}", name("mapred.job.queue.name")),
    ("${'it\\'s'}", lit("it's")),
    (
        "${coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}",
        call("coord:formatTime", call("coord:nominalTime"), lit("yyyy-MM-dd")),
    ),
    ("${a == b == c}", op("==", op("==", name("a"), name("b")), name("c"))),
    ("  ${x}  ", name("x")),
]


@pytest.mark.parametrize("text,want", PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse(text, want):
    got = E.parse(text)
    assert got == want
    json.dumps(got)  # JSON-serialisable as is


@pytest.mark.parametrize(
    "text",
    [
        "${",
        "${a +}",
        "${(a}",
        "${'open}",
        "${a b}",
        "${f(,)}",
        "${}",
        "${ eq 1}",
        "${a ? b}",
        "${#}",
    ],
)
def test_parse_errors_are_expr_errors_with_offsets(text):
    with pytest.raises(E.ExprError) as info:
        E.parse(text)
    assert info.value.offset is not None


def test_template_parts_and_spans():
    text = "hdfs://${nn}/data/${wf:id()}/x"
    parts = E.split_template(text)
    assert [src for src, _ in parts] == ["hdfs://", "${nn}", "/data/", "${wf:id()}", "/x"]
    assert E.parse_template(text)["parts"][1] == name("nn")
    assert E.is_constant_text(E.parse_template("no expressions"))
    assert not E.is_constant_text(E.parse_template("a ${b}"))


def test_parse_rejects_several_expressions():
    with pytest.raises(E.ExprError):
        E.parse("${a}${b}")


def test_functions_and_names_used():
    node = E.parse("${fs:exists(concat(base, wf:conf('x'))) and y.z}")
    assert E.functions_used(node) == ["concat", "fs:exists", "wf:conf"]
    assert E.names_used(node) == ["base", "y.z"]


# --- unparse round trip ---------------------------------------------------------


@pytest.mark.parametrize("text,_", PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_unparse_round_trips(text, _):
    node = E.parse(text)
    assert E.parse("${" + E.unparse(node) + "}") == node


def _exprs():
    leaves = st.one_of(
        st.integers(-1000, 1000).map(lit),
        st.text(alphabet="ab'\"\\ {}$", max_size=5).map(lit),
        st.sampled_from([True, False, None]).map(lit),
        st.sampled_from(["x", "a.b", "nameNode"]).map(name),
    )

    def grow(children):
        return st.one_of(
            st.tuples(
                st.sampled_from(["||", "&&", "==", "!=", "<", ">=", "+", "-", "*", "/", "%"]),
                children,
                children,
            ).map(lambda t: op(t[0], t[1], t[2])),
            st.tuples(st.sampled_from(["!", "neg", "empty"]), children).map(
                lambda t: op(t[0], t[1])
            ),
            st.tuples(children, children, children).map(lambda t: op("?:", *t)),
            st.tuples(
                st.sampled_from(["wf:conf", "concat", "fs:exists"]), st.lists(children, max_size=2)
            ).map(lambda t: call(t[0], *t[1])),
            st.tuples(children, children).map(lambda t: op("[]", *t)),
        )

    return st.recursive(leaves, grow, max_leaves=12)


def _canon(node):
    """parse folds '-<number literal>' into a negative literal; so does the AST generator's image."""
    if node["type"] == "op":
        args = [_canon(a) for a in node["args"]]
        if (
            node["op"] == "neg"
            and args[0]["type"] == "literal"
            and type(args[0]["value"]) in (int, float)
        ):
            return lit(-args[0]["value"])
        return {**node, "args": args}
    if node["type"] == "call":
        return {**node, "args": [_canon(a) for a in node["args"]]}
    return node


@settings(max_examples=300, deadline=None)
@given(_exprs())
def test_unparse_parse_is_identity_on_random_trees(node):
    assert E.parse("${" + E.unparse(node) + "}") == _canon(node)


# --- evaluation -------------------------------------------------------------------

ENV = E.ExprEnv(
    params={"mode": "full", "n": "42", "flag": "true", "blank": "", "nameNode": "hdfs://nn"},
    last_error_node="load",
    error_codes={"load": "JA018"},
    error_messages={"load": "boom"},
    action_data={"probe": {"size": "2048", "ok": "true"}},
    transitions={"load": "error"},
    fs_exists=lambda p: p == "hdfs://nn/done",
    fs_file_size=lambda p: 7 if p == "hdfs://nn/done" else -1,
    run_id="0000001-W",
    workflow_name="wf",
    nominal_time=dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC),
    now=lambda: dt.datetime(2024, 3, 1, 9, 15, 30, tzinfo=dt.UTC),
)

EVAL_CASES = [
    ("${mode eq 'full'}", True),
    ("${mode == 'incremental'}", False),
    ("${n > 40}", True),  # string "42" coerced to a number
    ("${n == 42.0}", True),
    ("${'10' < '9'}", True),  # two strings compare as strings
    ("${flag}", "true"),
    ("${flag == true}", True),
    ("${empty blank}", True),
    ("${empty mode}", False),
    ("${empty wf:actionData('none')}", True),
    ("${fs:exists(concat(nameNode, '/done'))}", True),
    ("${fs:exists('/nope')}", False),
    ("${fs:fileSize(concat(nameNode, '/done')) gt 0}", True),
    ("${wf:lastErrorNode() eq 'load'}", True),
    ("${wf:errorCode(wf:lastErrorNode())}", "JA018"),
    ("${wf:errorMessage('load')}", "boom"),
    ("${wf:actionData('probe')['size'] gt 1024}", True),
    ("${wf:actionData('probe').ok}", "true"),
    ("${wf:transition('load')}", "error"),
    ("${wf:conf('unset')}", ""),
    ("${wf:conf('mode')}", "full"),
    ("${wf:id()}", "0000001-W"),
    ("${wf:name()}", "wf"),
    ("${wf:run()}", 0),
    ("${7 / 2}", 3.5),
    ("${-7 % 3}", -1),  # Java keeps the dividend's sign
    ("${null == null}", True),
    ("${null == ''}", False),
    ("${null < 1}", False),
    ("${true ? 'a' : 'b'}", "a"),
    ("${firstNotNull(null, 'x')}", "x"),
    ("${replaceAll('a-b-c', '-(.)', '_$1')}", "a_b_c"),
    ("${appendAll('a,b', '/x', ',')}", "a/x,b/x"),
    ("${trim('  s ')}", "s"),
    ("${urlEncode('a b&c')}", "a+b%26c"),
    ("${coord:nominalTime()}", "2024-03-01T08:00Z"),
    ("${coord:formatTime(coord:nominalTime(), 'yyyyMMdd HH:mm')}", "20240301 08:00"),
    (
        "${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyy-MM-dd')}",
        "2024-02-29",
    ),
    (
        "${coord:formatTime(coord:dateOffset('2024-01-31T00:00Z', 1, 'MONTH'), 'yyyy-MM-dd')}",
        "2024-02-29",
    ),
    ("${coord:days(2)}", 2880),
    ("${timestamp()}", "2024-03-01T09:15Z"),
    ("${10 * MB}", None),  # MB is a frontend constant, not an env name: see the error test below
]


@pytest.mark.parametrize(
    "text,want", [c for c in EVAL_CASES if c[1] is not None], ids=lambda v: str(v)
)
def test_evaluate(text, want):
    assert E.evaluate(E.parse(text), ENV) == want


def test_template_evaluation_keeps_single_values_and_concatenates_others():
    assert E.evaluate(E.parse_template("${n gt 1}"), ENV) is True
    assert (
        E.evaluate(E.parse_template("run ${wf:id()} n=${n} ok=${flag eq 'true'}"), ENV)
        == "run 0000001-W n=42 ok=true"
    )


@pytest.mark.parametrize(
    "text,fn",
    [
        ("${undefinedName}", None),
        ("${fs:exists('x')}", "fs:exists"),
        ("${coord:dataIn('input')}", "coord:dataIn"),
        ("${wf:user()}", "wf:user"),
        ("${mode > 1}", None),
        ("${1 / 0}", None),
        ("${concat('a')}", "concat"),
    ],
)
def test_not_evaluable_raises_expr_error(text, fn):
    with pytest.raises(E.ExprError) as info:
        E.evaluate(E.parse(text), E.ExprEnv(params={"mode": "full"}))
    if fn:
        assert info.value.fn == fn


def test_env_functions_extend_and_override():
    env = E.ExprEnv(
        functions={"fs:exists": lambda env, p: p.startswith("/ok"), "my:f": lambda env: 3}
    )
    assert E.evaluate(E.parse("${fs:exists('/ok/x') and my:f() == 3}"), env) is True


def test_choose_case_first_true_in_document_order_else_default():
    cases = [
        {"when": "${n gt 100}", "expr": E.parse("${n gt 100}"), "to": "big"},
        {"when": "${n gt 10}", "expr": E.parse("${n gt 10}"), "to": "medium"},
        {"when": "${n gt 1}", "expr": E.parse("${n gt 1}"), "to": "small"},
        {"when": "${n gt 0}", "to": None},  # no expr: parsed from `when`; None = end
    ]
    assert E.choose_case(cases, "dflt", E.ExprEnv(params={"n": "42"})) == "medium"
    assert E.choose_case(cases, "dflt", E.ExprEnv(params={"n": "1"})) is None
    assert E.choose_case(cases, "dflt", E.ExprEnv(params={"n": "0"})) == "dflt"


@pytest.mark.parametrize(
    "pattern,want",
    [
        ("yyyy-MM-dd", "%Y-%m-%d"),
        ("yyyyMMdd'T'HHmm", "%Y%m%dT%H%M"),
        ("EEE, d", None),
        ("''", "'"),
        ("100%", "100%%"),
    ],
)
def test_java_date_patterns(pattern, want):
    if want is None:
        with pytest.raises(E.ExprError):
            E.java_to_strftime(pattern)
    else:
        assert E.java_to_strftime(pattern) == want


# --- Python source for backends -------------------------------------------------------

PY_ENV = E.ExprEnv(
    params={"x": "42", "a.b": "", "nameNode": "hdfs://nn"},
    last_error_node="load",
    error_codes={"load": "JA018"},
    error_messages={"load": "boom"},
    action_data={"probe": {"size": "2048"}},
    fs_exists=lambda p: p.endswith("a"),
    run_id="run-1",
    workflow_name="wf",
)


def _py_namespace():
    ns: dict = {}
    exec(E.python_helpers(), ns)
    ns.update(
        params=PY_ENV.params,
        run_id=PY_ENV.run_id,
        workflow_name=PY_ENV.workflow_name,
        last_error_node=PY_ENV.last_error_node,
        error_codes=PY_ENV.error_codes,
        error_messages=PY_ENV.error_messages,
        action_data=PY_ENV.action_data,
        fs_exists=PY_ENV.fs_exists,
    )
    return ns


def _outcome(fn):
    try:
        return ("value", fn())
    except Exception:  # EL errors: ExprError here, ExprError/KeyError in generated code
        return ("error",)


@settings(max_examples=400, deadline=None)
@given(_exprs())
def test_to_python_agrees_with_evaluate(node):
    code = E.to_python(node)
    if code is None:
        return
    ns = _py_namespace()
    assert _outcome(lambda: eval(code, ns)) == _outcome(lambda: E.evaluate(node, PY_ENV)), code


@pytest.mark.parametrize(
    "text,_", [c for c in EVAL_CASES if c[1] is not None], ids=lambda v: str(v)
)
def test_to_python_on_the_evaluation_table(text, _):
    node = E.parse(text)
    code = E.to_python(node)
    if code is None:  # coord:*, fs:fileSize, urlEncode …: not offered to backends
        assert set(E.functions_used(node)) - set(E._PY_CALLS)
        return
    ns = _py_namespace()
    ns.update(
        params=ENV.params, action_data=ENV.action_data, fs_exists=ENV.fs_exists, run_id=ENV.run_id
    )
    ns.update(
        last_error_node=ENV.last_error_node,
        error_codes=ENV.error_codes,
        error_messages=ENV.error_messages,
    )
    assert eval(code, ns) == E.evaluate(node, ENV)


def test_python_helpers_are_self_contained_and_free_names_are_listed():
    src = E.python_helpers()
    assert "import" not in src and "Any" not in src
    code = E.to_python(
        E.parse("${wf:conf('mode') eq 'full' and fs:exists(concat(x, '/_SUCCESS'))}")
    )
    import ast

    used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    helpers = {f.name for f in ast.parse(src).body if isinstance(f, ast.FunctionDef)}
    import builtins

    assert used - helpers - set(dir(builtins)) <= set(E.PYTHON_NAMES)
