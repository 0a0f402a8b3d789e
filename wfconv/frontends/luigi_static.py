"""Static reading of a Luigi module (never imported): the fallback when the
module cannot be imported, and what ``--static`` asks for.

The shared abstract interpreter (``pyeval``) runs the module's safe part; the
hooks here give Luigi's constructs a static meaning: task classes (bases,
``task_namespace``, ``luigi.namespace()``), parameters with their defaults,
instances (``Cls(x=...)``, ``self.clone``), ``requires()`` returning a task,
list, tuple, dict or generator (``yield`` is collected by rewriting the method
body, since ``pyeval`` does not run generators), targets, ``externalize`` and
the ``luigi.util.requires``/``inherits`` decorators.

The answer has the same shape as ``luigi_child``'s, so one builder makes the
IR. Parameter values are parsed, normalised and serialised by Luigi's own
parameter classes (luigi is a wfconv dependency; only the user's module is
never imported), so a value reads the same in both modes.
"""

from __future__ import annotations

import ast
import copy
import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.frontends import pyeval
from wfconv.frontends.luigi_child import _json_value, _plain, importable_name
from wfconv.frontends.pyeval import NOT_HANDLED, ClassValue, FunctionValue, Ref, Unknown

MAX_TASKS = 5000
_MISSING: Any = object()

# Luigi base classes by name, and the kind of task they make.
_BASE_KINDS = {
    "Task": "normal",
    "WrapperTask": "wrapper",
    "ExternalTask": "external",
}
# Luigi classes that subclass Task but are not tasks of a workflow.
_NOT_TASKS = {"Config"}
# Other Luigi classes a user class may extend that are not tasks.
_NOT_TASK_SUFFIXES = ("Target", "Parameter", "Client", "Format", "Config", "FileSystem", "Error")
_TASK_SETTINGS = (
    "retry_count",
    "worker_timeout",
    "priority",
    "resources",
    "disable_window",
    "owner_email",
)
_SETTING_DEFAULTS = {"priority": 0, "resources": {}}


# ---------------------------------------------------------------------------
# static values for Luigi objects


@dataclass(eq=False)
class ParamSpec:
    """``luigi.XParameter(default=..., significant=...)`` in a class body."""

    type: str
    default: Any
    significant: bool
    line: int
    col: int
    luigi_type: str  # the nearest Luigi class (for a user subclass of a Luigi parameter)
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_default(self) -> Any:
        """The default, or the one Luigi's class implies (BoolParameter: False)."""
        if self.default is not _MISSING:
            return self.default
        import luigi.parameter

        implied = getattr(self.luigi_param(), "_default", luigi.parameter._no_value)
        return _MISSING if implied is luigi.parameter._no_value else implied

    def luigi_param(self):
        """A real Luigi parameter of this type, to parse/normalise/serialise with."""
        import luigi.parameter

        cls = getattr(luigi.parameter, self.luigi_type, None) or luigi.parameter.Parameter
        known = {k: v for k, v in self.kwargs.items() if k not in ("default", "significant")}
        try:
            return cls(**{k: v for k, v in known.items() if pyeval.is_known(v)})
        except Exception:
            return luigi.parameter.Parameter()


@dataclass(eq=False)
class ParamClass:
    """A user subclass of a Luigi parameter class."""

    name: str
    luigi_type: str


@dataclass(eq=False)
class TaskClass:
    name: str
    cls: ClassValue
    bases: list[Any]
    namespace: str | None
    kind: str
    assumed: bool = False  # base not known to be a Luigi task
    requires_from: list[TaskClass] | None = None
    inherits_from: list[TaskClass] = field(default_factory=list)
    applied: set[int] = field(default_factory=set)  # decorator nodes already applied
    # Evaluates an overriding get_task_family() (set by the hooks).
    family_override: Any = None
    _family: str | None = None

    @property
    def line(self) -> int:
        return self.cls.node.lineno

    @property
    def default_family(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name

    @property
    def family(self) -> str:
        """Luigi's identity: ``get_task_family()``, which a class may override
        (wfconv's own Luigi output does, to keep the source's task ids)."""
        if self._family is None:
            found = self.family_override(self) if self.family_override else None
            self._family = found if isinstance(found, str) and found else self.default_family
        return self._family

    def mro(self) -> list[TaskClass]:
        out: list[TaskClass] = [self]
        for b in self.bases:
            if isinstance(b, TaskClass):
                out.extend(x for x in b.mro() if x not in out)
        return out

    def lookup(self, name: str) -> Any:
        for c in self.mro():
            if name in c.cls.namespace:
                return c.cls.namespace[name]
        return _MISSING

    def params(self) -> list[tuple[str, ParamSpec]]:
        """All parameters, inherited ones included, in creation (source) order."""
        found: dict[str, ParamSpec] = {}
        for c in reversed(self.mro()):
            for extra in c.inherits_from:
                for name, spec in extra.params():
                    found[name] = spec
            for name, value in c.cls.namespace.items():
                if isinstance(value, ParamSpec):
                    found[name] = value
        return sorted(found.items(), key=lambda kv: (kv[1].line, kv[1].col))


@dataclass(eq=False)
class Instance:
    cls: TaskClass
    values: dict[str, Any]
    external: bool = False
    # Parameters given to a class whose base is unknown (declared elsewhere).
    extra_specs: dict[str, ParamSpec] = field(default_factory=dict)

    def specs(self) -> list[tuple[str, ParamSpec]]:
        return self.cls.params() + list(self.extra_specs.items())

    @property
    def kind(self) -> str:
        return "external" if self.external else self.cls.kind

    def param_rows(self) -> list[dict[str, Any]]:
        rows = []
        for name, spec in self.specs():
            value = self.values.get(name)
            p = spec.luigi_param()
            known = pyeval.is_known(value)
            try:
                text = p.serialize(value) if known else _unknown_text(value)
            except Exception:
                text = str(value)
            rows.append(
                {
                    "name": name,
                    "type": spec.type,
                    "significant": bool(spec.significant),
                    "value": _json_value(value, p) if known else text,
                    "text": text,
                }
            )
        return rows

    @property
    def key(self) -> str:
        sig = [(r["name"], r["text"]) for r in self.param_rows() if r["significant"]]
        return json.dumps([self.cls.family, sig])


@dataclass(eq=False)
class Target:
    cls: str
    path: Any


@dataclass(eq=False)
class Method:
    """``self.name`` for a method of the task's class."""

    inst: Instance
    fn: FunctionValue


@dataclass(eq=False)
class Clone:
    inst: Instance


@dataclass(eq=False)
class UtilDecorator:
    """``luigi.util.requires(A, B)`` / ``inherits(A)`` before it is applied."""

    kind: str
    classes: list[Any]


@dataclass(eq=False)
class _Collector:
    """Receives ``yield`` values of a generator method (see ``_as_collector``)."""

    items: list[Any] = field(default_factory=list)


def _unknown_line(value: Any) -> int | None:
    u = pyeval.contains_unknown(value)
    return u.line if u is not None else None


def _unknown_text(value: Any) -> str:
    u = pyeval.contains_unknown(value)
    return f"<{u.source or u.reason}>" if u is not None else str(value)


def _luigi_name(ref: Any) -> str | None:
    """The last part of a Ref into luigi (``luigi.contrib.hive.HiveQueryTask``)."""
    if isinstance(ref, Ref) and ref.qualname.split(".")[0] == "luigi":
        return ref.name
    return None


# ---------------------------------------------------------------------------
# the hooks


class LuigiHooks(pyeval.Hooks):
    def __init__(self, module_name: str):
        self.module_name = module_name
        self.namespace: str | None = None
        self.classes: list[TaskClass] = []
        # Classes whose get_task_family() is being evaluated (for super()).
        self.family_stack: list[TaskClass] = []

    # -- classes -------------------------------------------------------------
    def make_class(self, interp, cls: ClassValue) -> Any:
        enum_base = next(
            (b.name for b in cls.bases if isinstance(b, Ref) and b.qualname in _ENUM_BASES), None
        )
        if enum_base is not None:
            return _make_enum(cls, enum_base)
        luigi_bases = [_luigi_name(b) for b in cls.bases]
        if any(n and n.endswith("Parameter") for n in luigi_bases):
            name = next(n for n in luigi_bases if n and n.endswith("Parameter"))
            return ParamClass(cls.name, name)
        for b in cls.bases:
            if isinstance(b, ParamClass):
                return ParamClass(cls.name, b.luigi_type)
        kind, assumed = self._kind(cls)
        if kind is None:
            return NOT_HANDLED
        # Luigi: an explicit task_namespace (own or inherited) wins, else the
        # luigi.namespace() in force when the class statement ran.
        own_ns = cls.namespace.get("task_namespace", _MISSING)
        if own_ns is _MISSING:
            for b in cls.bases:
                if isinstance(b, TaskClass) and b.lookup("task_namespace") is not _MISSING:
                    own_ns = b.lookup("task_namespace")
                    break
        ns = own_ns if own_ns is None or isinstance(own_ns, str) else self.namespace
        # Luigi decides "external" by run being None, wherever it is set.
        run = cls.namespace.get("run", _MISSING)
        if run is None and kind == "normal":
            kind = "external"
        elif run not in (_MISSING, None) and kind == "external":
            kind = "normal"
        task = TaskClass(cls.name, cls, cls.bases, ns or None, kind, assumed)
        task.family_override = lambda t: self._family_override(interp, t)
        self.classes.append(task)
        # pyeval does not apply class decorators (it may one day: ``decorate``
        # then sees them again and the node ids below keep it idempotent).
        for dec_node in reversed(cls.node.decorator_list):
            self.decorate(interp, interp.eval(dec_node, interp.module_scope), task, dec_node)
        return task

    def _family_override(self, interp, task: TaskClass) -> Any:
        """The value of an overriding ``get_task_family`` classmethod, when it
        can be known; ``super().get_task_family()`` means the default."""
        fn = task.lookup("get_task_family")
        if not isinstance(fn, FunctionValue):
            return None
        self.family_stack.append(task)
        try:
            return interp.call_function(fn, [task], {})
        finally:
            self.family_stack.pop()

    def _kind(self, cls: ClassValue) -> tuple[str | None, bool]:
        for b in cls.bases:
            if isinstance(b, TaskClass):
                return b.kind, b.assumed
            name = _luigi_name(b)
            if name in _NOT_TASKS:
                return None, False
            if name in _BASE_KINDS:
                return _BASE_KINDS[name], False
            if name and not name.endswith(_NOT_TASK_SUFFIXES) and name[:1].isupper():
                # luigi.contrib.postgres.CopyToTable, ...HadoopJarJobTask, ...
                return "normal", False
        looks_like_task = any(isinstance(v, ParamSpec) for v in cls.namespace.values()) or any(
            m in cls.namespace for m in ("requires", "output", "run")
        )
        unknown_base = any(isinstance(b, (Ref, Unknown)) for b in cls.bases)
        if looks_like_task and unknown_base:
            return "normal", True
        return None, False

    def decorate(self, interp, decorator, target, node) -> Any:
        if isinstance(decorator, UtilDecorator) and isinstance(target, TaskClass):
            if id(node) in target.applied:
                return target
            target.applied.add(id(node))
            classes = [c for c in decorator.classes if isinstance(c, TaskClass)]
            target.inherits_from.extend(classes)
            if decorator.kind == "requires":
                target.requires_from = classes
            return target
        return NOT_HANDLED

    # -- calls -----------------------------------------------------------------
    def call(self, interp, func, args, kwargs, node) -> Any:
        if isinstance(func, _Collector):
            func.items.extend(args)
            return None
        if isinstance(func, Ref) and func.qualname == "super" and not args and self.family_stack:
            return _Super(self.family_stack[-1])
        if isinstance(func, _SuperFamily):
            return func.task.default_family
        if isinstance(func, Ref) and func.qualname == "getattr" and len(args) in (2, 3):
            obj, name = args[0], args[1]
            if isinstance(obj, (Instance, TaskClass)) and isinstance(name, str):
                value = self.getattr(interp, obj, name, node)
                if value is NOT_HANDLED or (isinstance(value, Unknown) and len(args) == 3):
                    return args[2] if len(args) == 3 else NOT_HANDLED
                return value
            return NOT_HANDLED
        if isinstance(func, TaskClass):
            return self.instantiate(interp, func, args, kwargs, node)
        if isinstance(func, Method):
            return self.call_method(interp, func.inst, func.fn, args, kwargs)
        if isinstance(func, Clone):
            cls = args[0] if args else kwargs.pop("cls", None)
            target = cls if isinstance(cls, TaskClass) else func.inst.cls
            own = {n for n, _ in target.params()}
            if any(c.assumed for c in target.mro()):
                own |= set(func.inst.values)
            values = {k: v for k, v in func.inst.values.items() if k in own}
            values.update(kwargs)
            return self.instantiate(interp, target, [], values, node)
        if _is_date_interval(func):
            if not (pyeval.is_known(args) and pyeval.is_known(kwargs)):
                return NOT_HANDLED
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # Luigi's own code, given the user's values
                return interp.unknown(pyeval.ERROR, f"cannot be evaluated ({exc})", node)
        if isinstance(func, ParamClass):
            return self._param(func.name, func.luigi_type, kwargs, node)
        if not isinstance(func, Ref):
            return NOT_HANDLED
        q, name = func.qualname, func.name
        if q.split(".")[0] != "luigi":
            return NOT_HANDLED
        if name.endswith("Parameter"):
            return self._param(name, name, kwargs, node)
        if name.endswith("Target"):
            path = args[0] if args else kwargs.get("path")
            return Target(name, path)
        if q in ("luigi.namespace", "luigi.task.namespace"):
            ns = args[0] if args else kwargs.get("namespace")
            scope = args[1] if len(args) > 1 else kwargs.get("scope", "")
            if isinstance(scope, str) and self.module_name.startswith(scope):
                self.namespace = ns if isinstance(ns, str) else None
            return None
        if q in ("luigi.auto_namespace", "luigi.task.auto_namespace"):
            scope = args[0] if args else kwargs.get("scope", "")
            if isinstance(scope, str) and self.module_name.startswith(scope):
                self.namespace = self.module_name
            return None
        if name == "externalize" and args:
            return _externalize(args[0])
        if name == "flatten" and args:
            return flatten(args[0])
        if q in ("luigi.util.requires", "luigi.util.inherits"):
            return UtilDecorator(name, list(args))
        if q.startswith("luigi.date_interval."):
            return self._date_interval(interp, name, args, kwargs, node)
        return NOT_HANDLED

    def _param(self, type_name: str, luigi_type: str, kwargs: dict, node) -> ParamSpec:
        significant = kwargs.get("significant", True)
        return ParamSpec(
            type_name,
            kwargs.get("default", _MISSING),
            significant if isinstance(significant, bool) else True,
            node.lineno if node is not None else 0,
            node.col_offset if node is not None else 0,
            luigi_type,
            dict(kwargs),
        )

    def _date_interval(self, interp, name, args, kwargs, node) -> Any:
        """Luigi's date intervals are pure library values: build the real ones."""
        import luigi.date_interval

        cls = getattr(luigi.date_interval, name, None)
        if cls is None or not (pyeval.is_known(args) and pyeval.is_known(kwargs)):
            return NOT_HANDLED
        try:
            return cls(*args, **kwargs)
        except Exception as exc:
            return interp.unknown(pyeval.ERROR, f"cannot be evaluated ({exc})", node)

    def instantiate(self, interp, cls: TaskClass, args, kwargs, node) -> Any:
        params = cls.params()
        values: dict[str, Any] = {}
        for (name, _), value in zip(params, args, strict=False):
            values[name] = value
        if len(args) > len(params):
            return interp.unknown(
                pyeval.ERROR, f"{cls.name}() takes {len(params)} parameters", node
            )
        by_name = dict(params)
        extra: dict[str, ParamSpec] = {}
        for k, v in kwargs.items():
            if k not in by_name:
                if not any(c.assumed for c in cls.mro()):
                    return interp.unknown(
                        pyeval.ERROR, f"{cls.name}() has no parameter {k!r}", node
                    )
                # Declared by a base class wfconv cannot see: keep it as given.
                line = node.lineno if node is not None else cls.line
                extra[k] = ParamSpec("Parameter", _MISSING, True, line, 0, "Parameter")
            values[k] = v
        for name, spec in params:
            if name not in values:
                if spec.effective_default is _MISSING:
                    return interp.unknown(
                        pyeval.ERROR,
                        f"{cls.name}() needs parameter {name!r}, which has no default",
                        node,
                    )
                values[name] = spec.effective_default
            if pyeval.is_known(values[name]):
                try:
                    values[name] = spec.luigi_param().normalize(values[name])
                except Exception:
                    pass
        return Instance(cls, values, extra_specs=extra)

    def call_method(self, interp, inst: Instance, fn: FunctionValue, args=(), kwargs=None) -> Any:
        kwargs = kwargs or {}
        if isinstance(fn.node, ast.FunctionDef) and pyeval._is_generator(fn.node):
            collector = _Collector()
            gen_fn = interp.make_function(_as_collector(fn.node), fn.scope)
            interp.call_function(gen_fn, [inst, collector, *args], kwargs)
            return GeneratorResult(collector.items)
        return interp.call_function(fn, [inst, *args], kwargs)

    # -- text ------------------------------------------------------------------
    def to_str(self, interp, obj) -> Any:
        """A date interval or an enum member inside an f-string reads as Python
        prints it (``2024-W10``, ``Mode.full``)."""
        if (_is_date_interval(obj) and not callable(obj)) or isinstance(obj, enum.Enum):
            return format(obj)
        return NOT_HANDLED

    def binop(self, interp, op, left, right, node) -> Any:
        """``"path/%s" % interval`` (or a tuple holding one)."""
        if not (isinstance(op, ast.Mod) and isinstance(left, str)):
            return NOT_HANDLED
        items = right if isinstance(right, tuple) else (right,)
        if not any(_is_date_interval(x) for x in items) or not pyeval.is_known(list(items)):
            return NOT_HANDLED
        texts = tuple(str(x) if _is_date_interval(x) else x for x in items)
        try:
            return left % (texts if isinstance(right, tuple) else texts[0])
        except (TypeError, ValueError) as exc:
            return interp.unknown(pyeval.ERROR, f"cannot be evaluated ({exc})", node)

    # -- attributes --------------------------------------------------------------
    def getattr(self, interp, obj, name, node) -> Any:
        if isinstance(obj, Instance):
            if name in obj.values:
                return obj.values[name]
            if name == "clone":
                return Clone(obj)
            if name in ("task_family", "get_task_family"):
                return obj.cls.family
            if name == "task_id":
                return _task_id(interp, obj, node)
            if name == "param_kwargs":
                return dict(obj.values)
            value = obj.cls.lookup(name)
            if isinstance(value, FunctionValue):
                if any(_is_property(d) for d in value.decorators):
                    return self.call_method(interp, obj, value)
                return Method(obj, value)
            if value is not _MISSING:
                return value
            return interp.unknown(
                pyeval.RUNTIME, f"`.{name}` of a task is known only at run time", node
            )
        if isinstance(obj, _Super) and name == "get_task_family":
            return _SuperFamily(obj.task)
        if isinstance(obj, TaskClass):
            value = obj.lookup(name)
            if value is not _MISSING:
                return value
            if name in ("task_family", "get_task_family"):
                return obj.family
            return NOT_HANDLED
        if (_is_date_interval(obj) or isinstance(obj, (enum.EnumMeta, enum.Enum))) and not (
            name.startswith("_")
        ):
            return getattr(obj, name)
        return NOT_HANDLED


@dataclass(eq=False)
class _Super:
    """``super()`` inside an overriding ``get_task_family``."""

    task: TaskClass


@dataclass(eq=False)
class _SuperFamily:
    task: TaskClass


@dataclass(eq=False)
class GeneratorResult:
    items: list[Any]


_ENUM_BASES = {f"enum.{n}" for n in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag")}


def _make_enum(cls: ClassValue, base: str) -> Any:
    """A real enum built from the class body's known literal members (an
    EnumParameter's values then serialise as Luigi spells them)."""
    members = {
        k: v
        for k, v in cls.namespace.items()
        if not k.startswith("_") and isinstance(v, (int, str, float, tuple)) and pyeval.is_known(v)
    }
    try:
        return getattr(enum, base)(cls.name, members)
    except Exception:
        return NOT_HANDLED


def _task_id(interp, inst: Instance, node) -> Any:
    """Luigi's own task_id (family, significant parameters, hash), computed by
    Luigi's ``task_id_str`` from the serialised values when they are known."""
    from luigi.task import task_id_str

    rows = [r for r in inst.param_rows() if r["significant"]]
    if not all(pyeval.is_known(inst.values.get(r["name"])) for r in rows):
        return interp.unknown(pyeval.RUNTIME, "task_id of a task with run-time parameters", node)
    return task_id_str(inst.cls.family, {r["name"]: r["text"] for r in rows})


def _is_property(decorator: Any) -> bool:
    return isinstance(decorator, Ref) and decorator.qualname in (
        "property",
        "functools.cached_property",
    )


def _is_date_interval(obj: Any) -> bool:
    import luigi.date_interval

    return isinstance(obj, luigi.date_interval.DateInterval) or (
        callable(obj)
        and isinstance(getattr(obj, "__self__", None), luigi.date_interval.DateInterval)
    )


def _externalize(obj: Any) -> Any:
    if isinstance(obj, Instance):
        return Instance(obj.cls, dict(obj.values), external=True)
    if isinstance(obj, TaskClass):
        out = copy.copy(obj)
        out.kind = "external"
        return out
    return obj


def flatten(value: Any) -> list[Any]:
    """Luigi's ``flatten``: tasks out of a task, list, tuple, dict or generator."""
    if isinstance(value, GeneratorResult):
        value = value.items
    if isinstance(value, dict):
        return [x for v in value.values() for x in flatten(v)]
    if isinstance(value, (list, tuple, set)):
        return [x for v in value for x in flatten(v)]
    if value is None:
        return []
    return [value]


class _YieldToCall(ast.NodeTransformer):
    """``yield x`` -> ``__wfconv_yield__(x)``; ``yield from xs`` -> ``__wfconv_yield__(*xs)``."""

    def visit_FunctionDef(self, node):  # nested functions keep their own yields
        return node

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_Yield(self, node):
        self.generic_visit(node)
        args = [node.value] if node.value is not None else []
        return ast.copy_location(ast.Call(ast.Name("__wfconv_yield__", ast.Load()), args, []), node)

    def visit_YieldFrom(self, node):
        self.generic_visit(node)
        star = ast.Starred(node.value, ast.Load())
        return ast.copy_location(
            ast.Call(ast.Name("__wfconv_yield__", ast.Load()), [star], []), node
        )


def _as_collector(node: ast.FunctionDef) -> ast.FunctionDef:
    """The generator method as a plain function that hands every yielded value
    to a collector passed as its second argument."""
    new = copy.deepcopy(node)
    new.body = [_YieldToCall().visit(st) for st in new.body]
    first = new.args.posonlyargs or new.args.args
    collector = ast.arg("__wfconv_yield__")
    if first:
        first.insert(1, collector)  # after self
    else:
        new.args.args.insert(0, collector)
    new.decorator_list = []
    return ast.fix_missing_locations(new)


# ---------------------------------------------------------------------------
# reading a module


def _iterate_date_intervals(interp: pyeval.Interpreter) -> None:
    """Adapter: ``for day in self.date_interval`` (Luigi's DateInterval is
    iterable). pyeval has no hook for iteration, so this interpreter's
    ``iterate`` is wrapped; everything else goes to pyeval's own."""
    base = interp.iterate

    def iterate(value: Any, node: ast.AST) -> list[Any] | None:
        if _is_date_interval(value) and not callable(value):
            return list(value.dates())
        return base(value, node)

    interp.iterate = iterate  # type: ignore[method-assign]


class StaticReader:
    def __init__(self, path: str, text: str, tree: ast.Module, max_tasks: int = MAX_TASKS):
        self.path = path
        self.max_tasks = max_tasks
        self.text = text
        self.tree = tree
        self.module_name = importable_name(Path(path).resolve())[1]
        self.hooks = LuigiHooks(self.module_name)
        self.interp = pyeval.Interpreter(
            self.hooks, path=path, source=text, module_name=self.module_name, file_value=path
        )
        for name in ("property", "staticmethod", "classmethod", "super", "getattr"):
            self.interp.module_scope.vars[name] = Ref(name)
        _iterate_date_intervals(self.interp)
        self.notes: list[dict[str, Any]] = []

    def run(self) -> None:
        self.interp.run_module(self.tree)
        spans = [
            (c.cls.node.lineno, c.cls.node.end_lineno or c.cls.node.lineno)
            for c in self.hooks.classes
        ]
        for n in self.interp.notes:
            # Only what concerns task classes (a parameter default, a class
            # attribute): the rest of the module does not shape the graph.
            owner = [
                c
                for c, (a, b) in zip(self.hooks.classes, spans, strict=True)
                if n.line and a <= n.line <= b
            ]
            if owner:
                self.notes.append(
                    {"code": "static", "class": owner[0].name, "error": n.message, "line": n.line}
                )

    # -- one instance ------------------------------------------------------------
    def _setting(self, inst: Instance, name: str) -> Any:
        value = inst.cls.lookup(name)
        if isinstance(value, FunctionValue):
            value = self.hooks.call_method(self.interp, inst, value)
        if value is _MISSING:
            return _SETTING_DEFAULTS.get(name)
        return _plain(value) if pyeval.is_known(value) else None

    def _requires(self, inst: Instance) -> Any:
        if inst.cls.requires_from is not None:
            values = [Clone(inst) for _ in inst.cls.requires_from]
            made = [
                self.hooks.call(self.interp, c, [cls], {}, None)
                for c, cls in zip(values, inst.cls.requires_from, strict=True)
            ]
            return made[0] if len(made) == 1 else made
        fn = inst.cls.lookup("requires")
        if not isinstance(fn, FunctionValue):
            return None
        return self.hooks.call_method(self.interp, inst, fn)

    def _shape(self, raw: Any, keys) -> dict[str, Any]:
        if isinstance(raw, GeneratorResult):
            return {"shape": "generator"} if raw.items else {"shape": "none"}
        if raw is None or (isinstance(raw, (list, tuple, dict)) and not raw):
            return {"shape": "none"}
        if isinstance(raw, Instance):
            return {"shape": "task"}
        if isinstance(raw, dict):
            return {
                "shape": "dict",
                "keys": {
                    str(k): [keys(t) for t in flatten(v) if isinstance(t, Instance)]
                    for k, v in raw.items()
                },
            }
        if isinstance(raw, (list, tuple)):
            return {"shape": "list"}
        return {"shape": type(raw).__name__}

    def describe(self, inst: Instance) -> tuple[dict[str, Any], list[Instance]]:
        key = inst.key
        mark = len(self.interp.notes)
        raw = self._requires(inst)
        deps: list[Instance] = []
        for item in flatten(raw):
            if isinstance(item, Instance):
                deps.append(item)
            else:
                u = pyeval.contains_unknown(item)
                what = (
                    f"`{u.source}` ({u.reason})"
                    if u is not None and u.source
                    else (u.reason if u is not None else f"a {type(item).__name__}")
                )
                self.notes.append(
                    {
                        "code": "static",
                        "task_id": key,
                        "error": f"{inst.cls.name}.requires(): {what} is not a task known statically; left out",
                        "line": (u.line if u is not None else None)
                        or _method_line(inst.cls, "requires"),
                    }
                )
        outputs = []
        fn = inst.cls.lookup("output")
        if isinstance(fn, FunctionValue):
            for t in flatten(self.hooks.call_method(self.interp, inst, fn)):
                if isinstance(t, Target) and isinstance(t.path, str):
                    outputs.append({"class": t.cls, "path": t.path})
                elif isinstance(t, Target):
                    outputs.append({"class": t.cls})
                    self.notes.append(
                        {
                            "code": "static",
                            "task_id": key,
                            "error": f"{inst.cls.name}.output(): the path of a {t.cls} is known only at run time",
                            "line": _unknown_line(t.path) or _method_line(inst.cls, "output"),
                        }
                    )
                else:
                    self.notes.append(
                        {
                            "code": "static",
                            "task_id": key,
                            "error": f"{inst.cls.name}.output(): {_unknown_text(t)} is not a target known statically",
                            "line": _method_line(inst.cls, "output"),
                        }
                    )
        for n in self.interp.notes[mark:]:
            self.notes.append(
                {"code": "static", "task_id": key, "error": n.message, "line": n.line}
            )
        info = {
            "task_id": key,
            "family": inst.cls.family,
            "class": inst.cls.name,
            "namespace": inst.cls.namespace,
            "kind": inst.kind,
            "module": self.module_name,
            "base": _library_base(inst.cls),
            "file": None,
            "line": inst.cls.line,
            "doc": ast.get_docstring(inst.cls.cls.node),
            "params": inst.param_rows(),
            **{name: self._setting(inst, name) for name in _TASK_SETTINGS},
            "run_yields": _run_yields(inst.cls),
            "requires": self._shape(raw, lambda t: t.key),
            "deps": [d.key for d in deps],
            "outputs": outputs,
        }
        if inst.cls.assumed:
            self.notes.append(
                {
                    "code": "static",
                    "task_id": key,
                    "error": f"{inst.cls.name}: its base class is not known statically; read as a Luigi task",
                    "line": inst.cls.line,
                }
            )
        return info, deps

    def walk(self, root: Instance) -> dict[str, Any]:
        instances: dict[str, Any] = {}
        stack = [root]
        while stack:
            inst = stack.pop()
            key = inst.key
            if key in instances:
                continue
            if len(instances) >= self.max_tasks:
                self.notes.append(
                    {"code": "too_many", "task_id": root.key, "error": str(self.max_tasks)}
                )
                break
            info, deps = self.describe(inst)
            instances[key] = info
            stack.extend(reversed(deps))
        return instances

    # -- roots -------------------------------------------------------------------
    def instantiate_root(self, cls: TaskClass, params: dict[str, str]) -> Instance | str:
        values: dict[str, Any] = {}
        missing = []
        for name, spec in cls.params():
            if name in params:
                try:
                    values[name] = spec.luigi_param().parse(params[name])
                except Exception as exc:
                    return f"--param {name}={params[name]}: {type(exc).__name__}: {exc}"
            elif spec.effective_default is _MISSING:
                missing.append(name)
            else:
                values[name] = spec.effective_default
        if missing:
            return "no value for " + ", ".join(repr(m) for m in missing)
        made = self.hooks.instantiate(self.interp, cls, [], values, None)
        if isinstance(made, Instance):
            return made
        return f"{cls.name} cannot be built statically"

    def choose_roots(self, roots: list[str], params: dict[str, str]) -> list[Instance]:
        classes = self.hooks.classes
        if roots:
            candidates = []
            for name in roots:
                match = [c for c in classes if name in (c.name, c.family)]
                if not match:
                    raise LookupError(
                        f"--root {name}: no such task class in the module "
                        f"(known: {', '.join(c.name for c in classes) or 'none'})"
                    )
                candidates.append(match[-1])
        else:
            bases = {id(b) for c in classes for b in c.mro()[1:]}
            for c in classes:
                if id(c) in bases:
                    self.notes.append({"code": "base_class", "class": c.name, "line": c.line})
            candidates = [c for c in classes if id(c) not in bases]
        known = {n for c in candidates for n, _ in c.params()}
        for k in params:
            if k not in known:
                raise LookupError(
                    f"--param {k}: no root task has a parameter {k!r} "
                    f"(parameters: {', '.join(sorted(known)) or 'none'})"
                )
        made = []
        for cls in candidates:
            own = {n for n, _ in cls.params()}
            inst = self.instantiate_root(cls, {k: v for k, v in params.items() if k in own})
            if isinstance(inst, Instance):
                if all(inst.key != m.key for m in made):  # --root X --root X
                    made.append(inst)
            elif roots or inst.startswith("--param"):
                raise LookupError(f"--root {cls.name}: cannot be instantiated: {inst}")
            else:
                self.notes.append(
                    {"code": "not_instantiable", "class": cls.name, "line": cls.line, "error": inst}
                )
        return made

    def statically_required(self) -> set[str]:
        """Families named in requires() of classes that could not be walked."""
        skipped = {n["class"] for n in self.notes if n["code"] == "not_instantiable"}
        by_name = {c.name: c for c in self.hooks.classes}
        out: set[str] = set()
        for c in self.hooks.classes:
            if c.name not in skipped:
                continue
            fn = c.lookup("requires")
            if isinstance(fn, FunctionValue):
                for n in ast.walk(fn.node):
                    if isinstance(n, ast.Name) and n.id in by_name and n.id != c.name:
                        out.add(by_name[n.id].family)
            for r in c.requires_from or []:
                out.add(r.family)
        return out


_PLAIN_BASES = {"Task", "WrapperTask", "ExternalTask"}


def _library_base(cls: TaskClass) -> str | None:
    """The first imported base class, as its qualified import name, unless it is
    Luigi's plain Task/WrapperTask/ExternalTask (same rule as the child's)."""
    for c in cls.mro():
        for b in c.bases:
            if isinstance(b, Ref) and (b.qualname.split(".")[0] == "luigi" or c.assumed):
                return None if b.name in _PLAIN_BASES else b.qualname
    return None


def _method_line(cls: TaskClass, name: str) -> int:
    fn = cls.lookup(name)
    return fn.line if isinstance(fn, FunctionValue) else cls.line


def _run_yields(cls: TaskClass) -> list[int]:
    fn = cls.lookup("run")
    if not isinstance(fn, FunctionValue) or not isinstance(fn.node, ast.FunctionDef):
        return []
    out = []
    stack: list[ast.AST] = list(fn.node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            out.append(n.lineno)
        stack.extend(ast.iter_child_nodes(n))
    return sorted(set(out))


def read(
    path: str,
    text: str,
    tree: ast.Module,
    roots: list[str],
    params: dict[str, str],
    max_tasks: int = MAX_TASKS,
) -> dict[str, Any]:
    """The module's description, read without importing it (same shape as the
    child's answer, with ``read: static``)."""
    reader = StaticReader(path, text, tree, max_tasks)
    reader.run()
    classes = reader.hooks.classes
    try:
        chosen = reader.choose_roots(roots, params)
    except LookupError as exc:
        return {"ok": False, "stage": "options", "error": str(exc), "line": None}
    walks = [{"root": r.key, "instances": reader.walk(r)} for r in chosen]
    if not roots:
        required = reader.statically_required()
        for w in walks:
            for info in w["instances"].values():
                for dep in info["deps"]:
                    d = w["instances"].get(dep)
                    if d and d["family"] != info["family"]:
                        required.add(d["family"])
        walks = [w for w in walks if w["instances"][w["root"]]["family"] not in required]
    return {
        "ok": True,
        "read": "static",
        "module_file": None,
        "module_name": reader.module_name,
        "classes": [
            {
                "class": c.name,
                "family": c.family,
                "line": c.line,
                "kind": c.kind,
                "params": [n for n, _ in c.params()],
            }
            for c in classes
        ],
        "walks": walks,
        "notes": reader.notes,
    }
