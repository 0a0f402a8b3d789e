"""TaskFlow kept: a task the source wrote with ``@task`` is written with it.

A task is written as a call of its ``@task`` function (``data = extract()``,
``transform(data)``) when the source decorated it (``@task`` /
``@task.python``, and ``@task.bash``, whose function computes the command
when the task runs), its function is defined in the output (pasted or a stub),
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

CALL_ARGS = ("python_callable", "op_args", "op_kwargs")


@dataclass
class TaskFlow:
    """Which tasks are calls and how each function is decorated."""

    tasks: dict[str, str] = field(default_factory=dict)  # task id -> function name
    decorators: dict[str, str] = field(default_factory=dict)  # function -> "@task(...)"
    shared: set[str] = field(default_factory=set)  # functions several tasks call

    def call(self, task_id: str, label: str, spec: OpSpec, var: str, depth: int) -> str:
        """The lines that call the task's function in the DAG body, laid
        out as ``ruff format`` lays them out."""
        fn = self.tasks[task_id]
        kwargs = dict(spec.kwargs)
        settings: list[tuple[str, Any]] = []
        if fn in self.shared:
            settings = [("task_id", label)] if label != fn else []
            settings += [(k, v) for k, v in spec.kwargs if k not in CALL_ARGS]
        args = [py_literal(v) for v in kwargs.get("op_args") or []]
        args += [f"{k}={py_literal(v)}" for k, v in (kwargs.get("op_kwargs") or {}).items()]
        pad = "    " * depth
        head = f"{pad}{var} = {fn}"
        override = [f"{k}={py_literal(v)}" for k, v in settings]
        if override:
            one = f"{head}.override({', '.join(override)})"
            head = (
                one if len(one) + 2 <= LINE else f"{head}.override(\n{_each(override, pad)}{pad})"
            )
        last = head.rsplit("\n", 1)[-1]
        if not args or len(last) + 2 + len(", ".join(args)) <= LINE:
            return f"{head}({', '.join(args)})"
        return f"{head}(\n{_each(args, pad)}{pad})"


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
    kinds: dict[str, str] = {}  # function -> decorator ("" when its tasks differ)
    refused: set[str] = set()
    for t in tasks:
        spec = specs[t.id]
        for k, v in [*spec.kwargs, *(spec.expand or [])]:
            if isinstance(v, Code) and str(v) in callables:
                name = callables[str(v)]
                kind = _decorator(t, spec) if k == "python_callable" else None
                if kind is not None:
                    users.setdefault(name, []).append(t.id)
                    if kinds.setdefault(name, kind) != kind:
                        kinds[name] = ""
                else:
                    refused.add(name)
    for name, ids in users.items():
        if name not in local or name in refused or not kinds[name]:
            continue
        for tid in ids:
            out.tasks[tid] = name
        decorator = f"@{kinds[name]}"
        if len(ids) > 1:
            out.shared.add(name)
            out.decorators[name] = decorator
            continue
        (tid,) = ids
        settings = [("task_id", labels[tid])] if labels[tid] != name else []
        settings += [(k, v) for k, v in specs[tid].kwargs if k not in CALL_ARGS]
        out.decorators[name] = decorator_lines(decorator, settings)
    return out


def _decorator(task: Task, spec: OpSpec) -> str | None:
    """``task`` or ``task.bash`` when the task can be a call, else None."""
    if spec.decorator:
        return spec.decorator
    python = task.action.get("decorator") in ("task", "task.python")
    if python and spec.cls == "PythonOperator" and _fits(task, spec):
        return "task"
    return None


def _fits(task: Task, spec: OpSpec) -> bool:
    kwargs = dict(spec.kwargs)
    op_kwargs = kwargs.get("op_kwargs") or {}
    return (
        task.role is None
        and spec.expand is None
        and spec.expand_kwargs is None
        and isinstance(kwargs.get("op_args") or [], list)
        and isinstance(op_kwargs, dict)
        and all(isinstance(k, str) and k.isidentifier() for k in op_kwargs)
    )


def decorator_lines(decorator: str, settings: list[tuple[str, Any]]) -> str:
    """``@task(...)`` as ``ruff format`` writes it."""
    if not settings:
        return decorator
    parts = [f"{k}={py_literal(v)}" for k, v in settings]
    one = f"{decorator}({', '.join(parts)})"
    return one if len(one) <= LINE else f"{decorator}(\n{_each(parts, '')})"


LINE = 100  # ruff's line length


def _each(parts: list[str], pad: str) -> str:
    """One argument per line with the trailing comma that keeps them so."""
    return "".join(f"{pad}    {p},\n" for p in parts)
