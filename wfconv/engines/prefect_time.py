"""When a wfconv Prefect module's deployment runs, and what each run sees.

Why: a Prefect flow run's only time is its scheduled start (docs/semantics.md
§2); the module's ``flow.serve(...)`` decides those starts and its
``wfconv_run_dates`` turns each into ``logical_date``/``data_interval_*``
(``wfconv.backends.prefect.run_dates_source``). Both are asked of Prefect
itself here: the deployment is built with the flow's own ``to_deployment``
from the keywords the module passes to ``serve``, and its schedule's dates
come from Prefect's server-side schedule (what Prefect's scheduler service
creates runs from), without starting a server. ``run_scheduled`` then runs
the served flow as Prefect runs a deployment's run scheduled at a given time
(a flow run created in a Scheduled state, executed by Prefect's flow engine;
it needs a Prefect API, e.g. ``prefect_test_harness``). The module is imported
in this process: it is wfconv's own output, and importing it runs no task.

    mod = load_module("out/sales.py")
    deployment_dates(mod, 5, start)            # the first 5 scheduled starts
    mod.wfconv_run_dates(when)                 # (logical, interval start, end)
    run_scheduled(served_flow(mod), when)      # the flow's final state
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import importlib.util
import os
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

# serve() keywords that decide the deployment's schedule (the rest are runner settings).
_SCHEDULE_KEYWORDS = ("schedules", "schedule", "cron", "interval", "rrule")
# Prefect's documented way to give prefect.runtime.flow_run a value outside a run.
SCHEDULED_START_ENV = "PREFECT__RUNTIME__FLOW_RUN__SCHEDULED_START_TIME"


def load_module(path: str | os.PathLike) -> ModuleType:
    """Import a Prefect module by path (its ``__main__`` block does not run)."""
    path = Path(path).resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"wfconv_prefect_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Prefect deploys a flow from its module's file: the module must be registered.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _serve_call(module: ModuleType) -> ast.Call:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "serve"
            and isinstance(node.func.value, ast.Name)
        ):
            return node
    raise LookupError(f"{module.__file__}: no flow.serve(...) call")


def served_flow(module: ModuleType):
    """The flow the module's ``__main__`` block serves."""
    return getattr(module, _serve_call(module).func.value.id)


def deployment(module: ModuleType):
    """The deployment the module's ``flow.serve(...)`` would create."""
    call = _serve_call(module)
    flow = served_flow(module)
    kwargs = {
        k.arg: eval(compile(ast.Expression(k.value), module.__file__, "eval"), vars(module))
        for k in call.keywords
        if k.arg in _SCHEDULE_KEYWORDS or k.arg == "name"
    }
    return flow.to_deployment(**kwargs)


def deployment_dates(module: ModuleType, n: int, start: datetime) -> list[datetime]:
    """The first ``n`` scheduled start times at or after ``start`` of every
    schedule of the module's deployment, ascending, from Prefect's own
    schedule arithmetic."""
    from prefect.server.schemas import schedules as server

    out: list[datetime] = []
    for entry in deployment(module).schedules:
        schedule = entry.schedule
        cls = getattr(server, type(schedule).__name__)
        dates = asyncio.run(cls.model_validate(schedule.model_dump()).get_dates(n=n, start=start))
        out.extend(dates)
    return sorted(out)[:n]


def run_scheduled(flow, when: datetime):
    """Run ``flow`` as the run its deployment scheduled at ``when``: inside it
    ``prefect.runtime.flow_run.scheduled_start_time`` is ``when``. Returns the
    run's final state."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(flow, state=Scheduled(scheduled_time=when))
    return run_flow(flow, flow_run=flow_run, return_type="state")
