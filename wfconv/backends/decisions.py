"""Oozie decision cases as plain Python, for the Python backends (Airflow, Prefect).

An Oozie decision follows its first case whose EL predicate holds, else its
default (docs/semantics.md R4). ``wfconv.ir.expr.to_python`` writes each predicate as
a Python expression over ``params`` (the run's parameters) and the EL
coercion helpers of ``python_helpers()``; ``fs:exists`` calls ``fs_exists``.
The generated module holds one table::

    WFCONV_DECISIONS = {
        "check-input": {
            "cases": [("${mode eq 'full'}", lambda params: ..., "full-load")],
            "default": "incremental-load",
        },
    }

and ``wfconv_decide(decision, params)`` walks it. The EL text stays next to
its translation so that a frontend can check, case by case, that the lambda
is exactly ``to_python`` of that text (``read_decision``) and read the
decision back as cases: no trust in names alone.

A predicate that needs more than the parameters and the file system
(``wf:lastErrorNode()``, ``coord:*``, ``hadoop:counters`` ...) is not
translated: the backend reports it and leaves the case out (it never holds).
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from dataclasses import dataclass, field
from typing import Any

from wfconv.backends.pycode import (
    Brackets,
    Call,
    Expr,
    Kw,
    Operation,
    Parens,
    dict_of,
    list_of,
    statement,
)
from wfconv.ir.expr import ExprError, parse, python_helpers, to_python

# Free names a translated predicate may read: the lambda's parameter and the
# generated fs_exists helper. Other PYTHON_NAMES (run_id, last_error_node ...)
# have no binding here, so predicates using them are not translated.
BOUND_NAMES = {"params", "fs_exists"}

DECIDE_SOURCE = '''\
def wfconv_decide(decision, params):
    """Oozie decision: follow the first case that holds, else the default.

    A target of None is the workflow's end: nothing downstream runs.
    """
    choice = WFCONV_DECISIONS[decision]
    for _when, holds, to in choice["cases"]:
        if holds(params):
            return [] if to is None else to
    default = choice["default"]
    return [] if default is None else default
'''

FS_EXISTS_SOURCE = '''\
def fs_exists(path):
    """fs:exists: a local path or file:// URL, else the URL's fsspec file system."""
    if "://" not in path or path.startswith("file://"):
        return os.path.exists(path.removeprefix("file://"))
    import fsspec

    fs, inner = fsspec.core.url_to_fs(path)
    return fs.exists(inner)
'''


@dataclass
class Case:
    when: str
    python: str  # the lambda's body
    to: str | None


@dataclass
class Decision:
    """The translated cases of one decision task, and the ones left out."""

    task_id: str
    cases: list[Case] = field(default_factory=list)
    default: str | None = None
    untranslated: list[tuple[str, str | None, str]] = field(default_factory=list)  # when, to, why

    @property
    def uses_fs(self) -> bool:
        return any("fs_exists" in _free_names(c.python) for c in self.cases)


def _free_names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code, mode="eval")) if isinstance(n, ast.Name)}


def is_decision(fields: dict[str, Any]) -> bool:
    """Whether a branch action is an Oozie decision (cases written in EL)."""
    return bool(fields.get("cases")) and not fields.get("callable")


def translate(task_id: str, fields: dict[str, Any]) -> Decision:
    """The cases of a decision as Python predicates over ``params``."""
    d = Decision(task_id, default=fields.get("default"))
    helpers = set(helper_names())
    for case in fields.get("cases") or []:
        when = str(case.get("when", ""))
        to = case.get("to")
        expr = case.get("expr")
        try:
            if expr is None:
                expr = parse(when)
        except ExprError as exc:
            d.untranslated.append((when, to, f"not EL: {exc}"))
            continue
        code = to_python(expr)
        if code is None:
            d.untranslated.append((when, to, "uses an EL function with no Python counterpart"))
            continue
        unbound = sorted(_free_names(code) - BOUND_NAMES - helpers - _BUILTINS)
        if unbound:
            d.untranslated.append((when, to, f"needs {', '.join(unbound)} of the running job"))
            continue
        # ast.unparse drops to_python's defensive parentheses (ruff UP034).
        code = ast.unparse(ast.parse(code, mode="eval"))
        d.cases.append(Case(when, code, None if to is None else str(to)))
    return d


_BUILTINS = {"bool", "dict", "str", "int", "float", "isinstance", "len"}


@functools.cache
def _helper_sources() -> dict[str, str]:
    """Each EL helper's canonical ``ast.dump`` by name (classes and defs)."""
    tree = ast.parse(python_helpers())
    return {
        n.name: ast.dump(n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    }


def helper_names() -> list[str]:
    return list(_helper_sources())


def helpers_source(decisions: list[Decision]) -> str:
    """Module-level code the decision table needs (EL coercions, fs_exists)."""
    out = python_helpers().rstrip("\n")
    if any(d.uses_fs for d in decisions):
        out += "\n\n\n" + FS_EXISTS_SOURCE.rstrip("\n")
    return out


def table_source(decisions: list[Decision], py_str: Any, py_literal: Any) -> str:
    """``WFCONV_DECISIONS = {...}``: every string through the backend's
    escaper, laid out as ruff format lays it out (``wfconv.backends.pycode``)."""
    entries: list[tuple[Expr, Expr]] = []
    for d in decisions:
        cases = [
            Brackets("(", ")", [py_str(c.when), _lambda(c.python, py_str), py_literal(c.to)])
            for c in d.cases
        ]
        entry = dict_of([('"cases"', list_of(cases)), ('"default"', py_literal(d.default))])
        entries.append((py_str(d.task_id), entry))
    return "\n".join(statement("WFCONV_DECISIONS = ", dict_of(entries)))


def _lambda(code: str, py_str: Any) -> Expr:
    """``lambda params: <code>``: a call body splits at its brackets, any
    other body is parenthesized when the line is too long (as ruff does)."""
    node = ast.parse(code, mode="eval").body
    body = _layout(node, py_str)
    if isinstance(node, ast.Call) and isinstance(body, Call):
        return Call("lambda params: " + body.func, body.args, body.tail)
    return Parens("lambda params: ", body)


def _layout(node: ast.expr, py_str: Any) -> Expr:
    """A predicate as layout values: calls split at their brackets, ``not``
    before a call, boolean operations one operand a line; anything else is
    one atom (strings in double quotes, as ruff writes them)."""
    if isinstance(node, ast.Call) and not any(k.arg is None for k in node.keywords):
        args: list[Expr] = [_layout(a, py_str) for a in node.args]
        args += [Kw(k.arg, _layout(k.value, py_str)) for k in node.keywords]
        return Call(_atom(node.func, py_str), args)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _layout(node.operand, py_str)
        if isinstance(inner, Call):
            return Call("not " + inner.func, inner.args, inner.tail)
    if isinstance(node, ast.BoolOp):
        word = "and" if isinstance(node.op, ast.And) else "or"
        first, *rest = (_operand(v, py_str, (ast.BoolOp, ast.IfExp)) for v in node.values)
        return Operation(first, [(word, o) for o in rest])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        first, *rest = (_operand(v, py_str, _NOT_A_TERM) for v in _added(node))
        return Operation(first, [("+", o) for o in rest])
    if isinstance(node, ast.IfExp):
        body, test, orelse = (
            _operand(v, py_str, (ast.IfExp,)) for v in (node.body, node.test, node.orelse)
        )
        return Operation(body, [("if", test), ("else", orelse)])
    return _atom(node, py_str)


# What a sum's term must not be without parentheses (lower precedence).
_NOT_A_TERM = (ast.BoolOp, ast.IfExp, ast.Compare, ast.UnaryOp, ast.BinOp)


def _added(node: ast.expr) -> list[ast.expr]:
    """The terms of ``a + b + c`` (a left-nested chain), in order."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_added(node.left), node.right]
    return [node]


def _operand(node: ast.expr, py_str: Any, parenthesized: tuple[type, ...]) -> Expr:
    """An operand laid out, in parentheses when it is of a kind that needs
    them there (or a lambda, which always does)."""
    if isinstance(node, (ast.Lambda, *parenthesized)):
        return f"({_atom(node, py_str)})"
    return _layout(node, py_str)


def _atom(node: ast.expr, py_str: Any) -> str:
    """``ast.unparse`` with every string literal in double quotes."""
    text = ast.unparse(node)  # one line: its strings are escaped
    strings = [
        (tok.start[1], tok.end[1], py_str(ast.literal_eval(tok.string)))
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.STRING
    ]
    for start, end, spelled in reversed(strings):
        text = text[:start] + spelled + text[end:]
    return text


# --- reading it back ---------------------------------------------------------


def _body_dump(node: ast.FunctionDef) -> str:
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


@functools.cache
def _decide_dump() -> tuple[list[str], str]:
    fn = ast.parse(DECIDE_SOURCE).body[0]
    assert isinstance(fn, ast.FunctionDef)
    return [a.arg for a in fn.args.args], _body_dump(fn)


def is_decide_function(node: ast.AST) -> bool:
    """Whether a def is ``wfconv_decide`` as generated (any docstring)."""
    if not isinstance(node, ast.FunctionDef):
        return False
    a = node.args
    if a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or a.defaults:
        return False
    names, body = _decide_dump()
    return [x.arg for x in a.args] == names and _body_dump(node) == body


def helpers_match(module_defs: dict[str, ast.AST], fs: bool) -> bool:
    """Whether the module defines every EL helper (and ``fs_exists`` when a
    case calls it) exactly as generated: the lambdas call them by name."""
    want = dict(_helper_sources())
    if fs:
        want["fs_exists"] = ast.dump(ast.parse(FS_EXISTS_SOURCE).body[0])
    return all(
        name in module_defs and ast.dump(module_defs[name]) == dump for name, dump in want.items()
    )


def read_case(when: Any, holds: ast.AST | None, to: Any) -> dict[str, Any] | None:
    """One IR case from a table entry, when the lambda is exactly the EL
    text's translation; None otherwise."""
    if not isinstance(when, str) or not (to is None or isinstance(to, str)):
        return None
    if not isinstance(holds, ast.Lambda):
        return None
    a = holds.args
    if a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or a.defaults:
        return None
    if [x.arg for x in a.args] != ["params"]:
        return None
    try:
        expr = parse(when)
    except ExprError:
        return None
    code = to_python(expr)
    if code is None:
        return None
    if ast.dump(ast.parse(code, mode="eval").body) != ast.dump(holds.body):
        return None
    return {"when": when, "expr": expr, "to": to}


def read_decision(module_vars: dict[str, Any], decision: Any) -> dict[str, Any] | None:
    """The IR fields (cases, default) of ``WFCONV_DECISIONS[decision]`` in a
    module a frontend evaluated (values with ``.node``: its defs and lambdas),
    when every predicate is exactly its EL text's translation and the EL
    helpers are the generated ones; None otherwise (then it stays python)."""
    table = module_vars.get("WFCONV_DECISIONS")
    entry = table.get(decision) if isinstance(table, dict) and isinstance(decision, str) else None
    if not isinstance(entry, dict) or set(entry) != {"cases", "default"}:
        return None
    default = entry["default"]
    if not (default is None or isinstance(default, str)) or not isinstance(entry["cases"], list):
        return None
    cases = []
    uses_fs = False
    for item in entry["cases"]:
        if not (isinstance(item, tuple) and len(item) == 3):
            return None
        node = getattr(item[1], "node", None)
        case = read_case(item[0], node, item[2])
        if case is None:
            return None
        uses_fs |= any(isinstance(n, ast.Name) and n.id == "fs_exists" for n in ast.walk(node))
        cases.append(case)
    defs = {
        name: v.node
        for name, v in module_vars.items()
        if isinstance(getattr(v, "node", None), (ast.FunctionDef, ast.ClassDef))
    }
    if not helpers_match(defs, uses_fs):
        return None
    return {"cases": cases, "default": default}
