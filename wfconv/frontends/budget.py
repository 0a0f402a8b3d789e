"""Time and size budgets of the static evaluator (``wfconv.frontends.pyeval``).

The evaluator runs the pure part of a user's file: arithmetic, formatting,
string methods, loops. A hostile or careless file can make one such
operation cost minutes or gigabytes: ``2 ** 10 ** 9``, ``"{:>2000000000}".format(x)``,
``"a".ljust(10 ** 9)``, ``"ab" * 10 ** 8``, ``"x".join([s] * 10 ** 6)``, nested
comprehensions of a billion items. Python cannot stop a C call half-way, so
each costly operation is *predicted* before it runs, from its operands:

- ``check_binop`` and ``check_call`` refuse an operation whose result would
  hold more than ``MAX_ITEMS`` characters or items, or an integer of more than
  ``MAX_BITS`` bits; ``check_format`` refuses a format specification whose
  width or precision is above ``MAX_ITEMS``. A refusal is a ``TooCostly``
  error, which the evaluator turns into an unknown value with a note at the
  line, like any other error of evaluating user code.
- ``Clock`` bounds the evaluator's CPU time as a whole (``tick`` is called
  for every statement and loop item; the clock is read every 1,024 ticks).

This module knows nothing about the evaluator; the evaluator calls it at
four places (statements and loop items, binary operators, calls of pure
functions, f-string specifications).
"""

from __future__ import annotations

import ast
import math
import re
import time
from collections.abc import Callable
from typing import Any

MAX_ITEMS = 1_000_000  # characters of a string, items of a list ...
# Bits of an integer: Python prints (and json writes) at most 4,300 digits.
MAX_BITS = 14_000
CPU_SECONDS = 5.0  # of one file's static evaluation


class TooCostly(ValueError):
    """The operation would cost more than the evaluator may spend on it."""


MAX_COMPREHENSION_ITEMS = 100_000  # iterations of one comprehension, nested loops included


class Items:
    """Iterations of one comprehension: past the limit its value is unknown
    (a TooCostly error), and reading goes on with the rest of the file."""

    def __init__(self, limit: int = MAX_COMPREHENSION_ITEMS):
        self.limit = limit
        self.n = 0

    def add(self) -> None:
        self.n += 1
        if self.n > self.limit:
            raise TooCostly(
                f"comprehension of more than {self.limit:,} iterations: too large to "
                "evaluate statically"
            )


class Clock:
    """The evaluator's CPU-time budget."""

    def __init__(self, seconds: float = CPU_SECONDS):
        self.seconds = seconds
        self.deadline = time.process_time() + seconds
        self.countdown = 1024

    def tick(self) -> bool:
        """Count one step; True once the budget is spent."""
        self.countdown -= 1
        if self.countdown > 0:
            return False
        self.countdown = 1024
        return time.process_time() > self.deadline


def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 1


def _int(value: Any) -> int | None:
    """An int operand (bools are ints too); None for anything else."""
    return int(value) if isinstance(value, int) else None


def _too_long(n: int | float, what: str) -> None:
    if n > MAX_ITEMS:
        raise TooCostly(f"{what} of {n:,.0f} items is too large to evaluate statically")


def check_binop(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse ``left op right`` when its result would be too large."""
    a, b = _int(left), _int(right)
    if isinstance(op, ast.Pow):
        if a is not None and b is not None and b > 0 and abs(a) > 1:
            if a.bit_length() * b > MAX_BITS:
                raise TooCostly("power too large to evaluate statically")
    elif isinstance(op, ast.Mult):
        for seq, n in ((left, b), (right, a)):
            if n is not None and isinstance(seq, (str, bytes, list, tuple)):
                _too_long(_size(seq) * n, "repetition")
        if a is not None and b is not None and a.bit_length() + b.bit_length() > MAX_BITS:
            raise TooCostly("product too large to evaluate statically")
    elif isinstance(op, ast.LShift):
        if a is not None and b is not None and a and a.bit_length() + b > MAX_BITS:
            raise TooCostly("shift too large to evaluate statically")
    elif isinstance(op, ast.Add):
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, type(left)):
            _too_long(_size(left) + _size(right), "concatenation")
    elif isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
        _check_percent(left, right)


# Digits of a width or precision in a format specification (the fill, a
# single character before the alignment, may be a digit too: still small).
_SPEC_NUMBER = re.compile(r"\d+")
# One %-conversion: flags, width, precision.
_PERCENT = re.compile(rb"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_format(spec: Any) -> None:
    """Refuse a format specification (``format(x, spec)``, ``f"{x:spec}"``)
    whose width or precision would build a huge string."""
    if isinstance(spec, str):
        for number in _SPEC_NUMBER.findall(spec):
            _too_long(_digits(number), "formatted field")


def _digits(number: str | bytes) -> int:
    return int(number) if len(number) <= 12 else MAX_ITEMS + 1


def _check_percent(fmt: str | bytes, args: Any) -> None:
    data = fmt.encode("utf-8", "surrogatepass") if isinstance(fmt, str) else fmt
    star = False
    for m in _PERCENT.finditer(data):
        for group in m.groups():
            if group == b"*":
                star = True
            elif group:
                _too_long(_digits(group), "formatted field")
    if star:  # widths taken from the arguments
        for v in args if isinstance(args, tuple) else (args,):
            if isinstance(v, int) and abs(v) > MAX_ITEMS:
                _too_long(abs(v), "formatted field")


def _check_str_format(text: str, args: tuple, kwargs: dict) -> None:
    """``text.format(*args, **kwargs)``: literal specs are checked; a spec
    built from arguments (``{:{w}}``) makes every int argument a width."""
    import string

    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format raises the same error itself
    nested = False
    for _, _, spec, _ in fields:
        if spec:
            if "{" in spec:
                nested = True
            check_format(spec)
    if nested:
        for v in (*args, *kwargs.values()):
            if isinstance(v, int) and abs(v) > MAX_ITEMS:
                _too_long(abs(v), "formatted field")


def _padded(args: tuple) -> int:
    width = _int(args[0]) if args else None
    return width or 0


def _method_cost(owner: Any, name: str, args: tuple, kwargs: dict) -> None:
    """Methods of str/bytes/list that build results larger than their inputs."""
    if name in ("ljust", "rjust", "center", "zfill"):
        _too_long(_padded(args), f"{name}()")
    elif name == "expandtabs":
        tab = _int(args[0]) if args else _int(kwargs.get("tabsize", 8))
        if tab is not None and isinstance(owner, (str, bytes)):
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
            _too_long(tabs * max(tab, 0) + len(owner), "expandtabs()")
    elif name == "replace" and len(args) >= 2 and isinstance(owner, (str, bytes)):
        old, new = args[0], args[1]
        if isinstance(old, type(owner)) and isinstance(new, type(owner)):
            count = owner.count(old) if old else len(owner) + 1
            limit = _int(args[2]) if len(args) > 2 else None
            if limit is not None and limit >= 0:
                count = min(count, limit)
            _too_long(len(owner) + count * max(len(new) - len(old), 0), "replace()")
    elif name == "join" and isinstance(owner, (str, bytes)) and args:
        parts = args[0]
        if isinstance(parts, (list, tuple)):
            total = sum(_size(p) for p in parts) + len(owner) * max(len(parts) - 1, 0)
            _too_long(total, "join()")
    elif name in ("format", "format_map") and isinstance(owner, str):
        mapping = args[0] if name == "format_map" and args and isinstance(args[0], dict) else {}
        _check_str_format(owner, args if name == "format" else (), {**kwargs, **mapping})


def check_call(fn: Callable, args: list, kwargs: dict) -> None:
    """Refuse a call of a pure function or method whose result would be too
    large (``"a".ljust(10 ** 9)``, ``format(x, ">2000000000")``, ``pow(2, 10 ** 9)``)."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, (str, bytes, bytearray)):
        _method_cost(owner, name, tuple(args), kwargs)
        return
    if fn is format and len(args) >= 2:
        check_format(args[1])
    elif fn is pow and len(args) == 2:
        check_binop(ast.Pow(), args[0], args[1])
    elif name in ("dumps",) and isinstance(kwargs.get("indent"), int):
        _too_long(kwargs["indent"], "indentation")
    elif name == "indent" and len(args) >= 2 and isinstance(args[0], str):
        prefix = args[1] if isinstance(args[1], str) else ""
        _too_long(len(args[0]) + len(prefix) * (args[0].count("\n") + 1), "indent()")


def bounded(values: Any) -> list:
    """An iterator's items as a list, refused past MAX_ITEMS (itertools.product
    of ranges can describe more items than memory holds)."""
    out = []
    for item in values:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise TooCostly("sequence too large to evaluate statically")
    return out


def check_combinatorics(kind: str, args: tuple, kwargs: dict) -> None:
    """itertools.product/permutations/combinations: their count, estimated
    from the sizes of the inputs (in logarithms: the count itself may be
    astronomically large) before any tuple is made."""
    if kind == "product":
        repeat = _int(kwargs.get("repeat", 1)) or 0
        logs = sum(math.log(max(_size(it), 1)) for it in args) * max(repeat, 0)
    else:
        n = _size(args[0]) if args else 0
        r = _int(args[1]) if len(args) > 1 else _int(kwargs.get("r"))
        r = n if r is None else r
        if r < 0 or r > n:
            return
        logs = math.lgamma(n + 1) - math.lgamma(n - r + 1)
        if kind == "combinations":
            logs -= math.lgamma(r + 1)
    if logs > math.log(MAX_ITEMS):
        raise TooCostly(f"itertools.{kind}() too large to evaluate statically")
