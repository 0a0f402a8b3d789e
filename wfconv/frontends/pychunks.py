"""Large Python files parsed in pieces, so that memory stays bounded.

``ast.parse`` builds every node of a file at once: about 600 bytes per node,
550 MB for a generated 6.5 MB DAG file with 50,000 tasks, and as much again
for a file that ends in a syntax error. The static readers do not need the
whole tree at once: the evaluator executes one statement after the other.

``parse_module(text, path)`` returns ``ast.parse``'s tree for ordinary files.
For files above ``LARGE_BYTES`` the module's body is a ``Statements``
sequence: it parses the module in chunks of statements (each with
``ast.parse``, line numbers and columns as in the file) each time it is
iterated and keeps nothing, and a ``with`` statement spanning more than
``LAZY_LINES`` lines (``with DAG(...) as dag:`` holding every task) gets such
a lazy body too. The evaluator runs it with bounded memory; a syntax error is
raised as a ``SyntaxError`` (the file's line) when its chunk is reached.

Where a chunk ends is found on the text (a line at the block's indentation
that can start a statement) and proved by ``ast.parse``: a chunk that fails
because its last statement continues past the cut (an open bracket, a string,
a decorator) is extended to the next cut; any other error is the file's own.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterator

from wfconv.errors import InputError

LARGE_BYTES = 1_000_000  # smaller files: one ast.parse, as always
# One statement longer than this (a 10 MB literal) is refused: its tree alone
# would take ~150 bytes per character.
MAX_STATEMENT_CHARS = 1_000_000
LAZY_LINES = 2_000  # a ``with`` block longer than this gets a lazy body
CHUNK_LINES = 1_000  # about this many lines per parsed chunk

# Messages of errors a later line could resolve (the cut fell inside a statement).
_INCOMPLETE = ("never closed", "unterminated", "unexpected EOF", "expected an indented block")
_CONTINUATIONS = ("else", "elif", "except", "finally")


def parse_module(text: str, path: str, lazy: bool = True) -> ast.Module:
    """``ast.parse(text)``; for large files, chunked with lazy bodies (or,
    ``lazy=False``, chunked into a plain tree: the statement size limit holds
    and the parser's own peak stays one chunk's, the tree itself is whole)."""
    if len(text) < LARGE_BYTES:
        return ast.parse(text, filename=path)
    lines = _Lines(text.split("\n"))
    lines.in_string = _string_lines(text)
    body = Statements(lines, 0, len(lines), "", path)
    if not lazy:
        body = [_whole(st) for st in body]
    return ast.Module(body=body, type_ignores=[])


class _Lines(list):
    """The file's lines, and which of them begin inside a string literal."""

    in_string: frozenset[int] = frozenset()


# Comments and string literals (any prefix; raw strings too: a backslash
# never ends one), matched in one C-speed pass so that quotes inside
# comments, and ``#`` or quotes inside strings, are not taken for others.
_LITERALS = re.compile(
    r"#[^\n]*"
    r'|[rRbBuUfF]{0,2}(?:"""(?:\\.|[^\\])*?"""'
    r"|'''(?:\\.|[^\\])*?'''"
    r'|"(?:\\.|[^"\\\n])*"'
    r"|'(?:\\.|[^'\\\n])*')",
    re.S,
)


def _string_lines(text: str) -> frozenset[int]:
    """Indexes of the lines that begin inside a multi-line string literal
    (their text only looks like statements: never a cut)."""
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    inside: set[int] = set()
    for m in _LITERALS.finditer(text):
        if m.group(0)[0] == "#" or "\n" not in m.group(0):
            continue
        first = bisect.bisect_right(starts, m.start()) - 1
        last = bisect.bisect_right(starts, m.end() - 1) - 1
        inside.update(range(first + 1, last + 1))
    return frozenset(inside)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter lazy blocks (``Statements``): their
    statements are seen by the block's observers, one chunk at a time."""
    # Hot (every statement of a large file): fields read directly, the
    # common field types tested by identity before ``isinstance``.
    todo = [node]
    pop, push, extend, AST = todo.pop, todo.append, todo.extend, ast.AST
    while todo:
        n = pop()
        yield n
        for name in n._fields:
            value = getattr(n, name, None)
            kind = type(value)
            if kind is list or (kind is not Statements and isinstance(value, list)):
                extend([v for v in reversed(value) if isinstance(v, AST)])
            elif isinstance(value, AST):
                push(value)


def _whole(st: ast.stmt) -> ast.stmt:
    if isinstance(getattr(st, "body", None), Statements):
        st.body = [_whole(s) for s in st.body]
    return st


def _opens_with(line: str) -> bool:
    return line.startswith(("with ", "with(", "async with "))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _can_start(lines: list[str], i: int, indent: str) -> bool:
    """Can a statement of the block indented by ``indent`` start at line ``i``?"""
    if i in getattr(lines, "in_string", ()):
        return False
    line = lines[i]
    if _indent(line) != indent:
        return False
    rest = line[len(indent) :]
    if not rest or rest[0] in "#)]}":
        return False
    if rest.split(None, 1)[0].rstrip(":") in _CONTINUATIONS:
        return False
    prev = i - 1
    while prev >= 0 and not lines[prev].strip():
        prev -= 1
    return prev < 0 or not (
        lines[prev].rstrip().endswith("\\") or lines[prev].lstrip().startswith("@")
    )


def _next_cut(lines: list[str], i: int, end: int, indent: str) -> int:
    while i < end and not _can_start(lines, i, indent):
        i += 1
    return i


def _chunks(
    lines: list[str], start: int, end: int, indent: str, path: str, lazy: bool = False
) -> Iterator[tuple[int, int, list[ast.stmt] | None]]:
    """The block's lines [start, end) as spans (a, b, their statements), in
    order; with ``lazy``, one ``with`` statement longer than LAZY_LINES is a
    span of its own whose statements are None (its body is not parsed here).
    A long ``with`` ends where the next span parses from its first line: a
    line at the block's indentation inside it (text of a multi-line string)
    only looks like a statement."""
    a = start if not indent else _next_cut(lines, start, end, indent)
    while a < end:
        b, statements = _span(lines, a, end, indent, path, lazy)
        if statements is not None:
            yield a, b, statements
            a = b
            continue
        following = None
        while b < end:
            try:
                following = _span(lines, b, end, indent, path, lazy)
                break
            except SyntaxError as exc:
                if exc.lineno != b + 1:
                    raise
                b = _next_cut(lines, b + 1, end, indent)  # still inside the ``with``
        yield a, b, None
        if following is not None and following[1] is not None:
            yield b, following[0], following[1]
            b = following[0]
        a = b


def _span(
    lines: list[str], a: int, end: int, indent: str, path: str, lazy: bool
) -> tuple[int, list[ast.stmt] | None]:
    """The span starting at line ``a``: (its end, its statements), or (its
    end, None) for a long ``with``. A statement cut short (an open bracket, a
    string, a decorator, the error on its last lines) takes the next cut in."""
    b = _next_cut(lines, a + 1, end, indent)
    if lazy and b - a > LAZY_LINES and _opens_with(lines[a]):
        return b, None
    size = _chars(lines, a, b, path)
    while b < end and b - a < CHUNK_LINES:
        nxt = _next_cut(lines, b + 1, end, indent)
        if lazy and nxt - b > LAZY_LINES and _opens_with(lines[b]):
            break
        more = sum(len(line) + 1 for line in lines[b:nxt])
        if size + more > MAX_STATEMENT_CHARS:
            break
        size, b = size + more, nxt
    while True:
        try:
            return b, _parse_lines(lines, a, b, indent, path)
        except SyntaxError as exc:
            last = b - 1
            while last > a and not _can_start(lines, last, indent):
                last -= 1
            at_end = exc.lineno is not None and exc.lineno - 1 >= last
            if b >= end or not (at_end or any(m in (exc.msg or "") for m in _INCOMPLETE)):
                raise
            b = _next_cut(lines, b + 1, end, indent)
            _chars(lines, a, b, path)


def _chars(lines: list[str], a: int, b: int, path: str) -> int:
    """Characters of lines [a, b); one statement above MAX_STATEMENT_CHARS is refused."""
    size = sum(len(line) + 1 for line in lines[a:b])
    if size > MAX_STATEMENT_CHARS:
        raise InputError(
            path,
            a + 1,
            f"a statement of {size / 1e6:.1f} MB: too large to read statically "
            f"(the limit is {MAX_STATEMENT_CHARS / 1e6:g} MB)",
        )
    return size


def _parse_lines(lines: list[str], start: int, end: int, indent: str, path: str) -> list[ast.stmt]:
    """The statements of lines [start, end), with the file's line numbers:
    the chunk is parsed behind as many empty lines as come before it (cheaper
    than renumbering every node afterwards)."""
    if not indent:
        text = "\n" * start + "\n".join(lines[start:end])
    else:
        # Inside a block: parsed under ``if 1:`` (on the line above the chunk)
        # so that the lines keep their indentation, hence their columns.
        text = "\n" * (start - 1) + "if 1:\n" + "\n".join(lines[start:end])
    tree = ast.parse(text, filename=path)
    return tree.body if not indent else (tree.body[0].body if tree.body else [])


def _lazy_with(
    lines: list[str],
    start: int,
    end: int,
    path: str,
    observers: list[Callable[[ast.stmt], None]] | None = None,
) -> ast.With | None:
    """The ``with`` statement of lines [start, end): its header parsed now,
    its body a ``Statements`` parsed when it runs. None when the header
    cannot be found (the caller parses the span whole, as usual)."""
    for head_end in range(start + 1, min(start + 60, end)):
        body_indent = _indent(lines[head_end])
        if not body_indent or not lines[head_end].strip():
            continue
        try:
            tree = ast.parse(
                "\n".join([*lines[start:head_end], body_indent + "pass"]), filename=path
            )
        except SyntaxError:
            continue
        node = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(node, ast.With | ast.AsyncWith):
            return None
        ast.increment_lineno(node, start)  # the header only: a few nodes
        last = end - 1
        while last > head_end and not lines[last].strip():
            last -= 1
        node.body = Statements(lines, head_end, last + 1, body_indent, path, observers)
        node.end_lineno = last + 1
        node.end_col_offset = len(lines[last].encode("utf-8"))
        return node
    return None


class Statements(list):
    """A block's statements, parsed chunk by chunk each time it is iterated
    (nothing is kept). It is a ``list`` so that code walking ASTs accepts it;
    it holds no items itself: iterate it (``reversed``, ``len`` and indexing
    parse it all, as a list of its statements would hold them)."""

    def __init__(
        self,
        lines: list[str],
        start: int,
        end: int,
        indent: str,
        path: str,
        observers: list[Callable[[ast.stmt], None]] | None = None,
    ):
        super().__init__()
        self.lines, self.start, self.end, self.indent, self.path = lines, start, end, indent, path
        # Imports and compound statements seen by the last complete
        # iteration: ``holding`` answers from them without parsing again.
        self._kept: list[ast.stmt] | None = None
        # Called with every statement as it is parsed, this block's and its
        # lazy blocks' (shared list): a reader gathers facts during the one
        # pass its evaluator makes instead of parsing the file again.
        self.observers = observers if observers is not None else []

    def __iter__(self) -> Iterator[ast.stmt]:
        kept: list[ast.stmt] = []
        lazy = not self.indent  # the module's own statements: long ``with`` blocks stay lazy
        for a, b, statements in _chunks(
            self.lines, self.start, self.end, self.indent, self.path, lazy
        ):
            if statements is None:  # one long ``with``
                node = _lazy_with(self.lines, a, b, self.path, self.observers)
                statements = (
                    [node] if node is not None else _parse_lines(self.lines, a, b, "", self.path)
                )
            for st in statements:
                if isinstance(st, ast.Import | ast.ImportFrom) or hasattr(st, "body"):
                    kept.append(st)
                for observe in self.observers:
                    observe(st)
                yield st
        self._kept = kept

    def __reversed__(self) -> Iterator[ast.stmt]:
        return reversed(list(self))

    def __bool__(self) -> bool:
        return self.end > self.start

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __getitem__(self, index):
        if index == 0:
            return next(iter(self))
        return list(self)[index]

    def holding(self, *types: type) -> list[ast.stmt]:
        """The statements that are, or contain, a node of ``types`` (one pass,
        only those kept): what a reader looks for after the block has run."""
        if self._kept is None:
            for _ in self:
                pass
        return [
            st
            for st in self._kept or ()
            if isinstance(st, types)
            or isinstance(getattr(st, "body", None), Statements)  # walked by the caller
            or any(isinstance(n, types) for n in ast.walk(st))
        ]
