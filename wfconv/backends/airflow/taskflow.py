"""TaskFlow kept: a task the source wrote with ``@task`` is written with it.

A task is written as a call of its ``@task`` function (``data = extract()``,
``transform(data)``) when the source decorated it (``@task`` /
``@task.python``), its function is defined in the output (pasted or a stub),
every task using that function qualifies, and nothing needs the operator form:
no mapping, no setup/teardown role, arguments that are a call's arguments
(``op_args``, ``op_kwargs`` with identifier keys). A function one task uses
carries that task's settings in its decorator (``@task(retries=3)``); one
that several tasks share is ``@task`` and each call says its own with
``.override(task_id=..., ...)``. Everything else stays a PythonOperator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wfconv.backends.airflow.context import OpSpec
from wfconv.backends.common import Code, py_literal
from wfconv.ir.model import Task

_CALL_ARGS = ("python_callable", "op_args", "op_kwargs")


@dataclass
class TaskFlow:
    """Which tasks are calls and how each function is decorated."""

    tasks: dict[str, str] = field(default_factory=dict)  # task id -> function name
    decorators: dict[str, str] = field(default_factory=dict)  # function -> "@task(...)"
    shared: set[str] = field(default_factory=set)  # functions several tasks call

    def call(self, task_id: str, label: str, spec: OpSpec) -> dict[str, Any]:
        """The template's view of one call: callee, positional and keyword
        arguments (values resolved like any operator argument)."""
        fn = self.tasks[task_id]
        kwargs = dict(spec.kwargs)
        callee = fn
        if fn in self.shared:
            settings = [("task_id", label)] if label != fn else []
            settings += [(k, v) for k, v in spec.kwargs if k not in _CALL_ARGS]
            if settings:
                callee = f"{fn}.override({_arguments(settings)})"
        return {
            "callee": callee,
            "args": list(kwargs.get("op_args") or []),
            "call_kwargs": list((kwargs.get("op_kwargs") or {}).items()),
        }


def taskflow(
    tasks: list[Task],
    specs: dict[str, OpSpec],
    callables: dict[str, str],
    local: set[str],
    labels: dict[str, str],
) -> TaskFlow:
    """``callables``: ``<callable:i>`` code -> the name the output calls;
    ``local``: functions the output defines; ``labels``: task_id per task."""
    out = TaskFlow()
    users: dict[str, list[str]] = {}
    refused: set[str] = set()
    for t in tasks:
        spec = specs[t.id]
        for k, v in [*spec.kwargs, *(spec.expand or [])]:
            if isinstance(v, Code) and str(v) in callables:
                name = callables[str(v)]
                if k == "python_callable" and spec.cls == "PythonOperator" and _fits(t, spec):
                    users.setdefault(name, []).append(t.id)
                else:
                    refused.add(name)
    for name, ids in users.items():
        if name not in local or name in refused:
            continue
        for tid in ids:
            out.tasks[tid] = name
        if len(ids) > 1:
            out.shared.add(name)
            out.decorators[name] = "@task"
            continue
        (tid,) = ids
        settings = [("task_id", labels[tid])] if labels[tid] != name else []
        settings += [(k, v) for k, v in specs[tid].kwargs if k not in _CALL_ARGS]
        out.decorators[name] = f"@task({_arguments(settings)})" if settings else "@task"
    return out


def _fits(task: Task, spec: OpSpec) -> bool:
    kwargs = dict(spec.kwargs)
    op_kwargs = kwargs.get("op_kwargs") or {}
    return (
        task.action.get("decorator") in ("task", "task.python")
        and task.role is None
        and spec.expand is None
        and spec.expand_kwargs is None
        and isinstance(kwargs.get("op_args") or [], list)
        and isinstance(op_kwargs, dict)
        and all(isinstance(k, str) and k.isidentifier() for k in op_kwargs)
    )


def _arguments(pairs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={py_literal(v)}" for k, v in pairs)
