"""How Luigi's constructs evaluate statically: ``pyeval`` hooks for task
classes (bases, ``task_namespace``, ``luigi.namespace()``), parameters,
instances (``Cls(...)``, ``self.clone``), targets, ``externalize``, the
``luigi.util`` decorators, date intervals and enums; plus the small adapters
pyeval needs for generator methods (``yield`` collected by rewriting the body)
and for iterating a date interval.
"""

from __future__ import annotations

import ast
import copy
import enum
from typing import Any

from wfconv.frontends import pyeval
from wfconv.frontends.luigi.static_values import (
    ENUM_BASES,
    MISSING,
    Clone,
    Collector,
    GeneratorResult,
    Instance,
    Method,
    ParamClass,
    ParamSpec,
    Super,
    SuperFamily,
    Target,
    TaskClass,
    UtilDecorator,
    externalize,
    flatten,
    is_date_interval,
    is_property,
    luigi_name,
    make_enum,
    task_id_of,
)
from wfconv.frontends.pyeval import NOT_HANDLED, ClassValue, FunctionValue, Ref, Unknown

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
            (b.name for b in cls.bases if isinstance(b, Ref) and b.qualname in ENUM_BASES), None
        )
        if enum_base is not None:
            return make_enum(cls, enum_base)
        luigi_bases = [luigi_name(b) for b in cls.bases]
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
        own_ns = cls.namespace.get("task_namespace", MISSING)
        if own_ns is MISSING:
            for b in cls.bases:
                if isinstance(b, TaskClass) and b.lookup("task_namespace") is not MISSING:
                    own_ns = b.lookup("task_namespace")
                    break
        ns = own_ns if own_ns is None or isinstance(own_ns, str) else self.namespace
        # Luigi decides "external" by run being None, wherever it is set.
        run = cls.namespace.get("run", MISSING)
        if run is None and kind == "normal":
            kind = "external"
        elif run not in (MISSING, None) and kind == "external":
            kind = "normal"
        task = TaskClass(cls.name, cls, cls.bases, ns or None, kind, assumed)
        task.family_override = lambda t: self._family_override(interp, t)
        if cls.module is None:  # the module's own classes (not those of a module it imports)
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
            name = luigi_name(b)
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
        if isinstance(func, Collector):
            func.items.extend(args)
            return None
        if isinstance(func, Ref) and func.qualname == "super" and not args and self.family_stack:
            return Super(self.family_stack[-1])
        if isinstance(func, SuperFamily):
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
        if is_date_interval(func):
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
            return externalize(args[0])
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
            kwargs.get("default", MISSING),
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
                extra[k] = ParamSpec("Parameter", MISSING, True, line, 0, "Parameter")
            values[k] = v
        for name, spec in params:
            if name not in values:
                if spec.effective_default is MISSING:
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
            collector = Collector()
            gen_fn = interp.make_function(as_collector(fn.node), fn.scope)
            interp.call_function(gen_fn, [inst, collector, *args], kwargs)
            return GeneratorResult(collector.items)
        return interp.call_function(fn, [inst, *args], kwargs)

    # -- text ------------------------------------------------------------------
    def to_str(self, interp, obj) -> Any:
        """A date interval or an enum member inside an f-string reads as Python
        prints it (``2024-W10``, ``Mode.full``)."""
        if (is_date_interval(obj) and not callable(obj)) or isinstance(obj, enum.Enum):
            return format(obj)
        return NOT_HANDLED

    def binop(self, interp, op, left, right, node) -> Any:
        """``"path/%s" % interval`` (or a tuple holding one)."""
        if not (isinstance(op, ast.Mod) and isinstance(left, str)):
            return NOT_HANDLED
        items = right if isinstance(right, tuple) else (right,)
        if not any(is_date_interval(x) for x in items) or not pyeval.is_known(list(items)):
            return NOT_HANDLED
        texts = tuple(str(x) if is_date_interval(x) else x for x in items)
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
                return task_id_of(interp, obj, node)
            if name == "param_kwargs":
                return dict(obj.values)
            value = obj.cls.lookup(name)
            if isinstance(value, FunctionValue):
                if any(is_property(d) for d in value.decorators):
                    return self.call_method(interp, obj, value)
                return Method(obj, value)
            if value is not MISSING:
                return value
            return interp.unknown(
                pyeval.RUNTIME, f"`.{name}` of a task is known only at run time", node
            )
        if isinstance(obj, Super) and name == "get_task_family":
            return SuperFamily(obj.task)
        if isinstance(obj, TaskClass):
            value = obj.lookup(name)
            if value is not MISSING:
                return value
            if name in ("task_family", "get_task_family"):
                return obj.family
            return NOT_HANDLED
        if (is_date_interval(obj) or isinstance(obj, (enum.EnumMeta, enum.Enum))) and not (
            name.startswith("_")
        ):
            return getattr(obj, name)
        return NOT_HANDLED


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


def as_collector(node: ast.FunctionDef) -> ast.FunctionDef:
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


def iterate_date_intervals(interp: pyeval.Interpreter) -> None:
    """Adapter: ``for day in self.date_interval`` (Luigi's DateInterval is
    iterable). pyeval has no hook for iteration, so this interpreter's
    ``iterate`` is wrapped; everything else goes to pyeval's own."""
    base = interp.iterate

    def iterate(value: Any, node: ast.AST) -> list[Any] | None:
        if is_date_interval(value) and not callable(value):
            return list(value.dates())
        return base(value, node)

    interp.iterate = iterate  # type: ignore[method-assign]
