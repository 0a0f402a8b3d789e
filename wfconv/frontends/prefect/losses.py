"""What a flow body does that the static reader cannot see (docs/repositories.md,
"Loss you can see"; codes PF111/PF112 in docs/codes/prefect.md).

Prefect builds a flow's graph while the flow runs: every task called in the
body (or in a function the body calls) is a task run. The reader follows the
body statically, so a call it cannot follow may have run tasks the IR does
not have: a function of a module it cannot read (an installed task library,
a module missing from the repository), a name that is not defined, a task
picked from a dict by a run-time key, an ``async``/generator helper (its body
runs when the coroutine is awaited or the generator is iterated, which the
interpreter does not model), the method of an object of the file. Each such
call is a loss at its line, and the flow is marked incomplete.

Calls that cannot run a task are not losses: the standard library, Prefect's
own helpers, known run-time reads (files, network, clock), logging, a few
data libraries, classes (a name with a capitalised part builds an object), and
methods of run-time values (a task's result, a parameter).
"""

from __future__ import annotations

import ast
from typing import Any

from wfconv.frontends import pyeval
from wfconv.frontends.prefect.values import Derived, FlowParam, FlowTemplate, TaskOut, TaskTemplate
from wfconv.frontends.pyeval import (
    SILENT_CALLS,
    ClassValue,
    FunctionValue,
    Interpreter,
    Ref,
    Unknown,
    runtime_reason,
)
from wfconv.frontends.repo import INSTALLED_FIRST, unread_reason

# Libraries flows use for data between tasks; none of them defines Prefect tasks.
DATA_LIBRARIES = frozenset({"pandas", "numpy", "polars", "pyarrow", "duckdb", "httpx"})

# The reason of the value a container of tasks gives for a run-time key.
CHOSEN = "one of the tasks "


def chosen(container: Any, key: Any) -> Unknown | None:
    """``TASKS[kind]`` with a run-time key, over a dict or list holding tasks
    or flows: the task that runs is only known at run time."""
    values = container.values() if isinstance(container, dict) else container
    if not isinstance(key, Unknown) or not isinstance(values, (list, tuple, type({}.values()))):
        return None
    names = [v.name if isinstance(v, TaskTemplate) else v.id for v in values if _is_template(v)]
    if not names:
        return None
    return Unknown(pyeval.RUNTIME, CHOSEN + ", ".join(names) + ", chosen at run time")


def unseen(interp: Interpreter, func: Any, value: Any) -> str | None:
    """Why the call of ``func`` (whose result is ``value``, an Unknown) may
    have run tasks the reader cannot see; None when it cannot have."""
    if isinstance(func, (TaskOut, Derived, FlowParam)):
        return None  # a method of a run-time value
    if isinstance(func, Ref):
        return _library(interp, func)
    if isinstance(func, Unknown):
        reason = func.reason
        if reason.startswith(CHOSEN):
            return reason
        if "is not defined" in reason:
            return reason
        if reason.startswith("instance of class"):
            return f"a method of an object ({reason}) is not read statically"
        return None
    if isinstance(func, FunctionValue):
        node = func.node
        kind = (
            "a coroutine function"
            if isinstance(node, ast.AsyncFunctionDef)
            else "a generator function"
            if isinstance(node, ast.FunctionDef) and pyeval._is_generator(node)
            else None
        )
        if kind is not None and runs_tasks(interp, func):
            return f"{func.name}() is {kind}, whose body runs at run time and is not read"
        return None
    if isinstance(func, ClassValue):
        init = pyeval.class_lookup(func, "__init__")
        if isinstance(init, FunctionValue) and runs_tasks(interp, init):
            return f"instances of class {func.name} are not read statically"
    return None


def runs_tasks(interp: Interpreter, fn: FunctionValue, _seen: set | None = None) -> bool:
    """Whether ``fn``'s body calls a task, a flow, or something that may be
    one (looked up by name in the scope it closes over, never run)."""
    seen = _seen if _seen is not None else set()
    if id(fn.node) in seen or len(seen) > 50:
        return False
    seen.add(id(fn.node))
    for n in ast.walk(fn.node):
        if not isinstance(n, ast.Call):
            continue
        root = n.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            continue
        value = fn.scope.lookup(root.id)
        if _is_template(value):
            return True
        if isinstance(value, FunctionValue) and runs_tasks(interp, value, seen):
            return True
        if isinstance(value, Ref) and root is n.func and _library(interp, value) is not None:
            return True
    return False


def _is_template(value: Any) -> bool:
    return isinstance(value, (TaskTemplate, FlowTemplate))


def _library(interp: Interpreter, ref: Ref) -> str | None:
    """Why a function of another module may be a task (None: it is not)."""
    q = ref.qualname
    parts = q.split(".")
    if (
        len(parts) == 1  # builtins (print, open...)
        or parts[0] in INSTALLED_FIRST  # the standard library, Prefect itself
        or parts[0] in DATA_LIBRARIES
        or runtime_reason(q) is not None
        or q.startswith(SILENT_CALLS)
        or any(p[:1].isupper() for p in parts[1:])  # a class, or an attribute of one
    ):
        return None
    return f"{q} is not read ({unread_reason(interp.importer, q.rsplit('.', 1)[0])})"


__all__ = ["CHOSEN", "DATA_LIBRARIES", "chosen", "runs_tasks", "unseen"]
