"""A small abstract interpreter over Python ``ast`` modules, shared by the
static frontends (Airflow, Prefect, the Luigi static fallback).

Why: workflow files compute their structure with ordinary Python (f-strings,
loops over lists, factories called with literal arguments). Importing the file
would run user code; reading only literals misses most real DAGs. This module
runs the *safe* part of the module itself: literals, names, arithmetic,
formatting, containers, comprehensions, loops over known iterables, calls of
functions defined in the file, and a table of pure library calls (``datetime``,
``timedelta``, ``pendulum.datetime``, ``os.path.join``, ``json.dumps`` ...).
Everything else becomes an :class:`Unknown` value that remembers why and where,
and the interpreter records a :class:`Note` so the frontend can turn it into a
diagnostic with its own code.

API
---
``Interpreter(hooks, path=..., source=..., module_name=..., file_value=..., instances=False)``
    ``run_module(tree)`` executes a parsed module and returns the global dict;
    ``notes`` lists what could not be known (deduplicated, in order);
    ``eval(node, scope)`` evaluates one expression; ``call(func, args, kwargs,
    node)`` calls any value; ``call_function(fn, args, kwargs)`` runs a
    :class:`FunctionValue` (use it from hooks, e.g. to run an ``@dag`` body).
``Hooks``
    Subclass it; every method returns :data:`NOT_HANDLED` to fall back to the
    generic behaviour. ``call`` (any call, first say), ``binop`` (``>>`` etc.
    when an operand is not a plain number), ``getattr``/``setattr``/``getitem``
    on values the engine owns, ``enter_with``/``exit_with`` (context managers),
    ``decorate`` (decorators on ``def``), ``make_class`` (``class`` statements),
    ``note`` (observe every note as it happens), ``to_str`` (an engine object
    inside an f-string).
Values
    Plain Python values for what is known (str, int, list, dict, datetime,
    timedelta ...); :class:`Ref` for imported names (``Ref("airflow.DAG")``: its
    qualified name, after ``import x as y`` aliases are resolved);
    :class:`FunctionValue`, :class:`ClassValue`, :class:`BoundMethod` (a
    method of an engine object, for ``Hooks.call``); with ``instances=True``
    calling a class of the file gives an :class:`InstanceValue` (``__init__``
    run, methods bound as :class:`BoundFunction`);
    :class:`Unknown` for run-time values. Engine objects made by hooks are any
    Python objects; the interpreter only passes them around.
Note kinds
    ``runtime`` (needs run time: file, env var, network, unknown call),
    ``loop`` (loop over an unknown iterable: body not unrolled),
    ``condition`` (if/while on an unknown value), ``unsupported`` (a statement
    form not interpreted), ``error`` (evaluation raised), ``limit`` (step or
    iteration budget exhausted). Frontends map kinds to their codes.

Data files of the repository: with ``files=`` (the frontend's view of the
repository, ``wfconv.frontends.repo.DataFiles``) ``open(path)``,
``Path(...).read_text()``, ``json.load``, ``yaml.safe_load`` (and
``yaml.load`` with a standard loader, read as ``safe_load``),
``os.path.exists``/``isfile``/``isdir``, ``os.listdir``, ``os.walk``,
``glob.glob`` and ``Path.glob``/``rglob``/``iterdir`` read
regular files and folders *inside the repository* as data: reading a config
file is not running code. Anything else (outside the repository, too large,
not a regular file) stays unknown with a ``runtime`` note saying why.

Control flow on unknown values: an ``if`` whose test is unknown runs *both*
branches (body then else), so every task either branch could create is seen;
a ``while`` on an unknown test is skipped; loops over unknown iterables are
skipped. Exceptions raised by evaluating the file never escape: they become
Unknown (``error`` note). An exception raised inside a hook is a frontend bug
and surfaces as :class:`HookError`. Helpers for frontends: ``contains_unknown``,
``is_known``, ``runtime_reason``, ``class_lookup``, ``literal_or_source``.
"""

from __future__ import annotations

import ast
import builtins
import copy
import datetime as _dt
import itertools
import json
import math
import os
import pathlib
import posixpath
import textwrap
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wfconv.frontends import budget

RUNTIME = "runtime"
LOOP = "loop"
CONDITION = "condition"
UNSUPPORTED = "unsupported"
ERROR = "error"
LIMIT = "limit"

# Bounds that keep hostile or pathological files fast.
MAX_STEPS = 500_000
MAX_LOOP = 20_000
MAX_DEPTH = 40
MAX_SEQ = budget.MAX_ITEMS
MAX_IMPORT_DEPTH = 30


class _NotHandled:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_HANDLED"


NOT_HANDLED: Any = _NotHandled()


@dataclass(eq=False)
class Unknown:
    """A value only known at run time (or not understood).

    kind: a note kind (``runtime`` ...); reason: human text (``reads a file``);
    line: where the unknown value was born; source: the expression text that
    produced it (kept so frontends can show it verbatim).
    """

    kind: str
    reason: str
    line: int | None = None
    source: str | None = None

    def __repr__(self) -> str:
        return f"Unknown({self.source or self.reason!r})"


@dataclass(frozen=True)
class Ref:
    """An imported (or builtin-module) name, by qualified name."""

    qualname: str

    def attr(self, name: str) -> Ref:
        return Ref(f"{self.qualname}.{name}")

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Note:
    kind: str
    message: str
    line: int | None
    # The file the line is in, when it is not the main file (a module of the
    # repository that the main file imports).
    path: str | None = None


@dataclass(eq=False)
class FunctionValue:
    """A ``def``/``lambda`` of the file, with the scope it closes over."""

    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    scope: Scope
    defaults: list[Any]
    kw_defaults: dict[str, Any]
    interp: Interpreter
    decorators: list[Any] = field(default_factory=list)
    # The class whose body defines it (for zero-argument ``super()``).
    owner: ClassValue | None = None

    @property
    def line(self) -> int:
        return self.node.lineno

    def __call__(self, *args, **kwargs):
        # Lets native helpers (sorted(key=...), map) call back into the file.
        return self.interp.call_function(self, list(args), kwargs)

    def __repr__(self) -> str:
        return f"<function {self.name}>"


@dataclass(eq=False)
class ClassValue:
    """A ``class`` statement: name, evaluated bases, class namespace."""

    name: str
    bases: list[Any]
    namespace: dict[str, Any]
    node: ast.ClassDef
    module: str | None = None  # dotted name of the imported module defining it

    def base_names(self) -> list[str]:
        out = []
        for b in self.bases:
            if isinstance(b, Ref):
                out.append(b.name)
            elif isinstance(b, ClassValue):
                out.append(b.name)
                out.extend(b.base_names())
        return out


@dataclass(eq=False)
class InstanceValue:
    """An object of a class defined in the file (``Interpreter(instances=True)``):
    its attributes, set by ``__init__`` and methods, live in ``attrs``."""

    cls: ClassValue
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class BoundFunction:
    """A method of the file bound to its instance (or class, for classmethods)."""

    fn: FunctionValue
    owner: Any


def class_lookup(cls: ClassValue, name: str, _depth: int = 0) -> Any:
    """``name`` in the class namespace, then in its bases (depth first)."""
    if name in cls.namespace:
        return cls.namespace[name]
    if _depth < 20:
        for base in cls.bases:
            if isinstance(base, ClassValue):
                found = class_lookup(base, name, _depth + 1)
                if found is not NOT_HANDLED:
                    return found
    return NOT_HANDLED


@dataclass(eq=False)
class BoundMethod:
    """``obj.name`` where obj is an engine object (given to ``Hooks.call``)."""

    obj: Any
    name: str


@dataclass(eq=False)
class ModuleValue:
    """A module of the user's repository, imported through
    ``Interpreter(importer=...)``: its global names after its body ran."""

    name: str
    path: str | None
    namespace: dict[str, Any]
    is_package: bool = False

    def __repr__(self) -> str:
        return f"<module {self.name}>"


@dataclass(eq=False)
class SuperValue:
    """``super()`` inside a method of ``cls``, bound to ``obj``. Attributes
    found in a base class of the file bind as methods; an attribute of a base
    the file does not define (an engine class) is a :class:`BoundMethod` of
    this value, so ``Hooks.call`` can give ``super().__init__(...)`` its meaning."""

    cls: ClassValue
    obj: Any


@dataclass(frozen=True)
class ModuleSource:
    """What an importer returns for a module it found: its dotted name, file,
    text and parsed tree (``is_package``: an ``__init__.py`` or a folder)."""

    name: str
    path: str | None
    source: str
    tree: ast.Module
    is_package: bool = False


@dataclass(eq=False)
class SourceUnit:
    """The file a piece of code comes from: its path and text (for notes,
    lines and source text) and dotted module name (for relative imports)."""

    path: str | None
    source: str | None
    name: str
    is_package: bool = False
    lines: list[str] | None = None


class Scope:
    """Variables of one module/function body; lookups climb to the parents."""

    __slots__ = ("vars", "parent", "module", "globals_names", "unit")

    def __init__(self, parent: Scope | None = None):
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.module: Scope = parent.module if parent is not None else self
        self.globals_names: set[str] = set()
        # Module scopes only: the file the module comes from (None: the main file).
        self.unit: SourceUnit | None = None

    def lookup(self, name: str) -> Any:
        s: Scope | None = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            s = s.parent
        return NOT_HANDLED

    def assign(self, name: str, value: Any) -> None:
        if name in self.globals_names:
            self.module.vars[name] = value
        else:
            self.vars[name] = value


class HookError(Exception):
    """A bug inside a frontend's hook: never swallowed as an Unknown value."""


class _GuardedHooks:
    """Wraps hooks so an exception they raise surfaces as HookError instead of
    being read as "user code failed to evaluate"."""

    def __init__(self, hooks: Hooks):
        self._hooks = hooks

    def __getattr__(self, name: str):
        fn = getattr(self._hooks, name)
        if not callable(fn):
            return fn
        owner = type(self._hooks).__name__

        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (_Return, _Break, _Continue, _Abort, HookError, RecursionError):
                raise
            except Exception as exc:
                raise HookError(f"{owner}.{name}: {type(exc).__name__}: {exc}") from exc

        # Cache: later lookups find the attribute without __getattr__.
        setattr(self, name, guarded)
        return guarded


class Hooks:
    """Extension points for a frontend; the defaults handle nothing."""

    def call(self, interp: Interpreter, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        return NOT_HANDLED

    def binop(
        self, interp: Interpreter, op: ast.operator, left: Any, right: Any, node: ast.AST
    ) -> Any:
        return NOT_HANDLED

    def getattr(self, interp: Interpreter, obj: Any, name: str, node: ast.AST) -> Any:
        return NOT_HANDLED

    def setattr(self, interp: Interpreter, obj: Any, name: str, value: Any, node: ast.AST) -> Any:
        return NOT_HANDLED

    def getitem(self, interp: Interpreter, obj: Any, key: Any, node: ast.AST) -> Any:
        return NOT_HANDLED

    def enter_with(self, interp: Interpreter, value: Any, node: ast.withitem) -> Any:
        """Return the value bound by ``as`` (NOT_HANDLED: the value itself)."""
        return NOT_HANDLED

    def exit_with(self, interp: Interpreter, value: Any, node: ast.withitem) -> None:
        return None

    def decorate(self, interp: Interpreter, decorator: Any, target: Any, node: ast.AST) -> Any:
        """Apply one decorator (NOT_HANDLED: the target is kept unchanged)."""
        return NOT_HANDLED

    def make_class(self, interp: Interpreter, cls: ClassValue) -> Any:
        return NOT_HANDLED

    def note(self, interp: Interpreter, note: Note) -> None:
        return None

    def to_str(self, interp: Interpreter, obj: Any) -> Any:
        """Text of an engine object inside an f-string (e.g. an XCom
        reference as its template); NOT_HANDLED makes the string unknown."""
        return NOT_HANDLED

    def discarded(self, interp: Interpreter, value: Unknown, node: ast.Call) -> None:
        """A call statement whose result is unknown (``build_tasks(dag)``):
        what it did is not known either."""
        return None

    def skipped(
        self, interp: Interpreter, nodes: list[ast.AST], why: str, line: int | None
    ) -> None:
        """Code the interpreter could not run (the body of a loop over a
        run-time value, a ``while`` on one, a comprehension over one): a
        frontend can tell what it would have built, to say what is missing."""
        return None


# ---------------------------------------------------------------------------
# pure library calls, by qualified name


def _pendulum_datetime(
    year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0, tz="UTC", **_
):
    return _dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=_tz(tz))


def _tz(tz: Any) -> _dt.tzinfo | None:
    if tz is None:
        return None
    if isinstance(tz, _dt.tzinfo):
        return tz
    if isinstance(tz, str):
        if tz.upper() == "UTC":
            return _dt.UTC
        return zoneinfo.ZoneInfo(tz)
    raise ValueError(f"unknown timezone {tz!r}")


def _duration(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0, **_):
    return _dt.timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)


def _listed(fn: Callable) -> Callable:
    """An itertools function whose items are listed (within the size budget)."""
    kind = fn.__name__

    def listed(*a, **k):
        if kind in ("product", "permutations", "combinations"):
            budget.check_combinatorics(kind, a, k)
        return budget.bounded(fn(*a, **k))

    return listed


PURE_CALLS: dict[str, Callable] = {
    "datetime.datetime": _dt.datetime,
    "datetime.date": _dt.date,
    "datetime.time": _dt.time,
    "datetime.timedelta": _dt.timedelta,
    "datetime.timezone": _dt.timezone,
    "datetime.datetime.fromisoformat": _dt.datetime.fromisoformat,
    "datetime.datetime.strptime": _dt.datetime.strptime,
    "datetime.datetime.combine": _dt.datetime.combine,
    "datetime.date.fromisoformat": _dt.date.fromisoformat,
    "pendulum.datetime": _pendulum_datetime,
    "pendulum.DateTime": _pendulum_datetime,
    "pendulum.duration": _duration,
    "pendulum.Duration": _duration,
    "pendulum.timezone": _tz,
    "pendulum.tz.timezone": _tz,
    "pendulum.parse": _dt.datetime.fromisoformat,
    "zoneinfo.ZoneInfo": zoneinfo.ZoneInfo,
    "pytz.timezone": _tz,
    "dateutil.tz.gettz": _tz,
    "os.path.join": posixpath.join,
    "os.path.basename": posixpath.basename,
    "os.path.dirname": posixpath.dirname,
    "os.path.splitext": posixpath.splitext,
    "os.path.normpath": posixpath.normpath,
    "os.path.split": posixpath.split,
    "os.sep.join": posixpath.join,
    "posixpath.join": posixpath.join,
    "json.dumps": json.dumps,
    "json.loads": json.loads,
    "textwrap.dedent": textwrap.dedent,
    "textwrap.indent": textwrap.indent,
    "copy.copy": copy.copy,
    "copy.deepcopy": copy.deepcopy,
    "itertools.product": _listed(itertools.product),
    "itertools.chain": _listed(itertools.chain),
    "itertools.combinations": _listed(itertools.combinations),
    "itertools.permutations": _listed(itertools.permutations),
    "itertools.islice": _listed(itertools.islice),
    "itertools.pairwise": _listed(itertools.pairwise),
    "itertools.zip_longest": _listed(itertools.zip_longest),
    "collections.OrderedDict": dict,
    "collections.defaultdict": lambda *a: {},
    "math.ceil": math.ceil,
    "math.floor": math.floor,
    # Paths as pure values; methods that touch the disk are run time (getattr).
    "pathlib.Path": pathlib.PurePosixPath,
    "pathlib.PurePath": pathlib.PurePosixPath,
    "pathlib.PurePosixPath": pathlib.PurePosixPath,
}

# Calls that only build helper objects (loggers, warning filters): their
# value is unknown but nothing about the workflow depends on it, so no note.
SILENT_CALLS = ("logging.", "warnings.")

# Module attributes that are plain constants.
CONSTANTS: dict[str, Any] = {
    "typing.TYPE_CHECKING": False,
    "datetime.timezone.utc": _dt.UTC,
    "datetime.UTC": _dt.UTC,
    "pendulum.UTC": _dt.UTC,
    "pendulum.timezone.utc": _dt.UTC,
    "pytz.utc": _dt.UTC,
    "pytz.UTC": _dt.UTC,
    "os.sep": "/",
    "os.linesep": "\n",
    "math.pi": math.pi,
    "datetime.datetime.min": _dt.datetime.min,
    "datetime.datetime.max": _dt.datetime.max,
}

# Calls whose result needs run time; the reason says why (exact name or a
# module prefix ending with ".").
RUNTIME_REASONS: dict[str, str] = {
    "open": "reads a file",
    "input": "reads standard input",
    "eval": "evaluates code at run time",
    "exec": "executes code at run time",
    "__import__": "imports a module at run time",
    "os.getenv": "reads an environment variable",
    "os.environ.get": "reads an environment variable",
    "os.environ.__getitem__": "reads an environment variable",
    "os.listdir": "lists a directory",
    "os.walk": "lists a directory",
    "os.scandir": "lists a directory",
    "os.path.exists": "looks at the file system",
    "os.path.isfile": "looks at the file system",
    "os.path.isdir": "looks at the file system",
    "os.path.abspath": "depends on the working directory",
    "os.path.realpath": "looks at the file system",
    "os.getcwd": "depends on the working directory",
    "json.load": "reads a file",
    "glob.": "lists files",
    "pathlib.": "reads the file system",
    "yaml.": "reads YAML (usually from a file)",
    "csv.": "reads a file",
    "configparser.": "reads a configuration file",
    "requests.": "makes a network call",
    "urllib.": "makes a network call",
    "http.": "makes a network call",
    "socket.": "makes a network call",
    "boto3.": "calls a cloud API",
    "google.": "calls a cloud API",
    "subprocess.": "runs a command",
    "sqlalchemy.": "queries a database",
    "psycopg2.": "queries a database",
    "random.": "is random",
    "uuid.": "is random",
    "time.": "reads the clock",
    "datetime.datetime.now": "reads the clock",
    "datetime.datetime.utcnow": "reads the clock",
    "datetime.datetime.today": "reads the clock",
    "datetime.date.today": "reads the clock",
    "pendulum.now": "reads the clock",
    "pendulum.today": "reads the clock",
    "pendulum.yesterday": "reads the clock",
    "pendulum.tomorrow": "reads the clock",
}


def runtime_reason(qualname: str) -> str | None:
    """Why a call of ``qualname`` needs run time, if it is a known case."""
    if qualname in RUNTIME_REASONS:
        return RUNTIME_REASONS[qualname]
    parts = qualname.split(".")
    for i in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:i]) + "."
        if prefix in RUNTIME_REASONS:
            return RUNTIME_REASONS[prefix]
    return None


# Calls that read the repository's data files (Interpreter(files=...)), by
# what they do; the YAML/JSON parsers also take text without any file.
_FILE_CALLS: dict[str, str] = {
    "open": "open",
    "io.open": "open",
    "builtins.open": "open",
    "json.load": "json",
    "yaml.safe_load": "yaml",
    "yaml.load": "yaml",
    "yaml.full_load": "yaml",
    "yaml.safe_load_all": "yaml_all",
    "yaml.load_all": "yaml_all",
    "yaml.full_load_all": "yaml_all",
    "os.path.exists": "exists",
    "os.path.isfile": "isfile",
    "os.path.isdir": "isdir",
    "os.listdir": "listdir",
    "glob.glob": "glob",
    "os.walk": "walk",
    "os.path.abspath": "abspath",
    "os.path.realpath": "realpath",
    "pathlib.Path.read_text": "read_text",
    "pathlib.Path.read_bytes": "read_bytes",
    "pathlib.Path.open": "open",
    "pathlib.Path.exists": "exists",
    "pathlib.Path.is_file": "isfile",
    "pathlib.Path.is_dir": "isdir",
    "pathlib.Path.glob": "pglob",
    "pathlib.Path.rglob": "rglob",
    "pathlib.Path.iterdir": "iterdir",
    "pathlib.Path.resolve": "resolve",
    "pathlib.Path.absolute": "absolute",
}
_TEXT_PARSERS = frozenset(q for q, what in _FILE_CALLS.items() if what.startswith("yaml"))
_FIRST_ARG = {
    "yaml": "stream",
    "yaml_all": "stream",
    "json": "fp",
    "glob": "pathname",
    "walk": "top",
}
_PATH_METHODS = frozenset(q.rsplit(".", 1)[1] for q in _FILE_CALLS if q.startswith("pathlib.Path."))
# yaml.load(..., Loader=X): the standard loaders read plain YAML as safe_load
# does (a document that needs more, Python tags, is refused by safe_load).
_YAML_LOADERS = {
    **dict.fromkeys(
        ("SafeLoader", "FullLoader", "Loader", "UnsafeLoader", "CSafeLoader", "CFullLoader"),
        "safe",
    ),
    **dict.fromkeys(("CLoader", "CUnsafeLoader"), "safe"),
    **dict.fromkeys(("BaseLoader", "CBaseLoader"), "base"),
}
# A YAML document whose aliases expand past this many values is refused.
MAX_YAML_VALUES = 200_000


def _parse_yaml(text: str | bytes, every: bool, loader: Any) -> Any:
    import yaml

    kind = "safe"
    if loader is not NOT_HANDLED:
        kind = _YAML_LOADERS.get(loader.name) if isinstance(loader, Ref) else None
        if kind is None:
            raise FileRefused(f"the YAML loader {loader!r} is not read statically")
    # libyaml's loaders when PyYAML has them: the same documents, 3x faster.
    c = getattr(yaml, "__with_libyaml__", False)
    if kind == "safe":
        cls = yaml.CSafeLoader if c else yaml.SafeLoader
    else:
        cls = yaml.CBaseLoader if c else yaml.BaseLoader
    try:
        docs = list(yaml.load_all(text, Loader=cls)) if every else yaml.load(text, Loader=cls)
    except yaml.YAMLError as exc:
        raise FileRefused(f"the document is not YAML that safe_load reads: {exc}") from None
    _bounded(docs, MAX_YAML_VALUES)
    return docs


def _bounded(value: Any, limit: int) -> None:
    """Refuse data whose shared parts (YAML aliases) expand past ``limit``
    values: walking it would take the time an alias bomb is made to take."""
    stack, count = [value], 0
    while stack:
        v = stack.pop()
        count += 1
        if count > limit:
            raise FileRefused(f"the data expands to more than {limit} values")
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)


# Builtins that are pure on known values.
_PURE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs all any bool chr dict divmod enumerate filter float format frozenset hex "
        "int isinstance len list map max min oct ord pow range repr reversed round set "
        "slice sorted str sum tuple zip"
    ).split()
}
_PURE_BUILTINS["range"] = lambda *a: _checked_range(*a)
_NATIVE_IDS = {id(f) for f in _PURE_BUILTINS.values()}
# Builtins that are names only (decorators, bases, super): no note when used.
_MARKER_BUILTINS = {
    "globals",
    "print",
    "staticmethod",
    "classmethod",
    "property",
    "super",
    "object",
    "Exception",
    "ValueError",
    "TypeError",
    "KeyError",
    "RuntimeError",
    "NotImplementedError",
    "ImportError",
}


class FileRefused(Exception):
    """A data file or folder the interpreter may not read (outside the
    repository, too large, not a regular file); the message says why."""


class DataFile:
    """A file of the repository opened for reading: ``read``, ``readline``,
    ``readlines`` and iteration over its lines, on the text read once."""

    __slots__ = ("name", "_data", "_pos")

    def __init__(self, name: str, data: str | bytes):
        self.name = name
        self._data = data
        self._pos = 0

    def read(self, size: int = -1) -> str | bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        out = self._data[self._pos : end]
        self._pos = min(end, len(self._data))
        return out

    def readline(self) -> str | bytes:
        nl = "\n" if isinstance(self._data, str) else b"\n"
        i = self._data.find(nl, self._pos)
        return self.read(-1 if i < 0 else i + 1 - self._pos)

    def readlines(self) -> list:
        return list(self)

    def close(self) -> None:
        return None

    def __iter__(self):
        rest = self.read()
        return iter(rest.splitlines(keepends=True))


# Types whose public methods are pure (no I/O): calling them on known values is safe.
_SAFE_TYPES = (
    DataFile,
    str,
    bytes,
    int,
    float,
    bool,
    list,
    tuple,
    dict,
    set,
    frozenset,
    _dt.datetime,
    _dt.date,
    _dt.timedelta,
    _dt.time,
    type({}.items()),
    type({}.keys()),
    type({}.values()),
    pathlib.PurePosixPath,
)


def _checked_range(*args):
    r = range(*args)
    if len(r) > MAX_SEQ:
        raise ValueError(f"range of {len(r)} items is too large to unroll")
    return list(r)


def contains_unknown(value: Any, _depth: int = 0) -> Unknown | None:
    """The first Unknown inside a (nested) container, if any."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:  # most values: nothing inside
        return None
    if isinstance(value, Unknown):
        return value
    if _depth > 20:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            u = contains_unknown(v, _depth + 1)
            if u is not None:
                return u
    elif isinstance(value, dict):
        for k, v in value.items():
            u = contains_unknown(k, _depth + 1) or contains_unknown(v, _depth + 1)
            if u is not None:
                return u
    return None


def is_known(value: Any) -> bool:
    return contains_unknown(value) is None


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Abort(Exception):
    """Budget exhausted: stop interpreting, keep what was found."""


class _Raise(_Return):
    """A ``raise`` statement: ends its block like a return of an Unknown
    (so every handler of _Return still applies), and can be told apart where
    a raise only happens under a run-time condition."""

    def __init__(self, value: Unknown, node: ast.Raise):
        super().__init__(value)
        self.node = node


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
    ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitXor: lambda a, b: a ^ b,
    ast.MatMult: lambda a, b: a @ b,
}

_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: lambda a: +a,
    ast.USub: lambda a: -a,
    ast.Not: lambda a: not a,
    ast.Invert: lambda a: ~a,
}

_SCALARS = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    _dt.datetime,
    _dt.date,
    _dt.timedelta,
    _dt.time,
)

# Calls that turn their arguments into text (see Interpreter._native).
_STRINGIFIERS = (str, repr, ascii, format)
_STR_FORMATTERS = frozenset({"format", "format_map"})


def _only_plain(value: Any, depth: int = 0) -> bool:
    """True if ``value`` holds nothing but plain values (its text is the
    engine's text too); objects of a frontend's model inside containers are not."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return depth < 50 and all(_only_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return depth < 50 and all(
            _only_plain(k, depth + 1) and _only_plain(v, depth + 1) for k, v in value.items()
        )
    return isinstance(value, _PLAIN)


# Exact result types of pure calls that are never iterators (see _native).
_NOT_ITERATORS = frozenset({*_SCALARS, list, tuple, dict, set, frozenset})

_PLAIN = (
    pathlib.PurePosixPath,
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    list,
    tuple,
    dict,
    set,
    frozenset,
    _dt.datetime,
    _dt.date,
    _dt.timedelta,
    _dt.time,
)


class Interpreter:
    """Runs the statically knowable part of a module (see the module doc)."""

    def __init__(
        self,
        hooks: Hooks | None = None,
        *,
        path: str | None = None,
        source: str | None = None,
        module_name: str = "__wfconv_module__",
        file_value: Any = NOT_HANDLED,
        max_steps: int = MAX_STEPS,
        instances: bool = False,
        importer: Callable[[str], ModuleSource | str | None] | None = None,
        files: Any = None,
    ):
        # instances=True: calling a class of the file builds an InstanceValue and
        # runs its __init__ (class-based factories); otherwise such calls are
        # unknown (frontends whose hooks model classes themselves keep that).
        self.instances = instances
        self.engine_hooks = hooks or Hooks()
        self.hooks = _GuardedHooks(self.engine_hooks)
        self.path = path
        self.source = source
        self._lines_cache: list[str] | None = None
        self.notes: list[Note] = []
        self._noted: set[tuple[str, str, int | None, str | None]] = set()
        self.module_name = module_name
        self.file_value = file_value
        self.max_steps = max_steps
        self.steps = 0
        self.clock = budget.Clock()
        self.depth = 0
        self.line: int | None = None
        self.module_scope = Scope()
        # Modules of the repository (``importer``: dotted name -> ModuleSource,
        # an error message, or None when the name is not the repository's).
        self.importer = importer
        # The repository's data files (see the module doc): ``read(path,
        # binary)``, ``kind(path)`` ("file", "dir" or None) and ``listdir(path)``,
        # each raising FileRefused; None: no file is read.
        self.files = files
        self.modules: dict[str, ModuleValue | None] = {}
        self.importing = 0  # > 0 while an imported module's body runs
        self.main_unit = SourceUnit(path, source, module_name)
        self.unit = self.main_unit
        # Functions being run (innermost last): for zero-argument super().
        self.frames: list[tuple[FunctionValue, Scope]] = []

    # -- notes and unknowns ----------------------------------------------
    def note(self, kind: str, message: str, line: int | None) -> None:
        """Record a note. ``notes`` keeps each (kind, message, line) once; the
        hook sees every occurrence (a factory called twice notes twice), so a
        frontend can attribute it to whatever is being built at that moment."""
        path = self.path if self.unit is not self.main_unit else None
        n = Note(kind, message, line, path)
        key = (kind, message, line, path)
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(n)
        self.hooks.note(self, n)

    def unknown(
        self, kind: str, reason: str, node: ast.AST | None, *, note: bool = True
    ) -> Unknown:
        line = getattr(node, "lineno", None) or self.line
        src = self.source_text(node) if node is not None else None
        if note:
            what = f"`{_short(src)}` " if src else ""
            self.note(kind, f"{what}{reason}".strip(), line)
        return Unknown(kind, reason, line, src)

    @property
    def _lines(self) -> list[str] | None:
        # Split lazily: most files never need an expression's source text.
        if self._lines_cache is None and self.source is not None:
            self._lines_cache = self.source.splitlines()
        return self._lines_cache

    def source_text(self, node: ast.AST) -> str:
        """The exact source of a node when the text is known, else unparsed."""
        if self._lines is not None and getattr(node, "end_lineno", None) is not None:
            l0, l1 = node.lineno - 1, node.end_lineno - 1
            c0, c1 = node.col_offset, node.end_col_offset
            try:
                if l0 == l1:
                    return _slice_utf8(self._lines[l0], c0, c1)
                parts = [_slice_utf8(self._lines[l0], c0, None)]
                parts.extend(self._lines[l0 + 1 : l1])
                parts.append(_slice_utf8(self._lines[l1], 0, c1))
                return "\n".join(parts)
            except IndexError:
                pass
        try:
            return ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of odd nodes
            return type(node).__name__

    def _tick(self, line: int | None) -> None:
        """One step (a statement, a comprehension item): past ``max_steps``
        or the CPU budget (wfconv.frontends.budget), stop evaluating and keep
        what was found."""
        self.steps += 1
        if self.steps > self.max_steps:
            self.note(LIMIT, f"stopped after {self.max_steps} steps", line)
            raise _Abort()
        if self.clock.tick():
            self.note(
                LIMIT,
                f"static evaluation stopped after {self.clock.seconds:g} s of CPU time",
                line,
            )
            raise _Abort()

    # -- entry points ----------------------------------------------------
    def run_module(self, tree: ast.Module) -> dict[str, Any]:
        g = self.module_scope.vars
        g.setdefault("__name__", self.module_name)
        g.setdefault("__doc__", ast.get_docstring(tree, clean=False))
        if self.file_value is not NOT_HANDLED:
            g.setdefault("__file__", self.file_value)
        try:
            self.exec_block(tree.body, self.module_scope)
        except _Abort:
            pass
        except _Raise as r:
            self._note_raise(r, "the module raises an exception here: nothing after it is read")
        except (_Return, _Break, _Continue):
            pass
        return g

    def _note_raise(self, r: _Raise, what: str) -> None:
        self.note(ERROR, f"`{_short(self.source_text(r.node))}`: {what}", r.node.lineno)

    # -- modules of the repository ---------------------------------------
    def switch_unit(self, unit: SourceUnit, module_scope: Scope) -> tuple[SourceUnit, Scope]:
        """Make ``unit`` the current file (paths, lines and source text of
        notes come from it); returns what to give back to ``_restore``."""
        saved = (self.unit, self.module_scope)
        self.unit.lines = self._lines_cache
        self.unit = unit
        self.path, self.source, self._lines_cache = unit.path, unit.source, unit.lines
        self.module_scope = module_scope
        return saved

    def restore_unit(self, saved: tuple[SourceUnit, Scope]) -> None:
        self.switch_unit(*saved)

    def import_module(self, name: str, node: ast.AST | None) -> ModuleValue | None:
        """The repository's module ``name``, its body run once per
        interpreter (like ``sys.modules``); None when it is not the
        repository's (an installed package: imported names stay ``Ref``)."""
        if name in self.modules:
            return self.modules[name]
        if self.importer is None or not name:
            return None
        line = getattr(node, "lineno", self.line)
        if self.importing >= MAX_IMPORT_DEPTH:
            self.note(
                LIMIT, f"imports nested deeper than {MAX_IMPORT_DEPTH}: {name} not read", line
            )
            return None
        found = self.importer(name)
        if not isinstance(found, ModuleSource):
            self.modules[name] = None
            if isinstance(found, str):
                self.note(RUNTIME, found, line)
            return None
        mod = ModuleValue(name, found.path, {}, found.is_package)
        self.modules[name] = mod  # before its body runs, as in Python (import cycles)
        if "." in name:
            parent_name, _, last = name.rpartition(".")
            parent = self.import_module(parent_name, node)
            if parent is not None:
                parent.namespace.setdefault(last, mod)
        scope = Scope()
        scope.unit = SourceUnit(found.path, found.source, name, found.is_package)
        scope.vars = mod.namespace
        scope.vars.update(
            __name__=name, __file__=found.path, __doc__=ast.get_docstring(found.tree, clean=False)
        )
        saved, saved_frames, saved_line = (
            self.switch_unit(scope.unit, scope),
            self.frames,
            self.line,
        )
        self.frames = []
        self.importing += 1
        try:
            self.exec_block(found.tree.body, scope)
        except _Raise as r:
            self._note_raise(r, f"module {name} raises an exception when it is imported")
        except (_Return, _Break, _Continue):
            pass
        finally:
            self.importing -= 1
            self.frames, self.line = saved_frames, saved_line
            self.restore_unit(saved)
        return mod

    def _relative_base(self, level: int) -> str | None:
        """The package a ``from .x import y`` of the current file means."""
        unit = self.unit
        if unit is self.main_unit:
            return None  # the main file is loaded as a top-level module
        parts = unit.name.split(".")
        if not unit.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if len(parts) >= level - 1 else []
        return ".".join(parts) or None

    # -- statements ------------------------------------------------------
    def exec_block(self, stmts: list[ast.stmt], scope: Scope) -> None:
        for st in stmts:
            self._tick(st.lineno)
            self.line = st.lineno
            handler = self._STMT.get(type(st))
            if handler is None:
                self.note(
                    UNSUPPORTED, f"`{type(st).__name__}` statement not interpreted", st.lineno
                )
                continue
            handler(self, st, scope)

    def _s_expr(self, st: ast.Expr, scope: Scope) -> None:
        value = self.eval(st.value, scope)
        if type(value) is Unknown and type(st.value) is ast.Call:
            self.hooks.discarded(self, value, st.value)

    def _s_assign(self, st: ast.Assign, scope: Scope) -> None:
        value = self.eval(st.value, scope)
        for target in st.targets:
            self.bind(target, value, scope)

    def _s_annassign(self, st: ast.AnnAssign, scope: Scope) -> None:
        if st.value is not None:
            self.bind(st.target, self.eval(st.value, scope), scope)

    def _s_augassign(self, st: ast.AugAssign, scope: Scope) -> None:
        current = self.eval(_as_load(st.target), scope)
        right = self.eval(st.value, scope)
        if (
            isinstance(current, list)
            and isinstance(st.op, ast.Add)
            and isinstance(right, (list, tuple))
        ):
            current.extend(right)  # in place, like Python
            return
        self.bind(st.target, self.binop(st.op, current, right, st), scope)

    def _s_import(self, st: ast.Import, scope: Scope) -> None:
        for alias in st.names:
            mod = self.import_module(alias.name, st) if self.importer is not None else None
            if mod is not None:
                top = alias.name.split(".")[0]
                bound = mod if alias.asname else (self.modules.get(top) or Ref(top))
                scope.assign(alias.asname or top, bound)
            elif alias.asname:
                scope.assign(alias.asname, Ref(alias.name))
            else:
                top = alias.name.split(".")[0]
                scope.assign(top, Ref(top))

    def _s_importfrom(self, st: ast.ImportFrom, scope: Scope) -> None:
        if self.importer is not None:
            full = st.module or ""
            if st.level:
                base = self._relative_base(st.level)
                full = (f"{base}.{full}" if full else base) if base else ""
            found = self.import_module(full, st) if full else None
            if found is not None:
                self._bind_from(found, st, scope)
                return
        mod = ("." * (st.level or 0)) + (st.module or "")
        for alias in st.names:
            if alias.name == "*":
                self.note(UNSUPPORTED, f"`from {mod} import *`: names not known", st.lineno)
                continue
            qual = f"{mod}.{alias.name}" if mod and not mod.endswith(".") else f"{mod}{alias.name}"
            scope.assign(alias.asname or alias.name, Ref(qual))

    def _bind_from(self, mod: ModuleValue, st: ast.ImportFrom, scope: Scope) -> None:
        ns = mod.namespace
        for alias in st.names:
            if alias.name == "*":
                names = ns.get("__all__")
                if not (
                    isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)
                ):
                    names = [n for n in ns if not n.startswith("_")]
                for n in names:
                    if n in ns:
                        scope.assign(n, ns[n])
                continue
            value = ns.get(alias.name, NOT_HANDLED)
            if value is NOT_HANDLED:
                sub = self.import_module(f"{mod.name}.{alias.name}", st) if mod.is_package else None
                value = (
                    sub
                    if sub is not None
                    else self.unknown(
                        RUNTIME, f"name {alias.name!r} is not defined in module {mod.name}", st
                    )
                )
            scope.assign(alias.asname or alias.name, value)

    def _s_funcdef(self, st: ast.FunctionDef, scope: Scope) -> None:
        fn = self.make_function(st, scope)
        value: Any = fn
        for dec_node in reversed(st.decorator_list):
            dec = self.eval(dec_node, scope)
            fn.decorators.append(dec)
            res = self.hooks.decorate(self, dec, value, dec_node)
            if res is not NOT_HANDLED:
                value = res
        scope.assign(st.name, value)

    def _s_classdef(self, st: ast.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b, scope) for b in st.bases]
        body = Scope(scope)
        try:
            self.exec_block(st.body, body)
        except (_Return, _Break, _Continue):
            pass
        module = self.unit.name if self.unit is not self.main_unit else None
        cls = ClassValue(st.name, bases, body.vars, st, module)
        for v in body.vars.values():
            if isinstance(v, FunctionValue) and v.owner is None:
                v.owner = cls
        res = self.hooks.make_class(self, cls)
        scope.assign(st.name, cls if res is NOT_HANDLED else res)

    def _s_return(self, st: ast.Return, scope: Scope) -> None:
        raise _Return(self.eval(st.value, scope) if st.value is not None else None)

    def _s_if(self, st: ast.If, scope: Scope) -> None:
        test = self.eval(st.test, scope)
        if isinstance(test, Unknown) or not _truth_known(test):
            self.note(
                CONDITION,
                f"`if {_short(self.source_text(st.test))}` depends on a run-time value: both branches read",
                st.lineno,
            )
            raised: list[_Raise] = []
            for block in (st.body, st.orelse):
                try:
                    self.exec_block(block, scope)
                except _Raise as r:
                    raised.append(r)
            if len(raised) == 2:
                raise raised[0]
            if raised:
                # The usual guard (`if not configured: raise ...`): the file
                # loads when the condition is false, so read on that way.
                self.note(
                    CONDITION,
                    f"`{_short(self.source_text(raised[0].node))}` runs only when "
                    f"`{_short(self.source_text(st.test))}` holds at run time: read on as if it does not",
                    raised[0].node.lineno,
                )
            return
        self.exec_block(st.body if test else st.orelse, scope)

    def _s_for(self, st: ast.For, scope: Scope) -> None:
        it = self.eval(st.iter, scope)
        items = self.iterate(it, st.iter)
        if items is None:
            self.hooks.skipped(self, st.body, "loop", st.lineno)
            return
        broke = False
        for i, item in enumerate(items):
            if i >= MAX_LOOP:
                self.note(LIMIT, f"loop stopped after {MAX_LOOP} iterations", st.lineno)
                break
            self.bind(st.target, item, scope)
            try:
                self.exec_block(st.body, scope)
            except _Break:
                broke = True
                break
            except _Continue:
                continue
        if not broke:
            self.exec_block(st.orelse, scope)

    def _s_while(self, st: ast.While, scope: Scope) -> None:
        n = 0
        while True:
            test = self.eval(st.test, scope)
            if isinstance(test, Unknown) or not _truth_known(test):
                self.note(
                    CONDITION,
                    f"`while {_short(self.source_text(st.test))}` depends on a run-time value: body skipped",
                    st.lineno,
                )
                self.hooks.skipped(self, st.body, "while", st.lineno)
                return
            if not test:
                self.exec_block(st.orelse, scope)
                return
            n += 1
            if n > MAX_LOOP:
                self.note(LIMIT, f"loop stopped after {MAX_LOOP} iterations", st.lineno)
                return
            try:
                self.exec_block(st.body, scope)
            except _Break:
                return
            except _Continue:
                continue

    def _s_with(self, st: ast.With, scope: Scope) -> None:
        entered: list[tuple[Any, ast.withitem]] = []
        for item in st.items:
            value = self.eval(item.context_expr, scope)
            bound = self.hooks.enter_with(self, value, item)
            entered.append((value, item))
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value if bound is NOT_HANDLED else bound, scope)
        try:
            self.exec_block(st.body, scope)
        finally:
            for value, item in reversed(entered):
                self.hooks.exit_with(self, value, item)

    def _s_try(self, st: ast.Try, scope: Scope) -> None:
        # The body is what runs normally; handlers run only on errors we cannot
        # predict (typically ImportError fallbacks), so they are not read.
        try:
            self.exec_block(st.body, scope)
            self.exec_block(st.orelse, scope)
        except _Raise as r:
            if not st.handlers:
                raise
            # Python goes on after the handler, which is not read.
            self.note(
                UNSUPPORTED,
                f"`{_short(self.source_text(r.node))}` is handled by an `except` that is not read",
                r.node.lineno,
            )
        finally:
            self.exec_block(st.finalbody, scope)

    def _s_pass(self, st: ast.stmt, scope: Scope) -> None:
        return None

    def _s_break(self, st: ast.Break, scope: Scope) -> None:
        raise _Break()

    def _s_continue(self, st: ast.Continue, scope: Scope) -> None:
        raise _Continue()

    def _s_global(self, st: ast.Global, scope: Scope) -> None:
        scope.globals_names.update(st.names)

    def _s_nonlocal(self, st: ast.Nonlocal, scope: Scope) -> None:
        return None  # closures share Scope objects; assignment stays local (rare in DAG code)

    def _s_delete(self, st: ast.Delete, scope: Scope) -> None:
        for t in st.targets:
            if isinstance(t, ast.Name):
                scope.vars.pop(t.id, None)
            elif isinstance(t, ast.Subscript):
                obj = self.eval(t.value, scope)
                key = self.eval(t.slice, scope)
                if isinstance(obj, (dict, list)) and is_known(key):
                    try:
                        del obj[key]
                    except (KeyError, IndexError, TypeError):
                        pass

    def _s_raise(self, st: ast.Raise, scope: Scope) -> None:
        # A raise stops this block, as in Python; where it is caught says
        # what it means (a function's result is unknown, a guarded raise...).
        raise _Raise(Unknown(ERROR, "raises an exception", st.lineno, self.source_text(st)), st)

    def _s_assert(self, st: ast.Assert, scope: Scope) -> None:
        return None

    _STMT: dict[type, Callable] = {
        ast.Expr: _s_expr,
        ast.Assign: _s_assign,
        ast.AnnAssign: _s_annassign,
        ast.AugAssign: _s_augassign,
        ast.Import: _s_import,
        ast.ImportFrom: _s_importfrom,
        ast.FunctionDef: _s_funcdef,
        ast.AsyncFunctionDef: _s_funcdef,
        ast.ClassDef: _s_classdef,
        ast.Return: _s_return,
        ast.If: _s_if,
        ast.For: _s_for,
        ast.While: _s_while,
        ast.With: _s_with,
        ast.Try: _s_try,
        ast.Pass: _s_pass,
        ast.Break: _s_break,
        ast.Continue: _s_continue,
        ast.Global: _s_global,
        ast.Nonlocal: _s_nonlocal,
        ast.Delete: _s_delete,
        ast.Raise: _s_raise,
        ast.Assert: _s_assert,
    }
    if hasattr(ast, "TryStar"):
        _STMT[ast.TryStar] = _s_try

    # -- binding ---------------------------------------------------------
    def bind(self, target: ast.expr, value: Any, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._bind_seq(target, value, scope)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(obj, (dict, list)) and is_known(key):
                try:
                    obj[key] = value
                    return
                except (TypeError, IndexError):
                    pass
            if self.hooks.setattr(self, obj, "__setitem__", (key, value), target) is NOT_HANDLED:
                if isinstance(key, Unknown) and isinstance(obj, dict):
                    self.note(
                        RUNTIME,
                        f"assignment to `{_short(self.source_text(target))}` with a run-time key",
                        target.lineno,
                    )
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value, scope)
            res = self.hooks.setattr(self, obj, target.attr, value, target)
            if res is NOT_HANDLED and isinstance(obj, InstanceValue):
                obj.attrs[target.attr] = value
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, scope)

    def _bind_seq(self, target: ast.Tuple | ast.List, value: Any, scope: Scope) -> None:
        elts = target.elts
        items: list[Any] | None = None
        if isinstance(value, (list, tuple, str)) or type(value) in (type({}.items()),):
            items = list(value)
        elif isinstance(value, dict):
            items = list(value)
        if items is None:
            for e in elts:
                self.bind(
                    e,
                    value
                    if isinstance(value, Unknown)
                    else Unknown(RUNTIME, "cannot unpack", self.line),
                    scope,
                )
            return
        star = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), None)
        if star is None:
            if len(items) != len(elts):
                u = self.unknown(
                    ERROR, f"cannot unpack {len(items)} values into {len(elts)} names", target
                )
                for e in elts:
                    self.bind(e, u, scope)
                return
            for e, v in zip(elts, items, strict=True):
                self.bind(e, v, scope)
            return
        after = len(elts) - star - 1
        for e, v in zip(elts[:star], items[:star], strict=False):
            self.bind(e, v, scope)
        self.bind(elts[star], list(items[star : len(items) - after]), scope)
        for e, v in zip(elts[star + 1 :], items[len(items) - after :], strict=False):
            self.bind(e, v, scope)

    # -- iteration -------------------------------------------------------
    def iterate(self, value: Any, node: ast.AST) -> list[Any] | None:
        """The items of a known iterable, or None (and a ``loop`` note)."""
        if isinstance(value, Unknown) or not _iterable_known(value):
            self.note(
                LOOP,
                f"loop over `{_short(self.source_text(node))}`, which is only known at run time: body not unrolled",
                getattr(node, "lineno", self.line),
            )
            return None
        if isinstance(value, dict):
            return list(value.keys())
        try:
            return list(value)
        except Exception:
            self.note(
                LOOP,
                f"cannot iterate over `{_short(self.source_text(node))}`",
                getattr(node, "lineno", self.line),
            )
            return None

    # -- expressions -----------------------------------------------------
    def eval(self, node: ast.expr, scope: Scope) -> Any:
        t = type(node)
        # Fast paths for the two commonest nodes (over half of all): a
        # constant, and a name bound in this scope or a parent (what
        # _e_name does first; builtins and undefined names go through it).
        if t is ast.Constant:
            return node.value
        if t is ast.Name:
            name = node.id
            s = scope
            while s is not None:
                v = s.vars
                if name in v:
                    return v[name]
                s = s.parent
        handler = self._EXPR.get(t)
        if handler is None:
            return self.unknown(
                UNSUPPORTED, f"{type(node).__name__} is not evaluated statically", node
            )
        try:
            return handler(self, node, scope)
        except (_Return, _Break, _Continue, _Abort, RecursionError, HookError):
            raise
        except Exception as exc:  # evaluation of user code must never escape
            return self.unknown(ERROR, f"cannot be evaluated ({type(exc).__name__}: {exc})", node)

    def _e_constant(self, node: ast.Constant, scope: Scope) -> Any:
        return node.value

    def _e_name(self, node: ast.Name, scope: Scope) -> Any:
        v = scope.lookup(node.id)
        if v is not NOT_HANDLED:
            return v
        if node.id in _PURE_BUILTINS:
            return _PURE_BUILTINS[node.id]
        if node.id in RUNTIME_REASONS or node.id in _MARKER_BUILTINS:
            return Ref(node.id)
        return self.unknown(RUNTIME, f"name {node.id!r} is not defined in this file", node)

    def _e_attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        obj = self.eval(node.value, scope)
        return self.getattr(obj, node.attr, node)

    def getattr(self, obj: Any, name: str, node: ast.AST) -> Any:
        res = self.hooks.getattr(self, obj, name, node)
        if res is not NOT_HANDLED:
            return res
        if isinstance(obj, Unknown):
            return Unknown(obj.kind, obj.reason, obj.line, self.source_text(node) if node else None)
        if isinstance(obj, Ref):
            ref = obj.attr(name)
            if ref.qualname in CONSTANTS:
                return CONSTANTS[ref.qualname]
            return ref
        if isinstance(obj, ModuleValue):
            if name in obj.namespace:
                return obj.namespace[name]
            sub = self.import_module(f"{obj.name}.{name}", node) if obj.is_package else None
            if sub is not None:
                return sub
            return self.unknown(RUNTIME, f"name {name!r} is not defined in module {obj.name}", node)
        if isinstance(obj, SuperValue):
            return self._super_attr(obj, name, node)
        if isinstance(obj, InstanceValue):
            if name in obj.attrs:
                return obj.attrs[name]
            return self._class_attr(obj.cls, name, obj, node)
        if isinstance(obj, ClassValue):
            if self.instances and class_lookup(obj, name) is not NOT_HANDLED:
                return self._class_attr(obj, name, None, node)
            if name in obj.namespace:
                return obj.namespace[name]
            return BoundMethod(obj, name)
        if isinstance(obj, pathlib.PurePath) and not hasattr(obj, name):
            if self.files is not None and name in _PATH_METHODS:
                return BoundMethod(obj, name)
            return self.unknown(RUNTIME, "reads the file system", node)
        if isinstance(obj, _SAFE_TYPES) and not name.startswith("_"):
            return getattr(obj, name)
        if isinstance(obj, _PLAIN):
            raise AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")
        return BoundMethod(obj, name)

    def _super_attr(self, sup: SuperValue, name: str, node: ast.AST) -> Any:
        """``super().name``: the next class after ``sup.cls`` (in a
        depth-first order of the bases) that defines it."""
        order = linear_bases(sup.cls)
        engine_base = False
        for base in order[1:]:
            if not isinstance(base, ClassValue):
                engine_base = True
                continue
            if name in base.namespace:
                value = base.namespace[name]
                if isinstance(value, FunctionValue):
                    marks = {d.qualname for d in value.decorators if isinstance(d, Ref)}
                    if "staticmethod" in marks:
                        return value
                    if "classmethod" in marks:
                        return BoundFunction(value, sup.cls)
                    return BoundFunction(value, sup.obj)
                return value
        # Not defined by the file: an engine base (hooks decide) or object.
        return (
            BoundMethod(sup, name)
            if engine_base or name == "__init__"
            else self.unknown(RUNTIME, f"super().{name} is not defined in the file", node)
        )

    def _e_subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        obj = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        res = self.hooks.getitem(self, obj, key, node)
        if res is not NOT_HANDLED:
            return res
        if isinstance(obj, Ref) and obj.qualname == "os.environ":
            return self.unknown(RUNTIME, f"reads environment variable {key}", node)
        if isinstance(obj, Unknown) or isinstance(key, Unknown):
            u = obj if isinstance(obj, Unknown) else key
            return Unknown(u.kind, u.reason, u.line, self.source_text(node))
        if isinstance(obj, _PLAIN):
            return obj[key]
        return self.unknown(UNSUPPORTED, "subscript of an object not evaluated statically", node)

    def _e_slice(self, node: ast.Slice, scope: Scope) -> Any:
        return slice(
            self.eval(node.lower, scope) if node.lower else None,
            self.eval(node.upper, scope) if node.upper else None,
            self.eval(node.step, scope) if node.step else None,
        )

    def _e_binop(self, node: ast.BinOp, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binop(node.op, left, right, node)

    def binop(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        if not (isinstance(left, _SCALARS) and isinstance(right, _SCALARS)):
            # Engine objects (and containers of them) get the first say.
            res = self.hooks.binop(self, op, left, right, node)
            if res is not NOT_HANDLED:
                return res
            u = contains_unknown(left) or contains_unknown(right)
            if u is not None:
                return Unknown(u.kind, u.reason, u.line, self.source_text(node))
            if isinstance(op, ast.Mod) and isinstance(left, str) and not _only_plain(right):
                # "%s" % obj: the object's text, as str(obj) gives it.
                if isinstance(right, tuple):
                    right = tuple(self._as_text(v) for v in right)
                else:
                    right = self._as_text(right)
                if not _only_plain(right):
                    return self.unknown(UNSUPPORTED, "string of an object", node)
            if not (isinstance(left, _PLAIN) and isinstance(right, _PLAIN)) or not (
                is_known(left) and is_known(right)
            ):
                return self.unknown(
                    UNSUPPORTED, "operator on objects not evaluated statically", node
                )
        budget.check_binop(op, left, right)
        if isinstance(op, ast.Mod) and isinstance(left, str):
            return left % right
        return _BINOPS[type(op)](left, right)

    def _e_unaryop(self, node: ast.UnaryOp, scope: Scope) -> Any:
        v = self.eval(node.operand, scope)
        if isinstance(v, Unknown):
            return Unknown(v.kind, v.reason, v.line, self.source_text(node))
        if isinstance(node.op, ast.Not):
            if not _truth_known(v):
                return Unknown(RUNTIME, "truth of an object", self.line, self.source_text(node))
            return not v
        return _UNARY[type(node.op)](v)

    def _e_boolop(self, node: ast.BoolOp, scope: Scope) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for sub in node.values:
            value = self.eval(sub, scope)
            if isinstance(value, Unknown) or not _truth_known(value):
                return (
                    value
                    if isinstance(value, Unknown)
                    else Unknown(RUNTIME, "truth of an object", self.line, self.source_text(node))
                )
            if is_and and not value:
                return value
            if not is_and and value:
                return value
        return value

    def _e_compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comp, scope)
            u = contains_unknown(left) or contains_unknown(right)
            if u is not None:
                return Unknown(u.kind, u.reason, u.line, self.source_text(node))
            if isinstance(op, (ast.Is, ast.IsNot)) or (
                isinstance(left, _PLAIN) and isinstance(right, _PLAIN)
            ):
                ok = _CMPOPS[type(op)](left, right)
            elif isinstance(op, (ast.Eq, ast.NotEq)):
                ok = _CMPOPS[type(op)](left, right)
            else:
                return Unknown(
                    UNSUPPORTED, "comparison of objects", self.line, self.source_text(node)
                )
            if not ok:
                return False
            left = right
        return True

    def _e_ifexp(self, node: ast.IfExp, scope: Scope) -> Any:
        test = self.eval(node.test, scope)
        if isinstance(test, Unknown) or not _truth_known(test):
            self.note(
                CONDITION,
                f"`{_short(self.source_text(node.test))}` depends on a run-time value: the value is unknown",
                node.lineno,
            )
            return Unknown(
                CONDITION, "conditional on a run-time value", node.lineno, self.source_text(node)
            )
        return self.eval(node.body if test else node.orelse, scope)

    def _e_joinedstr(self, node: ast.JoinedStr, scope: Scope) -> Any:
        parts: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
                continue
            val = self.eval(v.value, scope)
            if contains_unknown(val) is not None:
                u = contains_unknown(val)
                return Unknown(u.kind, u.reason, u.line, self.source_text(node))
            val = self._as_text(val)
            if val is NOT_HANDLED:
                return Unknown(
                    UNSUPPORTED, "f-string of an object", self.line, self.source_text(node)
                )
            if v.conversion == ord("r"):
                val = repr(val)
            elif v.conversion == ord("a"):
                val = ascii(val)
            elif v.conversion == ord("s"):
                val = str(val)
            spec = ""
            if v.format_spec is not None:
                spec = self.eval(v.format_spec, scope)
                if isinstance(spec, Unknown):
                    return spec
                budget.check_format(spec)
            parts.append(format(val, spec))
        return "".join(parts)

    def _e_formattedvalue(self, node: ast.FormattedValue, scope: Scope) -> Any:
        return self._e_joinedstr(ast.JoinedStr(values=[node]), scope)

    def _e_list(self, node: ast.List, scope: Scope) -> Any:
        return self._elts(node.elts, scope)

    def _e_tuple(self, node: ast.Tuple, scope: Scope) -> Any:
        return tuple(self._elts(node.elts, scope))

    def _e_set(self, node: ast.Set, scope: Scope) -> Any:
        items = self._elts(node.elts, scope)
        try:
            return set(items)
        except TypeError:
            return items

    def _elts(self, elts: list[ast.expr], scope: Scope) -> list[Any]:
        out: list[Any] = []
        for e in elts:
            if isinstance(e, ast.Starred):
                v = self.eval(e.value, scope)
                if isinstance(v, Unknown):
                    out.append(v)
                else:
                    out.extend(v)
            else:
                out.append(self.eval(e, scope))
        return out

    def _e_dict(self, node: ast.Dict, scope: Scope) -> Any:
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                val = self.eval(v, scope)
                if isinstance(val, dict):
                    out.update(val)
                else:
                    out[f"**{self.source_text(v)}"] = (
                        val
                        if isinstance(val, Unknown)
                        else Unknown(RUNTIME, "unpacked mapping", self.line, self.source_text(v))
                    )
                continue
            key = self.eval(k, scope)
            try:
                hash(key)
            except TypeError:
                key = self.source_text(k)
            if isinstance(key, Unknown):
                key = f"<{key.source}>"
            out[key] = self.eval(v, scope)
        return out

    def _comprehension(
        self,
        generators: list[ast.comprehension],
        scope: Scope,
        emit: Callable[[Scope], None],
        node: ast.AST,
    ) -> bool:
        inner = Scope(scope)
        spent = budget.Items()  # iterations of this comprehension

        def rec(i: int) -> bool:
            if i == len(generators):
                emit(inner)
                return True
            gen = generators[i]
            items = self.iterate(self.eval(gen.iter, inner), gen.iter)
            if items is None:
                return False
            for n, item in enumerate(items):
                if n >= MAX_LOOP:
                    self.note(LIMIT, f"comprehension stopped after {MAX_LOOP} items", node.lineno)
                    break
                self._tick(node.lineno)
                spent.add()
                self.bind(gen.target, item, inner)
                skip = False
                for cond in gen.ifs:
                    c = self.eval(cond, inner)
                    if isinstance(c, Unknown) or not _truth_known(c):
                        self.note(
                            CONDITION,
                            f"filter `{_short(self.source_text(cond))}` depends on a run-time value: result unknown",
                            cond.lineno,
                        )
                        return False
                    if not c:
                        skip = True
                        break
                if not skip and not rec(i + 1):
                    return False
            return True

        return rec(0)

    def _e_listcomp(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp, scope: Scope) -> Any:
        out: list[Any] = []
        ok = self._comprehension(
            node.generators, scope, lambda s: out.append(self.eval(node.elt, s)), node
        )
        if not ok:
            self.hooks.skipped(self, [node.elt], "comprehension", node.lineno)
            return Unknown(
                LOOP, "comprehension over a run-time value", node.lineno, self.source_text(node)
            )
        if isinstance(node, ast.SetComp):
            try:
                return set(out)
            except TypeError:
                return out
        return out

    def _e_dictcomp(self, node: ast.DictComp, scope: Scope) -> Any:
        out: dict[Any, Any] = {}

        def emit(s: Scope) -> None:
            k = self.eval(node.key, s)
            out[k if not isinstance(k, Unknown) else f"<{k.source}>"] = self.eval(node.value, s)

        if not self._comprehension(node.generators, scope, emit, node):
            self.hooks.skipped(self, [node.key, node.value], "comprehension", node.lineno)
            return Unknown(
                LOOP, "comprehension over a run-time value", node.lineno, self.source_text(node)
            )
        return out

    def _e_lambda(self, node: ast.Lambda, scope: Scope) -> Any:
        return self.make_function(node, scope)

    def _e_namedexpr(self, node: ast.NamedExpr, scope: Scope) -> Any:
        v = self.eval(node.value, scope)
        self.bind(node.target, v, scope)
        return v

    def _e_starred(self, node: ast.Starred, scope: Scope) -> Any:
        return self.eval(node.value, scope)

    def _e_await(self, node: ast.expr, scope: Scope) -> Any:
        return self.unknown(RUNTIME, "awaits a run-time result", node)

    # -- calls -----------------------------------------------------------
    def _e_call(self, node: ast.Call, scope: Scope) -> Any:
        func = self.eval(node.func, scope)
        args: list[Any] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                v = self.eval(a.value, scope)
                if isinstance(v, (list, tuple)):
                    args.extend(v)
                else:
                    args.append(
                        v
                        if isinstance(v, Unknown)
                        else Unknown(
                            RUNTIME, "unpacked arguments", node.lineno, self.source_text(a)
                        )
                    )
            else:
                args.append(self.eval(a, scope))
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            v = self.eval(kw.value, scope)
            if kw.arg is None:
                if isinstance(v, dict):
                    kwargs.update({str(k): x for k, x in v.items()})
                else:
                    kwargs[f"**{self.source_text(kw.value)}"] = (
                        v
                        if isinstance(v, Unknown)
                        else Unknown(
                            RUNTIME,
                            "unpacked keyword arguments",
                            node.lineno,
                            self.source_text(kw.value),
                        )
                    )
            else:
                kwargs[kw.arg] = v
        return self.call(func, args, kwargs, node)

    def call(self, func: Any, args: list, kwargs: dict, node: ast.Call | None) -> Any:
        """Call any value: hooks first, then functions of the file, then the
        pure tables; otherwise an Unknown with a ``runtime`` note."""
        if node is not None:
            self.line = node.lineno
        res = self.hooks.call(self, func, args, kwargs, node)
        if res is not NOT_HANDLED:
            return res
        if isinstance(func, FunctionValue):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, Unknown):
            return Unknown(
                func.kind, func.reason, func.line, self.source_text(node) if node else None
            )
        if isinstance(func, Ref):
            return self._call_ref(func, args, kwargs, node)
        if isinstance(func, ClassValue):
            if self.instances:
                return self._instantiate(func, args, kwargs, node)
            return self.unknown(RUNTIME, f"instance of class {func.name} defined in the file", node)
        if isinstance(func, BoundFunction):
            return self.call_function(func.fn, [func.owner, *args], kwargs, node)
        if isinstance(func, BoundMethod):
            if isinstance(func.obj, pathlib.PurePath) and func.name in _PATH_METHODS:
                return self._file_call(f"pathlib.Path.{func.name}", [func.obj, *args], kwargs, node)
            if isinstance(func.obj, SuperValue):  # super().__init__() of object or a library class
                return self.unknown(RUNTIME, f"super().{func.name}()", node, note=False)
            return self.unknown(
                UNSUPPORTED, f"method `.{func.name}()` is not evaluated statically", node
            )
        if id(func) in _NATIVE_IDS or (
            callable(func) and isinstance(getattr(func, "__self__", None), _SAFE_TYPES)
        ):
            return self._native(func, args, kwargs, node)
        return self.unknown(RUNTIME, "calls something not evaluated statically", node)

    def _call_ref(self, func: Ref, args: list, kwargs: dict, node: ast.Call | None) -> Any:
        q = func.qualname
        if q == "globals":
            return self.module_scope.vars
        if q == "print":
            return None
        if q == "super":
            if len(args) == 2 and isinstance(args[0], ClassValue):
                return SuperValue(args[0], args[1])
            if not args and self.frames:
                fn, local = self.frames[-1]
                a = fn.node.args
                params = [p.arg for p in (*a.posonlyargs, *a.args)]
                if fn.owner is not None and params and params[0] in local.vars:
                    return SuperValue(fn.owner, local.vars[params[0]])
            return self.unknown(RUNTIME, "super()", node, note=False)
        if q in ("os.environ.get", "os.getenv"):
            name = args[0] if args and isinstance(args[0], str) else "?"
            return self.unknown(RUNTIME, f"reads environment variable {name}", node)
        if q in _FILE_CALLS and (self.files is not None or q in _TEXT_PARSERS):
            return self._file_call(q, args, kwargs, node)
        pure = PURE_CALLS.get(q) or _PURE_BUILTINS.get(q)
        if pure is not None:
            return self._native(pure, args, kwargs, node)
        if q.startswith(SILENT_CALLS):
            return self.unknown(RUNTIME, f"{q}() object", node, note=False)
        u = contains_unknown(args) or contains_unknown(kwargs)
        reason = runtime_reason(q)
        if reason is not None and (u is None or u.reason != reason):
            return self.unknown(RUNTIME, reason, node)
        if u is not None:
            # Already noted where the run-time value was born.
            return Unknown(u.kind, u.reason, u.line, self.source_text(node) if node else None)
        return self.unknown(RUNTIME, f"calls {q}(), which is not evaluated statically", node)

    def _file_call(self, q: str, args: list, kwargs: dict, node: ast.Call | None) -> Any:
        """The calls that read the repository's data files (``_FILE_CALLS``)."""
        u = contains_unknown(args) or contains_unknown(kwargs)
        if u is not None:
            return Unknown(u.kind, u.reason, u.line, self.source_text(node) if node else None)
        what = _FILE_CALLS[q]
        target = args[0] if args else kwargs.get(_FIRST_ARG.get(what, "file"))
        try:
            if what in ("yaml", "yaml_all", "json"):
                if isinstance(target, DataFile):
                    target = target.read()
                if not isinstance(target, (str, bytes)):
                    raise TypeError(f"cannot parse {type(target).__name__}")
                if what == "json":
                    return json.loads(target)
                loader = args[1] if len(args) > 1 else kwargs.get("Loader", NOT_HANDLED)
                if loader is NOT_HANDLED and q in ("yaml.load", "yaml.load_all"):
                    raise TypeError(f"{q}() needs a Loader")
                return _parse_yaml(target, what == "yaml_all", loader)
            if not isinstance(target, (str, pathlib.PurePath)):
                raise TypeError(f"expected a path, got {type(target).__name__}")
            path = str(target)
            if what in ("open", "read_text", "read_bytes"):
                mode = args[1] if what == "open" and len(args) > 1 else kwargs.get("mode", "r")
                if what == "open" and (not isinstance(mode, str) or set(mode) - set("rtb")):
                    raise FileRefused(f"a file opened with mode {mode!r} does more than read")
                binary = what == "read_bytes" or "b" in str(mode)
                data = self.files.read(path, binary)
                return data if what != "open" else DataFile(path, data)
            if what in ("exists", "isfile", "isdir"):
                kind = self.files.kind(path)
                return kind is not None if what == "exists" else kind == what[2:]
            if what == "listdir":
                return self.files.listdir(path)
            if what == "glob":
                return self.files.glob(path)
            if what == "walk":  # sorted: the file system's order is the machine's
                return self.files.tree(path)
            if what in ("pglob", "rglob"):
                pattern = args[1] if len(args) > 1 else kwargs.get("pattern")
                if not isinstance(pattern, str):
                    raise TypeError("a glob pattern must be a string")
                pattern = "**/" + pattern if what == "rglob" else pattern
                return [type(target)(p) for p in self.files.match(path, pattern)]
            if what == "iterdir":
                return [type(target)(path, n) for n in self.files.listdir(path)]
            if what in ("abspath", "realpath", "resolve", "absolute"):
                full = (
                    os.path.realpath(path)
                    if what in ("realpath", "resolve")
                    else (posixpath.abspath(path))
                )
                return full if isinstance(target, str) else pathlib.PurePosixPath(full)
            raise TypeError(f"{q} is not read statically")  # pragma: no cover - table drift
        except FileRefused as exc:  # the call's run-time reason first (the audit's AU407)
            return self.unknown(RUNTIME, f"{runtime_reason(q) or 'reads a file'}: {exc}", node)
        except RecursionError:
            return self.unknown(ERROR, "data nested too deeply to read", node)
        except Exception as exc:
            return self.unknown(ERROR, f"cannot be evaluated ({type(exc).__name__}: {exc})", node)

    def _native(self, fn: Callable, args: list, kwargs: dict, node: ast.AST | None) -> Any:
        if fn is dict and not args:
            return dict(kwargs)  # dict(a=x): a mapping whatever its values, as {"a": x} is
        u = contains_unknown(args) or contains_unknown(kwargs)
        if u is not None:
            return Unknown(u.kind, u.reason, u.line, self.source_text(node) if node else None)
        if fn in _STRINGIFIERS or (
            type(getattr(fn, "__self__", None)) is str and fn.__name__ in _STR_FORMATTERS
        ):
            # str(x), format(x), "{}".format(x): an object of the file's model
            # becomes the text the engine would give it (hooks.to_str, as in
            # f-strings), never the repr of wfconv's own objects.
            # (NOT_HANDLED, an object without such text, is not plain either.)
            args = [self._as_text(a) for a in args]
            kwargs = {k: self._as_text(v) for k, v in kwargs.items()}
            if not all(map(_only_plain, (*args, *kwargs.values()))):
                return self.unknown(UNSUPPORTED, "string of an object", node)
        try:
            budget.check_call(fn, args, kwargs)
            res = fn(*args, **kwargs)
            # The ABC check is slow; exact plain types (most results) skip it.
            if type(res) not in _NOT_ITERATORS and isinstance(res, Iterator):
                # enumerate/zip/map/reversed...: materialise (bounded) so loops can unroll.
                res = list(itertools.islice(res, MAX_SEQ + 1))
                if len(res) > MAX_SEQ:
                    raise ValueError("sequence too large to evaluate statically")
            return res
        except (_Return, _Break, _Continue, _Abort, RecursionError, HookError):
            raise
        except Exception as exc:
            return self.unknown(ERROR, f"cannot be evaluated ({type(exc).__name__}: {exc})", node)

    def _as_text(self, value: Any) -> Any:
        """A plain value as is; an object through hooks.to_str (NOT_HANDLED if
        the frontend has no text for it)."""
        if isinstance(value, _PLAIN):
            return value
        return self.hooks.to_str(self, value)

    def _instantiate(self, cls: ClassValue, args: list, kwargs: dict, node) -> Any:
        inst = InstanceValue(cls)
        init = class_lookup(cls, "__init__")
        if isinstance(init, FunctionValue):
            self.call_function(init, [inst, *args], kwargs, node)
        return inst

    def replace_object(self, old: Any, new: Any) -> None:
        """Every variable of the running functions that holds ``old`` now
        holds ``new`` (for hooks: ``self`` in ``__init__`` becomes the engine
        object once the engine's own ``__init__`` has built it)."""
        for _, local in self.frames:
            for k, v in local.vars.items():
                if v is old:
                    local.vars[k] = new

    def class_attr(self, cls: ClassValue, name: str, inst: Any, node) -> Any:
        """``inst.name`` looked up in ``cls`` (methods bound to ``inst``)."""
        return self._class_attr(cls, name, inst, node)

    def _class_attr(self, cls: ClassValue, name: str, inst: InstanceValue | None, node) -> Any:
        value = class_lookup(cls, name)
        if value is NOT_HANDLED:
            what = f"{cls.name}.{name}"
            return self.unknown(RUNTIME, f"attribute {what} is not set statically", node)
        if isinstance(value, FunctionValue):
            marks = {d.qualname for d in value.decorators if isinstance(d, Ref)}
            if "staticmethod" in marks:
                return value
            if "classmethod" in marks:
                return BoundFunction(value, cls)
            if inst is None:
                return value
            if "property" in marks:
                return self.call_function(value, [inst], {}, node)
            return BoundFunction(value, inst)
        return value

    def make_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope
    ) -> FunctionValue:
        a = node.args
        defaults = [self.eval(d, scope) for d in a.defaults]
        kw_defaults = {
            arg.arg: self.eval(d, scope)
            for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
            if d is not None
        }
        name = getattr(node, "name", "<lambda>")
        return FunctionValue(name, node, scope, defaults, kw_defaults, self)

    def bind_arguments(self, fn: FunctionValue, args: list, kwargs: dict) -> dict[str, Any]:
        """Python's argument binding (missing arguments become Unknown)."""
        a = fn.node.args
        positional = [p.arg for p in (*a.posonlyargs, *a.args)]
        out: dict[str, Any] = {}
        for name, value in zip(positional, args, strict=False):
            out[name] = value
        extra = list(args[len(positional) :])
        if a.vararg is not None:
            out[a.vararg.arg] = tuple(extra)
        first_default = len(positional) - len(fn.defaults)
        for i, name in enumerate(positional):
            if name not in out:
                if name in kwargs:
                    out[name] = kwargs[name]
                elif i >= first_default:
                    out[name] = fn.defaults[i - first_default]
                else:
                    out[name] = Unknown(RUNTIME, f"argument {name} not given", self.line, name)
        for p in a.kwonlyargs:
            if p.arg in kwargs:
                out[p.arg] = kwargs[p.arg]
            elif p.arg in fn.kw_defaults:
                out[p.arg] = fn.kw_defaults[p.arg]
            else:
                out[p.arg] = Unknown(RUNTIME, f"argument {p.arg} not given", self.line, p.arg)
        if a.kwarg is not None:
            known = set(positional) | {p.arg for p in a.kwonlyargs}
            out[a.kwarg.arg] = {k: v for k, v in kwargs.items() if k not in known}
        return out

    def call_function(
        self, fn: FunctionValue, args: list, kwargs: dict, node: ast.AST | None = None
    ) -> Any:
        """Run a function of the file with the given (abstract) arguments."""
        if self.depth >= MAX_DEPTH:
            return self.unknown(
                LIMIT, f"calls nested deeper than {MAX_DEPTH}: {fn.name}() not followed", node
            )
        if isinstance(fn.node, ast.AsyncFunctionDef):
            return self.unknown(RUNTIME, f"{fn.name}() is a coroutine", node)
        if isinstance(fn.node, ast.FunctionDef) and _is_generator(fn.node):
            return self.unknown(RUNTIME, f"{fn.name}() is a generator", node)
        local = Scope(fn.scope)
        local.vars.update(self.bind_arguments(fn, args, kwargs))
        saved_line = self.line
        module = fn.scope.module
        unit = module.unit or self.main_unit
        saved = self.switch_unit(unit, module) if unit is not self.unit else None
        self.frames.append((fn, local))
        self.depth += 1
        try:
            if isinstance(fn.node, ast.Lambda):
                return self.eval(fn.node.body, local)
            self.exec_block(fn.node.body, local)
            return None
        except _Raise as r:
            self._note_raise(r, "raises an exception")
            return r.value
        except _Return as r:
            return r.value
        except (_Break, _Continue):
            return None
        finally:
            self.depth -= 1
            self.frames.pop()
            if saved is not None:
                self.restore_unit(saved)
            self.line = saved_line

    _EXPR: dict[type, Callable] = {
        ast.Constant: _e_constant,
        ast.Name: _e_name,
        ast.Attribute: _e_attribute,
        ast.Subscript: _e_subscript,
        ast.Slice: _e_slice,
        ast.BinOp: _e_binop,
        ast.UnaryOp: _e_unaryop,
        ast.BoolOp: _e_boolop,
        ast.Compare: _e_compare,
        ast.IfExp: _e_ifexp,
        ast.JoinedStr: _e_joinedstr,
        ast.FormattedValue: _e_formattedvalue,
        ast.List: _e_list,
        ast.Tuple: _e_tuple,
        ast.Set: _e_set,
        ast.Dict: _e_dict,
        ast.ListComp: _e_listcomp,
        ast.GeneratorExp: _e_listcomp,
        ast.SetComp: _e_listcomp,
        ast.DictComp: _e_dictcomp,
        ast.Lambda: _e_lambda,
        ast.NamedExpr: _e_namedexpr,
        ast.Starred: _e_starred,
        ast.Await: _e_await,
        ast.Yield: _e_await,
        ast.YieldFrom: _e_await,
        ast.Call: _e_call,
    }


# ---------------------------------------------------------------------------
# helpers


def _short(text: str | None, limit: int = 80) -> str:
    if not text:
        return ""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def _slice_utf8(line: str, start: int, end: int | None) -> str:
    # ast offsets are UTF-8 byte offsets.
    b = line.encode("utf-8")
    return b[start:end].decode("utf-8", errors="replace")


def _as_load(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Name):
        return ast.copy_location(ast.Name(id=node.id, ctx=ast.Load()), node)
    return node


def linear_bases(cls: ClassValue) -> list[Any]:
    """``cls`` then its bases, depth first and left to right, each once (a
    close enough stand-in for Python's C3 order in DAG code)."""
    out: list[Any] = []
    seen: set[int] = set()
    stack: list[Any] = [cls]
    while stack and len(out) < 200:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        if isinstance(c, ClassValue):
            stack.extend(reversed(c.bases))
    return out


def _truth_known(value: Any) -> bool:
    """Whether ``bool(value)`` is meaningful statically."""
    if isinstance(value, Unknown):
        return False
    if isinstance(value, _PLAIN):
        return contains_unknown(value) is None or isinstance(value, (list, tuple, dict, set))
    # Objects of the file or of an engine (tasks, functions, refs) are truthy,
    # as Python objects without __bool__/__len__ are.
    return True


def _iterable_known(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, set, frozenset, str, range, DataFile)) or type(
        value
    ) in (
        type({}.items()),
        type({}.keys()),
        type({}.values()),
    )


# id(function node) -> (node, is a generator): a helper called for every task
# of every DAG file is walked once (the node is kept so the id stays its own).
_GENERATORS: dict[int, tuple[ast.AST, bool]] = {}


def _is_generator(node: ast.FunctionDef) -> bool:
    hit = _GENERATORS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    if len(_GENERATORS) > 20_000:
        _GENERATORS.clear()
    found = _walk_for_yield(node)
    _GENERATORS[id(node)] = (node, found)
    return found


def _walk_for_yield(node: ast.FunctionDef) -> bool:
    stack: list[ast.AST] = list(node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return False


def literal_or_source(interp: Interpreter, value: Any, node: ast.AST) -> Any:
    """For frontends: the value when fully known, else the source text."""
    if contains_unknown(value) is not None:
        return interp.source_text(node)
    return value
