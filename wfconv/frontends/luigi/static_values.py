"""What Luigi's objects are to the static reader: a parameter declaration, a
task class, a task instance, a target, a bound method, ``super()`` inside
``get_task_family``. Plain data with the few rules Luigi applies to them
(parameter order and defaults, families, ``task_id``, ``flatten``); the hooks
in ``luigi.static_hooks`` create them while ``pyeval`` runs the module.
"""

from __future__ import annotations

import copy
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from wfconv.frontends import pyeval
from wfconv.frontends.luigi.child import json_value
from wfconv.frontends.pyeval import NOT_HANDLED, ClassValue, FunctionValue, Ref

MISSING: Any = object()


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
        if self.default is not MISSING:
            return self.default
        import luigi.parameter

        implied = getattr(self.luigi_param(), "_default", luigi.parameter._no_value)
        return MISSING if implied is luigi.parameter._no_value else implied

    def luigi_param(self):
        """A real Luigi parameter of this type, to parse/normalise/serialise with."""
        import luigi.parameter

        name = _OLD_NAMES.get(self.luigi_type, self.luigi_type)
        cls = getattr(luigi.parameter, name, None) or luigi.parameter.Parameter
        known = {k: v for k, v in self.kwargs.items() if k not in ("default", "significant")}
        try:
            return cls(**{k: v for k, v in known.items() if pyeval.is_known(v)})
        except Exception:
            return luigi.parameter.Parameter()


# Parameter classes Luigi 1.x/2.x had under another name (older modules still use them).
_OLD_NAMES = {"BooleanParameter": "BoolParameter"}


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
        return MISSING

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
                text = p.serialize(value) if known else unknown_text(value)
            except Exception:
                text = str(value)
            rows.append(
                {
                    "name": name,
                    "type": spec.type,
                    "significant": bool(spec.significant),
                    "value": json_value(value, p) if known else text,
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
class Collector:
    """Receives ``yield`` values of a generator method (see ``as_collector``)."""

    items: list[Any] = field(default_factory=list)


def unknown_line(value: Any) -> int | None:
    u = pyeval.contains_unknown(value)
    return u.line if u is not None else None


def unknown_text(value: Any) -> str:
    u = pyeval.contains_unknown(value)
    return f"<{u.source or u.reason}>" if u is not None else str(value)


def luigi_name(ref: Any) -> str | None:
    """The last part of a Ref into luigi (``luigi.contrib.hive.HiveQueryTask``)."""
    if isinstance(ref, Ref) and ref.qualname.split(".")[0] == "luigi":
        return ref.name
    return None


@dataclass(eq=False)
class Super:
    """``super()`` inside an overriding ``get_task_family``."""

    task: TaskClass


@dataclass(eq=False)
class SuperFamily:
    task: TaskClass


@dataclass(eq=False)
class GeneratorResult:
    items: list[Any]


ENUM_BASES = {f"enum.{n}" for n in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag")}


def make_enum(cls: ClassValue, base: str) -> Any:
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


def task_id_of(interp, inst: Instance, node) -> Any:
    """Luigi's own task_id (family, significant parameters, hash), computed by
    Luigi's ``task_id_str`` from the serialised values when they are known."""
    from luigi.task import task_id_str

    rows = [r for r in inst.param_rows() if r["significant"]]
    if not all(pyeval.is_known(inst.values.get(r["name"])) for r in rows):
        return interp.unknown(pyeval.RUNTIME, "task_id of a task with run-time parameters", node)
    return task_id_str(inst.cls.family, {r["name"]: r["text"] for r in rows})


def is_property(decorator: Any) -> bool:
    return isinstance(decorator, Ref) and decorator.qualname in (
        "property",
        "functools.cached_property",
    )


def is_date_interval(obj: Any) -> bool:
    import luigi.date_interval

    return isinstance(obj, luigi.date_interval.DateInterval) or (
        callable(obj)
        and isinstance(getattr(obj, "__self__", None), luigi.date_interval.DateInterval)
    )


def externalize(obj: Any) -> Any:
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
