"""Values the Prefect frontend's interpreter passes around, and helpers on them.

The Prefect reader (``wfconv.frontends.prefect``) runs a module through
``pyeval`` with hooks; these are the objects its hooks create: task and flow
templates (a decorated function with its options), what a task call returns
(``TaskOut``: result, future, mapped futures, state or coroutine of IR tasks),
values computed from those (``Derived``), flow parameters and the
``allow_failure``/``unmapped``/``quote`` annotations. Run-time values are
``pyeval.Unknown`` subclasses, so the interpreter treats them as unknown while
they remember which IR tasks they come from.
"""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.frontends.pyeval import FunctionValue, Ref, Unknown
from wfconv.ir import literal

# Qualified names (after import aliases) -> the role they play here.
ROLES = {
    "prefect.flow": "flow",
    "prefect.flows.flow": "flow",
    "prefect.task": "task",
    "prefect.tasks.task": "task",
    "prefect.allow_failure": "allow_failure",
    "prefect.utilities.annotations.allow_failure": "allow_failure",
    "prefect.unmapped": "unmapped",
    "prefect.utilities.annotations.unmapped": "unmapped",
    "prefect.utilities.annotations.quote": "quote",
    "prefect.tasks.exponential_backoff": "exponential_backoff",
    "prefect.futures.wait": "wait",
    "prefect.futures.as_completed": "as_completed",
    "prefect.tags": "tags",
    "prefect.context.tags": "tags",
    "prefect.serve": "serve",
    "prefect.aserve": "serve",
    "prefect.deploy": "serve",
    "prefect.schedules.Cron": "cron",
    "prefect.schedules.Interval": "interval",
    "prefect.schedules.RRule": "rrule",
    "prefect.client.schemas.schedules.CronSchedule": "cron",
    "prefect.client.schemas.schedules.IntervalSchedule": "interval",
    "prefect.client.schemas.schedules.RRuleSchedule": "rrule",
    "prefect.deployments.run_deployment": "run_deployment",
    "prefect.assets.materialize": "materialize",
    "prefect.assets.core.materialize": "materialize",
    "prefect.assets.Asset": "asset",
    "prefect.assets.core.Asset": "asset",
    "prefect.deployments.deployments.run_deployment": "run_deployment",
    "asyncio.gather": "gather",
    "prefect.flow.from_source": "from_source",
    "prefect.Flow.from_source": "from_source",
    "prefect.flows.Flow.from_source": "from_source",
    "prefect.flows.flow.from_source": "from_source",
    "prefect.get_run_logger": "runtime",
    "prefect.logging.get_run_logger": "runtime",
    "prefect.runtime": "runtime",
}


# prefect.runtime values -> the IR's neutral template spelling (docs/architecture.md §4).
# A scheduled flow run's scheduled_start_time is the run's logical date (the
# moment it is scheduled for, like Airflow 3's logical_date).
class TemplateText(str):
    """Text in the IR's template spelling, made by this reader (flow
    parameters and task results as ``{{ ... }}``) or found inside wfconv's own
    ``wfconv_render(...)``. Any other text of a Prefect file is literal:
    Prefect renders no Jinja, so ``ir_text`` escapes it (wfconv.ir.literal)."""


def ir_text(value: Any) -> Any:
    """A value as an IR action field holds it: template text as it is, other
    text escaped, containers walked."""
    if isinstance(value, TemplateText):
        return str(value)
    if isinstance(value, str):
        return literal.escape(value)
    if isinstance(value, list):
        return [ir_text(v) for v in value]
    if isinstance(value, dict):
        return {k: ir_text(v) for k, v in value.items()}
    return value


RUNTIME_TEMPLATES = {
    "prefect.runtime.flow_run.scheduled_start_time": TemplateText("{{ logical_date }}"),
    "prefect.runtime.flow_run.id": TemplateText("{{ run_id }}"),
    "prefect.runtime.flow_run.parameters": TemplateText("{{ params }}"),
}


def role_of(value: Any) -> str | None:
    return ROLES.get(value.qualname) if isinstance(value, Ref) else None


# -----------------------------------------------------------------------------
# values the interpreter passes around


@dataclass(eq=False)
class DecoratorSpec:
    """``task(...)`` / ``flow(...)`` called with options, waiting for a function."""

    role: str
    options: dict[str, Any]
    nodes: dict[str, ast.AST]
    line: int | None


@dataclass(eq=False)
class ExpBackoff:
    """``exponential_backoff(backoff_factor=f)``: Prefect computes f * 2**r."""

    factor: Any


@dataclass(eq=False)
class TaskTemplate:
    """A ``@task`` function with its options (after any ``with_options``)."""

    fn: FunctionValue
    options: dict[str, Any]
    nodes: dict[str, ast.AST] = field(default_factory=dict)
    overridden: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        n = self.options.get("name")
        return n if isinstance(n, str) and n else self.fn.name

    @property
    def is_async(self) -> bool:
        return isinstance(self.fn.node, ast.AsyncFunctionDef)

    def with_options(self, options: dict[str, Any], nodes: dict[str, ast.AST]) -> TaskTemplate:
        return TaskTemplate(
            self.fn,
            {**self.options, **options},
            {**self.nodes, **nodes},
            [*self.overridden, *options],
        )


@dataclass(eq=False)
class FlowTemplate:
    """A ``@flow`` function with its options."""

    fn: FunctionValue
    options: dict[str, Any]
    nodes: dict[str, ast.AST] = field(default_factory=dict)
    overridden: list[str] = field(default_factory=list)
    base: FlowTemplate | None = None  # the decorated flow a with_options copy came from

    @property
    def id(self) -> str:
        root = self.base or self
        n = root.options.get("name")
        return n if isinstance(n, str) and n else root.fn.name

    @property
    def prefect_name(self) -> str:
        n = self.options.get("name")
        return n if isinstance(n, str) and n else self.fn.name.replace("_", "-")

    @property
    def is_async(self) -> bool:
        return isinstance(self.fn.node, ast.AsyncFunctionDef)

    def with_options(self, options: dict[str, Any], nodes: dict[str, ast.AST]) -> FlowTemplate:
        return FlowTemplate(
            self.fn,
            {**self.options, **options},
            {**self.nodes, **nodes},
            [*self.overridden, *options],
            self.base or self,
        )


@dataclass(eq=False)
class TaskOut(Unknown):
    """The result, future, state or coroutine of task (or subflow) runs.

    An Unknown for the interpreter (its value is only known at run time) that
    remembers which IR tasks produced it. mode: result | future | mapped |
    state | coroutine.
    """

    ids: tuple[str, ...] = ()
    mode: str = "result"


@dataclass(eq=False)
class Derived(Unknown):
    """A run-time value computed from task outputs (``r["rows"]``, ``f"{r}"``)."""

    refs: tuple[str, ...] = ()
    # An f-string over flow parameters / task results, in the IR's neutral
    # template spelling ("s3://b/{{ params.day }}").
    template: str | None = None


@dataclass(eq=False)
class FlowParam(Unknown):
    """A flow parameter: known only when the run starts."""

    name: str = ""
    default: Any = None


@dataclass(eq=False)
class Annotated:
    """``allow_failure(x)`` / ``unmapped(x)`` / ``quote(x)``."""

    kind: str
    value: Any


@dataclass(eq=False)
class TagsContext:
    tags: list[str]


# -----------------------------------------------------------------------------
# helpers on values


def collect(value: Any, out: dict[str, bool], tolerant: bool = False, depth: int = 0) -> None:
    """Task ids a value depends on -> tolerant? (strict wins over tolerant)."""
    if depth > 20:
        return
    ids: tuple[str, ...] = ()
    if isinstance(value, TaskOut):
        ids = value.ids
    elif isinstance(value, Derived):
        ids = value.refs
    elif isinstance(value, Annotated):
        collect(value.value, out, tolerant or value.kind == "allow_failure", depth + 1)
        return
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            collect(v, out, tolerant, depth + 1)
        return
    elif isinstance(value, dict):
        for v in value.values():
            collect(v, out, tolerant, depth + 1)
        return
    for i in ids:
        out[i] = out.get(i, True) and tolerant


def refs_of(value: Any) -> list[str]:
    out: dict[str, bool] = {}
    collect(value, out)
    return list(out)


def param_template(name: str) -> TemplateText:
    return TemplateText("{{ params." + name + " }}")


def xcom(task_id: str) -> str:
    return TemplateText("{{ ti.xcom_pull(task_ids=" + repr(task_id) + ") }}")


def jsonable(value: Any, depth: int = 0) -> tuple[bool, Any]:
    """(True, JSON value) for plain known values; datetimes as ISO text."""
    if depth > 20:
        return False, None
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, float):
        return (value == value and value not in (float("inf"), float("-inf"))), value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return True, value.isoformat()
    if isinstance(value, datetime.timedelta):
        return True, value.total_seconds()
    if isinstance(value, (list, tuple)):
        items = [jsonable(v, depth + 1) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return False, None
        items2 = {k: jsonable(v, depth + 1) for k, v in value.items()}
        return all(ok for ok, _ in items2.values()), {k: v for k, (_, v) in items2.items()}
    return False, None


def seconds(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime.timedelta):
        s = value.total_seconds()
        return int(s) if s == int(s) else s
    return None


def module_name(path: str) -> str:
    stem = Path(path).stem
    return stem if stem.isidentifier() else "".join(c if c.isalnum() else "_" for c in stem)
