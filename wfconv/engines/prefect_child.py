"""Runs in a child of wfconv's interpreter: ``python -m wfconv.engines.prefect_child
JOB.json OUT.json``. For each emitted Prefect module of the job, what Prefect
itself makes of it, without a server and without running a flow:

- loads: the module imports and holds a ``Flow`` object named as the workflow;
- structure: every module-level ``Task`` object's name, retries, retry delays
  and timeout (Prefect has no static graph: edges exist only in a run, and the
  behaviour check sees them there);
- time: the module run as ``__main__`` with ``Flow.serve`` recording its
  schedules instead of serving; their dates from Prefect's own schedule
  classes (``construct_schedule(...).get_dates``);
- payloads: for the tasks the job names (shell commands), the task's function
  called once per scheduled date with the arguments the flow body gives it
  (the flow function runs with every task call recorded, not run), with
  ``prefect.runtime``'s scheduled start time set for that date and every
  ``subprocess``/``os.system`` entry point replaced by a recorder that stops
  the task before anything runs.

Nothing the user wrote runs: only emitted modules are imported, and only the
command-building part of a shell task executes.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import traceback


class _Captured(BaseException):
    """Raised by the recorders: stops the task body at its command."""

    def __init__(self, command):
        super().__init__("captured")
        self.command = command


def _record(*args, **kwargs):
    command = args[0] if args else kwargs.get("args")
    raise _Captured(command)


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    if callable(value):
        return "<function>"
    return float(value)


def _task_facts(task) -> dict:
    return {
        "retries": task.retries,
        "retry_delay_s": _seconds(task.retry_delay_seconds),
        "timeout_s": _seconds(task.timeout_seconds),
    }


def _serve_calls(path: str) -> list:
    """The ``X.serve(...)`` calls of the module's ``if __name__ == "__main__":``
    block (ast nodes): the schedules a deployment of this flow gets."""
    import ast

    tree = ast.parse(open(path, encoding="utf-8").read())
    calls = []
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "serve"
                ):
                    calls.append(sub)
    return calls


def _schedules(path: str, module) -> list[dict]:
    """The schedules ``flow.serve(...)`` is called with when the module runs as
    a program: only the keyword arguments are evaluated, in the module's
    namespace (the flow is not served and nothing else of the block runs)."""
    import ast

    seen: list[dict] = []
    for call in _serve_calls(path):
        for kw in call.keywords:
            if kw.arg not in ("schedules", "cron", "interval", "rrule", "schedule"):
                continue
            expr = ast.Expression(kw.value)
            value = eval(compile(expr, path, "eval"), vars(module))  # emitted code only
            if kw.arg in ("schedules", "schedule"):
                for s in value if isinstance(value, (list, tuple)) else [value]:
                    seen.append({k: v for k, v in vars(s).items() if v is not None})
            elif value is not None:
                seen.append({kw.arg: value})
    return seen


def _dates(schedule: dict, start: str | None, n: int) -> list[str]:
    from prefect.client.schemas.schedules import construct_schedule

    keys = ("interval", "anchor_date") if "interval" in schedule else ("cron", "rrule")
    kwargs = {k: schedule[k] for k in (*keys, "timezone") if k in schedule}
    sch = construct_schedule(**kwargs)
    begin = datetime.datetime.fromisoformat(start) if start else None
    if begin is not None and begin.tzinfo is None:
        begin = begin.replace(tzinfo=datetime.UTC)
    server = _server_schedule(sch)
    dates = server.get_dates(n=n, start=begin)
    if hasattr(dates, "__await__"):
        import asyncio

        dates = asyncio.run(dates)
    return [d.astimezone(datetime.UTC).isoformat() for d in dates]


def _server_schedule(sch):
    """The server's copy of a client schedule (the scheduler service plans with it)."""
    from prefect.server.schemas import schedules as ss

    kind = type(sch).__name__
    return getattr(ss, kind).model_validate(sch.model_dump())


class _EverythingChosen(dict):
    """The ``upstream`` argument of a gated task: no upstream result to count,
    and any branch upstream chose every task (so the task's gate lets it
    build its command)."""

    def __init__(self, names):
        super().__init__()
        self.names = list(names)

    def get(self, key, default=None):
        return self.names


class _Future:
    """What a recorded ``.submit``/``.map``/call returns inside the flow body:
    waited for, unpacked (a mapped task), passed on, never resolved."""

    def wait(self, *args, **kwargs):
        return None

    def result(self, *args, **kwargs):
        return None

    def __iter__(self):
        return iter(())


def _flow_calls(module, flow, when) -> dict[str, tuple[tuple, dict]]:
    """The arguments the flow body gives each task for a run scheduled at
    ``when`` (task name -> (args, kwargs)): the flow function runs with every
    task's submit, map and call recorded instead of run."""
    import inspect

    from prefect import Task

    calls: dict[str, tuple[tuple, dict]] = {}

    def recorder(self, *args, **kwargs):
        kwargs.pop("wait_for", None)
        kwargs.pop("return_state", None)
        calls.setdefault(self.name, (args, kwargs))
        return _Future()

    saved = {name: getattr(Task, name) for name in ("submit", "map", "__call__")}
    try:
        for name in saved:
            setattr(Task, name, recorder)
        params = {
            p.name: p.default
            for p in inspect.signature(flow.fn).parameters.values()
            if p.default is not inspect.Parameter.empty
        }
        flow.fn(**params)
    finally:
        for name, fn in saved.items():
            setattr(Task, name, fn)
    return calls


def _resolved(value, everything):
    """A recorded argument as the task would receive it: futures and the
    gate's ``allow_failure`` wrappers stand for upstream values."""
    from prefect.utilities.annotations import BaseAnnotation

    if isinstance(value, BaseAnnotation):
        value = value.unwrap()
    if isinstance(value, _Future):
        return None
    if isinstance(value, dict) and any(isinstance(v, _Future) for v in value.values()):
        return everything
    return value


def _payloads(module, tasks: list[str], dates: list[str]) -> list[dict]:
    from prefect import Flow, Task
    from prefect.runtime import flow_run, task_run

    by_name = {v.name: v for v in vars(module).values() if isinstance(v, Task)}
    flows = [v for v in vars(module).values() if isinstance(v, Flow)]
    patched = {
        (subprocess, "run"): _record,
        (subprocess, "Popen"): _record,
        (subprocess, "call"): _record,
        (subprocess, "check_call"): _record,
        (subprocess, "check_output"): _record,
        (os, "system"): _record,
    }
    saved = {k: getattr(*k) for k in patched}
    out = []
    real_start = flow_run.FIELDS["scheduled_start_time"]
    real_name = task_run.FIELDS.get("task_name")
    try:
        for date in dates:
            when = datetime.datetime.fromisoformat(date)
            flow_run.FIELDS["scheduled_start_time"] = lambda when=when: when
            calls = _flow_calls(module, flows[0], when) if flows else {}
            for k, fn in patched.items():
                setattr(k[0], k[1], fn)
            everything = _EverythingChosen(by_name)
            per_task = {}
            for name in tasks:
                task = by_name.get(name)
                if task is None:
                    continue
                args, kwargs = calls.get(name, ((), {}))
                args = tuple(_resolved(a, everything) for a in args)
                kwargs = {k: _resolved(v, everything) for k, v in kwargs.items()}
                task_run.FIELDS["task_name"] = lambda name=name: name
                try:
                    task.fn(*args, **kwargs)
                    per_task[name] = {"command": {"error": "no command was run"}}
                except _Captured as cap:
                    command = cap.command
                    if isinstance(command, (list, tuple)):
                        # wfconv's shell tasks run ["bash", "-c", command]
                        parts = list(command)
                        command = (
                            parts[2]
                            if parts[:2] == ["bash", "-c"] and len(parts) == 3
                            else (" ".join(map(str, parts)))
                        )
                    per_task[name] = {"command": command}
                except Exception as exc:  # the command could not be built
                    per_task[name] = {
                        "command": {"error": type(exc).__name__ + ": " + str(exc)[:200]}
                    }
            for k, fn in saved.items():
                setattr(k[0], k[1], fn)
            out.append(per_task)
    finally:
        for k, fn in saved.items():
            setattr(k[0], k[1], fn)
        if dates:
            flow_run.FIELDS["scheduled_start_time"] = real_start
        if real_name is not None:
            task_run.FIELDS["task_name"] = real_name
    return out


def inspect_module(entry: dict, n: int) -> dict:
    from prefect import Flow, Task

    from wfconv.verify.engine import _import_file

    path = entry["file"]
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)
    out: dict = {}
    try:
        module = _import_file(path, f"wfconv_prefect_{n}")
    except BaseException:
        out["import_error"] = traceback.format_exc(limit=-2).strip().splitlines()[-1]
        return out
    finally:
        sys.path.remove(folder)
    flows = {v.name: v for v in vars(module).values() if isinstance(v, Flow)}
    out["flows"] = sorted(flows)
    out["tasks"] = {v.name: _task_facts(v) for v in vars(module).values() if isinstance(v, Task)}
    try:
        schedules = _schedules(path, module)
        out["schedules"] = [
            {k: (str(v) if not isinstance(v, (int, float, str)) else v) for k, v in s.items()}
            for s in schedules
        ]
        if schedules:
            out["dates"] = _dates(schedules[0], entry.get("start"), entry.get("runs", 3))
    except BaseException as exc:
        out["schedule_error"] = type(exc).__name__ + ": " + str(exc)[:300]
        out["dates"] = []
    if entry.get("shell_tasks"):
        dates = out.get("dates") or entry.get("dates") or []
        out["rendered"] = _payloads(module, entry["shell_tasks"], dates)
    return out


MODULE_TIMEOUT_S = 60


def _too_long(signum, frame):
    raise TimeoutError(f"inspecting the module took more than {MODULE_TIMEOUT_S} s")


def main() -> None:
    job = json.load(open(sys.argv[1], encoding="utf-8"))
    import logging

    logging.disable(logging.CRITICAL)
    signal.signal(signal.SIGALRM, _too_long)
    result = {}
    for n, entry in enumerate(job["modules"]):
        signal.alarm(MODULE_TIMEOUT_S)
        try:
            result[entry["file"]] = inspect_module(entry, n)
        except BaseException as exc:  # one module must not hide the others
            result[entry["file"]] = {"import_error": f"{type(exc).__name__}: {exc}"[:500]}
        finally:
            signal.alarm(0)
        print("WFCONV_MODULE " + entry["file"], flush=True)
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(result, fh, default=str)


if __name__ == "__main__":
    main()
