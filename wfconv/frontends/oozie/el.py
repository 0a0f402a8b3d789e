"""Oozie EL -> the IR's neutral template spelling (docs/architecture.md §4 "What the fields mean": run-time values).

Why: Oozie resolves ``${...}`` at run time from the job's properties and its
own functions; the IR keeps run-time values in Airflow's Jinja names so every
backend translates from one spelling. Expressions are parsed with
``wfconv.ir.expr`` (a real parser) and translated node by node:

- ``${name}`` of a declared ``<parameters>`` entry is ``{{ params.name }}``
  (a submission may override it, and decisions read the run's value);
  another known property (``config-default.xml`` < ``job.properties`` <
  coordinator action configuration) is substituted by its value, itself
  translated;
  an unknown one becomes ``{{ params.name }}`` (a workflow param, diagnostic);
- ``${wf:conf('x')}`` -> ``{{ params.x }}`` (the param's value is the property
  when known); ``${wf:id()}`` -> ``{{ run_id }}``; ``${wf:name()}`` -> the name;
- ``coord:nominalTime()`` -> ``data_interval_end`` (docs/semantics.md R3: the nominal
  time is Airflow 2's ``data_interval_end`` = Airflow 3's ``logical_date``; we
  pick the spelling that means the same in both), printed in Oozie's own text
  form ``%Y-%m-%dT%H:%MZ`` when used as a string;
  ``coord:formatTime(t, 'yyyy-MM-dd')`` -> ``t.strftime('%Y-%m-%d')``;
  ``coord:dateOffset(t, n, 'DAY')`` -> ``(t + macros.timedelta(days=n))``;
- ``concat``, ``trim`` and anything whose arguments are constants (folded with
  ``wfconv.ir.expr.evaluate``) translate; everything else (``wf:lastErrorNode``,
  ``fs:exists``, ``wf:actionData`` … outside decisions) is kept verbatim, as
  written, with a diagnostic naming the function.

Decision predicates are not translated to Jinja: they stay EL ASTs (``expr``)
for the runtime, with known properties inlined (``inline_predicate``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wfconv.ir import expr as E
from wfconv.ir import literal

# Diagnostic codes of this module (docs/codes/oozie.md).
EL_SYNTAX = "OZ201"
EL_UNTRANSLATED = "OZ202"
EL_UNRESOLVED = "OZ203"
EL_CYCLE = "OZ204"
EL_NOT_EVALUABLE = "OZ205"

OOZIE_TIME_STRFTIME = E.OOZIE_TIME_FORMAT

# Functions with no run-time dependency: folded when their arguments are constants.
PURE_FUNCTIONS = {
    "concat",
    "trim",
    "replaceAll",
    "appendAll",
    "firstNotNull",
    "urlEncode",
    "coord:formatTime",
    "coord:dateOffset",
    "coord:minutes",
    "coord:hours",
    "coord:days",
    "coord:endOfDays",
    "wf:name",
}

# Oozie's EL constants (WorkflowFunctionalSpec §4.2.1, and the Hadoop counter
# group/names used with hadoop:counters, §4.2.6).
EL_CONSTANTS = {
    "KB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
    "PB": 1024**5,
    "RECORDS": "org.apache.hadoop.mapred.Task$Counter",
    "MAP_IN": "MAP_INPUT_RECORDS",
    "MAP_OUT": "MAP_OUTPUT_RECORDS",
    "REDUCE_IN": "REDUCE_INPUT_RECORDS",
    "REDUCE_OUT": "REDUCE_OUTPUT_RECORDS",
    "GROUPS": "REDUCE_INPUT_GROUPS",
}

_OFFSET_JINJA = {
    "MINUTE": "macros.timedelta(minutes={n})",
    "HOUR": "macros.timedelta(hours={n})",
    "DAY": "macros.timedelta(days={n})",
    "WEEK": "macros.timedelta(weeks={n})",
    "MONTH": "macros.dateutil.relativedelta.relativedelta(months={n})",
    "YEAR": "macros.dateutil.relativedelta.relativedelta(years={n})",
}


@dataclass
class J:
    """A translated value: ``lit`` (known now: ``value``), ``str`` (Jinja
    expression giving text), ``time`` (Jinja expression giving a datetime) or
    ``cat`` (a list of values concatenated as text) or ``fmt`` (``(time
    expression, strftime pattern)``: a formatted time, kept apart so that
    ``${YEAR}/${MONTH}`` becomes one ``strftime('%Y/%m')``)."""

    kind: str
    value: Any


def params_ref(name: str) -> str:
    return f"params.{name}" if name.isidentifier() else f"params[{name!r}]"


def jinja_literal(s: str) -> str:
    return repr(s)


class IrText(str):
    """Text already in the IR's template spelling (a coordinator's
    configuration, translated where it is written); used as a property, it is
    taken as it is rather than read as Oozie text again."""


_IR_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)


def _ir_code(text: str) -> str:
    """A Jinja expression giving the text an IR template renders to (its
    literal pieces quoted, its ``{{ e }}`` pieces as ``(e)``)."""
    pieces, pos = [], 0
    for m in _IR_EXPRESSION.finditer(text):
        if m.start() > pos:
            pieces.append(jinja_literal(text[pos : m.start()]))
        pieces.append(f"({m.group(1).strip()})")
        pos = m.end()
    if pos < len(text) or not pieces:
        pieces.append(jinja_literal(text[pos:]))
    return pieces[0] if len(pieces) == 1 else "(" + " ~ ".join(pieces) + ")"


def as_code(j: J) -> str:
    """Jinja expression text of a value used as a string."""
    if j.kind == "lit":
        return jinja_literal(E.to_str(j.value))
    if j.kind == "ir":
        return _ir_code(j.value)
    if j.kind == "time":
        return f"{j.value}.strftime({OOZIE_TIME_STRFTIME!r})"
    if j.kind == "cat":
        return "(" + " ~ ".join(as_code(v) for v in j.value) + ")"
    if j.kind == "fmt":
        base, fmt = j.value
        return f"{base}.strftime({fmt!r})"
    return j.value


def as_template(j: J) -> str:
    """Template text of a value: constants as text, the rest in ``{{ }}``;
    a concatenation is spelled piece by piece (``a/{{ ds }}/b``)."""
    if j.kind == "lit":
        return literal.escape(E.to_str(j.value))  # Oozie text is never Jinja
    if j.kind == "ir":
        return j.value
    if j.kind == "cat":
        return "".join(as_template(v) for v in j.value)
    return "{{ " + as_code(j) + " }}"


Report = Callable[[str, str, str, int | None], None]  # (severity, code, message, line)


@dataclass
class ElContext:
    """Everything EL translation looks at, and what it collects."""

    props: dict[str, str]
    workflow_name: str
    report: Report
    # Workflow params collected: unresolved names and wf:conf keys -> value or None.
    params: dict[str, Any] = field(default_factory=dict)
    # Extra names (dataset URI variables such as YEAR) -> translated values.
    names: dict[str, J] = field(default_factory=dict)
    # coord:dataIn / coord:dataOut event name -> translated URI.
    data_events: dict[str, J] = field(default_factory=dict)
    # Names a decision predicate keeps as names (declared <parameters>): the
    # runtime reads them from the workflow's params, so a run can override them.
    keep_names: set[str] = field(default_factory=set)
    # Why the last translation failed (function or operator names).
    missing: list[str] = field(default_factory=list)
    _reported: set[tuple[str, str, int | None]] = field(default_factory=set)

    # -- reporting (once per code+subject)
    def _once(self, severity: str, code: str, subject: str, message: str, line: int | None) -> None:
        key = (code, subject, line if code != EL_UNRESOLVED else None)
        if key in self._reported:
            return
        self._reported.add(key)
        self.report(severity, code, message, line)

    # -- names
    def _name(self, name: str, stack: tuple[str, ...], line: int | None) -> J | None:
        if name in self.names:
            return self.names[name]
        if name in EL_CONSTANTS:
            return J("lit", EL_CONSTANTS[name])
        if name in stack:
            self._once(
                "error",
                EL_CYCLE,
                name,
                f"property {name!r} refers to itself ({' -> '.join((*stack, name))}); kept as a parameter",
                line,
            )
            return self.param(name)
        if name in self.keep_names:
            # A declared parameter: a submission may give it another value,
            # which decisions read from the run's params; commands must read
            # the same value, not the default inlined.
            return self.param(name)
        if name in self.props:
            value = self.props[name]
            if isinstance(value, IrText) and "${" not in value:  # (EL it kept: read again)
                if literal.is_literal(value):
                    return J("lit", literal.unescape(value))
                return J("ir", str(value))
            return self.template_value(value, (*stack, name), line)
        self.params.setdefault(name, None)
        self._once(
            "warning",
            EL_UNRESOLVED,
            name,
            f"${{{name}}} is not defined by <parameters>, config-default.xml or job.properties; "
            f"it becomes the workflow parameter {{{{ {params_ref(name)} }}}}",
            line,
        )
        return self.param(name)

    def param(self, name: str) -> J:
        self.params.setdefault(name, self.props.get(name))
        return J("str", params_ref(name))

    def template_value(self, raw: str, stack: tuple[str, ...], line: int | None) -> J | None:
        try:
            parts = E.split_template(raw)
        except E.ExprError as exc:
            self._once(
                "warning", EL_SYNTAX, raw, f"EL syntax error in {raw!r}: {exc.message}", line
            )
            return None
        vals: list[J] = []
        for _src, node in parts:
            j = self.expr(node, stack, line)
            if j is None:
                return None
            vals.append(j)
        return concat(vals)

    # -- expressions
    def expr(
        self, node: dict[str, Any], stack: tuple[str, ...] = (), line: int | None = None
    ) -> J | None:
        """Translate one expression node; None when it has no counterpart
        (``self.missing`` then names why)."""
        t = node["type"]
        if t == "literal":
            return J("lit", node["value"])
        if t == "name":
            return self._name(node["name"], stack, line)
        if t == "template":
            vals = [self.expr(p, stack, line) for p in node["parts"]]
            return None if any(v is None for v in vals) else concat(vals)  # type: ignore[arg-type]
        if t == "call":
            return self._call(node, stack, line)
        return self._op(node, stack, line)

    def _call(self, node: dict[str, Any], stack: tuple[str, ...], line: int | None) -> J | None:
        fn = node["fn"]
        if fn in ("coord:dataIn", "coord:dataOut") and len(node["args"]) == 1:
            arg = node["args"][0]
            if arg["type"] == "literal" and E.to_str(arg["value"]) in self.data_events:
                return self.data_events[E.to_str(arg["value"])]
        args = []
        for a in node["args"]:
            j = self.expr(a, stack, line)
            if j is None:
                self.missing.append(fn + "()")
                return None
            args.append(j)
        if fn in PURE_FUNCTIONS and all(a.kind == "lit" for a in args):
            try:
                return J("lit", E.evaluate(_with_literals(node, args), self._env()))
            except E.ExprError:
                pass
        handler = CALLS.get(fn)
        out = handler(self, args) if handler else None
        if out is None:
            self.missing.append(fn + "()")
        return out

    def _op(self, node: dict[str, Any], stack: tuple[str, ...], line: int | None) -> J | None:
        args = []
        for a in node["args"]:
            j = self.expr(a, stack, line)
            if j is None:
                return None
            args.append(j)
        if all(a.kind == "lit" for a in args):
            try:
                return J("lit", E.evaluate(_with_literals(node, args), self._env()))
            except E.ExprError:
                pass
        self.missing.append(f"operator {node['op']!r}")
        return None

    def _env(self) -> E.ExprEnv:
        return E.ExprEnv(workflow_name=self.workflow_name)

    # -- entry points
    def text(self, raw: str | None, line: int | None = None) -> str | None:
        """Translate text with ``${...}`` into the neutral template spelling
        (its literal text escaped: ``{{`` in Oozie text is not a template)."""
        if raw is None:
            return raw
        if "${" not in raw:
            return literal.escape(raw)
        try:
            parts = E.split_template(raw)
        except E.ExprError as exc:
            self._once(
                "warning",
                EL_SYNTAX,
                raw,
                f"EL syntax error in {raw!r}: {exc.message}; kept verbatim",
                line,
            )
            return literal.escape(raw)
        out: list[str] = []
        for src, node in parts:
            if node["type"] == "literal":
                out.append(literal.escape(E.to_str(node["value"])))
                continue
            self.missing = []
            j = self.expr(node, (), line)
            if j is None:
                out.append(literal.escape(src))
                what = ", ".join(dict.fromkeys(self.missing)) or "expression"
                self._once(
                    "warning",
                    EL_UNTRANSLATED,
                    src,
                    f"{src} uses {what}, which has no counterpart in the neutral template "
                    "spelling; kept verbatim",
                    line,
                )
            else:
                out.append(as_template(j))
        return "".join(out)

    def constant(self, raw: str | None, line: int | None = None) -> str | None:
        """The value of ``raw`` when it is known before run time, else None."""
        if raw is None:
            return None
        if "${" not in raw:
            return raw
        self.missing = []
        j = self.template_value(raw, (), line)
        if j is not None and j.kind == "lit":
            return E.to_str(j.value)
        return None

    def translate_expr(self, node: dict[str, Any], line: int | None = None) -> J | None:
        self.missing = []
        return self.expr(node, (), line)

    # -- decisions
    def inline_predicate(self, node: dict[str, Any], line: int | None) -> dict[str, Any]:
        """The predicate AST with known properties inlined (as literals or
        ``concat`` chains); declared parameters (``keep_names``) and unknown
        names stay names (the runtime reads them from the run's params) and
        are recorded as workflow params."""
        return self._inline(node, (), line)

    def _inline(
        self, node: dict[str, Any], stack: tuple[str, ...], line: int | None
    ) -> dict[str, Any]:
        t = node["type"]
        if t == "name":
            name = node["name"]
            if name in EL_CONSTANTS:
                return {"type": "literal", "value": EL_CONSTANTS[name]}
            if name in self.keep_names:
                self.param(name)
                return node
            if name in self.props and name not in stack:
                try:
                    parts = E.split_template(self.props[name])
                except E.ExprError:
                    return {"type": "literal", "value": self.props[name]}
                nodes = [self._inline(n, (*stack, name), line) for _, n in parts]
                return _concat_chain(nodes)
            self._name(name, stack, line)
            return node
        if t in ("call", "op"):
            if t == "call" and node["fn"] not in E.BUILTINS:
                self._once(
                    "warning",
                    EL_NOT_EVALUABLE,
                    node["fn"],
                    f"decision predicate uses {node['fn']}(), which the reference runtime "
                    "cannot evaluate",
                    line,
                )
            if t == "call" and node["fn"] == "wf:conf" and node["args"]:
                a = node["args"][0]
                if a["type"] == "literal":
                    self.param(E.to_str(a["value"]))
            return {**node, "args": [self._inline(a, stack, line) for a in node["args"]]}
        if t == "template":
            return {**node, "parts": [self._inline(p, stack, line) for p in node["parts"]]}
        return node


def _with_literals(node: dict[str, Any], args: list[J]) -> dict[str, Any]:
    return {**node, "args": [{"type": "literal", "value": a.value} for a in args]}


def _concat_chain(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    if not nodes:
        return {"type": "literal", "value": ""}
    merged: list[dict[str, Any]] = []
    for n in nodes:
        if n["type"] == "literal" and merged and merged[-1]["type"] == "literal":
            merged[-1] = {
                "type": "literal",
                "value": E.to_str(merged[-1]["value"]) + E.to_str(n["value"]),
            }
        else:
            merged.append(n)
    out = merged[0]
    for n in merged[1:]:
        out = {"type": "call", "fn": "concat", "args": [out, n]}
    return out


def concat(vals: list[J]) -> J:
    """Concatenation of translated values as text (adjacent constants merged)."""
    if len(vals) == 1:
        return vals[0]
    merged: list[J] = []
    for v in vals:
        if v.kind == "lit" and merged and merged[-1].kind == "lit":
            merged[-1] = J("lit", E.to_str(merged[-1].value) + E.to_str(v.value))
        elif (
            v.kind == "fmt"
            and merged
            and merged[-1].kind == "fmt"
            and merged[-1].value[0] == v.value[0]
        ):
            merged[-1] = J("fmt", (v.value[0], merged[-1].value[1] + v.value[1]))
        elif (
            v.kind == "fmt"
            and len(merged) >= 2
            and merged[-1].kind == "lit"
            and merged[-2].kind == "fmt"
            and merged[-2].value[0] == v.value[0]
        ):
            between = E.to_str(merged.pop().value).replace("%", "%%")
            merged[-1] = J("fmt", (v.value[0], merged[-1].value[1] + between + v.value[1]))
        else:
            merged.append(v if v.kind != "lit" else J("lit", E.to_str(v.value)))
    if not merged:
        return J("lit", "")
    if len(merged) == 1:
        return merged[0] if merged[0].kind != "time" else J("str", as_code(merged[0]))
    flat: list[J] = []
    for v in merged:
        flat.extend(v.value if v.kind == "cat" else [v])
    return J("cat", flat)


# ---------------------------------------------------------------------------
# function table: qualified name -> translator(ctx, args) -> J | None


def _lit_int(j: J) -> int | None:
    if j.kind != "lit":
        return None
    try:
        return int(E.to_num(j.value))
    except (E.ExprError, ValueError):
        return None


def _time_arg(j: J) -> J | None:
    """A time operand: a Jinja datetime, or a constant Oozie time string."""
    if j.kind == "time":
        return j
    if j.kind == "lit":
        try:
            d = E.parse_oozie_time(j.value)
        except E.ExprError:
            return None
        return J("lit", d)
    return None


def _date_offset(ctx: ElContext, args: list[J]) -> J | None:
    if len(args) != 3:
        return None
    t, n, unit = _time_arg(args[0]), _lit_int(args[1]), args[2]
    if t is None or n is None or unit.kind != "lit":
        return None
    u = E.to_str(unit.value).upper()
    if t.kind == "lit":
        return J("lit", E.format_oozie_time(E.date_offset(t.value, n, u)))
    if u not in _OFFSET_JINJA:
        return None
    return J("time", shifted(t.value, n, u))


def shifted(base: str, n: int, unit: str) -> str:
    """Jinja for a datetime moved by n units (MINUTE … YEAR), in the largest
    whole unit (``-1440 MINUTE`` -> ``timedelta(days=-1)``)."""
    if unit == "MINUTE" and n % 1440 == 0:
        n, unit = n // 1440, "DAY"
    elif unit == "MINUTE" and n % 60 == 0:
        n, unit = n // 60, "HOUR"
    if n == 0:
        return base
    return f"({base} + {_OFFSET_JINJA[unit].format(n=n)})"


def _format_time(ctx: ElContext, args: list[J]) -> J | None:
    if len(args) != 2 or args[1].kind != "lit":
        return None
    t = _time_arg(args[0])
    if t is None:
        return None
    try:
        fmt = E.java_to_strftime(E.to_str(args[1].value))
    except E.ExprError:
        return None
    if t.kind == "lit":
        return J("lit", t.value.astimezone(_dt.UTC).strftime(fmt))
    return J("fmt", (t.value, fmt))


def _conf(ctx: ElContext, args: list[J]) -> J | None:
    if len(args) != 1 or args[0].kind != "lit":
        return None
    return ctx.param(E.to_str(args[0].value))


def _concat(ctx: ElContext, args: list[J]) -> J | None:
    return concat(args) if len(args) == 2 else None


def _trim(ctx: ElContext, args: list[J]) -> J | None:
    return J("str", f"({as_code(args[0])} | trim)") if len(args) == 1 else None


CALLS: dict[str, Callable[[ElContext, list[J]], J | None]] = {
    "wf:id": lambda ctx, args: J("str", "run_id") if not args else None,
    "wf:name": lambda ctx, args: J("lit", ctx.workflow_name) if not args else None,
    "wf:conf": _conf,
    "coord:nominalTime": lambda ctx, args: J("time", "data_interval_end") if not args else None,
    "coord:dateOffset": _date_offset,
    "coord:formatTime": _format_time,
    "concat": _concat,
    "trim": _trim,
}
