"""Airflow-style templates (the IR's neutral spelling) as Python f-strings.

Most templates a workflow holds are a date or a parameter in a string:
``"load.py --date {{ ds }}"``, ``"/data/{{ ds_nodash }}/_SUCCESS"``,
``"{{ params.table }}"``, ``"{{ (data_interval_end + macros.timedelta(days=-1))
.strftime('%Y%m%d') }}"``. A Python target says those as f-strings over the
run's values (``f"load.py --date {logical_date:%Y-%m-%d}"``): no template
engine at run time, nothing to render, nothing a template could inject.

``to_fstring(text, names)`` returns that f-string, or None when the template
holds anything else (statements, filters other than ``trim``, unknown names,
calls other than ``strftime``/``timedelta``/``ds_add``/``ds_format``): the
target then renders it with a sandboxed template engine, or reports it.
``names`` says how the target spells each run value (``logical_date``,
``self.date`` ...); the result lists the values it used, so that a task is
given exactly those.

The translation is read back by ``from_fstring`` (same table, inverted), so
that a reader can give the neutral template back.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

# Template variable -> (run value, strftime format or None for ISO text).
DATE_NAMES: dict[str, tuple[str, str | None]] = {
    "ds": ("logical_date", "%Y-%m-%d"),
    "ds_nodash": ("logical_date", "%Y%m%d"),
    "ts": ("logical_date", None),
    "ts_nodash": ("logical_date", "%Y%m%dT%H%M%S"),
    "ts_nodash_with_tz": ("logical_date", "%Y%m%dT%H%M%S%z"),
    "logical_date": ("logical_date", None),
    "execution_date": ("logical_date", None),
    "data_interval_start": ("data_interval_start", None),
    "data_interval_end": ("data_interval_end", None),
    "prev_ds": ("prev_logical_date", "%Y-%m-%d"),
    "prev_ds_nodash": ("prev_logical_date", "%Y%m%d"),
    "next_ds": ("next_logical_date", "%Y-%m-%d"),
    "next_ds_nodash": ("next_logical_date", "%Y%m%d"),
    "prev_execution_date": ("prev_logical_date", None),
    "next_execution_date": ("next_logical_date", None),
}
# The run values a target's code holds as variables.
RUN_VALUES = (
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "prev_logical_date",
    "next_logical_date",
)
# Airflow 2's day neighbours: the logical date plus or minus one day.
DAY_NAMES: dict[str, tuple[int, str]] = {
    "yesterday_ds": (-1, "%Y-%m-%d"),
    "yesterday_ds_nodash": (-1, "%Y%m%d"),
    "tomorrow_ds": (1, "%Y-%m-%d"),
    "tomorrow_ds_nodash": (1, "%Y%m%d"),
}
# Characters a format spec or an expression of a generated f-string must not
# hold (Python 3.11 f-strings cannot nest quotes or hold backslashes).
_UNSAFE = re.compile(r"[{}'\"\\\n\r]")
_DELTA_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_RELATIVE_UNITS = ("years", "months", "weeks", "days", "hours", "minutes")


@dataclass
class Names:
    """How a target spells the run's values in Python: ``dates`` maps a run
    value (``logical_date``, ``data_interval_start``, ``data_interval_end``,
    ``prev_logical_date``, ``next_logical_date``) to an expression; ``params``
    a workflow parameter to one; ``run_id`` the run's id, ``workflow_id``
    the workflow's id (a literal)."""

    dates: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    workflow_id: str | None = None


@dataclass
class FString:
    code: str  # the f-string literal (or a plain literal without placeholders)
    dates: set[str]  # run values used
    # workflow parameters used, in the order the template names them (a
    # task's arguments follow it: a set's order would change from run to run)
    params: list[str]
    run_id: bool
    imports: set[tuple[str, str]]  # (module, name) the expressions need


class _NotSimple(Exception):
    pass


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(keep_trailing_newline=True)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Any:
    import jinja2

    try:
        return _environment().parse(text)
    except jinja2.TemplateSyntaxError:
        return None


@functools.lru_cache(maxsize=4096)
def _expression(inner: str) -> Any:
    """The expression node of ``{{inner}}``, or None when it does not parse."""
    tree = _parse("{{" + inner + "}}")
    if tree is None or len(tree.body) != 1 or len(tree.body[0].nodes) != 1:
        return None
    return tree.body[0].nodes[0]


def _fields(text: str) -> list[tuple[str, Any]] | None:
    """``text`` as Jinja would read it, ``("text", str)`` and ``("expr",
    node)`` in order, without parsing the whole text: generated workflows hold
    thousands of templates that differ only in their literal parts, and the
    expressions repeat (``{{ ds }}``), so each distinct expression is parsed
    once. None when this reading is not certain to be Jinja's: the caller
    then parses the text whole.

    Jinja reads a field from ``{{`` to the first ``}}`` its lexer sees outside
    a string or brackets. When ``{{inner}}`` (``inner`` up to the first
    ``}}``) parses alone, the lexer read ``inner`` to its end in place too:
    its tokens cannot reach past it. Out of this path: ``{%``/``{#``
    anywhere, a carriage return (Jinja rewrites line ends in text), and whitespace
    control (``{{-``, ``{{+``, ``-}}``), which changes the text around."""
    if "{%" in text or "{#" in text or "\r" in text:
        return None
    out: list[tuple[str, Any]] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            return None
        inner = text[start + 2 : end]
        if not inner or inner[0] in "-+" or inner[-1] == "-":
            return None
        node = _expression(inner)
        if node is None:
            return None
        if start > pos:
            out.append(("text", text[pos:start]))
        out.append(("expr", node))
        pos = end + 2
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


class _Translator:
    def __init__(self, names: Names):
        self.names = names
        self.dates: set[str] = set()
        self.params: list[str] = []
        self.run_id = False
        self.imports: set[tuple[str, str]] = set()

    # values: ("date", code) a datetime; ("str", code) a string; ("int", code)
    def date(self, value: str) -> str:
        code = self.names.dates.get(value)
        if code is None:
            raise _NotSimple(value)
        self.dates.add(value)
        return code

    def value(self, node: Any) -> tuple[str, str]:
        from jinja2 import nodes as n

        if isinstance(node, n.Name):
            if node.name in DATE_NAMES:
                value, fmt = DATE_NAMES[node.name]
                code = self.date(value)
                return ("str", self.fmt(code, fmt)) if fmt else ("date", code)
            if node.name in DAY_NAMES:
                days, fmt = DAY_NAMES[node.name]
                code = self.shift(self.date("logical_date"), "timedelta", {"days": days})
                return "str", self.fmt(code, fmt)
            if node.name == "run_id" and self.names.run_id:
                self.run_id = True
                return "any", self.names.run_id
            raise _NotSimple(node.name)
        if isinstance(node, (n.Getattr, n.Getitem)):
            base = node.node
            key = node.attr if isinstance(node, n.Getattr) else getattr(node.arg, "value", None)
            if isinstance(base, n.Name) and base.name == "params" and isinstance(key, str):
                code = self.names.params.get(key)
                if code is None:
                    raise _NotSimple(key)
                if key not in self.params:
                    self.params.append(key)
                return "any", code
            if (
                isinstance(base, n.Name)
                and base.name == "dag"
                and key == "dag_id"
                and self.names.workflow_id is not None
            ):
                return "literal", self.names.workflow_id
            raise _NotSimple("attribute")
        if isinstance(node, n.Call):
            return self.call(node)
        if isinstance(node, (n.Add, n.Sub)):
            kind, left = self.value(node.left)
            delta = self.delta(node.right, -1 if isinstance(node, n.Sub) else 1)
            if kind != "date" or delta is None:
                raise _NotSimple("arithmetic")
            return "date", self.shift(left, *delta)
        if isinstance(node, n.Filter) and node.name == "trim" and not node.args and node.node:
            kind, code = self.value(node.node)
            text = code if kind == "str" else f"str({code})"
            return "str", f"{text}.strip()"
        raise _NotSimple(type(node).__name__)

    def call(self, node: Any) -> tuple[str, str]:
        from jinja2 import nodes as n

        fn = node.node
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise _NotSimple("call")
        consts = [a.value if isinstance(a, n.Const) else None for a in node.args]
        if isinstance(fn, n.Getattr) and fn.attr == "strftime":
            kind, code = self.value(fn.node)
            if kind != "date" or len(consts) != 1 or not isinstance(consts[0], str):
                raise _NotSimple("strftime")
            return "str", self.fmt(code, consts[0])
        if isinstance(fn, n.Getattr) and _dotted(fn) in ("macros.ds_add", "macros.ds_format"):
            if not node.args or not (
                isinstance(node.args[0], n.Name) and node.args[0].name == "ds"
            ):
                raise _NotSimple("macro")
            day = self.date("logical_date")
            if _dotted(fn) == "macros.ds_add" and len(consts) == 2 and type(consts[1]) is int:
                return "str", self.fmt(
                    self.shift(day, "timedelta", {"days": consts[1]}), "%Y-%m-%d"
                )
            if (
                _dotted(fn) == "macros.ds_format"
                and len(consts) == 3
                and consts[1] == "%Y-%m-%d"
                and isinstance(consts[2], str)
            ):
                return "str", self.fmt(day, consts[2])
        raise _NotSimple("call")

    def delta(self, node: Any, sign: int) -> tuple[str, dict[str, int]] | None:
        """``macros.timedelta(days=n)`` / ``macros.dateutil.relativedelta.relativedelta(months=n)``."""
        from jinja2 import nodes as n

        if not isinstance(node, n.Call) or node.args or node.dyn_args or node.dyn_kwargs:
            return None
        path = _dotted(node.node)
        kind = {
            "macros.timedelta": "timedelta",
            "macros.dateutil.relativedelta.relativedelta": "relativedelta",
        }.get(path or "")
        if kind is None:
            return None
        units = _DELTA_UNITS if kind == "timedelta" else _RELATIVE_UNITS
        out: dict[str, int] = {}
        for kw in node.kwargs:
            v = kw.value
            if isinstance(v, n.Neg) and isinstance(v.node, n.Const):
                number = -v.node.value
            elif isinstance(v, n.Const):
                number = v.value
            else:
                return None
            if kw.key not in units or type(number) is not int:
                return None
            out[kw.key] = sign * number
        return (kind, out) if out else None

    def shift(self, code: str, kind: str, amounts: dict[str, int]) -> str:
        if kind == "timedelta":
            # ``import datetime``: the module's own spelling of the type
            self.imports.add(("datetime", ""))
            kind = "datetime.timedelta"
        else:
            self.imports.add(("dateutil.relativedelta", kind))
        positive = {k: v for k, v in amounts.items() if v >= 0}
        if len(amounts) == 1 and not positive:
            ((unit, number),) = amounts.items()
            return f"{code} - {kind}({unit}={-number})"
        args = ", ".join(f"{k}={v}" for k, v in amounts.items())
        return f"{code} + {kind}({args})"

    def fmt(self, code: str, spec: str | None) -> str:
        """A format field: ``code:spec``, or ISO text without a spec."""
        if spec is None:
            return f"({code}).isoformat()" if " " in code else f"{code}.isoformat()"
        if not spec or _UNSAFE.search(spec):
            raise _NotSimple("format")
        return f"{code}:{spec}"


def _dotted(node: Any) -> str | None:
    from jinja2 import nodes as n

    parts = []
    while isinstance(node, n.Getattr):
        parts.append(node.attr)
        node = node.node
    if not isinstance(node, n.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


def _literal_part(text: str) -> str:
    """Literal text for inside an f-string: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def to_fstring(text: str, names: Names) -> FString | None:
    """The f-string saying ``text``, or None when it is not a simple template.
    Literal parts are escaped like every string wfconv writes
    (``wfconv.backends.common.py_str``)."""
    from jinja2 import nodes as n

    from wfconv.backends.common import py_str, py_str_body, quote_for

    if "{{" not in text and "{%" not in text and "{#" not in text:
        return FString(py_str(text), set(), [], False, set())
    fields = _fields(text)
    if fields is None:
        tree = _parse(text)
        if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], n.Output):
            return None
        fields = [
            ("text", node.data) if isinstance(node, n.TemplateData) else ("expr", node)
            for node in tree.body[0].nodes
        ]
    t = _Translator(names)
    pieces: list[tuple[str, str]] = []  # ("text", s) / ("expr", code)
    try:
        for what, node in fields:
            if what == "text":
                pieces.append(("text", node))
                continue
            kind, code = t.value(node)
            if kind == "literal":
                pieces.append(("text", code))
            elif kind == "date":
                pieces.append(("expr", t.fmt(code, None)))
            else:
                pieces.append(("expr", code))
    except _NotSimple:
        return None
    if not any(kind == "expr" for kind, _ in pieces):
        return FString(py_str("".join(s for _, s in pieces)), set(), [], False, set())
    quote = quote_for("".join(s for kind, s in pieces if kind == "text"))
    body = "".join(
        py_str_body(_literal_part(s), quote) if kind == "text" else "{" + s + "}"
        for kind, s in pieces
    )
    return FString(f"f{quote}{body}{quote}", t.dates, t.params, t.run_id, t.imports)


# --- reading an f-string back ---------------------------------------------------

_NEUTRAL_DATES = {
    ("logical_date", "%Y-%m-%d"): "ds",
    ("logical_date", "%Y%m%d"): "ds_nodash",
    ("logical_date", "%Y%m%dT%H%M%S"): "ts_nodash",
    ("logical_date", "%Y%m%dT%H%M%S%z"): "ts_nodash_with_tz",
    ("prev_logical_date", "%Y-%m-%d"): "prev_ds",
    ("prev_logical_date", "%Y%m%d"): "prev_ds_nodash",
    ("next_logical_date", "%Y-%m-%d"): "next_ds",
    ("next_logical_date", "%Y%m%d"): "next_ds_nodash",
}
_ISO_NAMES = {
    "logical_date": "ts",
    "data_interval_start": "data_interval_start",
    "data_interval_end": "data_interval_end",
    "prev_logical_date": "prev_execution_date",
    "next_logical_date": "next_execution_date",
}


def from_fstring(node: Any, params: set[str], run_id: str = "flow_run.id") -> str | None:
    """The neutral template an f-string written by ``to_fstring`` says
    (``f"--date {logical_date:%Y-%m-%d}"`` -> ``"--date {{ ds }}"``), or None
    for any other f-string. ``params`` are the names that hold workflow
    parameters (``{region}`` -> ``{{ params.region }}``)."""
    import ast

    if not isinstance(node, ast.JoinedStr):
        return None
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            out.append(part.value)
            continue
        if not isinstance(part, ast.FormattedValue) or part.conversion != -1:
            return None
        spec = None
        if part.format_spec is not None:
            pieces = part.format_spec.values  # type: ignore[attr-defined]
            if len(pieces) != 1 or not isinstance(pieces[0], ast.Constant):
                return None
            spec = pieces[0].value
        expr = _neutral(part.value, spec, params, run_id)
        if expr is None:
            return None
        out.append("{{ " + expr + " }}")
    return "".join(out)


def _neutral(value: Any, spec: str | None, params: set[str], run_id: str) -> str | None:
    import ast

    text = ast.unparse(value)
    if spec is None:
        if text == run_id:
            return "run_id"
        if isinstance(value, ast.Name) and value.id in params:
            return f"params.{value.id}"
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "isoformat"
            and not value.args
        ):
            inner = _date(value.func.value)
            if inner is None:
                return None
            return _ISO_NAMES.get(inner, f"({inner}).isoformat()")
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "strip"
            and isinstance(value.func.value, ast.Call)
            and ast.unparse(value.func.value.func) == "str"
            and len(value.func.value.args) == 1
            and isinstance(value.func.value.args[0], ast.Name)
            and value.func.value.args[0].id in params
        ):
            return f"(params.{value.func.value.args[0].id} | trim)"
        return None
    date = _date(value)
    if date is None or "'" in spec:
        return None
    neutral = _NEUTRAL_DATES.get((date, spec))
    return neutral or f"{date}.strftime('{spec}')"


def _date(value: Any) -> str | None:
    """A date expression of ``to_fstring``'s in the template's spelling."""
    import ast

    if isinstance(value, ast.Name) and value.id in _ISO_NAMES:
        return value.id
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        base = _date(value.left)
        delta = value.right
        func = ast.unparse(delta.func) if isinstance(delta, ast.Call) else ""
        if base is None or not (
            isinstance(delta, ast.Call)
            and func in ("timedelta", "datetime.timedelta", "relativedelta")
            and not delta.args
            and all(
                isinstance(k.value, ast.Constant) and type(k.value.value) is int
                for k in delta.keywords
            )
        ):
            return None
        sign = -1 if isinstance(value.op, ast.Sub) else 1
        amounts = ", ".join(f"{k.arg}={sign * k.value.value}" for k in delta.keywords)
        macro = (
            "macros.dateutil.relativedelta.relativedelta"
            if func == "relativedelta"
            else "macros.timedelta"
        )
        return f"({base} + {macro}({amounts}))"
    return None
