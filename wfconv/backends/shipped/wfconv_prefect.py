"""Airflow's semantics for flows that wfconv converted to Prefect 3.

wfconv writes this module once into an output folder when a converted flow
needs more than Prefect says natively: Airflow's trigger rules and branches
(``gate``, ``skipped``), sensors (``poll``), templates too rich for an f-string
(``render``), the dates of a run under an Airflow 2 cron
(``cron_interval_dates``) and catch-up runs (``backfill``). Flows that need
none of it do not import it. It depends on Prefect and the standard library
only (plus jinja2 for ``render``, fsspec for ``glob_url`` and cronsim for the
cron schedules of ``cron_interval_dates`` and ``backfill``, imported when
called).
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from prefect.runtime import task_run
from prefect.states import Completed

SKIPPED = "wfconv:skipped"


class NoRetryError(Exception):
    """A failure Airflow never retries."""


class UpstreamFailedError(NoRetryError):
    """Airflow's upstream_failed: the task's trigger rule can no longer be met."""


class SensorTimeoutError(NoRetryError):
    """A sensor ran out of time (Airflow fails it without a retry)."""


def retryable(task: Any, run: Any, state: Any) -> bool:
    """``retry_condition_fn``: retry every failure except those Airflow never retries."""
    return not isinstance(state.result(raise_on_failure=False), NoRetryError)


def skipped() -> Completed:
    """The state of a task Airflow would mark skipped."""
    return Completed(
        name="Skipped", message="skipped (Airflow semantics)", data=SKIPPED
    )


def status(value: Any) -> str:
    """Airflow's state of a finished upstream task, from the value Prefect passed in."""
    if isinstance(value, str) and value == SKIPPED:
        return "skipped"
    if isinstance(value, UpstreamFailedError):
        return "upstream_failed"
    if isinstance(value, BaseException):
        return "failed"
    return "success"


def _chose(value: Any, task_id: str) -> bool:
    """Did a branch task that succeeded choose ``task_id``?"""
    chosen = [] if value is None else [value] if isinstance(value, str) else value
    return task_id in chosen


def gate(
    rule: str,
    upstream: dict[str, Any],
    *,
    branches: tuple[str, ...] = (),
    setups: tuple[str, ...] = (),
    requires: tuple[str, ...] = (),
    also: dict[str, Any] | None = None,
    teardown: bool = False,
    fails_run: bool = False,
) -> bool:
    """Should the running task run, by Airflow's trigger rule ``rule``?

    ``upstream`` maps each direct upstream task id to what Prefect passed for
    it (``allow_failure``): its result, or its exception. True: run. False: the
    task is skipped (return ``skipped()``). Raises ``UpstreamFailedError`` where
    Airflow marks the task upstream_failed. A branch upstream that succeeded
    without choosing this task skips it. Setup/teardown tasks: ``requires``
    are setups further upstream that must have succeeded (their results in
    ``also``, which also holds a teardown's scope, only waited for);
    ``setups`` are the direct upstream setups that rule
    ``all_done_setup_success`` reads; ``teardown``/``fails_run`` name the
    task's role.
    """
    me = task_run.task_name
    for setup in requires:
        state = status((also or {}).get(setup))
        if state in ("failed", "upstream_failed"):
            raise UpstreamFailedError(f"{me}: setup task {setup} did not succeed")
        if state == "skipped":
            return False
    for branch in branches:
        value = upstream.get(branch)
        if status(value) == "success" and not _chose(value, me):
            return False
    states = [status(v) for v in upstream.values()]
    n, s, k = len(states), states.count("success"), states.count("skipped")
    f, u = states.count("failed"), states.count("upstream_failed")
    if n == 0 or rule in ("always", "all_done"):
        return True
    if rule == "all_done_setup_success":
        done = [status(upstream.get(x)) for x in setups]
        if done and all(x == "skipped" for x in done):
            return False
        if done and "success" not in done:
            raise UpstreamFailedError(f"{me}: no upstream setup task succeeded")
        return True
    if rule in ("all_success", "none_failed", "none_failed_min_one_success"):
        if f + u:
            raise UpstreamFailedError(f"{me}: an upstream task failed")
        if rule == "all_success":
            return s == n
        return not (rule == "none_failed_min_one_success" and k == n)
    if rule in ("one_success", "all_done_min_one_success"):
        if rule == "all_done_min_one_success" and k:
            return False
        if s:
            return True
        if k == n:
            return False
        raise UpstreamFailedError(f"{me}: no upstream task succeeded")
    decided = {
        "all_failed": f + u == n,
        "all_skipped": k == n,
        "one_failed": f + u > 0,
        "one_done": s + f > 0,
        "none_skipped": k == 0,
    }
    if rule not in decided:
        raise ValueError(f"unknown trigger rule {rule!r}")
    return decided[rule]


def poll(
    check: Any, poke_interval: float, timeout: float, soft_fail: bool = False
) -> Any:
    """A sensor: call ``check`` every ``poke_interval`` seconds until it is
    true, then return True.

    Out of time, the task fails with ``SensorTimeoutError`` (which ``retryable``
    does not retry), or with ``soft_fail`` ends skipped.
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            if soft_fail:
                return skipped()
            raise SensorTimeoutError(f"sensor timed out after {timeout} s")
        time.sleep(poke_interval)
    return True


def glob_url(url: str) -> list[str]:
    """Paths matching a file-system URL (hdfs://, s3:// ...), through fsspec
    (the scheme's driver must be installed on the worker)."""
    import fsspec

    fs, pattern = fsspec.core.url_to_fs(url)
    return fs.glob(pattern)


def render(
    template: str, logical_date: datetime.datetime, params: dict[str, Any]
) -> str:
    """Render an Airflow template in jinja2's sandbox (templates an f-string
    cannot say): ``ds``, ``ts``, ``logical_date``, ``data_interval_*``,
    ``params``, ``macros``. The sandbox keeps a template from reaching Python
    internals."""
    from jinja2.sandbox import SandboxedEnvironment

    def ds_add(ds: str, days: int) -> str:
        day = datetime.date.fromisoformat(ds) + datetime.timedelta(days=days)
        return day.isoformat()

    def ds_format(ds: str, input_format: str, output_format: str) -> str:
        return datetime.datetime.strptime(ds, input_format).strftime(output_format)

    macros = {
        "ds_add": ds_add,
        "ds_format": ds_format,
        "datetime": datetime.datetime,
        "timedelta": datetime.timedelta,
    }
    context = {
        "ds": logical_date.strftime("%Y-%m-%d"),
        "ds_nodash": logical_date.strftime("%Y%m%d"),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "logical_date": logical_date,
        "data_interval_start": logical_date,
        "data_interval_end": logical_date,
        "params": params,
        "macros": macros,
    }
    return SandboxedEnvironment().from_string(template).render(context)


def cron_interval_dates(cron: str, timezone: str = "UTC") -> Any:
    """A flow's ``wfconv_run_dates`` for a cron schedule in Airflow 2's
    data-interval model: ``(logical_date, data_interval_start,
    data_interval_end)`` of the run scheduled at ``when`` (the run at a tick
    covers the interval that ends there; a manual run the last complete one),
    or, ``backfilled``, of the run whose logical date is ``when``."""
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    zone = ZoneInfo(timezone)

    def run_dates(
        when: datetime.datetime, backfilled: bool = False
    ) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime]:
        local = when.astimezone(zone)
        if backfilled:
            end = next(CronSim(cron, local))
            return when, when, end.astimezone(when.tzinfo)
        second = datetime.timedelta(seconds=1)
        end = next(CronSim(cron, local + second, reverse=True))
        start = next(CronSim(cron, end, reverse=True))
        return (
            start.astimezone(when.tzinfo),
            start.astimezone(when.tzinfo),
            end.astimezone(when.tzinfo),
        )

    return run_dates


def backfill(
    flow: Any,
    first: str,
    last: str,
    *,
    cron: str | None = None,
    seconds: float | None = None,
    timezone: str = "UTC",
    start: str | None = None,
) -> None:
    """Airflow's catch-up: one run of ``flow`` per schedule tick from ``first``
    to ``last`` (ISO dates or times, inclusive; a date alone is midnight in
    the schedule's timezone), oldest first, each given its tick as its
    ``logical_date``. Prefect never creates past runs itself."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)

    def aware(text: str) -> datetime.datetime:
        t = datetime.datetime.fromisoformat(text)
        return t if t.tzinfo is not None else t.replace(tzinfo=zone)

    low, high = aware(first), aware(last)
    ticks: list[datetime.datetime] = []
    if cron is not None:
        from cronsim import CronSim

        for tick in CronSim(
            cron, (low - datetime.timedelta(seconds=1)).astimezone(zone)
        ):
            if tick > high:
                break
            ticks.append(tick)
    elif seconds:
        step = datetime.timedelta(seconds=seconds)
        anchor = aware(start or first)
        tick = anchor + max(0, -(-(low - anchor) // step)) * step
        while tick <= high:
            ticks.append(tick)
            tick += step
    for tick in ticks:
        flow(logical_date=tick)
