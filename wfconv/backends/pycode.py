"""Generated Python laid out the way ``ruff format`` lays it out.

Backends build the statements they emit from small expression values
(``Call``, ``Brackets``, ``Kw``, and plain strings for atoms they spelled
themselves) and ``statement()`` turns one into lines: the whole statement on
one line when it fits in 88 columns; otherwise split at the brackets of its
last call or literal, with the contents on one indented line when they fit
there (a call's arguments; a display of several items never), else one item
per line with a trailing comma, each item split the same way in turn. That is black's right-hand split, which ruff format follows, for
the only shapes wfconv writes (calls, lists, tuples, dicts and sets of atoms).
An atom (a string, a name) is never broken: a line holding a longer atom is
longer than 88 columns, as ruff leaves it.

Every user string is still spelled by ``py_str``/``py_literal``
(``wfconv.backends.common``); this module only decides where lines break.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

LINE_LENGTH = 88
INDENT = "    "


@dataclass
class Kw:
    """``name=value`` in a call (``name`` None: ``**value``)."""

    name: str | None
    value: Expr


@dataclass
class Call:
    """``func(args..., kw=...)``; ``tail`` follows the closing bracket
    (``.stdout``, ``.submit``)."""

    func: str
    args: list[Expr] = field(default_factory=list)
    tail: str = ""


@dataclass
class Brackets:
    """A list, tuple, set or dict display: ``open``/``close`` are its
    brackets, ``items`` its elements (a dict item is ``Pair``)."""

    open: str
    close: str
    items: list[Expr] = field(default_factory=list)


@dataclass
class Pair:
    key: Expr
    value: Expr


@dataclass
class Parens:
    """``head`` then ``body`` (``lambda params: ``), the body in parentheses
    of its own when the line is too long."""

    head: str
    body: Expr


@dataclass
class Operation:
    """``first`` then each (operator, operand) of ``rest``: ``a and b``,
    ``a + b``, ``a if c else b``; split, one operand a line led by its
    operator, inside brackets (``Parens``, or a call's sole argument)."""

    first: Expr
    rest: list[tuple[str, Expr]] = field(default_factory=list)


Expr = Union[str, Call, Brackets, Kw, Pair, Parens, Operation]  # noqa: UP007 (a runtime alias)


def flat(e: Expr) -> str:
    """The expression on one line."""
    if isinstance(e, str):
        return e
    if isinstance(e, Kw):
        return f"{e.name}={flat(e.value)}" if e.name else f"**{flat(e.value)}"
    if isinstance(e, Pair):
        return f"{flat(e.key)}: {flat(e.value)}"
    if isinstance(e, Parens):
        return e.head + flat(e.body)
    if isinstance(e, Operation):
        return flat(e.first) + "".join(f" {word} {flat(o)}" for word, o in e.rest)
    if isinstance(e, Call):
        return f"{e.func}({', '.join(flat(a) for a in e.args)}){e.tail}"
    inner = ", ".join(flat(i) for i in e.items)
    if e.open == "(" and len(e.items) == 1:
        inner += ","
    return f"{e.open}{inner}{e.close}"


def _parts(e: Expr) -> tuple[str, Expr | None, str] | None:
    """(head, bracketed expression, tail) where the last brackets of ``e``
    open and close: what black's right-hand split splits at."""
    if isinstance(e, (Call, Brackets)):
        return "", e, ""
    if isinstance(e, Kw) and isinstance(e.value, (Call, Brackets)):
        return (f"{e.name}=" if e.name else "**"), e.value, ""
    if isinstance(e, Pair) and isinstance(e.value, (Call, Brackets)):
        return f"{flat(e.key)}: ", e.value, ""
    return None


def statement(prefix: str, e: Expr, suffix: str = "", depth: int = 0) -> list[str]:
    """The lines of ``prefix + e + suffix`` at ``depth`` levels of indentation
    (``prefix``: ``"x = "``, ``"return "``, ``"@"``; ``suffix``: ``":"``, ``","``)."""
    pad = INDENT * depth
    one = pad + prefix + flat(e) + suffix
    if len(one) <= LINE_LENGTH:
        return [one]
    if isinstance(e, Parens):
        inner = statement("", e.body, "", depth + 1)
        return [pad + prefix + e.head + "(", *inner, pad + ")" + suffix]
    if isinstance(e, Operation) and not prefix and not suffix:
        lines = statement("", e.first, "", depth)
        for word, o in e.rest:
            lines += statement(f"{word} ", o, "", depth)
        return lines
    parts = _parts(e)
    if parts is None:
        # The right-hand side of an assignment or a return that fits on a
        # line of its own is wrapped in parentheses; a longer atom stays,
        # except after a subscript target (``x["k"] = ``), which ruff would
        # split otherwise.
        if prefix.endswith(("= ", "return ")) and not suffix:
            inner = pad + INDENT + flat(e)
            if len(inner) <= LINE_LENGTH or prefix.endswith("] = "):
                return [pad + prefix + "(", inner, pad + ")"]
        return [one]
    head, inner, tail = parts
    assert inner is not None
    if isinstance(inner, Call):
        opener, items, closer = inner.func + "(", inner.args, ")" + inner.tail
    else:
        assert isinstance(inner, Brackets)
        opener, items, closer = inner.open, inner.items, inner.close
    first = pad + prefix + head + opener
    last = pad + closer + tail + suffix
    if not items:
        return [one]
    body = ", ".join(flat(i) for i in items)
    if isinstance(inner, Brackets) and inner.open == "(" and len(items) == 1:
        body += ","
    # A call's arguments stay on one indented line when they fit there; a
    # list, dict or set display of several items is one item per line.
    display = isinstance(inner, Brackets) and len(items) > 1
    if not display and len(pad + INDENT + body) <= LINE_LENGTH:
        return [first, pad + INDENT + body, last]
    lines = [first]
    if len(items) == 1 and not (isinstance(inner, Brackets) and inner.open == "("):
        lines += statement("", items[0], "", depth + 1)
    else:
        for item in items:
            lines += statement("", item, ",", depth + 1)
    lines.append(last)
    return lines


def map_atoms(e: Expr, f: Callable[[str], str]) -> Expr:
    """``e`` with ``f`` applied to every piece of text it holds (names, atoms)."""
    if isinstance(e, str):
        return f(e)
    if isinstance(e, Kw):
        return Kw(e.name, map_atoms(e.value, f))
    if isinstance(e, Pair):
        return Pair(map_atoms(e.key, f), map_atoms(e.value, f))
    if isinstance(e, Call):
        return Call(f(e.func), [map_atoms(a, f) for a in e.args], f(e.tail))
    if isinstance(e, Brackets):
        return Brackets(e.open, e.close, [map_atoms(i, f) for i in e.items])
    if isinstance(e, Parens):
        return Parens(f(e.head), map_atoms(e.body, f))
    return Operation(map_atoms(e.first, f), [(w, map_atoms(o, f)) for w, o in e.rest])


def call(func: str, *args: Expr, tail: str = "", **kwargs: Expr) -> Call:
    """``Call`` with keyword arguments in the order given."""
    return Call(func, [*args, *(Kw(k, v) for k, v in kwargs.items())], tail)


def list_of(items: list[Expr]) -> Brackets:
    return Brackets("[", "]", list(items))


def dict_of(pairs: list[tuple[Expr, Expr]]) -> Brackets:
    return Brackets("{", "}", [Pair(k, v) for k, v in pairs])


def literal(value: object, atom) -> Expr:
    """A JSON-like value (dicts, lists, tuples of atoms) as an expression that
    ``statement`` can lay out; ``atom`` spells every other value
    (``py_literal``)."""
    if isinstance(value, dict):
        return dict_of([(atom(k), literal(v, atom)) for k, v in value.items()])
    if isinstance(value, list):
        return list_of([literal(v, atom) for v in value])
    if isinstance(value, tuple) and value:
        return Brackets("(", ")", [literal(v, atom) for v in value])
    return atom(value)


def block(lines: list[str], depth: int = 1) -> list[str]:
    """Indent already laid-out lines by ``depth`` levels."""
    return [(INDENT * depth + line) if line else line for line in lines]


def dependency_chains(edges: list[tuple[str, str]], order: list[str]) -> list[list[list[str]]]:
    """Edges as the chains a person writes (``a >> [b, c] >> d``): each chain
    is a list of segments, every task of a segment pointing at every task of
    the next. A chain grows while all of its last segment's tasks have the
    same remaining downstream tasks; what is left starts another chain, from
    the earliest task (``order``) that still has edges. Every edge is used
    exactly once."""
    rank = {t: i for i, t in enumerate(order)}
    succ: dict[str, list[str]] = {}
    for a, b in dict.fromkeys(edges):
        succ.setdefault(a, []).append(b)
    chains: list[list[list[str]]] = []
    while succ:
        start = min(succ, key=lambda t: rank.get(t, len(rank)))
        chain = [[start]]
        while True:
            heads = chain[-1]
            nexts = [tuple(sorted(succ.get(h, ()), key=lambda t: rank.get(t, 0))) for h in heads]
            if not nexts[0] or any(n != nexts[0] for n in nexts):
                break
            if len(heads) > 1 and len(nexts[0]) > 1:
                break  # Airflow has no list >> list
            for h in heads:
                del succ[h]
            chain.append(list(nexts[0]))
        chains.append(chain)
    return chains


def chain_lines(chains: list[list[list[str]]], depth: int = 1) -> list[str]:
    """``a >> b >> [c, d]`` statements, a chain cut where a line would pass
    the width (its cut segment starts the next statement)."""

    def spell(segment: list[str]) -> str:
        return segment[0] if len(segment) == 1 else "[" + ", ".join(segment) + "]"

    pad = INDENT * depth
    out: list[str] = []
    for chain in chains:
        current = [chain[0]]
        for segment in chain[1:]:
            line = pad + " >> ".join(spell(s) for s in [*current, segment])
            if len(current) > 1 and len(line) > LINE_LENGTH:
                out += _chain_statement(current, depth)
                current = [current[-1]]
            current.append(segment)
        out += _chain_statement(current, depth)
    return out


def _chain_statement(segments: list[list[str]], depth: int) -> list[str]:
    *head, last = segments

    def spell(segment: list[str]) -> str:
        return segment[0] if len(segment) == 1 else "[" + ", ".join(segment) + "]"

    prefix = "".join(spell(s) + " >> " for s in head)
    tail: Expr = last[0] if len(last) == 1 else Brackets("[", "]", list(last))
    return statement(prefix, tail, "", depth)
