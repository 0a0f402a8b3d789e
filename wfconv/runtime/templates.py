"""Per-run template rendering (Airflow's names, docs/architecture.md §4) in jinja2's sandbox.

The context holds ``ds``, ``ds_nodash``, ``ts``, ``ts_nodash``,
``ts_nodash_with_tz``, ``logical_date``, ``data_interval_start``,
``data_interval_end``, ``run_id``, ``params``, ``dag``/``task``/``ti`` (ids and
try number), ``macros`` (``ds_add``, ``ds_format``, ``datetime``,
``timedelta``) and Airflow 2's ``prev_ds``/``next_ds``/``yesterday_ds``/
``tomorrow_ds`` (+ ``_nodash``). Dates are in UTC, as in Airflow. Undefined names render empty
(Airflow's default ``template_undefined``). The sandbox blocks attribute access
to internals, so a hostile template cannot reach Python objects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from wfconv.runtime.schedule import RunInfo


def ds_add(ds: str, days: int) -> str:
    """``macros.ds_add('2015-01-01', 5)`` → ``'2015-01-06'``."""
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=int(days))).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    return datetime.strptime(ds, input_format).strftime(output_format)


MACROS = SimpleNamespace(ds_add=ds_add, ds_format=ds_format, datetime=datetime, timedelta=timedelta)


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def _neighbours(workflow, ld: datetime) -> dict[str, Any]:
    """Airflow 2's deprecated neighbours of the logical date (removed in
    Airflow 3; DAGs written for 2.x still use them)."""
    from wfconv.errors import InputError
    from wfconv.runtime.schedule import ticks_for

    out: dict[str, Any] = {
        "yesterday_ds": (ld - timedelta(days=1)).strftime("%Y-%m-%d"),
        "tomorrow_ds": (ld + timedelta(days=1)).strftime("%Y-%m-%d"),
    }
    out["yesterday_ds_nodash"] = out["yesterday_ds"].replace("-", "")
    out["tomorrow_ds_nodash"] = out["tomorrow_ds"].replace("-", "")
    try:
        ticks = ticks_for(workflow.schedule)
    except InputError:
        ticks = None
    if ticks is not None:
        prev, nxt = ticks.prev(ld), ticks.next(ld)
        out.update(
            prev_ds=prev.strftime("%Y-%m-%d"),
            prev_ds_nodash=prev.strftime("%Y%m%d"),
            next_ds=nxt.strftime("%Y-%m-%d"),
            next_ds_nodash=nxt.strftime("%Y%m%d"),
        )
    return out


def context(
    info: RunInfo, workflow, run_id: str, task_id: str | None = None, try_number: int = 1
) -> dict[str, Any]:
    ld = info.logical_date
    params = dict(workflow.params)
    return {
        **_neighbours(workflow, ld),
        "ds": ld.strftime("%Y-%m-%d"),
        "ds_nodash": ld.strftime("%Y%m%d"),
        "ts": ld.isoformat(),
        "ts_nodash": ld.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ld.isoformat().replace("-", "").replace(":", ""),
        "logical_date": ld,
        "data_interval_start": info.data_interval_start,
        "data_interval_end": info.data_interval_end,
        "run_id": run_id,
        "params": params,
        "dag": SimpleNamespace(dag_id=workflow.id),
        "task": SimpleNamespace(task_id=task_id),
        "ti": SimpleNamespace(task_id=task_id, try_number=try_number, dag_id=workflow.id),
        "macros": MACROS,
    }


class RenderError(Exception):
    pass


def render(text: str, ctx: dict[str, Any]) -> str:
    """Render one template string; a template error is a RenderError."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        return _env().from_string(text).render(ctx)
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}") from None


def render_value(value: Any, ctx: dict[str, Any]) -> Any:
    """Render strings inside lists/dicts (op_args, env...)."""
    if isinstance(value, str):
        return render(value, ctx)
    if isinstance(value, list):
        return [render_value(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, ctx) for k, v in value.items()}
    return value
