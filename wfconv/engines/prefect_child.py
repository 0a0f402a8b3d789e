"""Runs in a child of wfconv's interpreter: ``python -m wfconv.engines.prefect_child
JOB.json OUT.json``. For each emitted Prefect module of the job, what Prefect
itself makes of it, without a server and without running a flow:

- loads: the module imports and holds a ``Flow`` object named as the workflow;
- structure: every module-level ``Task`` object's name, retries, retry delays
  and timeout (Prefect has no static graph: edges exist only in a run, and the
  behaviour check sees them there);
- time: the deployments the module's ``__main__`` block makes (for a source
  module, an entry naming a ``flow``: that flow's deployments only)
  (``flow.serve``, ``flow.deploy``, ``flow.to_deployment``), built by the
  flow's own ``to_deployment`` from the call's schedule keywords; their dates
  from Prefect's server-side schedule classes;
- payloads: for the tasks the job names (shell commands), the task's function
  called once per scheduled date with the arguments the flow body gives it
  (the flow function runs with every task call recorded, not run), with
  ``prefect.runtime``'s scheduled start time set for that date and every
  ``subprocess``/``os.system`` entry point replaced by a recorder that stops
  the task before anything runs.

What runs: emitted modules are imported (a Prefect source module too, for its
deployments: its ``__main__`` block runs with serving and deploying recorded,
never done), and of a shell task only the part that builds its command.

The same functions serve in-process callers that prove a schedule
(tests/test_time_oozie_engines.py)::

    mod = load_module("out/sales.py")
    deployment_dates(mod, 5, start)            # the first 5 scheduled starts
    mod.wfconv_run_dates(when)                 # (logical, interval start, end)
    run_scheduled(served_flow(mod), when)      # the flow's final state
"""

from __future__ import annotations

import datetime
import traceback

from wfconv.engines.modchild import command_of, each_module


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


# Where a module gives its flow a deployment (and so a schedule): the calls of
# its ``if __name__ == "__main__":`` block on a flow of the module.
_DEPLOYING = ("serve", "deploy", "to_deployment")
# The keywords of those calls that decide the schedules (the rest are runner,
# work pool or image settings).
_SCHEDULE_KEYWORDS = (
    "schedules",
    "schedule",
    "cron",
    "interval",
    "rrule",
    "anchor_date",
    "timezone",
)


def load_module(path, name: str | None = None):
    """Import a Prefect module by path, registered in ``sys.modules`` (Prefect
    deploys a flow from its module); its ``__main__`` block does not run."""
    from pathlib import Path

    from wfconv.verify.engine import _import_file

    path = Path(path).resolve()
    if name is None:
        import hashlib

        name = f"wfconv_prefect_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    return _import_file(path, name)


def deployment_calls(path: str) -> list:
    """The ``flow.serve(...)``, ``flow.deploy(...)`` and
    ``flow.to_deployment(...)`` calls (ast nodes) of the module's
    ``if __name__ == "__main__":`` block, the flow named by a plain name."""
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
                    and sub.func.attr in _DEPLOYING
                    and isinstance(sub.func.value, ast.Name)
                ):
                    calls.append(sub)
    return calls


def deployments(module, path: str | None = None) -> list:
    """The deployments the module's ``__main__`` block would create, built by
    each flow's own ``to_deployment`` (what ``serve`` and ``deploy`` call) from
    the schedule keywords of the call. Only those keywords are evaluated, in
    the module's namespace: no flow is served and nothing else of the block
    runs."""
    import ast

    from prefect import Flow

    path = path or module.__file__
    out = []
    for call in deployment_calls(path):
        flow = vars(module).get(call.func.value.id)
        if not isinstance(flow, Flow):
            continue
        kwargs = {
            kw.arg: eval(compile(ast.Expression(kw.value), path, "eval"), vars(module))
            for kw in call.keywords
            if kw.arg in _SCHEDULE_KEYWORDS  # emitted code only
        }
        out.append((flow, flow.to_deployment(name=flow.name, **kwargs)))
    return out


def served_flow(module):
    """The flow the module's ``__main__`` block deploys (or serves)."""
    found = deployments(module)
    if not found:
        raise LookupError(f"{module.__file__}: no flow.serve(...) or flow.deploy(...) call")
    return found[0][0]


def deployment_dates(
    module, n: int, start, path: str | None = None, flow: str | None = None
) -> list:
    """The first ``n`` scheduled start times at or after ``start`` (an aware
    datetime, or None for now) of every active schedule of the module's
    deployments (of the flow named ``flow`` only, when given), ascending, from
    Prefect's server-side schedule classes (what its scheduler service creates
    runs from)."""
    import asyncio

    from prefect.server.schemas import schedules as server

    out = []
    for owner, deployment in deployments(module, path):
        if flow is not None and owner.name != flow:
            continue
        for entry in deployment.schedules or []:
            if getattr(entry, "active", True) is False:
                continue
            schedule = getattr(entry, "schedule", entry)
            cls = getattr(server, type(schedule).__name__)
            dates = cls.model_validate(schedule.model_dump()).get_dates(n=n, start=start)
            out.extend(asyncio.run(dates) if hasattr(dates, "__await__") else dates)
    return sorted(out)[:n]


def run_scheduled(flow, when):
    """Run ``flow`` as the run its deployment scheduled at ``when``: inside it
    ``prefect.runtime.flow_run.scheduled_start_time`` is ``when``. Needs a
    Prefect API (``wfconv.engines.prefect_server``); returns the run's final
    state."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(flow, state=Scheduled(scheduled_time=when))
    return run_flow(flow, flow_run=flow_run, return_type="state")


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
    out = []
    real_start = flow_run.FIELDS["scheduled_start_time"]
    real_name = task_run.FIELDS.get("task_name")
    try:
        for date in dates:
            when = datetime.datetime.fromisoformat(date)
            flow_run.FIELDS["scheduled_start_time"] = lambda when=when: when
            calls = _flow_calls(module, flows[0], when) if flows else {}
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
                per_task[name] = {
                    "command": command_of(lambda t=task, a=args, k=kwargs: t.fn(*a, **k))
                }
            out.append(per_task)
    finally:
        flow_run.FIELDS["scheduled_start_time"] = real_start
        if real_name is not None:
            task_run.FIELDS["task_name"] = real_name
    return out


def inspect_module(entry: dict, n: int) -> dict:
    from prefect import Flow, Task

    path = entry["file"]
    out: dict = {}
    try:
        module = load_module(path, f"wfconv_prefect_{n}")
    except BaseException:
        out["import_error"] = traceback.format_exc(limit=-2).strip().splitlines()[-1]
        return out
    flows = {v.name: v for v in vars(module).values() if isinstance(v, Flow)}
    out["flows"] = sorted(flows)
    out["tasks"] = {v.name: _task_facts(v) for v in vars(module).values() if isinstance(v, Task)}
    # a source module: only the schedules of the one flow its deployments give
    flow = entry.get("flow")
    try:
        if flow is not None and flow not in {f.name for f, _ in deployments(module, path)}:
            out["dates"] = None  # not deployed from this module's __main__ block
            return out
        begin = datetime.datetime.fromisoformat(entry["start"]) if entry.get("start") else None
        if begin is not None and begin.tzinfo is None:
            begin = begin.replace(tzinfo=datetime.UTC)
        dates = deployment_dates(module, entry.get("runs", 3), begin, path, flow)
        out["dates"] = [d.astimezone(datetime.UTC).isoformat() for d in dates]
    except BaseException as exc:
        out["schedule_error"] = type(exc).__name__ + ": " + str(exc)[:300]
        out["dates"] = []
    if entry.get("shell_tasks"):
        dates = out.get("dates") or entry.get("dates") or []
        out["rendered"] = _payloads(module, entry["shell_tasks"], dates)
    return out


def main() -> None:
    each_module(inspect_module, "import_error")


if __name__ == "__main__":
    main()
