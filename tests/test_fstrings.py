"""Templates as f-strings (``wfconv.backends.fstrings``): the field-by-field
reading of a template (parsing each distinct ``{{ expression }}`` once) must
give exactly what parsing the whole text with Jinja gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import nodes

from wfconv.backends import fstrings
from wfconv.backends.fstrings import Names, to_fstring

NAMES = Names(
    {"logical_date": "logical_date", "data_interval_end": "data_interval_end"},
    {"table": "table"},
    "flow_run.id",
    "sales",
)

# Pieces that make the lexer's hard cases: braces in and out of fields,
# strings holding ``}}``, whitespace control, blocks, comments, line ends.
PIECES = [
    "{{ ds }}",
    "{{ params.table }}",
    "{{ ds -}}",
    "{{- ds }}",
    "{{",
    "}}",
    "{",
    "}",
    " ",
    "ds",
    "ds_nodash",
    "params.table",
    "run_id",
    "dag.dag_id",
    "data_interval_end.strftime('%Y%m%d')",
    "(data_interval_end + macros.timedelta(days=-1))",
    ".strftime(",
    ")",
    "(",
    "'",
    '"',
    "'}}'",
    "-",
    "+",
    "|",
    "trim",
    "{%",
    "%}",
    "{#",
    "#}",
    "\n",
    "\r",
    "\r\n",
    "--date ",
    "/data/",
    "é",
    "\\",
    "[",
    "]",
    ",",
]


def _whole(text: str):
    """The reading of the whole text by Jinja (the reference)."""
    tree = fstrings._parse(text)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    return [
        ("text", n.data) if isinstance(n, nodes.TemplateData) else ("expr", n)
        for n in tree.body[0].nodes
    ]


def _slow(text: str):
    """``to_fstring`` with the field-by-field reading turned off."""
    saved = fstrings._fields
    fstrings._fields = lambda _text: None
    try:
        return to_fstring(text, NAMES)
    finally:
        fstrings._fields = saved


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (a.code, a.dates, a.params, a.run_id, a.imports) == (
        b.code,
        b.dates,
        b.params,
        b.run_id,
        b.imports,
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14))
def test_field_reading_is_jinjas_reading(parts):
    text = "".join(parts)
    fields = fstrings._fields(text)
    if fields is not None:
        assert fields == _whole(text), text
    assert _same(to_fstring(text, NAMES), _slow(text)), text


def test_typical_templates_take_the_field_path_and_give_the_same_fstring():
    for text in [
        "process --part 17 --date {{ ds }}",
        "/data/{{ ds_nodash }}/_SUCCESS",
        "{{ params.table }}",
        "{{ (data_interval_end + macros.timedelta(days=-1)).strftime('%Y%m%d') }}",
        "{{ ds }}{{ ds_nodash }} and {{ run_id }} in {{ dag.dag_id }}",
    ]:
        assert fstrings._fields(text) is not None, text
        assert _same(to_fstring(text, NAMES), _slow(text)), text
    assert (
        to_fstring("load --date {{ ds }}", NAMES).code == 'f"load --date {logical_date:%Y-%m-%d}"'
    )


def test_texts_the_fields_cannot_say_are_read_whole():
    for text in [
        "{{- ds }}  x",  # whitespace control strips the text around
        "x  {{ ds -}}  y",
        "{{ '}}' }}",  # the first }} is inside a string
        "{% if x %}{{ ds }}{% endif %}",
        "a\r\n{{ ds }}",  # Jinja rewrites line ends
        "{{ ds",
    ]:
        assert fstrings._fields(text) is None, text
        assert _same(to_fstring(text, NAMES), _slow(text)), text


def test_parameters_come_in_the_order_the_template_names_them():
    """A task's arguments follow this order: a set's would change with the
    string hash seed from run to run."""
    names = Names({"logical_date": "logical_date"}, {"b": "b", "a": "a", "c": "c"})
    fs = to_fstring("{{ params.b }}/{{ params.a }}/{{ params.b }}-{{ params.c }}", names)
    assert fs.params == ["b", "a", "c"]
    assert fs.code == 'f"{b}/{a}/{b}-{c}"'
