"""The neutral expression language: Oozie EL parsed into a JSON-serialisable AST
and evaluated against a small environment.

Why: an Oozie ``decision`` chooses its branch with EL predicates
(``${fs:exists(concat(nameNode, '/done'))}``, ``${wf:lastErrorNode() eq 'load'}``).
To reproduce a run the reference runtime must evaluate them, and backends must
be able to re-emit or translate them. Both need a real parse tree, not text.

API (kept stable; the runtime calls ``evaluate``)
------------------------------------------------
``parse_template(text) -> dict``
    Parse text that may mix literal characters and ``${...}`` expressions
    (any attribute or element text of an Oozie file). Returns a ``template``
    node. Raises ``ExprError`` (with ``.offset``) on a syntax error.
``split_template(text) -> list[(source, node)]``
    The same parts with the text each came from (to keep one verbatim).
``parse(text) -> dict``
    Parse one EL expression. Accepts either the bare expression
    (``a eq 'b'``) or exactly one ``${...}`` with optional surrounding
    whitespace; returns the expression node itself (no ``template`` wrapper).
``evaluate(node, env) -> value``
    Evaluate any node (``template`` included) with EL's coercion rules.
    A template holding exactly one ``${...}`` and nothing else yields the
    expression's value (a bool stays a bool); otherwise the parts are
    coerced to strings and concatenated. Raises ``ExprError`` when the value
    cannot be known (an unset name, ``fs:exists`` without ``env.fs_exists``,
    a dataset function outside a coordinator, a type error).
``evaluate_bool(node, env) -> bool``
    ``evaluate`` then EL's coercion to boolean (what a decision ``case`` does).
``choose_case(cases, default, env) -> str | None``
    Oozie decision semantics (docs/semantics.md R4): the ``to`` of the first case, in
    order, whose ``expr`` is true, else ``default``. ``cases`` is the IR list
    ``[{"when": str, "expr": node, "to": id | None}, ...]``.
``unparse(node) -> str``
    EL text for a node (templates give ``text ${expr} text``); canonical
    spelling (``==`` not ``eq``), so ``parse(unparse(n)) == n``.
``to_python(node) -> str | None`` / ``python_helpers() -> str`` / ``PYTHON_NAMES``
    For backends: a Python expression with the node's EL value (None when a
    function has no counterpart), the self-contained source of the helpers
    it calls, and the free names it reads (``params``, ``run_id`` …).
``functions_used(node) -> list[str]`` / ``names_used(node) -> list[str]``
    Sorted qualified function names (``wf:conf``) / free variable names.
``ExprEnv``
    What evaluation may look at; every field optional.

AST (plain dicts and lists, so it sits inside the IR's JSON as is)
------------------------------------------------------------------
- ``{"type": "literal", "value": str | int | float | bool | None}``
- ``{"type": "name", "name": "queueName"}``  (a property; dotted names such as
  ``a.b.c`` are one name, because in Oozie they are property names)
- ``{"type": "call", "fn": "wf:conf", "args": [node, ...]}``  (``fn`` is
  ``prefix:name`` or a bare name such as ``concat``)
- ``{"type": "op", "op": OP, "args": [node, ...]}`` with OP one of
  ``||  &&  !  ==  !=  <  >  <=  >=  +  -  *  /  %  neg  empty  ?:  []``
  (keyword spellings ``or and not eq ne lt gt le ge div mod`` are normalised;
  ``[]`` is indexing: ``wf:actionData('n')['k']`` or ``wf:actionData('n').k``)
- ``{"type": "template", "parts": [node, ...]}`` literal text parts are
  ``literal`` nodes; expression parts are the expression nodes.

Coercions follow the JSP/Unified EL rules Oozie uses: ``==`` compares as
numbers when either side is a number, as booleans when either side is a
boolean, else as strings; ``null`` and ``""`` coerce to ``false``/``0``;
``empty x`` is true for null, ``""`` and empty collections.
"""

from __future__ import annotations

import datetime as _dt
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------
# errors and environment


class ExprError(Exception):
    """An expression that cannot be parsed or evaluated.

    ``offset`` is the character offset in the parsed text (syntax errors);
    ``fn`` names the function that could not be evaluated, when one is to blame.
    """

    def __init__(self, message: str, offset: int | None = None, fn: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.fn = fn


@dataclass
class ExprEnv:
    """What an expression may see at run time.

    ``params`` holds the run's properties (``${name}`` and ``wf:conf``);
    per-node dicts are keyed by Oozie node name / IR task id. Times are
    timezone-aware datetimes (UTC is assumed for naive ones).
    """

    params: dict[str, Any] = field(default_factory=dict)
    last_error_node: str | None = None
    error_codes: dict[str, str] = field(default_factory=dict)
    error_messages: dict[str, str] = field(default_factory=dict)
    action_data: dict[str, dict[str, str]] = field(default_factory=dict)
    transitions: dict[str, str] = field(default_factory=dict)
    fs_exists: Callable[[str], bool] | None = None
    fs_is_dir: Callable[[str], bool] | None = None
    fs_file_size: Callable[[str], int] | None = None
    run_id: str | None = None
    workflow_name: str | None = None
    app_path: str | None = None
    user: str | None = None
    group: str | None = None
    run: int = 0
    nominal_time: _dt.datetime | None = None
    actual_time: _dt.datetime | None = None
    now: Callable[[], _dt.datetime] | None = None
    # Extra functions, keyed by qualified name ("ns:fn"); they receive the
    # evaluated arguments and the env. They override the built-in table.
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# lexer

_KEYWORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
    "empty": "empty",
}
_KEYWORD_LITERALS = {"true": True, "false": False, "null": None}
_SYMBOLS = (
    "&&",
    "||",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "?",
    ":",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
)


@dataclass
class _Tok:
    kind: str  # ident | num | str | op | end
    value: Any
    pos: int


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c in "_$"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_$"


def _lex_string(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text) and text[j + 1] in (quote, "\\", "'", '"'):
            out.append(text[j + 1])
            j += 2
            continue
        if c == quote:
            return "".join(out), j + 1
        out.append(c)
        j += 1
    raise ExprError("unterminated string literal", i)


def _lex_number(text: str, i: int) -> tuple[int | float, int]:
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    is_float = False
    if j < len(text) and text[j] == "." and j + 1 < len(text) and text[j + 1].isdigit():
        is_float = True
        j += 1
        while j < len(text) and text[j].isdigit():
            j += 1
    if j < len(text) and text[j] in "eE":
        k = j + 1
        if k < len(text) and text[k] in "+-":
            k += 1
        if k < len(text) and text[k].isdigit():
            is_float = True
            j = k
            while j < len(text) and text[j].isdigit():
                j += 1
    raw = text[i:j]
    return (float(raw) if is_float else int(raw)), j


def _lex(text: str, start: int, stop_at_brace: bool) -> tuple[list[_Tok], int]:
    """Tokens from ``start``; with ``stop_at_brace`` stops at the ``}`` closing
    a ``${`` (returns its offset), else runs to the end of ``text``."""
    toks: list[_Tok] = []
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "}" and stop_at_brace:
            toks.append(_Tok("end", None, i))
            return toks, i
        if c in "'\"":
            s, i2 = _lex_string(text, i)
            toks.append(_Tok("str", s, i))
            i = i2
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            if c == ".":
                num, i2 = _lex_number("0" + text[i:], 0)
                i2 = i + i2 - 1
            else:
                num, i2 = _lex_number(text, i)
            toks.append(_Tok("num", num, i))
            i = i2
            continue
        if _is_ident_start(c):
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            toks.append(_Tok("ident", text[i:j], i))
            i = j
            continue
        for sym in _SYMBOLS:
            if text.startswith(sym, i):
                toks.append(_Tok("op", sym, i))
                i += len(sym)
                break
        else:
            raise ExprError(f"unexpected character {c!r}", i)
    if stop_at_brace:
        raise ExprError("'${' is not closed by '}'", start)
    toks.append(_Tok("end", None, n))
    return toks, n


# ---------------------------------------------------------------------------
# parser (recursive descent, EL precedence)


def _lit(v: Any) -> dict[str, Any]:
    return {"type": "literal", "value": v}


def _op(op: str, *args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "op", "op": op, "args": list(args)}


class _Parser:
    def __init__(self, toks: list[_Tok]):
        self.toks = toks
        self.i = 0

    # -- token helpers
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at_op(self, *ops: str) -> str | None:
        """The normalised operator at the cursor if it is one of ``ops``."""
        t = self.peek()
        if t.kind == "op" and t.value in ops:
            return t.value
        if t.kind == "ident" and _KEYWORD_OPS.get(t.value) in ops:
            return _KEYWORD_OPS[t.value]
        return None

    def expect(self, sym: str) -> _Tok:
        t = self.peek()
        if t.kind == "op" and t.value == sym:
            return self.take()
        raise ExprError(f"expected {sym!r} but found {_describe(t)}", t.pos)

    # -- grammar
    def parse_all(self) -> dict[str, Any]:
        if self.peek().kind == "end":
            raise ExprError("empty expression", self.peek().pos)
        node = self.ternary()
        t = self.peek()
        if t.kind != "end":
            raise ExprError(f"unexpected {_describe(t)}", t.pos)
        return node

    def ternary(self) -> dict[str, Any]:
        cond = self.binary(0)
        if self.at_op("?"):
            self.take()
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return _op("?:", cond, yes, no)
        return cond

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> dict[str, Any]:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            op = self.at_op(*self._LEVELS[level])
            if op is None:
                return left
            self.take()
            right = self.binary(level + 1)
            left = _op(op, left, right)

    def unary(self) -> dict[str, Any]:
        op = self.at_op("!", "-", "empty")
        if op is not None:
            self.take()
            arg = self.unary()
            if op == "-":
                if (
                    arg["type"] == "literal"
                    and isinstance(arg["value"], (int, float))
                    and not isinstance(arg["value"], bool)
                ):
                    return _lit(-arg["value"])
                return _op("neg", arg)
            return _op(op, arg)
        return self.postfix()

    def postfix(self) -> dict[str, Any]:
        node = self.primary()
        while True:
            if self.at_op("["):
                self.take()
                key = self.ternary()
                self.expect("]")
                node = _op("[]", node, key)
            elif self.at_op("."):
                self.take()
                t = self.take()
                if t.kind != "ident":
                    raise ExprError(
                        f"expected a property name after '.', found {_describe(t)}", t.pos
                    )
                if node["type"] == "name":
                    node = {"type": "name", "name": node["name"] + "." + t.value}
                else:
                    node = _op("[]", node, _lit(t.value))
            else:
                return node

    def primary(self) -> dict[str, Any]:
        t = self.take()
        if t.kind in ("str", "num"):
            return _lit(t.value)
        if t.kind == "op" and t.value == "(":
            node = self.ternary()
            self.expect(")")
            return node
        if t.kind == "ident":
            if t.value in _KEYWORD_LITERALS:
                return _lit(_KEYWORD_LITERALS[t.value])
            if t.value in _KEYWORD_OPS:
                raise ExprError(f"operator {t.value!r} where a value was expected", t.pos)
            name = t.value
            # ns:fn( ... )  -- a namespaced function call
            nxt, nxt2, nxt3 = self.peek(), self.peek(1), self.peek(2)
            # ``ns:fn(`` is written without spaces; ``a ? x : f()`` is a ternary.
            if (
                nxt.kind == "op"
                and nxt.value == ":"
                and nxt.pos == t.pos + len(name)
                and nxt2.kind == "ident"
                and nxt2.pos == nxt.pos + 1
                and nxt3.kind == "op"
                and nxt3.value == "("
            ):
                self.take()
                self.take()
                name = f"{name}:{nxt2.value}"
                return self.call(name)
            if nxt.kind == "op" and nxt.value == "(":
                return self.call(name)
            return {"type": "name", "name": name}
        raise ExprError(f"unexpected {_describe(t)}", t.pos)

    def call(self, fn: str) -> dict[str, Any]:
        self.expect("(")
        args: list[dict[str, Any]] = []
        if not self.at_op(")"):
            while True:
                args.append(self.ternary())
                if self.at_op(","):
                    self.take()
                    continue
                break
        self.expect(")")
        return {"type": "call", "fn": fn, "args": args}


def _describe(t: _Tok) -> str:
    if t.kind == "end":
        return "end of expression"
    if t.kind == "str":
        return f"string {t.value!r}"
    return repr(str(t.value))


def split_template(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(source text, node) per part of a template, in order: literal text gives
    a ``literal`` node, ``${...}`` its expression node. Lets a caller keep an
    expression verbatim (as written) when it cannot translate it."""
    parts: list[tuple[str, dict[str, Any]]] = []
    buf: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("${", i):
            if buf:
                parts.append(("".join(buf), _lit("".join(buf))))
                buf = []
            toks, close = _lex(text, i + 2, stop_at_brace=True)
            parts.append((text[i : close + 1], _Parser(toks).parse_all()))
            i = close + 1
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append(("".join(buf), _lit("".join(buf))))
    return parts


def parse_template(text: str) -> dict[str, Any]:
    """Text with ``${...}`` expressions -> ``template`` node (see module doc).

    ``#{...}`` (deferred EL) is kept as text: Oozie does not evaluate it in
    workflow definitions.
    """
    return {"type": "template", "parts": [node for _, node in split_template(text)]}


def parse(text: str) -> dict[str, Any]:
    """One EL expression, bare or as a single ``${...}`` (whitespace around ok)."""
    stripped = text.strip()
    if stripped.startswith("${"):
        parts = split_template(stripped)
        if len(parts) == 1 and parts[0][0].startswith("${"):
            return parts[0][1]
        raise ExprError("expected exactly one ${...} expression", 0)
    toks, _ = _lex(text, 0, stop_at_brace=False)
    return _Parser(toks).parse_all()


def is_constant_text(node: dict[str, Any]) -> bool:
    """True for a template without expressions (plain text)."""
    return node["type"] == "template" and all(p["type"] == "literal" for p in node["parts"])


# ---------------------------------------------------------------------------
# unparse


_PREC = {
    "?:": 1,
    "||": 2,
    "&&": 3,
    "==": 4,
    "!=": 4,
    "<": 5,
    ">": 5,
    "<=": 5,
    ">=": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "%": 7,
    "!": 8,
    "neg": 8,
    "empty": 8,
    "[]": 9,
}


def _quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _unparse_expr(node: dict[str, Any], parent_prec: int = 0) -> str:
    t = node["type"]
    if t == "literal":
        v = node["value"]
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return _quote(v)
        if isinstance(v, (int, float)) and v < 0:
            return f"({v!r})" if parent_prec else repr(v)
        return repr(v)
    if t == "name":
        return node["name"]
    if t == "call":
        return f"{node['fn']}({', '.join(_unparse_expr(a) for a in node['args'])})"
    if t == "template":
        return unparse(node)
    op = node["op"]
    prec = _PREC[op]
    a = node["args"]
    if op == "?:":
        s = f"{_unparse_expr(a[0], prec + 1)} ? {_unparse_expr(a[1], prec)} : {_unparse_expr(a[2], prec)}"
    elif op == "[]":
        s = f"{_unparse_expr(a[0], prec)}[{_unparse_expr(a[1])}]"
    elif op in ("!", "neg", "empty"):
        sym = {"!": "!", "neg": "-", "empty": "empty "}[op]
        s = f"{sym}{_unparse_expr(a[0], prec)}"
    else:
        s = f"{_unparse_expr(a[0], prec)} {op} {_unparse_expr(a[1], prec + 1)}"
    return f"({s})" if prec < parent_prec or (op == "?:" and parent_prec) else s


def unparse(node: dict[str, Any]) -> str:
    """EL text for a node; a template gives literal text with ``${...}``."""
    if node["type"] == "template":
        out = []
        for p in node["parts"]:
            if p["type"] == "literal" and isinstance(p["value"], str):
                out.append(p["value"])
            else:
                out.append("${" + _unparse_expr(p) + "}")
        return "".join(out)
    return _unparse_expr(node)


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for a in node.get("args", ()) or ():
            yield from _walk(a)
        for p in node.get("parts", ()) or ():
            yield from _walk(p)


def functions_used(node: dict[str, Any]) -> list[str]:
    return sorted({n["fn"] for n in _walk(node) if n.get("type") == "call"})


def names_used(node: dict[str, Any]) -> list[str]:
    return sorted({n["name"] for n in _walk(node) if n.get("type") == "name"})


# ---------------------------------------------------------------------------
# coercions (Unified EL §1.18)


def to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={to_str(x)}" for k, x in v.items()) + "}"
    return str(v)


def to_bool(v: Any) -> bool:
    if v is None or v == "":
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.strip().lower() == "true"
    raise ExprError(f"cannot coerce {v!r} to a boolean")


def to_num(v: Any) -> int | float:
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        raise ExprError(f"cannot coerce boolean {to_str(v)} to a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            pass
        try:
            return float(s)
        except ValueError:
            raise ExprError(f"cannot coerce {v!r} to a number") from None
    raise ExprError(f"cannot coerce {v!r} to a number")


def is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, (str, list, dict, tuple)) and len(v) == 0)


def index_of(obj: Any, key: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(to_str(key))
    if isinstance(obj, (list, tuple)):
        i = int(to_num(key))
        return obj[i] if 0 <= i < len(obj) else None
    raise ExprError(f"cannot index {to_str(obj)!r}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equals(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    if _is_num(a) or _is_num(b):
        return to_num(a) == to_num(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if isinstance(a, str) or isinstance(b, str):
        return to_str(a) == to_str(b)
    return a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if _is_num(a) or _is_num(b):
        x, y = to_num(a), to_num(b)
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b
    else:
        raise ExprError(f"cannot compare {a!r} {op} {b!r}")
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _arith(op: str, a: Any, b: Any) -> int | float:
    if a is None and b is None:
        return 0
    x, y = to_num(a), to_num(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            raise ExprError("division by zero")
        return float(x) / float(y)
    if y == 0:
        raise ExprError("modulo by zero")
    if isinstance(x, int) and isinstance(y, int):
        # Java's % keeps the sign of the dividend.
        r = abs(x) % abs(y)
        return -r if x < 0 else r
    return float(x) - float(y) * int(float(x) / float(y))


# ---------------------------------------------------------------------------
# dates: Oozie's UTC text form and Java SimpleDateFormat patterns

OOZIE_TIME_FORMAT = "%Y-%m-%dT%H:%MZ"

# Java SimpleDateFormat letter runs -> strftime (the subset Oozie users use).
SIMPLE_DATE_FORMAT: dict[str, str] = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "hh": "%I",
    "mm": "%M",
    "ss": "%S",
    "SSS": "%f",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "D": "%j",
    "DDD": "%j",
    "Z": "%z",
}


def java_to_strftime(pattern: str) -> str:
    """Translate a SimpleDateFormat pattern; ``ExprError`` for letters with no
    strftime counterpart. Quoted text (``'T'``) is literal."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "'":
            j = pattern.find("'", i + 1)
            if j < 0:
                raise ExprError(f"unterminated quote in date pattern {pattern!r}")
            out.append("'" if j == i + 1 else pattern[i + 1 : j].replace("%", "%%"))
            i = j + 1
            continue
        if c.isalpha():
            j = i
            while j < n and pattern[j] == c:
                j += 1
            run = pattern[i:j]
            if run not in SIMPLE_DATE_FORMAT:
                raise ExprError(f"date pattern letters {run!r} have no strftime counterpart")
            out.append(SIMPLE_DATE_FORMAT[run])
            i = j
            continue
        out.append("%%" if c == "%" else c)
        i += 1
    return "".join(out)


def parse_oozie_time(value: Any) -> _dt.datetime:
    """``2009-01-01T24:00Z`` style text (or a datetime) -> aware UTC datetime."""
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    s = to_str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"):
        try:
            d = _dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
        return d if d.tzinfo else d.replace(tzinfo=_dt.UTC)
    raise ExprError(f"not an Oozie time: {s!r}")


def format_oozie_time(d: _dt.datetime) -> str:
    return d.astimezone(_dt.UTC).strftime(OOZIE_TIME_FORMAT)


def _add_months(d: _dt.datetime, months: int) -> _dt.datetime:
    m = d.month - 1 + months
    y = d.year + m // 12
    m = m % 12 + 1
    days = [
        31,
        29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return d.replace(year=y, month=m, day=min(d.day, days[m - 1]))


_OFFSET_UNITS = {"MINUTE": 1, "HOUR": 60, "DAY": 1440, "WEEK": 10080}


def date_offset(value: Any, n: int, unit: str) -> _dt.datetime:
    d = parse_oozie_time(value)
    u = unit.upper()
    if u in _OFFSET_UNITS:
        return d + _dt.timedelta(minutes=n * _OFFSET_UNITS[u])
    if u == "MONTH":
        return _add_months(d, n)
    if u == "YEAR":
        return _add_months(d, 12 * n)
    raise ExprError(f"unknown time unit {unit!r} (MINUTE, HOUR, DAY, WEEK, MONTH, YEAR)")


# ---------------------------------------------------------------------------
# built-in functions (Oozie WorkflowFunctionalSpec §4.2, coordinator EL)


def _need(value: Any, what: str, fn: str) -> Any:
    if value is None:
        raise ExprError(f"{fn}() needs {what}, which this evaluation does not know", fn=fn)
    return value


def _fs(env: ExprEnv, attr: str, fn: str) -> Callable[..., Any]:
    f = getattr(env, attr)
    if f is None:
        raise ExprError(f"{fn}() needs a file-system probe (env.{attr})", fn=fn)
    return f


def _now(env: ExprEnv) -> _dt.datetime:
    return env.now() if env.now else _dt.datetime.now(_dt.UTC)


def _replace_all(src: Any, regex: Any, repl: Any) -> str:
    if src is None:
        return ""
    # Java replacement strings use $1 for groups; Python uses \1.
    py_repl = re.sub(r"\$(\d+)", r"\\\1", to_str(repl))
    try:
        return re.sub(to_str(regex), py_repl, to_str(src))
    except re.error as exc:
        raise ExprError(f"replaceAll(): bad regular expression: {exc}", fn="replaceAll") from None


def _append_all(src: Any, append: Any, delim: Any) -> str:
    if src is None:
        return ""
    d = to_str(delim)
    return d.join(p + to_str(append) for p in to_str(src).split(d))


def _frequency(minutes: int) -> Callable[[ExprEnv, Any], int]:
    return lambda env, n: to_num(n) * minutes


def _format_time(env: ExprEnv, ts: Any, pattern: Any) -> str:
    return parse_oozie_time(ts).astimezone(_dt.UTC).strftime(java_to_strftime(to_str(pattern)))


BUILTINS: dict[str, Callable[..., Any]] = {
    # basic EL functions
    "concat": lambda env, a, b: to_str(a) + to_str(b),
    "firstNotNull": lambda env, a, b: a if a is not None else b,
    "replaceAll": lambda env, s, r, p: _replace_all(s, r, p),
    "appendAll": lambda env, s, a, d: _append_all(s, a, d),
    "trim": lambda env, s: to_str(s).strip(),
    "urlEncode": lambda env, s: urllib.parse.quote_plus(to_str(s)),
    "timestamp": lambda env: format_oozie_time(_now(env)),
    # workflow
    "wf:id": lambda env: _need(env.run_id, "the run id", "wf:id"),
    "wf:name": lambda env: _need(env.workflow_name, "the workflow name", "wf:name"),
    "wf:appPath": lambda env: _need(env.app_path, "the application path", "wf:appPath"),
    "wf:conf": lambda env, k: to_str(env.params.get(to_str(k), "")),
    "wf:user": lambda env: _need(env.user, "the user", "wf:user"),
    "wf:group": lambda env: _need(env.group, "the group", "wf:group"),
    "wf:run": lambda env: env.run,
    "wf:lastErrorNode": lambda env: env.last_error_node or "",
    "wf:errorCode": lambda env, n: env.error_codes.get(to_str(n), ""),
    "wf:errorMessage": lambda env, n: env.error_messages.get(to_str(n), ""),
    "wf:actionData": lambda env, n: dict(env.action_data.get(to_str(n), {})),
    "wf:transition": lambda env, n: env.transitions.get(to_str(n), ""),
    # file system
    "fs:exists": lambda env, p: bool(_fs(env, "fs_exists", "fs:exists")(to_str(p))),
    "fs:isDir": lambda env, p: bool(_fs(env, "fs_is_dir", "fs:isDir")(to_str(p))),
    "fs:fileSize": lambda env, p: int(_fs(env, "fs_file_size", "fs:fileSize")(to_str(p))),
    # coordinator
    "coord:nominalTime": lambda env: format_oozie_time(
        _need(env.nominal_time, "the nominal time", "coord:nominalTime")
    ),
    "coord:actualTime": lambda env: format_oozie_time(
        _need(env.actual_time, "the actual time", "coord:actualTime")
    ),
    "coord:formatTime": _format_time,
    "coord:dateOffset": lambda env, ts, n, unit: format_oozie_time(
        date_offset(ts, int(to_num(n)), to_str(unit))
    ),
    "coord:minutes": _frequency(1),
    "coord:hours": _frequency(60),
    "coord:days": _frequency(1440),
    "coord:endOfDays": _frequency(1440),
}


def _call(node: dict[str, Any], env: ExprEnv) -> Any:
    fn = node["fn"]
    impl = env.functions.get(fn) or BUILTINS.get(fn)
    if impl is None:
        raise ExprError(f"function {fn}() cannot be evaluated here", fn=fn)
    args = [evaluate(a, env) for a in node["args"]]
    try:
        return impl(env, *args)
    except TypeError:
        raise ExprError(f"{fn}() called with {len(args)} argument(s)", fn=fn) from None


# ---------------------------------------------------------------------------
# evaluation


def _eval_op(node: dict[str, Any], env: ExprEnv) -> Any:
    op = node["op"]
    a = node["args"]
    if op == "&&":
        return to_bool(evaluate(a[0], env)) and to_bool(evaluate(a[1], env))
    if op == "||":
        return to_bool(evaluate(a[0], env)) or to_bool(evaluate(a[1], env))
    if op == "?:":
        return evaluate(a[1], env) if to_bool(evaluate(a[0], env)) else evaluate(a[2], env)
    if op == "!":
        return not to_bool(evaluate(a[0], env))
    if op == "neg":
        return -to_num(evaluate(a[0], env))
    if op == "empty":
        return is_empty(evaluate(a[0], env))
    if op == "[]":
        return index_of(evaluate(a[0], env), evaluate(a[1], env))
    x, y = evaluate(a[0], env), evaluate(a[1], env)
    if op == "==":
        return _equals(x, y)
    if op == "!=":
        return not _equals(x, y)
    if op in ("<", ">", "<=", ">="):
        return _compare(op, x, y)
    if op in ("+", "-", "*", "/", "%"):
        return _arith(op, x, y)
    raise ExprError(f"unknown operator {op!r}")


def evaluate(node: dict[str, Any], env: ExprEnv | None = None) -> Any:
    """Value of ``node`` under ``env`` (see the module doc for the rules)."""
    env = env or ExprEnv()
    t = node.get("type")
    if t == "literal":
        return node["value"]
    if t == "name":
        name = node["name"]
        if name in env.params:
            return env.params[name]
        raise ExprError(f"variable [{name}] cannot be resolved")
    if t == "call":
        return _call(node, env)
    if t == "op":
        return _eval_op(node, env)
    if t == "template":
        parts = node["parts"]
        if len(parts) == 1:
            return evaluate(parts[0], env)
        return "".join(to_str(evaluate(p, env)) for p in parts)
    raise ExprError(f"not an expression node: {node!r}")


def evaluate_bool(node: dict[str, Any], env: ExprEnv | None = None) -> bool:
    return to_bool(evaluate(node, env))


def choose_case(
    cases: list[dict[str, Any]], default: str | None, env: ExprEnv | None = None
) -> str | None:
    """Target of an Oozie decision: first true case in order, else ``default``."""
    for case in cases:
        expr = case.get("expr")
        if expr is None:
            expr = parse(case["when"])
        if evaluate_bool(expr, env):
            return case.get("to")
    return default


# ---------------------------------------------------------------------------
# Python source for backends


# The coercion helpers generated code calls; ``python_helpers()`` returns their
# source so that emitted code does not import wfconv.
_PY_HELPERS = (
    "to_str",
    "to_bool",
    "to_num",
    "_is_num",
    "_equals",
    "_compare",
    "_arith",
    "is_empty",
    "index_of",
)

# Free names generated code reads; a backend binds them (e.g. in a branch
# callable): params (dict), run_id, workflow_name, last_error_node,
# error_codes / error_messages / action_data (dicts keyed by task id),
# fs_exists (callable).
PYTHON_NAMES = (
    "params",
    "run_id",
    "workflow_name",
    "last_error_node",
    "error_codes",
    "error_messages",
    "action_data",
    "fs_exists",
)

_PY_CALLS: dict[str, Callable[[list[str]], str]] = {
    "concat": lambda a: f"(to_str({a[0]}) + to_str({a[1]}))",
    "trim": lambda a: f"to_str({a[0]}).strip()",
    "firstNotNull": lambda a: f"(lambda _a, _b: _a if _a is not None else _b)({a[0]}, {a[1]})",
    "wf:conf": lambda a: f"to_str(params.get(to_str({a[0]}), ''))",
    "wf:id": lambda a: "run_id",
    "wf:name": lambda a: "workflow_name",
    "wf:lastErrorNode": lambda a: "(last_error_node or '')",
    "wf:errorCode": lambda a: f"error_codes.get(to_str({a[0]}), '')",
    "wf:errorMessage": lambda a: f"error_messages.get(to_str({a[0]}), '')",
    "wf:actionData": lambda a: f"dict(action_data.get(to_str({a[0]}), {{}}))",
    "fs:exists": lambda a: f"bool(fs_exists(to_str({a[0]})))",
}
_PY_ARITY = {
    "concat": 2,
    "trim": 1,
    "firstNotNull": 2,
    "wf:conf": 1,
    "wf:id": 0,
    "wf:name": 0,
    "wf:lastErrorNode": 0,
    "wf:errorCode": 1,
    "wf:errorMessage": 1,
    "wf:actionData": 1,
    "fs:exists": 1,
}
_PY_BINARY = {
    "==": "_equals({0}, {1})",
    "!=": "(not _equals({0}, {1}))",
    "<": "_compare('<', {0}, {1})",
    ">": "_compare('>', {0}, {1})",
    "<=": "_compare('<=', {0}, {1})",
    ">=": "_compare('>=', {0}, {1})",
    "+": "_arith('+', {0}, {1})",
    "-": "_arith('-', {0}, {1})",
    "*": "_arith('*', {0}, {1})",
    "/": "_arith('/', {0}, {1})",
    "%": "_arith('%', {0}, {1})",
    "&&": "(to_bool({0}) and to_bool({1}))",
    "||": "(to_bool({0}) or to_bool({1}))",
    "[]": "index_of({0}, {1})",
}
_PY_UNARY = {"!": "(not to_bool({0}))", "neg": "(-to_num({0}))", "empty": "is_empty({0})"}


def to_python(node: dict[str, Any]) -> str | None:
    """A Python expression with this node's value under EL's rules, or None
    when a function has no Python counterpart here (``fs:fileSize``,
    ``coord:*``, ``hadoop:counters`` …). It reads ``PYTHON_NAMES`` and calls
    the helpers of ``python_helpers()``; a name ``x`` is ``params['x']``.
    A template gives the concatenation of its parts (one part: its value)."""
    t = node.get("type")
    if t == "literal":
        return repr(node["value"])
    if t == "name":
        return f"params[{node['name']!r}]"
    if t == "template":
        parts = [to_python(p) for p in node["parts"]]
        if any(p is None for p in parts):
            return None
        if len(parts) == 1:
            return parts[0]
        return "(" + " + ".join(f"to_str({p})" for p in parts) + ")"
    args = [to_python(a) for a in node.get("args", [])]
    if any(a is None for a in args):
        return None
    if t == "call":
        fn = node["fn"]
        if fn not in _PY_CALLS or _PY_ARITY[fn] != len(args):
            return None
        return _PY_CALLS[fn](args)  # type: ignore[arg-type]
    op = node["op"]
    if op == "?:":
        return f"({args[1]} if to_bool({args[0]}) else {args[2]})"
    if op in _PY_UNARY:
        return _PY_UNARY[op].format(*args)
    return _PY_BINARY[op].format(*args)


def python_helpers() -> str:
    """Source of the helpers ``to_python`` code calls: self-contained (an
    ``ExprError`` class and the EL coercions, no imports, no annotations)."""
    import ast
    import inspect

    funcs = []
    for name in _PY_HELPERS:
        fn = ast.parse(inspect.getsource(globals()[name])).body[0]
        assert isinstance(fn, ast.FunctionDef)
        fn.returns = None
        for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
            arg.annotation = None
        funcs.append(_double_quoted(ast.unparse(fn)))
    return "class ExprError(Exception):\n    pass\n\n\n" + "\n\n\n".join(funcs) + "\n"


def _double_quoted(code: str) -> str:
    """``code`` with its single-quoted one-line strings in double quotes, as
    ruff format writes them (``ast.unparse`` uses ``repr``'s quotes)."""
    import io
    import tokenize

    lines = code.split("\n")
    for tok in reversed(list(tokenize.generate_tokens(io.StringIO(code).readline))):
        text = tok.string
        prefix = text[: len(text) - len(text.lstrip("rRbBfFuU"))]
        body = text[len(prefix) :]
        if (
            tok.type != tokenize.STRING
            or tok.start[0] != tok.end[0]
            or not body.startswith("'")
            or body.startswith("'''")
            or '"' in body
            or "\\" in body
        ):
            continue
        row, (c0, c1) = tok.start[0] - 1, (tok.start[1], tok.end[1])
        line = lines[row]
        lines[row] = line[:c0] + prefix + '"' + body[1:-1] + '"' + line[c1:]
    return "\n".join(lines)
