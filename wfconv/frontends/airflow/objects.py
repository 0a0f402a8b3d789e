"""The Airflow objects the static frontend's interpreter passes around, and
how their values become JSON.

A DAG file is run by ``pyeval``; when it calls ``DAG(...)``, an operator, a
TaskFlow decorator or ``TaskGroup``, the hooks in ``airflow.py`` answer with
these objects (``DagObj`` holds the IR ``Workflow`` being built, ``TaskObj``
the IR ``Task``). ``jsonable`` is the one place that turns any abstract value
into JSON for the IR.
"""

from __future__ import annotations

import ast
import datetime as _dt
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from wfconv.frontends.pyeval import (
    BoundFunction,
    ClassValue,
    FunctionValue,
    InstanceValue,
    Interpreter,
    Ref,
    Unknown,
)
from wfconv.ir.model import Edge, Task, Workflow

# ---------------------------------------------------------------------------
# Airflow objects as the interpreter sees them


@dataclass(eq=False)
class UnreadName(Unknown):
    """A name of a module wfconv does not read (``settings.CMD`` when
    ``settings`` is not in the repository) where a value is needed: its
    value is unknown, never its dotted name made into a string."""

    qualname: str = ""


def unread_names(value: Any, make, depth: int = 0) -> Any:
    """``value`` with every imported name (``Ref``) inside it replaced by
    ``make(ref)``; the same object when it holds none."""
    if isinstance(value, Ref):
        return make(value)
    if depth > 20:
        return value
    if type(value) in (list, tuple):
        items = [unread_names(v, make, depth + 1) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if type(value) is list else tuple(items)
    if type(value) is dict:
        pairs = [(k, unread_names(v, make, depth + 1)) for k, v in value.items()]
        if all(v is value[k] for k, v in pairs):
            return value
        return dict(pairs)
    return value


@dataclass(eq=False)
class DagObj:
    workflow: Workflow
    default_args: dict[str, Any]
    line: int
    tasks: dict[str, TaskObj] = field(default_factory=dict)
    groups: dict[str, GroupObj] = field(default_factory=dict)
    dag_kwargs: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    diag_keys: set = field(default_factory=set)
    # (src, dst) -> Edge: Workflow.add_edge's semantics without its linear scan.
    edge_index: dict[tuple[str, str], Edge] = field(default_factory=dict)
    # Made while an imported module of the repository ran (not this file's).
    foreign: bool = False
    # Given a schedule but no start_date: Airflow 2's DAG() raises (AF115).
    no_start_date: bool = False

    @property
    def id(self) -> str:
        return self.workflow.id


@dataclass(eq=False)
class GroupObj:
    label: str | None
    full_id: str | None
    prefix: bool
    dag: DagObj | None
    parent: GroupObj | None
    default_args: dict[str, Any]
    # A TaskGroup subclass of the repository: its class and own attributes.
    user_cls: ClassValue | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def child_id(self, label: str) -> str:
        if self.prefix and self.full_id:
            return f"{self.full_id}.{label}"
        return label

    def contains(self, group: GroupObj | None) -> bool:
        while group is not None:
            if group is self:
                return True
            group = group.parent
        return False


@dataclass(eq=False)
class TaskObj:
    task: Task
    dag: DagObj | None
    group: GroupObj | None
    cls: str
    id: str = ""  # the task id (a copy: it never changes once the task exists)
    # An operator subclass of the repository: its class and own attributes.
    user_cls: ClassValue | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    foreign: bool = False  # made while an imported module ran

    def __post_init__(self) -> None:
        self.id = self.task.id


@dataclass(eq=False)
class XComArg:
    task: TaskObj
    key: str | None = None

    def template(self) -> str:
        if self.key:
            return f"{{{{ ti.xcom_pull(task_ids={self.task.id!r}, key={self.key!r}) }}}}"
        return f"{{{{ ti.xcom_pull(task_ids={self.task.id!r}) }}}}"


@dataclass(eq=False)
class TaskDecorator:
    """``task``/``task.bash``/``task(retries=2)`` before it meets its function."""

    kind: str
    kwargs: dict[str, Any]


@dataclass(eq=False)
class TaskFlowFn:
    fn: FunctionValue
    kind: str
    kwargs: dict[str, Any]
    role: str | None = None  # setup | teardown (@setup / @teardown)


@dataclass(eq=False)
class DagDecorator:
    kwargs: dict[str, Any]


@dataclass(eq=False)
class DagFunction:
    fn: FunctionValue
    kwargs: dict[str, Any]
    called: bool = False


@dataclass(eq=False)
class AssetDecorator:
    """``asset(schedule=...)`` (Airflow 3) before it meets its function."""

    kwargs: dict[str, Any]


@dataclass(eq=False)
class GroupDecorator:
    kwargs: dict[str, Any]


@dataclass(eq=False)
class GroupFunction:
    fn: FunctionValue
    kwargs: dict[str, Any]


@dataclass(eq=False)
class PartialCall:
    """``Op.partial(...)`` or ``taskflow.partial(...)`` awaiting ``.expand``."""

    target: Any  # operator class name (str, with its Ref) or a TaskFlowFn
    ref: Ref | ClassValue | None
    kwargs: dict[str, Any]
    args: list[Any]


@dataclass(eq=False)
class DatasetObj:
    kind: str  # datasets | assets
    name: str


@dataclass(eq=False)
class DatasetCond:
    op: str
    items: list[Any]


@dataclass(eq=False)
class ParamObj:
    default: Any
    spec: dict[str, Any]


@dataclass(eq=False)
class DagParamRef:
    name: str

    def template(self) -> str:
        return f"{{{{ params.{self.name} }}}}"


@dataclass(eq=False)
class LabelObj:
    text: Any
    upstream: list[TaskObj] = field(default_factory=list)


@dataclass(eq=False)
class TimetableObj:
    cls: str
    args: list[Any]
    kwargs: dict[str, Any]
    qualname: str | None = None  # where the class was imported from


# ---------------------------------------------------------------------------
# value helpers


def tz_name(tz: _dt.tzinfo | None) -> str | None:
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if key:
        return key
    if tz is _dt.UTC or tz.utcoffset(None) == _dt.timedelta(0):
        return "UTC"
    return tz.tzname(None)


def iso(value: Any) -> str | None:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.isoformat()
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.UTC).isoformat()
    return None


def jsonable(value: Any, depth: int = 0) -> Any:
    """An abstract value as JSON: literals as themselves, run-time values as
    ``{"__expr__": source}``, Airflow objects by id/name/template."""
    if depth > 30:
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, _dt.datetime | _dt.date):
        return iso(value)
    if isinstance(value, _dt.timedelta):
        s = value.total_seconds()
        return int(s) if s == int(s) else s
    if isinstance(value, _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.tzinfo):
        return tz_name(value)
    if isinstance(value, dict):
        return {str(jsonable(k, depth + 1)): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v, depth + 1) for v in value), key=repr)
    if isinstance(value, Unknown):
        return {"__expr__": value.source or value.reason}
    if isinstance(value, FunctionValue):
        return value.name
    if isinstance(value, Ref):
        return value.qualname
    if isinstance(value, ClassValue):
        return value.name
    if isinstance(value, BoundFunction):
        return value.fn.name
    if isinstance(value, InstanceValue):
        return {"__instance__": value.cls.name}
    if isinstance(value, TaskObj):
        return value.id
    if isinstance(value, (XComArg, DagParamRef)):
        return value.template()
    if isinstance(value, DagObj):
        return value.id
    if isinstance(value, GroupObj):
        return value.full_id
    if isinstance(value, DatasetObj):
        return value.name
    if isinstance(value, DatasetCond):
        return {value.op: [jsonable(v, depth + 1) for v in value.items]}
    if isinstance(value, ParamObj):
        return jsonable(value.default, depth + 1)
    if isinstance(value, LabelObj):
        return jsonable(value.text, depth + 1)
    if isinstance(value, TimetableObj):
        return {
            "timetable": value.cls,
            "args": jsonable(value.args),
            "kwargs": jsonable(value.kwargs),
        }
    if isinstance(value, (TaskFlowFn, DagFunction, GroupFunction)):
        return value.fn.name
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return type(value).__name__


def seconds(value: Any) -> float | None:
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def xcom_sources(value: Any, depth: int = 0) -> list[TaskObj]:
    """Tasks whose results flow into ``value`` (TaskFlow data passing)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None or depth > 20:
        return []
    if t is XComArg:
        return [value.task]
    if isinstance(value, TaskObj):
        return [value]
    out: list[TaskObj] = []
    if isinstance(value, dict):
        for v in value.values():
            out.extend(xcom_sources(v, depth + 1))
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            out.extend(xcom_sources(v, depth + 1))
    return out


def function_source(interp: Interpreter, fn: FunctionValue) -> str | None:
    # One callable often serves many tasks (a loop of PythonOperators): its
    # text is cut and dedented once per file (keyed by its node, kept alive
    # by the entry), not once per task.
    node = fn.node
    cache = interp.__dict__.setdefault("_function_sources", {})
    hit = cache.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = interp.source_text(node)
    if not isinstance(node, ast.Lambda):
        text = textwrap.dedent(" " * node.col_offset + text)
    cache[id(node)] = (node, text)
    return text
